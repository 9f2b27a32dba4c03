"""The command line: what a newcomer runs, and what it refuses."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli
from schema import build_schema

RUNNER = CliRunner()


def test_export_schema_writes_the_sdl_of_the_code(tmp_path: Path) -> None:
    target = tmp_path / "schema.graphql"

    result = RUNNER.invoke(cli, ["export-schema", str(target)])

    assert result.exit_code == 0, result.output
    assert target.read_text() == build_schema(mask_errors=False).as_str() + "\n"


@pytest.mark.parametrize("command", ["worker", "seed"])
def test_commands_that_need_real_backends_refuse_the_embedded_ones(
    command: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PICTOGRAPH_MONGODB_URL", raising=False)
    monkeypatch.delenv("PICTOGRAPH_REDIS_URL", raising=False)

    result = RUNNER.invoke(cli, [command])

    assert result.exit_code == 2
    assert "embedded" in result.output


def test_training_from_the_log_refuses_the_embedded_mongodb(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PICTOGRAPH_MONGODB_URL", raising=False)

    result = RUNNER.invoke(cli, ["train-ranker", "--source", "mongodb"])

    assert result.exit_code == 2
    assert "PICTOGRAPH_MONGODB_URL" in result.output
