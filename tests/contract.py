"""The frontend teams' operations (`../shared/contract/operations.graphql`), one by one.

`PENDING_OPERATIONS` is the one place that lists what the server does not serve yet; each
issue that builds a feature removes its operations from it.
"""

from __future__ import annotations

import functools
from pathlib import Path

from graphql import DocumentNode, OperationDefinitionNode, parse

from app.trusted.manifest import operation_with_fragments

CONTRACT_PATH = Path(__file__).resolve().parents[2] / "shared" / "contract" / "operations.graphql"

# Empty: every contract operation is served. A contract operation added later goes here
# until the issue that builds it lands.
PENDING_OPERATIONS: frozenset[str] = frozenset()


@functools.cache
def contract_document() -> DocumentNode:
    return parse(CONTRACT_PATH.read_text())


def operation_names() -> list[str]:
    return [
        definition.name.value
        for definition in contract_document().definitions
        if isinstance(definition, OperationDefinitionNode) and definition.name is not None
    ]


def served_operation_names() -> list[str]:
    return [name for name in operation_names() if name not in PENDING_OPERATIONS]


def operation_source(name: str) -> str:
    """The operation with every fragment it uses, as a client would send it, and as the
    contract manifest (app/trusted/contract.json) holds it."""
    document = contract_document()
    operation = next(
        d
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode) and d.name is not None and d.name.value == name
    )
    return operation_with_fragments(operation, document)
