"""Turning an uploaded image into the media a client shows: checked, upright, stripped of
metadata (GPS included) and re-encoded at the widths clients ask for.

Pure CPU work on bytes: callers run it off the event loop.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

# What the server accepts: the formats every browser and phone decodes.
IMAGE_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
MAX_IMAGE_PIXELS = 50_000_000  # ~50 megapixels: the largest phone sensors, not bombs
POST_WIDTHS = (1080, 640, 150)  # Instagram's feed width, a grid cell on 2x screens, a thumb
AVATAR_SIDE = 320  # the profile header on 2x screens; chips scale it down
OUTPUT_FORMAT = "JPEG"
OUTPUT_CONTENT_TYPE = "image/jpeg"
OUTPUT_QUALITY = 85  # visually lossless for photos at a third of the bytes of 95
MAX_ASPECT_RATIO = 3.0  # panoramas beyond this would render as slivers


class ImageRejected(Exception):
    """The bytes are not an image we accept; the message is safe to show the user."""


@dataclass(frozen=True, slots=True)
class Rendition:
    width: int
    height: int
    data: bytes


def sniff_content_type(data: bytes) -> str | None:
    """The image type the bytes really are (not what the client said), or None. Reads only
    the header; an image too large to ever decode is rejected here already."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            return IMAGE_FORMATS.get(image.format or "")
    except Image.DecompressionBombError as error:
        raise ImageRejected(f"The image has more than {MAX_IMAGE_PIXELS:,} pixels.") from error
    except (UnidentifiedImageError, OSError):
        return None


def _open_upright(data: bytes) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.format not in IMAGE_FORMATS:
                raise ImageRejected("Upload a JPEG, PNG or WebP image.")
            width, height = image.size
            # Checked from the header, before a single pixel is decoded.
            if width * height > MAX_IMAGE_PIXELS:
                raise ImageRejected(f"The image has more than {MAX_IMAGE_PIXELS:,} pixels.")
            if max(width, height) > MAX_ASPECT_RATIO * min(width, height):
                raise ImageRejected("The image is too narrow for its length.")
            image.load()
    except ImageRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageRejected(f"The image has more than {MAX_IMAGE_PIXELS:,} pixels.") from error
    except UnidentifiedImageError as error:
        raise ImageRejected("The file is not an image that can be decoded.") from error
    except (OSError, SyntaxError, ValueError) as error:  # truncated or corrupt data
        raise ImageRejected("The image is damaged or incomplete.") from error
    upright = ImageOps.exif_transpose(image)
    # Flatten transparency onto white: JPEG has no alpha, and black would be the default.
    if upright.mode in ("RGBA", "LA", "P"):
        rgba = upright.convert("RGBA")
        background = Image.new("RGB", rgba.size, "white")
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return upright.convert("RGB")


def _encode(image: Image.Image) -> bytes:
    output = io.BytesIO()
    # A fresh image carries no EXIF, XMP or ICC data unless passed: none is.
    image.save(output, OUTPUT_FORMAT, quality=OUTPUT_QUALITY, optimize=True, progressive=True)
    return output.getvalue()


def render_post_image(data: bytes) -> list[Rendition]:
    """The image at each of POST_WIDTHS it is wide enough for (at least the smallest)."""
    image = _open_upright(data)
    renditions: list[Rendition] = []
    for width in POST_WIDTHS:
        if width > image.width and renditions:
            continue
        scale = min(1.0, width / image.width)
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        resized = image.resize(size, Image.Resampling.LANCZOS) if size != image.size else image
        renditions.append(Rendition(size[0], size[1], _encode(resized)))
    return renditions


def render_avatar(data: bytes) -> list[Rendition]:
    """A square crop from the centre."""
    square = ImageOps.fit(_open_upright(data), (AVATAR_SIDE, AVATAR_SIDE), Image.Resampling.LANCZOS)
    return [Rendition(AVATAR_SIDE, AVATAR_SIDE, _encode(square))]
