"""What `pictograph register-manifest` and `export-contract-manifest` do, without the CLI."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from app.trusted.manifest import (
    CONTRACT_MANIFEST_PATH,
    contract_documents,
    manifest_json,
    parse_manifest,
)
from schema import build_schema
from storage.mongo import Database
from storage.trusted_document import TrustedDocument, TrustedDocumentStore

# The frontend teams' operations, beside the repository (read only to generate the
# contract manifest, never by a running server).
CONTRACT_SOURCE_PATH = (
    Path(__file__).resolve().parents[3] / "shared" / "contract" / "operations.graphql"
)


def read_manifest(path: Path) -> list[TrustedDocument]:
    """The manifest's operations, checked against the schema this code defines; raises
    ManifestError, before anything is written, when any of them is wrong."""
    return parse_manifest(path.read_text(), build_schema(mask_errors=False)._schema)


async def register_documents(
    database: Database, documents: Sequence[TrustedDocument], *, source: str
) -> int:
    """Make the documents trusted for every server process; returns how many were new."""
    store = TrustedDocumentStore.of(database)
    return await store.register(documents, source=source, now=datetime.now(UTC))


def write_contract_manifest(
    contract_path: Path = CONTRACT_SOURCE_PATH, output: Path = CONTRACT_MANIFEST_PATH
) -> list[str]:
    """Write the contract's served operations as a manifest; returns the names left out
    because the schema does not serve them yet."""
    documents, pending = contract_documents(
        contract_path.read_text(), build_schema(mask_errors=False)._schema
    )
    output.write_text(manifest_json(documents))
    return pending
