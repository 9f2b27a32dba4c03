"""Persisted-query manifests: what `register-manifest` accepts and refuses, and the contract
manifest that ships inside the package."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from graphql import GraphQLSchema
from typer.testing import CliRunner

from app.cli import cli
from app.trusted.manifest import (
    CONTRACT_MANIFEST_PATH,
    MANIFEST_FORMAT,
    ManifestError,
    contract_documents,
    document_id,
    manifest_json,
    parse_manifest,
)
from schema import build_schema
from storage.persisted_query import MAX_PERSISTED_QUERY_BYTES
from tests.contract import CONTRACT_PATH, PENDING_OPERATIONS, served_operation_names

RUNNER = CliRunner()
VIEWER_NAME = "query ViewerName {\n  viewer {\n    id\n    username\n    __typename\n  }\n}"


def schema() -> GraphQLSchema:
    return build_schema(mask_errors=False)._schema


def manifest(*operations: dict[str, object]) -> str:
    return json.dumps({"format": MANIFEST_FORMAT, "version": 1, "operations": list(operations)})


def entry(body: str, name: str = "ViewerName", kind: str = "query") -> dict[str, object]:
    return {"id": document_id(body), "name": name, "type": kind, "body": body}


def problems_of(text: str) -> list[str]:
    with pytest.raises(ManifestError) as refused:
        parse_manifest(text, schema())
    return refused.value.problems


def test_an_apollo_manifest_gives_its_operations() -> None:
    [document] = parse_manifest(manifest(entry(VIEWER_NAME)), schema())

    assert (document.id, document.name, document.type, document.body) == (
        document_id(VIEWER_NAME),
        "ViewerName",
        "query",
        VIEWER_NAME,
    )


def test_an_id_that_is_not_the_bodys_hash_is_refused() -> None:
    wrong = {**entry(VIEWER_NAME), "id": "ViewerName"}

    assert problems_of(manifest(wrong)) == [
        "operations[0] (ViewerName): id is not the SHA-256 of its body"
    ]


def test_an_operation_the_schema_does_not_serve_is_refused() -> None:
    body = "query ViewerName { viewer { nope } }"

    assert problems_of(manifest(entry(body))) == [
        "operations[0] (ViewerName): Cannot query field 'nope' on type 'User'."
    ]


def test_a_type_other_than_the_operations_is_refused() -> None:
    assert problems_of(manifest(entry(VIEWER_NAME, kind="mutation"))) == [
        "operations[0] (ViewerName): type 'mutation' is not the operation's (query)"
    ]


def test_a_body_over_the_size_limit_is_refused() -> None:
    body = f"# {'x' * MAX_PERSISTED_QUERY_BYTES}\n{VIEWER_NAME}"

    assert problems_of(manifest(entry(body))) == [
        f"operations[0] (ViewerName): body is over {MAX_PERSISTED_QUERY_BYTES} bytes"
    ]


def test_another_format_is_refused() -> None:
    text = json.dumps({"format": "relay", "version": 1, "operations": []})

    assert problems_of(text) == [f'needs "format": "{MANIFEST_FORMAT}" and "version": 1']


def test_one_bad_operation_refuses_the_whole_manifest_and_every_problem_is_listed() -> None:
    text = manifest(entry(VIEWER_NAME), {"id": 1}, entry("query ViewerName {"))

    problems = problems_of(text)

    assert problems[0] == "operations[1]: needs string fields id, name, type, body"
    assert problems[1].startswith("operations[2] (ViewerName): body does not parse: Syntax Error")


def test_the_shipped_contract_manifest_matches_the_contract_and_the_schema() -> None:
    """Run `make schema` after changing the contract or the schema, and review the diff of
    app/trusted/contract.json."""
    documents, _ = contract_documents(CONTRACT_PATH.read_text(), schema())

    assert CONTRACT_MANIFEST_PATH.read_text() == manifest_json(documents)


def test_the_contract_manifest_holds_every_served_operation_and_leaves_out_the_pending() -> None:
    documents, pending = contract_documents(CONTRACT_PATH.read_text(), schema())

    assert [document.name for document in documents] == served_operation_names()
    assert set(pending) == PENDING_OPERATIONS


def test_register_manifest_refuses_a_bad_manifest_before_reaching_any_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PICTOGRAPH_MONGODB_URL", "mongodb://127.0.0.1:1/never-reached")
    path = tmp_path / "manifest.json"
    path.write_text(manifest({**entry(VIEWER_NAME), "id": "ViewerName"}))

    result = RUNNER.invoke(cli, ["register-manifest", str(path)])

    assert result.exit_code == 1
    assert "id is not the SHA-256 of its body" in result.output


def test_register_manifest_refuses_the_embedded_mongodb(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PICTOGRAPH_MONGODB_URL", raising=False)
    path = tmp_path / "manifest.json"
    path.write_text(manifest(entry(VIEWER_NAME)))

    result = RUNNER.invoke(cli, ["register-manifest", str(path)])

    assert result.exit_code == 2
    assert "embedded" in result.output


def test_export_contract_manifest_writes_what_ships(tmp_path: Path) -> None:
    target = tmp_path / "contract.json"

    result = RUNNER.invoke(cli, ["export-contract-manifest", "--output", str(target)])

    assert result.exit_code == 0, result.output
    assert target.read_text() == CONTRACT_MANIFEST_PATH.read_text()
