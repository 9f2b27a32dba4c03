"""A cursor of any characters decodes to its key(s) or is BAD_USER_INPUT: never another
exception (int()'s ValueError, compare_digest's TypeError)."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from resolvers.errors import BadUserInput
from resolvers.pagination import MAX_KEY, decode_cursor, decode_signed_cursor

SECRET = b"test secret"
# Any text, and the base64 of any bytes (which gets past the first decoding step).
cursors = st.one_of(
    st.text(),
    st.binary().map(lambda data: base64.urlsafe_b64encode(data).decode()),
    st.binary().map(lambda data: base64.urlsafe_b64encode(b"k:" + data).decode()),
    st.text().map(lambda text: base64.urlsafe_b64encode(f"k:{text}".encode()).decode()),
)


@settings(max_examples=500, derandomize=True, database=None)
@given(cursors)
def test_a_cursor_of_any_bytes_is_a_key_or_bad_user_input(cursor: str) -> None:
    try:
        key = decode_cursor(cursor)
    except BadUserInput:
        return
    assert key is not None and 0 <= key <= MAX_KEY


@settings(max_examples=500, derandomize=True, database=None)
@given(cursors)
def test_a_signed_cursor_of_any_bytes_is_keys_or_bad_user_input(cursor: str) -> None:
    try:
        keys = decode_signed_cursor(SECRET, "scope", cursor, 1)
    except BadUserInput:
        return
    assert all(0 <= key <= MAX_KEY for key in keys)


def test_superscript_digits_are_not_a_key() -> None:
    cursor = base64.urlsafe_b64encode("k:²".encode()).decode()

    with pytest.raises(BadUserInput):
        decode_cursor(cursor)
