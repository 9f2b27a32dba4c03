"""Peak memory of rendering 7000x7000 uploads (49 megapixels, just under the 50 MP limit).

Two parts, each measurement in a fresh Python process (peak RSS only grows, so a process
measures one thing), as the growth of its peak RSS over what it held before:

- **render**: `media.image.render_post_image` on one image, against the naive pipeline this
  benchmark builds itself (what `resolvers/images.py` did before issue 9): decode at full
  size, turn upright and flatten at full size, resize every width from the full image.
- **createPost**: the whole mutation (`resolvers.post.create_post`, embedded backends) with
  one and with nine PNG uploads, read, checked and rendered one after another. What nine
  cost beyond one is memory glibc keeps in the decode threads' malloc arenas (at most a
  decode's worth per decode slot); so nine again with MALLOC_MMAP_THRESHOLD_ fixed at
  1 MiB, which makes glibc map each of Pillow's 16 MB image blocks on its own and return
  it to the system when it is freed.

Run: `.venv/bin/python -m bench.image_memory` (Linux; about a minute and a half on two cores).
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import typer
from PIL import Image, ImageOps
from rich.console import Console
from rich.table import Table

from bench.fanout import CONSOLE_WIDTH
from media.image import OUTPUT_QUALITY, POST_WIDTHS, Rendition, render_post_image

SIDE = 7_000  # 49 megapixels: the largest square under MAX_IMAGE_PIXELS
KINDS = ("JPEG", "PNG", "PNG with alpha")
NAIVE, PIPELINE = "naive (before)", "media.image (now)"
POSTED_UPLOADS = (1, 9)
# glibc's environment setting: allocations above it are mmapped, and unmapped when freed.
FIXED_MMAP_THRESHOLD = {"MALLOC_MMAP_THRESHOLD_": str(1024 * 1024)}
KIB_PER_MIB = 1024  # /proc reports KiB


def test_image(kind: str) -> bytes:
    """A smooth photo-like image (so the PNG stays under the 20 MB upload limit)."""
    gradient = Image.linear_gradient("L").resize((SIDE, SIDE), Image.Resampling.BILINEAR)
    rgb = Image.merge("RGB", (gradient, gradient.rotate(90), gradient.rotate(180)))
    output = io.BytesIO()
    if kind == "JPEG":
        rgb.save(output, "JPEG", quality=92)
    elif kind == "PNG":
        rgb.save(output, "PNG")
    else:
        rgb.putalpha(gradient.rotate(270))
        rgb.save(output, "PNG")
    return output.getvalue()


def naive_render(data: bytes) -> list[Rendition]:
    """As resolvers/images.py rendered before issue 9: the decoded image, its upright copy
    and its RGB (or flattened) copy all at full size and alive together, then every width
    resized from the full-size image."""
    decoded = Image.open(io.BytesIO(data))
    decoded.load()
    upright = ImageOps.exif_transpose(decoded)  # a copy, even when nothing turns
    if upright.mode in ("RGBA", "LA", "P"):
        rgba = upright.convert("RGBA")
        image = Image.new("RGB", rgba.size, "white")
        image.paste(rgba, mask=rgba.getchannel("A"))
    else:
        image = upright.convert("RGB")
    renditions = []
    for width in POST_WIDTHS:
        size = (width, round(image.height * width / image.width))
        output = io.BytesIO()
        image.resize(size, Image.Resampling.LANCZOS).save(output, "JPEG", quality=OUTPUT_QUALITY)
        renditions.append(Rendition(size[0], size[1], output.getvalue()))
    return renditions


def peak_rss_mib() -> float:
    """This process's peak RSS (VmHWM: unlike getrusage's ru_maxrss, it does not start at
    the parent's RSS when the process was forked)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / KIB_PER_MIB
    raise RuntimeError("no VmHWM in /proc/self/status: this benchmark needs Linux")


@dataclass(frozen=True)
class Measurement:
    part: str
    what: str
    variant: str
    peak_growth_mib: float
    seconds: float


def measure_render(path: Path, variant: str) -> tuple[float, float]:
    """In this (fresh) process: peak RSS growth and seconds of one render."""
    data = path.read_bytes()
    render: Callable[[bytes], list[Rendition]] = (
        naive_render if variant == NAIVE else render_post_image
    )
    before, started = peak_rss_mib(), time.perf_counter()
    render(data)
    return peak_rss_mib() - before, time.perf_counter() - started


