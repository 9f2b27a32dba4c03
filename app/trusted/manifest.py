"""Persisted-query manifests, in the format Apollo's `generate-persisted-query-manifest`
writes: `{"format": "apollo-persisted-query-manifest", "version": 1, "operations":
[{"id", "name", "type", "body"}, ...]}`.

A manifest is read whole and checked whole (JSON shape, each id the SHA-256 of its body,
each body one named operation of its stated type that validates against the schema), so a
bad manifest registers nothing.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    parse,
    print_ast,
    validate,
    visit,
)
from graphql.language import Visitor

from storage.persisted_query import MAX_PERSISTED_QUERY_BYTES
from storage.trusted_document import OperationType, TrustedDocument

MANIFEST_FORMAT = "apollo-persisted-query-manifest"
MANIFEST_VERSION = 1
SHA256_HEX = re.compile(r"[0-9a-f]{64}")
# Where the contract manifest ships: inside the package, so production never reads the
# shared contract folder.
CONTRACT_MANIFEST_PATH = Path(__file__).with_name("contract.json")
MAX_PROBLEMS_SHOWN = 20  # a broken manifest lists its first problems, not thousands


class ManifestError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        shown = problems[:MAX_PROBLEMS_SHOWN]
        more = len(problems) - len(shown)
        super().__init__("\n".join(shown + ([f"... and {more} more"] if more else [])))
        self.problems = problems


def document_id(body: str) -> str:
    """The id Apollo's manifest generator and persisted-query link give a document."""
    return hashlib.sha256(body.encode()).hexdigest()


def is_document_id(value: object) -> bool:
    return isinstance(value, str) and SHA256_HEX.fullmatch(value) is not None


def _operation_problems(entry: object, schema: GraphQLSchema) -> list[str]:
    if not isinstance(entry, dict):
        return ["is not an object"]
    fields = {name: entry.get(name) for name in ("id", "name", "type", "body")}
    wrong = [name for name, value in fields.items() if not isinstance(value, str)]
    if wrong:
        return [f"needs string fields {', '.join(wrong)}"]
    body: str = fields["body"]  # type: ignore[assignment]
    if len(body.encode()) > MAX_PERSISTED_QUERY_BYTES:
        return [f"body is over {MAX_PERSISTED_QUERY_BYTES} bytes"]
    if fields["id"] != document_id(body):
        # Custom ids (a createOperationId option) are refused: the id is how a document is
        # found, and a hash is what Apollo's persisted-query link sends.
        return ["id is not the SHA-256 of its body"]
    if fields["type"] not in set(OperationType):
        return [f"type {fields['type']!r} is none of {', '.join(OperationType)}"]
    try:
        document = parse(body)
    except GraphQLError as error:
        return [f"body does not parse: {error.message}"]
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1:
        return [f"body holds {len(operations)} operations instead of one"]
    [operation] = operations
    if operation.name is None or operation.name.value != fields["name"]:
        return [f"name {fields['name']!r} is not the operation's name"]
    if operation.operation.value != fields["type"]:
        return [f"type {fields['type']!r} is not the operation's ({operation.operation.value})"]
    return [error.message for error in validate(schema, document)]


def parse_manifest(text: str, schema: GraphQLSchema) -> list[TrustedDocument]:
    """The manifest's operations, each once; ManifestError lists everything wrong."""
    try:
        manifest: Any = json.loads(text)
    except ValueError as error:
        raise ManifestError([f"not JSON: {error}"]) from None
    if not isinstance(manifest, dict):
        raise ManifestError(["a manifest is a JSON object"])
    if manifest.get("format") != MANIFEST_FORMAT or manifest.get("version") != MANIFEST_VERSION:
        expected = f'"format": "{MANIFEST_FORMAT}" and "version": {MANIFEST_VERSION}'
        raise ManifestError([f"needs {expected}"])
    entries = manifest.get("operations")
    if not isinstance(entries, list):
        raise ManifestError(['needs an "operations" list'])
    problems: list[str] = []
    documents: dict[str, TrustedDocument] = {}
    for index, entry in enumerate(entries):
        label = f"operations[{index}]"
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            label += f" ({entry['name']})"
        if found := _operation_problems(entry, schema):
            problems.extend(f"{label}: {problem}" for problem in found)
            continue
        documents[entry["id"]] = TrustedDocument(
            id=entry["id"],
            name=entry["name"],
            type=OperationType(entry["type"]),
            body=entry["body"],
        )
    if problems:
        raise ManifestError(problems)
    return list(documents.values())


def manifest_json(documents: Iterable[TrustedDocument]) -> str:
    operations = [
        {"id": d.id, "name": d.name, "type": d.type.value, "body": d.body} for d in documents
    ]
    manifest = {"format": MANIFEST_FORMAT, "version": MANIFEST_VERSION, "operations": operations}
    return json.dumps(manifest, indent=2) + "\n"


class _SpreadCollector(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []

    def enter_fragment_spread(self, node: FragmentSpreadNode, *_: object) -> None:
        self.names.append(node.name.value)


def operation_with_fragments(operation: OperationDefinitionNode, document: DocumentNode) -> str:
    """The operation with every fragment it uses, in the order they are first reached, as
    a client sends it (tests/contract.py's operation_source is this)."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    needed: dict[str, FragmentDefinitionNode] = {}
    pending: list[OperationDefinitionNode | FragmentDefinitionNode] = [operation]
    while pending:
        collector = _SpreadCollector()
        visit(pending.pop(), collector)
        for name in dict.fromkeys(collector.names):
            if name not in needed:
                needed[name] = fragments[name]
                pending.append(fragments[name])
    return "\n\n".join(print_ast(node) for node in [operation, *needed.values()])


def contract_documents(
    contract_source: str, schema: GraphQLSchema
) -> tuple[list[TrustedDocument], list[str]]:
    """The contract's operations that the schema serves, and the names of those it does not
    serve yet (they join the manifest when the schema has them and it is generated again)."""
    document = parse(contract_source)
    served: list[TrustedDocument] = []
    pending: list[str] = []
    for operation in document.definitions:
        if not isinstance(operation, OperationDefinitionNode) or operation.name is None:
            continue
        body = operation_with_fragments(operation, document)
        if validate(schema, parse(body)):
            pending.append(operation.name.value)
            continue
        served.append(
            TrustedDocument(
                id=document_id(body),
                name=operation.name.value,
                type=OperationType(operation.operation.value),
                body=body,
            )
        )
    return served, pending


def load_contract_documents(schema: GraphQLSchema) -> list[TrustedDocument]:
    return parse_manifest(CONTRACT_MANIFEST_PATH.read_text(), schema)
