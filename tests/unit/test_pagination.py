from __future__ import annotations

import pytest

from resolvers.errors import BadUserInput
from resolvers.pagination import (
    MAX_PAGE_SIZE,
    decode_cursor,
    encode_cursor,
    keyset_page,
    page_size,
)


def test_a_cursor_round_trips_its_key() -> None:
    assert decode_cursor(encode_cursor(123456789)) == 123456789


def test_no_cursor_means_the_first_page() -> None:
    assert decode_cursor(None) is None


@pytest.mark.parametrize("cursor", ["", "%%%", "bm9wZQ==", "azotMQ==", "azoxLjU="])
def test_a_malformed_cursor_is_bad_user_input(cursor: str) -> None:
    with pytest.raises(BadUserInput):
        decode_cursor(cursor)


def test_page_size_is_capped() -> None:
    assert page_size(MAX_PAGE_SIZE * 10, default=20) == MAX_PAGE_SIZE


def test_a_null_page_size_means_the_default() -> None:
    assert page_size(None, default=20) == 20


def test_a_negative_page_size_is_bad_user_input() -> None:
    with pytest.raises(BadUserInput):
        page_size(-1, default=20)


def test_the_extra_row_tells_that_another_page_follows() -> None:
    page = keyset_page([30, 20, 10], size=2, key=lambda row: row)

    assert [row for _, row in page.edges] == [30, 20]
    assert page.has_next_page is True
    assert decode_cursor(page.edges[-1][0]) == 20
