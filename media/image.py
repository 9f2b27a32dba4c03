"""Turning an uploaded image into the media a client shows: checked, upright, stripped of
metadata (GPS included) and re-encoded at the widths clients ask for.

Pure CPU work on bytes: callers run it off the event loop, a bounded number at a time
(`media.decode_slots`). A render holds as few pixels as it can: a JPEG is decoded already
scaled down to the largest output (its decoder scales by 1/2, 1/4 or 1/8 for free), every
image is shrunk to that size before it is turned upright or flattened, and each image is
closed as soon as the next step has what it needs. So a 50-megapixel PNG holds one
full-size decode (two, with transparency) for a moment, not the four copies that
decode-rotate-convert-resize would make.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

# What the server accepts: the formats every browser and phone decodes.
IMAGE_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
MAX_IMAGE_PIXELS = 50_000_000  # ~50 megapixels: the largest phone sensors, not bombs
POST_WIDTHS = (1080, 640, 150)  # Instagram's feed width, a grid cell on 2x screens, a thumb
AVATAR_SIDE = 320  # the profile header on 2x screens; chips scale it down
POSTER_WIDTH = 720  # a video's poster: as wide as its rendition (media/video.py) at most
OUTPUT_FORMAT = "JPEG"
OUTPUT_CONTENT_TYPE = "image/jpeg"
OUTPUT_QUALITY = 85  # visually lossless for photos at a third of the bytes of 95
MAX_ASPECT_RATIO = 3.0  # panoramas beyond this would render as slivers
# Shrinking by whole factors first (box-averaging, fast) and then resampling the last
# 3x or less with Lanczos is, per Pillow's docs, indistinguishable from Lanczos all the way.
REDUCING_GAP = 3.0
ORIENTATION_TAG = 0x0112  # EXIF: how the camera was held
# EXIF orientation -> the transpose that makes the image upright (as ImageOps.exif_transpose).
UPRIGHTING = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
SIDEWAYS = frozenset({5, 6, 7, 8})  # orientations whose upright width is the stored height
# Modes whose transparency must be flattened onto white (JPEG has no alpha; black would be
# the default); a palette may carry a transparent entry.
TRANSPARENT_MODES = frozenset({"RGBA", "RGBa", "LA", "La", "PA", "P"})

# Given the upright width and height, how much of the image the render needs (at most 1).
ScaleFor = Callable[[int, int], float]


class ImageRejected(Exception):
    """The bytes are not an image we accept; the message is safe to show the user."""


@dataclass(frozen=True, slots=True)
class Rendition:
    width: int
    height: int
    data: bytes


# What a post or an avatar makes of an upload's bytes.
Render = Callable[[bytes], list[Rendition]]


@dataclass(frozen=True, slots=True)
class ImageHeader:
    """What an image's header says, before a single pixel is decoded."""

    content_type: str
    width: int
    height: int

    @property
    def pixels(self) -> int:
        return self.width * self.height


