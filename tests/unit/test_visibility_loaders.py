"""The filtered loaders: what they answer has passed the policy, however it was loaded, and
the schema reads records through nothing else."""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from loaders.base import Loader
from loaders.visibility import FilteredLoader

ROOT = Path(__file__).resolve().parents[2]
# Attributes through which a record could reach a field without the policy.
UNFILTERED_ATTRIBUTES = {"unfiltered", "stores"}


@dataclass(frozen=True)
class Row:
    id: int
    version: int = 1


class StoredRows(Loader[int, Row | None]):
    def __init__(self, rows: dict[int, Row]) -> None:
        super().__init__()
        self.rows = rows

    async def batch_load_fn(self, keys: Sequence[int]) -> list[Row | None]:
        return [self.rows.get(key) for key in keys]


class EvenRows(FilteredLoader[Row]):
    """A policy for the tests: only rows with even ids may be seen."""

    async def allowed(self, records: list[Row]) -> list[bool]:
        return [record.id % 2 == 0 for record in records]


def even_rows(*ids: int) -> tuple[EvenRows, StoredRows]:
    stored = StoredRows({row_id: Row(row_id) for row_id in ids})
    return EvenRows(stored), stored


async def test_a_hidden_record_loads_as_none() -> None:
    rows, _ = even_rows(1, 2)

    assert await rows.load_many([1, 2, 3]) == [None, Row(2), None]


async def test_a_primed_record_still_passes_the_policy() -> None:
    rows, _ = even_rows()

    rows.prime(3, Row(3))
    rows.prime(4, Row(4))

    assert await rows.load_many([3, 4]) == [None, Row(4)]


async def test_filter_keeps_the_visible_records_of_a_query_in_order() -> None:
    rows, _ = even_rows()

    shown = await rows.filter([Row(4), Row(1), Row(2)])

    assert shown == [Row(4), Row(2)]


async def test_clearing_reloads_the_stored_record_too() -> None:
    rows, stored = even_rows(2)
    await rows.load(2)
    stored.rows[2] = Row(2, version=2)

    rows.clear(2)

    assert await rows.load(2) == Row(2, version=2)


def attributes_read(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}


def test_the_schema_reads_records_only_through_the_filtered_loaders() -> None:
    readers = {
        str(path.relative_to(ROOT)): sorted(attributes_read(path) & UNFILTERED_ATTRIBUTES)
        for path in (ROOT / "schema").rglob("*.py")
        if attributes_read(path) & UNFILTERED_ATTRIBUTES
    }

    assert readers == {}
