"""Real image files for the tests, made with Pillow."""

from __future__ import annotations

import io

from PIL import Image

ORIENTATION_TAG = 0x0112
GPS_IFD_TAG = 0x8825
ROTATED_90_CLOCKWISE = 6  # EXIF: the camera was turned; viewers must rotate it back


def jpeg(
    width: int = 1200, height: int = 800, *, orientation: int | None = None, gps: bool = False
) -> bytes:
    image = Image.new("RGB", (width, height), (200, 40, 40))
    # A marker in the top-left corner, so tests can tell how the image was turned.
    image.paste((0, 0, 255), (0, 0, width // 4, height // 4))
    exif = Image.Exif()
    if orientation is not None:
        exif[ORIENTATION_TAG] = orientation
    if gps:
        exif[GPS_IFD_TAG] = {1: "N", 2: (48.0, 51.0, 24.0), 3: "E", 4: (2.0, 21.0, 3.0)}
    output = io.BytesIO()
    image.save(output, "JPEG", exif=exif.tobytes(), quality=90)
    return output.getvalue()


def png_with_transparency(width: int = 400, height: int = 400) -> bytes:
    output = io.BytesIO()
    Image.new("RGBA", (width, height), (0, 0, 0, 0)).save(output, "PNG")
    return output.getvalue()


def decompression_bomb() -> bytes:
    """A small PNG that decodes to 400 megapixels."""
    output = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(output, "PNG")
    return output.getvalue()


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image