def read_header(data: bytes) -> ImageHeader | None:
    """The type the bytes really are (not what the client said) and their size, from the
    header alone; None when they are not an image of a type we accept. An image too large
    to ever decode is rejected here already."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            content_type = IMAGE_FORMATS.get(image.format or "")
            width, height = image.size
    except Image.DecompressionBombError as error:
        raise ImageRejected(f"The image has more than {MAX_IMAGE_PIXELS:,} pixels.") from error
    except (UnidentifiedImageError, OSError):
        return None
    return None if content_type is None else ImageHeader(content_type, width, height)


def render_post_image(data: bytes) -> list[Rendition]:
    """The image at each of POST_WIDTHS it is wide enough for (at least the smallest)."""
    largest = POST_WIDTHS[0]
    image, (width, height) = _upright(data, lambda w, h: largest / w)
    with image:
        renditions: list[Rendition] = []
        for target in POST_WIDTHS:
            if target > width and renditions:
                continue
            scale = min(1.0, target / width)
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            renditions.append(Rendition(size[0], size[1], _encode(_resized(image, size))))
        return renditions


def render_poster(data: bytes) -> list[Rendition]:
    """A video's poster frame at most POSTER_WIDTH wide (one rendition), re-encoded as every
    image is: a JPEG with no metadata."""
    image, (width, height) = _upright(data, lambda w, h: POSTER_WIDTH / w)
    with image:
        scale = min(1.0, POSTER_WIDTH / width)
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        return [Rendition(size[0], size[1], _encode(_resized(image, size)))]


def render_avatar(data: bytes) -> list[Rendition]:
    """A square crop from the centre."""
    image, _ = _upright(data, lambda w, h: AVATAR_SIDE / min(w, h))
    with image:
        side = (AVATAR_SIDE, AVATAR_SIDE)
        square = ImageOps.fit(image, side, Image.Resampling.LANCZOS)
        return [Rendition(AVATAR_SIDE, AVATAR_SIDE, _encode(square))]


def _upright(data: bytes, scale_for: ScaleFor) -> tuple[Image.Image, tuple[int, int]]:
    """The image upright in RGB, at the scale `scale_for` asks of its upright size (never
    enlarged), and that full upright size."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as source:
                _check_header(source)
                orientation = source.getexif().get(ORIENTATION_TAG)
                stored_width, stored_height = source.size
                sideways = orientation in SIDEWAYS
                upright_size = (
                    (stored_height, stored_width) if sideways else (stored_width, stored_height)
                )
                scale = min(1.0, scale_for(*upright_size))
                target = (
                    max(1, round(stored_width * scale)),
                    max(1, round(stored_height * scale)),
                )
                if source.format == "JPEG":
                    source.draft(None, target)  # decodes at the smallest scale >= target
                source.load()
                shrunk = _shrunk_rgb(source, target)
    except ImageRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageRejected(f"The image has more than {MAX_IMAGE_PIXELS:,} pixels.") from error
    except UnidentifiedImageError as error:
        raise ImageRejected("The file is not an image that can be decoded.") from error
    except (OSError, SyntaxError, ValueError) as error:  # truncated or corrupt data
        raise ImageRejected("The image is damaged or incomplete.") from error
    transpose = UPRIGHTING.get(orientation) if isinstance(orientation, int) else None
    if transpose is None:
        return shrunk, upright_size
    with shrunk:
        return shrunk.transpose(transpose), upright_size


def _check_header(source: Image.Image) -> None:
    """Refuse from the header alone, before a single pixel is decoded."""
    if source.format not in IMAGE_FORMATS:
        raise ImageRejected("Upload a JPEG, PNG or WebP image.")
    width, height = source.size
    if width * height > MAX_IMAGE_PIXELS:
        raise ImageRejected(f"The image has more than {MAX_IMAGE_PIXELS:,} pixels.")
    if max(width, height) > MAX_ASPECT_RATIO * min(width, height):
        raise ImageRejected("The image is too narrow for its length.")


def _shrunk_rgb(source: Image.Image, size: tuple[int, int]) -> Image.Image:
    """A new RGB image of `size` from the decoded `source`: shrunk first, then flattened
    onto white or converted, so that only the small image is copied again."""
    transparent = source.mode in TRANSPARENT_MODES
    # RGB, L and RGBA can be resampled as they are (Pillow premultiplies RGBA while it
    # resizes); palettes and the rest cannot.
    if source.mode in ("RGB", "L", "RGBA"):
        working = source
    else:
        working = source.convert("RGBA" if transparent else "RGB")
    small = _resized(working, size)
    if working is not source and working is not small:
        working.close()  # a full-size copy: freed before anything else is allocated
    if transparent:
        flattened = Image.new("RGB", small.size, "white")
        flattened.paste(small, mask=small.getchannel("A"))
        return flattened
    if small.mode == "RGB" and small is not source:
        return small
    return small.convert("RGB")  # a copy: `source` is closed by whoever opened it


def _resized(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """`image` at `size`; the image itself when it already has that size."""
    if image.size == size:
        return image
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=REDUCING_GAP)


def _encode(image: Image.Image) -> bytes:
    output = io.BytesIO()
    # A fresh image carries no EXIF, XMP or ICC data unless passed: none is.
    image.save(output, OUTPUT_FORMAT, quality=OUTPUT_QUALITY, optimize=True, progressive=True)
    return output.getvalue()
