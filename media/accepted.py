"""What the media pipeline takes: the content types an upload may declare, and how many bytes
each may have. `createUpload` refuses anything else, and the checks on use hold to the same."""

from __future__ import annotations

from media.image import IMAGE_FORMATS

IMAGE_CONTENT_TYPES = frozenset(IMAGE_FORMATS.values())
VIDEO_CONTENT_TYPES = frozenset({"video/mp4"})
MAX_IMAGE_BYTES = 20 * 1024 * 1024  # a 50-megapixel JPEG at high quality
MAX_VIDEO_BYTES = 100 * 1024 * 1024  # a 90-second 1080p reel
MAX_UPLOAD_BYTES = max(MAX_IMAGE_BYTES, MAX_VIDEO_BYTES)
# What one request may have decoded, counted from the headers before each decode: ten
# 20-megapixel photos (phones save 12 MP by default), or four at the 50 MP cap. Without
# it, a carousel of ten images under the cap is 500 MP: nine 49 MP PNGs took 19 s of CPU.
MAX_PIXELS_PER_REQUEST = 200_000_000


def max_bytes_for(content_type: str) -> int | None:
    """The largest upload of `content_type`; None when it is not a type we take."""
    if content_type in IMAGE_CONTENT_TYPES:
        return MAX_IMAGE_BYTES
    if content_type in VIDEO_CONTENT_TYPES:
        return MAX_VIDEO_BYTES
    return None
