from __future__ import annotations

from pathlib import Path

from schema import build_schema

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"


def test_the_committed_sdl_matches_the_code() -> None:
    """Run `make schema` after changing the schema, and review the diff of schema.graphql."""
    assert SCHEMA_FILE.read_text() == build_schema(mask_errors=False).as_str() + "\n"
