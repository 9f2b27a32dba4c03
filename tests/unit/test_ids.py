from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from strawberry.relay import GlobalID

from resolvers.errors import ErrorCode, FieldError
from resolvers.ids import parse_global_id, parse_typed_id, to_global_id, typed_id_argument
from storage.ids import MAX_WORKER_ID, IdGenerator, id_to_datetime


def test_ids_are_unique_and_increasing() -> None:
    generator = IdGenerator(worker_id=7)

    ids = [generator.next_id() for _ in range(20_000)]  # well over 1,024 per millisecond

    assert ids == sorted(ids) and len(set(ids)) == len(ids)


def test_ids_of_different_workers_never_collide() -> None:
    first, second = IdGenerator(worker_id=1), IdGenerator(worker_id=2)

    ids = {first.next_id() for _ in range(2_000)} | {second.next_id() for _ in range(2_000)}

    assert len(ids) == 4_000


def test_an_id_tells_when_it_was_made() -> None:
    made = id_to_datetime(IdGenerator(worker_id=0).next_id())

    assert abs(made - datetime.now(UTC)) < timedelta(seconds=5)


def test_ids_fit_a_signed_64_bit_integer() -> None:
    assert IdGenerator(worker_id=MAX_WORKER_ID).next_id() < 2**63


@pytest.mark.parametrize("worker_id", [-1, MAX_WORKER_ID + 1])
def test_a_worker_id_out_of_range_is_refused(worker_id: int) -> None:
    with pytest.raises(ValueError, match="worker_id"):
        IdGenerator(worker_id)


def test_a_global_id_is_strawberrys_relay_global_id() -> None:
    assert to_global_id("Post", 7390123456789) == str(GlobalID("Post", "7390123456789"))


def test_a_global_id_round_trips() -> None:
    assert parse_global_id(to_global_id("User", 42)) == ("User", 42)


@pytest.mark.parametrize("raw", ["", "garbage", to_global_id("User", 0), "VXNlcjorMQ=="])
def test_malformed_global_ids_parse_to_none(raw: str) -> None:
    assert parse_global_id(raw) is None


def test_a_global_id_of_another_type_is_not_a_typed_id() -> None:
    assert parse_typed_id(to_global_id("Post", 42), "User") is None


def test_a_typed_id_argument_gives_the_record_id() -> None:
    assert typed_id_argument(to_global_id("Post", 42), "Post", "postId") == 42


def test_an_id_of_another_type_is_a_payload_error_naming_the_field() -> None:
    error = typed_id_argument(to_global_id("Post", 42), "User", "userId")

    assert error == FieldError(ErrorCode.INVALID, "userId", "Not an id of type User.")


def test_a_malformed_id_argument_is_a_payload_error_naming_the_field() -> None:
    error = typed_id_argument("garbage", "Upload", "uploadIds")

    assert error == FieldError(ErrorCode.INVALID, "uploadIds", "Not an id of type Upload.")
