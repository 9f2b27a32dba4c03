"""Rendering images that are larger than any rendition: decoded small, still right."""

from __future__ import annotations

import io

from PIL import Image

from media.image import POST_WIDTHS, render_avatar, render_post_image
from tests.media import ROTATED_90_CLOCKWISE, decoded, jpeg

MARKER = (0, 0, 255)  # tests.media paints the stored image's top-left quarter blue
BACKGROUND = (200, 40, 40)


def near(image: Image.Image, xy: tuple[int, int], colour: tuple[int, int, int]) -> bool:
    """Whether the RGB pixel at `xy` is `colour`, give or take JPEG's noise."""
    pixel = image.getpixel(xy)
    assert isinstance(pixel, tuple)
    return all(abs(a - b) <= 12 for a, b in zip(pixel, colour, strict=True))


def test_a_large_sideways_jpeg_renders_upright_at_every_width() -> None:
    """Given a 4400x3300 JPEG shot sideways (decoded at half scale or less), when it is
    rendered, then each rendition is upright: portrait, the marker at its top right."""
    photo = jpeg(4400, 3300, orientation=ROTATED_90_CLOCKWISE)

    renditions = render_post_image(photo)

    assert [(r.width, r.height) for r in renditions] == [(w, round(w * 4 / 3)) for w in POST_WIDTHS]
    for rendition in renditions:
        image = decoded(rendition.data).convert("RGB")
        width, height = image.size
        assert near(image, (width - 5, 5), MARKER)
        assert near(image, (5, 5), BACKGROUND)
        assert near(image, (width - 5, height - 5), BACKGROUND)


def test_a_large_transparent_png_is_flattened_onto_white_after_shrinking() -> None:
    """Given a 3000x2000 PNG, transparent but for an opaque black left half, when it is
    rendered, then the left half is black and the right half white at every width."""
    image = Image.new("RGBA", (3000, 2000), (0, 0, 0, 0))
    image.paste((0, 0, 0, 255), (0, 0, 1500, 2000))
    output = io.BytesIO()
    image.save(output, "PNG")

    renditions = render_post_image(output.getvalue())

    assert [(r.width, r.height) for r in renditions] == [(w, round(w * 2 / 3)) for w in POST_WIDTHS]
    for rendition in renditions:
        rendered = decoded(rendition.data).convert("RGB")
        width, height = rendered.size
        assert near(rendered, (5, height // 2), (0, 0, 0))
        assert near(rendered, (width - 5, height // 2), (255, 255, 255))


def test_a_large_jpeg_avatar_is_its_centre_square() -> None:
    """Given a 4000x3000 JPEG, when it becomes an avatar, then it is a 320-pixel square cut
    from the centre: of the marker quarter (1000 pixels wide) only the right half shows."""
    avatar = render_avatar(jpeg(4000, 3000))

    assert [(r.width, r.height) for r in avatar] == [(320, 320)]
    square = decoded(avatar[0].data).convert("RGB")
    marker_width = round(320 * 500 / 3000)
    assert near(square, (marker_width - 8, 5), MARKER)
    assert near(square, (marker_width + 8, 5), BACKGROUND)
    assert near(square, (314, 314), BACKGROUND)
