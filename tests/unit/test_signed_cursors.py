from __future__ import annotations

import pytest

from resolvers.errors import BadUserInput
from resolvers.pagination import decode_signed_cursor, encode_signed_cursor

SECRET = b"s" * 32


def test_a_signed_cursor_round_trips_its_values() -> None:
    cursor = encode_signed_cursor(SECRET, "feed:1", [7, 42])

    assert decode_signed_cursor(SECRET, "feed:1", cursor, 2) == [7, 42]


def test_a_cursor_of_another_scope_is_refused() -> None:
    cursor = encode_signed_cursor(SECRET, "feed:1", [7, 42])

    with pytest.raises(BadUserInput):
        decode_signed_cursor(SECRET, "feed:2", cursor, 2)


def test_a_cursor_signed_with_another_secret_is_refused() -> None:
    cursor = encode_signed_cursor(b"other", "feed:1", [7, 42])

    with pytest.raises(BadUserInput):
        decode_signed_cursor(SECRET, "feed:1", cursor, 2)


@pytest.mark.parametrize("cursor", ["", "garbage", "NysyLng=", "!!!"])
def test_a_malformed_cursor_is_refused(cursor: str) -> None:
    with pytest.raises(BadUserInput):
        decode_signed_cursor(SECRET, "feed:1", cursor, 2)
