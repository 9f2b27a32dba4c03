"""GraphiQL, served by the app itself from vendored npm files (works offline).

Placeholder until the vendored page lands: see the GraphiQL part of issue 2.
"""

from __future__ import annotations

from pathlib import Path

from starlette.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).parent / "static" / "graphiql"


def graphiql_html(graphql_path: str) -> str:
    return f"<!doctype html><title>GraphiQL</title><p>GraphiQL for {graphql_path}</p>"


def graphiql_static_app() -> StaticFiles:
    STATIC_DIR.mkdir(parents=True, exist_ok=True)
    return StaticFiles(directory=STATIC_DIR)
