"""GraphiQL, served by the app itself from vendored npm files, so that it works offline.

`static/graphiql/` holds the unchanged npm builds (what, which versions and how to refresh them:
`static/graphiql/VENDORED.md`) and our own page script and styles (`pictograph-graphiql.*`).
"""

from __future__ import annotations

import functools
import hashlib
from html import escape
from pathlib import Path
from string import Template
from urllib.parse import parse_qs

from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC_DIR = Path(__file__).parent / "static" / "graphiql"
STATIC_URL_PREFIX = "/graphiql"  # where app/main.py mounts graphiql_static_app()

# In load order: each UMD file reads the globals of the ones before it. GraphiQL bundles
# graphql-js and exposes it as `GraphiQL.GraphQL`, which is where the explorer plugin looks.
SCRIPTS = (
    "react.production.min.js",
    "react-dom.production.min.js",
    "graphiql.min.js",
    "plugin-explorer.umd.js",
    "pictograph-graphiql.js",
)
STYLESHEETS = ("graphiql.min.css", "plugin-explorer.css", "pictograph-graphiql.css")
FINGERPRINTED_FILES = frozenset(SCRIPTS + STYLESHEETS)

# The page's URLs name each file's content (?v=<hash>), so a browser may keep such a response
# for a year: a changed file gets a new URL. Other URLs keep the default validation by ETag.
VERSION_PARAMETER = "v"
FINGERPRINT_HEX_DIGITS = 16  # 64 bits: collisions between two builds of a file are not a worry
IMMUTABLE_CACHE_CONTROL = "public, max-age=31536000, immutable"

# The page loads nothing but its own origin's files: scripts only from files (no inline code,
# no eval), requests and WebSockets only to this origin ('self' covers ws: and wss: to the
# same host), fonts and icons only from the data: URLs inside GraphiQL's stylesheet. Styles
# need 'unsafe-inline' because GraphiQL's components set style attributes.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "font-src 'self' data:",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
    )
)

_PAGE = Template(
    """<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <meta http-equiv="Content-Security-Policy" content="$content_security_policy">
    <title>Pictograph GraphiQL</title>
    <link rel="icon" href="data:,">
$stylesheets
  </head>
  <body>
    <div id="graphiql" data-graphql-path="$graphql_path">Loading GraphiQL…</div>
$scripts
  </body>
</html>
"""
)


@functools.cache
def _fingerprint(name: str) -> str:
    return hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:FINGERPRINT_HEX_DIGITS]


def _url(name: str) -> str:
    return escape(f"{STATIC_URL_PREFIX}/{name}?{VERSION_PARAMETER}={_fingerprint(name)}")


@functools.cache
def graphiql_html(graphql_path: str) -> str:
    """The GraphiQL page for the endpoint at `graphql_path` on the page's own origin."""
    return _PAGE.substitute(
        content_security_policy=CONTENT_SECURITY_POLICY,
        graphql_path=escape(graphql_path),
        stylesheets="\n".join(
            f'    <link rel="stylesheet" href="{_url(name)}">' for name in STYLESHEETS
        ),
        scripts="\n".join(f'    <script src="{_url(name)}"></script>' for name in SCRIPTS),
    )


class _GraphiQLStaticFiles(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if path in FINGERPRINTED_FILES:
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            # Only the current content may be cached for good: an old page asking for an old
            # fingerprint gets today's file, which must not be remembered under that URL.
            if query.get(VERSION_PARAMETER) == [_fingerprint(path)]:
                response.headers["Cache-Control"] = IMMUTABLE_CACHE_CONTROL
        return response


def graphiql_static_app() -> StaticFiles:
    """Serves `static/graphiql/`, to be mounted at STATIC_URL_PREFIX."""
    return _GraphiQLStaticFiles(directory=STATIC_DIR)
