from __future__ import annotations

import pytest

from app.graphql_view import prefers_graphql_response_json


@pytest.mark.parametrize(
    ("accept", "preferred"),
    [
        (None, False),
        ("*/*", False),
        ("application/json", False),
        ("application/graphql-response+json", True),
        ("application/graphql-response+json, application/json;q=0.9", True),  # Apollo Client
        ("application/json, application/graphql-response+json;q=0.5", False),
        ("application/graphql-response+json;q=0", False),
    ],
)
def test_the_spec_media_type_is_used_when_the_client_prefers_it(
    accept: str | None, preferred: bool
) -> None:
    assert prefers_graphql_response_json(accept) is preferred
