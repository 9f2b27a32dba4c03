"""Imports flow app -> schema -> {resolvers, jobs} -> {loaders, ranking, media, subscriptions}
-> storage; app also starts jobs. resolvers and jobs never import each other: what both need
lives in storage."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# What each layer may import from the project; anything else is a layering violation.
ALLOWED = {
    "app": {
        "app",
        "schema",
        "resolvers",
        "jobs",
        "loaders",
        "ranking",
        "media",
        "subscriptions",
        "storage",
    },
    "schema": {"schema", "resolvers", "storage"},
    "resolvers": {"resolvers", "loaders", "ranking", "media", "subscriptions", "storage"},
    "jobs": {"jobs", "loaders", "ranking", "media", "subscriptions", "storage"},
    "loaders": {"loaders", "storage"},
    "ranking": {"ranking", "storage"},
    "media": {"media", "storage"},
    "subscriptions": {"subscriptions", "storage"},
    "storage": {"storage"},
}


def project_imports(path: Path) -> set[str]:
    imported: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imported.add(node.module.split(".")[0])
    return imported & set(ALLOWED)


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_a_layer_imports_only_the_layers_below_it(layer: str) -> None:
    violations = {
        str(path.relative_to(ROOT)): sorted(project_imports(path) - ALLOWED[layer])
        for path in (ROOT / layer).rglob("*.py")
        if project_imports(path) - ALLOWED[layer]
    }

    assert violations == {}