async def measure_post(paths: list[Path]) -> tuple[float, float]:
    """In this (fresh) process: peak RSS growth and seconds of one createPost of `paths`,
    on the embedded backends, with the uploads already in storage."""
    from app.services import open_runtime
    from app.settings import Settings
    from resolvers.context import Context
    from resolvers.ids import to_global_id
    from resolvers.post import create_post
    from resolvers.upload import create_upload

    with tempfile.TemporaryDirectory() as media_dir:
        async with open_runtime(Settings(media_dir=media_dir)) as runtime:
            services = runtime.services
            user_id = services.ids.next_id()
            viewer = await services.stores.users.insert(
                user_id=user_id,
                username=f"bench_{user_id}",
                email=f"bench_{user_id}@example.com",
                password_hash="unused",
                created_at=services.clock(),
            )
            context = Context.for_viewer(services, viewer)
            upload_ids = []
            for path in paths:  # one file in memory at a time, as the signed form would
                created = await create_upload(context, "image/png", path.stat().st_size)
                assert created.upload is not None, created.errors
                record = created.upload.record
                await services.objects.write(record.key, path.read_bytes(), content_type="")
                upload_ids.append(to_global_id("Upload", record.id))
            before, started = peak_rss_mib(), time.perf_counter()
            result = await create_post(context, upload_ids, None, None)
            elapsed = time.perf_counter() - started
            assert result.errors == [], result.errors
            return peak_rss_mib() - before, elapsed


CHILD = "--child"  # internal: measure one thing in this process and print it


def in_fresh_process(
    *arguments: str, environment: dict[str, str] | None = None
) -> tuple[float, float]:
    output = subprocess.run(
        [sys.executable, "-m", "bench.image_memory", CHILD, *arguments],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, **(environment or {})},
    ).stdout
    growth, seconds = json.loads(output.splitlines()[-1])
    return float(growth), float(seconds)


def child(arguments: list[str]) -> None:
    part, *rest = arguments
    if part == "render":
        variant, path = rest
        result = measure_render(Path(path), variant)
    else:
        result = asyncio.run(measure_post([Path(path) for path in rest]))
    print(json.dumps(result))


def benchmark(folder: Path) -> list[Measurement]:
    paths = {}
    for kind in KINDS:
        paths[kind] = folder / f"{kind.replace(' ', '_')}.img"
        paths[kind].write_bytes(test_image(kind))
    names = {kind: f"{kind}, {path.stat().st_size / 2**20:.1f} MiB" for kind, path in paths.items()}
    rows = [
        Measurement("render", names[kind], variant, *in_fresh_process("render", variant, str(path)))
        for kind, path in paths.items()
        for variant in (NAIVE, PIPELINE)
    ]
    for count in POSTED_UPLOADS:
        files = [str(paths["PNG"])] * count
        what = f"{count} x {names['PNG']}"
        rows.append(Measurement("createPost", what, PIPELINE, *in_fresh_process("post", *files)))
    nine = [str(paths["PNG"])] * POSTED_UPLOADS[-1]
    rows.append(
        Measurement(
            "createPost",
            f"{len(nine)} x {names['PNG']}",
            f"{PIPELINE}, {next(iter(FIXED_MMAP_THRESHOLD))}=1 MiB",
            *in_fresh_process("post", *nine, environment=FIXED_MMAP_THRESHOLD),
        )
    )
    return rows


def report(rows: list[Measurement]) -> None:
    table = Table(title=f"Peak RSS growth, {SIDE}x{SIDE} images (a fresh process each)")
    for column in ("part", "image", "pipeline", "peak RSS growth", "seconds"):
        table.add_column(column, justify="right" if column == "seconds" else "left")
    for row in rows:
        table.add_row(
            row.part, row.what, row.variant, f"{row.peak_growth_mib:,.0f} MiB", f"{row.seconds:.2f}"
        )
    console = Console(width=CONSOLE_WIDTH)
    console.print(table)
    renders = [row for row in rows if row.part == "render"]
    for naive, now in zip(renders[::2], renders[1::2], strict=True):
        ratio = now.peak_growth_mib / naive.peak_growth_mib
        console.print(f"{now.what}: now {ratio:.2f}x the memory of the naive render")
    one, *nines = (row for row in rows if row.part == "createPost")
    for nine in nines:
        ratio = nine.peak_growth_mib / one.peak_growth_mib
        console.print(f"createPost, {nine.what}, {nine.variant}: {ratio:.2f}x the memory of 1")


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        report(benchmark(Path(folder)))


if __name__ == "__main__":
    if sys.argv[1:2] == [CHILD]:
        child(sys.argv[2:])
    else:
        typer.run(main)
