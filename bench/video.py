"""Transcoding throughput: seconds of video the pipeline processes per second of CPU.

For each source (generated here with PyAV: a moving gradient and a circling disc, with a
tone, encoded near-losslessly so that decoding it costs what a phone's file costs), the
job's work as `jobs/video.py` does it: `media.video.transcode` (decode, turn upright, at most
30 fps, scale to 720x1280 at most, x264 `veryfast` CRF 23 capped at 2.5 Mbit/s, AAC, +faststart)
and, separately, the request's `probe_video` (headers, every packet demuxed, the first frame
decoded). CPU time is the process's (every thread: x264 runs ENCODER_THREADS), so "video s
per CPU s" is what one core's worth of a worker gets through; wall time is beside it.

Run: `.venv/bin/python -m bench.video` (about a minute on two cores). CPU only: no GPU is
used (NVENC would be a separate encoder and a separate measurement).
"""

from __future__ import annotations

import io
import statistics
import time
from dataclasses import dataclass
from typing import Annotated

import av
import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from bench.fanout import CONSOLE_WIDTH
from media.video import MAX_REEL_SECONDS, output_size, probe_video, transcode

AUDIO_RATE = 48_000
SOURCE_CRF = "12"  # near-lossless: the source's bitrate is a phone's or more


@dataclass(frozen=True)
class Source:
    name: str
    width: int
    height: int
    fps: int
    seconds: float


SOURCES = (
    Source("720x1280 30 fps", 720, 1280, 30, 3.0),
    Source("1080x1920 30 fps (a phone's portrait 1080p)", 1080, 1920, 30, 3.0),
    Source("1080x1920 60 fps", 1080, 1920, 60, 3.0),
    Source("2160x3840 30 fps (4K portrait)", 2160, 3840, 30, 2.0),
)


@dataclass(frozen=True)
class Measurement:
    source: Source
    source_bytes: int
    output_bytes: int
    output_size: tuple[int, int]
    transcode_cpu: float  # median seconds
    transcode_wall: float
    probe_cpu: float


def source_clip(source: Source) -> bytes:
    width, height, fps = source.width, source.height, source.fps
    frames = round(source.seconds * fps)
    ys, xs = np.mgrid[0:height, 0:width]
    gradient = ((xs + ys) * 255 // (width + height)).astype(np.uint8)
    output = io.BytesIO()
    with av.open(output, "w", format="mp4") as container:
        video = container.add_stream(
            "libx264", rate=fps, options={"preset": "ultrafast", "crf": SOURCE_CRF}
        )
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        audio = container.add_stream("aac", rate=AUDIO_RATE)
        audio.layout = "stereo"
        for index in range(frames):
            phase = index / frames
            pixels = np.stack(
                [gradient, np.roll(gradient, index * 7, axis=1), 255 - gradient], axis=-1
            )
            cx = width / 2 + width / 3 * np.cos(2 * np.pi * phase)
            cy = height / 2 + height / 4 * np.sin(2 * np.pi * phase)
            pixels[(xs - cx) ** 2 + (ys - cy) ** 2 < (width / 8) ** 2] = (250, 200, 40)
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            frame.pts = index
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
        for start in range(0, round(source.seconds * AUDIO_RATE), 1024):
            times = (np.arange(1024) + start) / AUDIO_RATE
            tone = (0.1 * np.sin(2 * np.pi * 440 * times)).astype(np.float32)
            sound = av.AudioFrame.from_ndarray(
                np.stack([tone, tone]), format="fltp", layout="stereo"
            )
            sound.sample_rate, sound.pts = AUDIO_RATE, start
            container.mux(audio.encode(sound))
        container.mux(audio.encode(None))
    return output.getvalue()


def measure(source: Source, repetitions: int) -> Measurement:
    data = source_clip(source)
    cpu, wall, probes = [], [], []
    output = b""
    for _ in range(repetitions):
        started, started_wall = time.process_time(), time.perf_counter()
        rendition = transcode(data, MAX_REEL_SECONDS)
        cpu.append(time.process_time() - started)
        wall.append(time.perf_counter() - started_wall)
        output = rendition.data
        started = time.process_time()
        probe_video(data, MAX_REEL_SECONDS)
        probes.append(time.process_time() - started)
    return Measurement(
        source=source,
        source_bytes=len(data),
        output_bytes=len(output),
        output_size=output_size(source.width, source.height),
        transcode_cpu=statistics.median(cpu),
        transcode_wall=statistics.median(wall),
        probe_cpu=statistics.median(probes),
    )


def main(
    repetitions: Annotated[int, typer.Option(help="Transcodes per source (median).")] = 3,
) -> None:
    console = Console(width=CONSOLE_WIDTH)
    table = Table(title="Transcoding throughput (CPU, x264 veryfast, 2 encoder threads)")
    for column in (
        "source", "seconds", "source MB", "rendition", "rendition kB", "kbit/s",
        "CPU s", "wall s", "video s per CPU s", "probe CPU ms",
    ):  # fmt: skip
        table.add_column(column, justify="left" if column == "source" else "right")
    for source in SOURCES:
        result = measure(source, repetitions)
        width, height = result.output_size
        table.add_row(
            source.name,
            f"{source.seconds:g}",
            f"{result.source_bytes / 1e6:.1f}",
            f"{width}x{height}",
            f"{result.output_bytes / 1e3:.0f}",
            f"{result.output_bytes * 8 / 1e3 / source.seconds:.0f}",
            f"{result.transcode_cpu:.2f}",
            f"{result.transcode_wall:.2f}",
            f"{source.seconds / result.transcode_cpu:.2f}",
            f"{result.probe_cpu * 1e3:.0f}",
        )
    console.print(table)


if __name__ == "__main__":
    typer.run(main)
