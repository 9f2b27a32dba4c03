"""GraphiQL works from the app's own files alone: in headless Chromium, with every host but the
loopback unresolvable, the page loads, runs a query with a token from its headers editor, opens
the explorer plugin, and subscribes over a same-origin WebSocket."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from app.graphiql import IMMUTABLE_CACHE_CONTROL
from tests.client import Account, GraphQLClient
from tests.e2e.browser import Browser, Page, launch_chromium

VIEWER_QUERY = "{ viewer { username } }"
SUBSCRIPTION = "subscription { messageReceived { text sender { username } } }"
SEND = """mutation ($to: [ID!], $id: String!) {
  sendMessage(input: {recipientIds: $to, text: "to graphiql", clientId: $id}) { errors { code } }
}"""
# A subscription says nothing when it has started: the sender sends again this often until
# GraphiQL shows a message (what is sent before the start is not the subscription's).
RESEND_SECONDS = 0.3
RESENDS = 30

EDITORS_READY = """
    !!document.querySelector('.graphiql-query-editor .CodeMirror')
    && !!document.querySelector('.graphiql-execute-button')
"""
SHOW_HEADERS_EDITOR = """
    [...document.querySelectorAll('.graphiql-editor-tools button')]
        .find(button => button.textContent.trim() === 'Headers').click()
"""
HEADERS_EDITOR = "document.querySelector('.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror').CodeMirror"
QUERY_EDITOR = "document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror"
RUN = "document.querySelector('.graphiql-execute-button').click()"
RESULT = "document.querySelector('.graphiql-response .CodeMirror').CodeMirror.getValue()"
TEXT_FRAME = 1  # the WebSocket opcode of a text frame (RFC 6455), as DevTools reports it
SHOW_EXPLORER = "document.querySelector('button[aria-label=\"Show GraphiQL Explorer\"]').click()"
EXPLORER_TEXT = "document.querySelector('.graphiql-plugin')?.innerText ?? ''"


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with launch_chromium() as browser:
        yield browser


def authorization_headers(account: Account) -> str:
    # Capitalised as people type it: the page must still send it as the server expects.
    return json.dumps({"Authorization": f"Bearer {account.token}"})


async def open_graphiql(page: Page, server_url: str, query: str, headers: str) -> None:
    await page.navigate(f"{server_url}/graphql?q={quote(query)}")
    await page.wait_for(EDITORS_READY, "GraphiQL's editors")
    assert await page.evaluate(f"{QUERY_EDITOR}.getValue()") == query
    await page.evaluate(SHOW_HEADERS_EDITOR)
    await page.evaluate(f"{HEADERS_EDITOR}.setValue({json.dumps(headers)})")


def assert_only_own_origin_was_contacted(page: Page, server_url: str) -> None:
    """Every request and WebSocket went to the app; data: URLs are GraphiQL's inlined fonts."""
    own = (f"{server_url}/", re.sub(r"^http", "ws", server_url) + "/", "data:")
    urls = [event["request"]["url"] for event in page.events("Network.requestWillBeSent")]
    urls += [event["url"] for event in page.events("Network.webSocketCreated")]
    assert urls, "the page made no requests at all"
    assert [url for url in urls if not url.startswith(own)] == []


def assert_no_page_errors(page: Page) -> None:
    """No script threw, and nothing was refused (CSP) or missing (404): each logs an error."""
    assert page.events("Runtime.exceptionThrown") == []
    errors = [event["entry"] for event in page.events("Log.entryAdded")]
    assert [entry for entry in errors if entry["level"] == "error"] == []


def frame_message(event: dict[str, Any]) -> dict[str, Any]:
    """The graphql-transport-ws message carried by a WebSocket frame event."""
    frame = event["response"]
    # DevTools reports a binary frame's payload in base64.
    payload = frame["payloadData"]
    text = payload if frame["opcode"] == TEXT_FRAME else base64.b64decode(payload).decode()
    message: dict[str, Any] = json.loads(text)
    return message


def is_message(message_type: str) -> Callable[[dict[str, Any]], bool]:
    return lambda event: frame_message(event).get("type") == message_type


async def test_graphiql_runs_a_query_with_the_token_from_its_headers_editor(
    browser: Browser, server_url: str, graphql: GraphQLClient
) -> None:
    account = await graphql.sign_up("graphiql")

    async with browser.new_page() as page:
        await open_graphiql(page, server_url, VIEWER_QUERY, authorization_headers(account))
        await page.evaluate(RUN)
        shown = await page.wait_for(RESULT, "the query's result")

        result = json.loads(shown)
        assert result["data"] == {"viewer": {"username": account.username}}
        assert result["extensions"]["cost"]["requested"] == 1  # shown beside the data
        await page.evaluate(SHOW_EXPLORER)
        # The explorer lists the root fields once GraphiQL has introspected the schema.
        await page.wait_for(f"{EXPLORER_TEXT}.includes('searchUsers')", "the explorer's fields")
        # shouldPersistHeaders: the token survives a reload (GraphiQL saves tabs after a pause).
        await page.wait_for(
            f"JSON.stringify(localStorage).includes({json.dumps(account.token)})",
            "the headers to be saved in localStorage",
        )
        assert_only_own_origin_was_contacted(page, server_url)
        assert_no_page_errors(page)


async def test_graphiql_subscribes_over_a_same_origin_websocket_and_shows_an_event(
    browser: Browser, server_url: str, graphql: GraphQLClient
) -> None:
    account, sender = await graphql.sign_up("graphiql"), await graphql.sign_up("sender")
    websocket_url = re.sub(r"^http", "ws", server_url) + "/graphql"

    async with browser.new_page() as page:
        await open_graphiql(page, server_url, SUBSCRIPTION, authorization_headers(account))
        await page.evaluate(RUN)
        # connection_ack: the server took the token from connection_init's payload.
        await page.wait_for_event("Network.webSocketFrameReceived", is_message("connection_ack"))
        shown = await shown_after_sends(page, graphql, account, sender)

        assert json.loads(shown)["data"] == {
            "messageReceived": {"text": "to graphiql", "sender": {"username": sender.username}}
        }
        sockets = page.events("Network.webSocketCreated")
        assert {event["url"] for event in sockets} == {websocket_url}
        sent = [frame_message(event) for event in page.events("Network.webSocketFrameSent")]
        init = next(message for message in sent if message["type"] == "connection_init")
        assert init["payload"] == {"authorization": f"Bearer {account.token}"}
        received = page.events("Network.webSocketFrameReceived")
        assert [event for event in received if event["response"]["opcode"] != TEXT_FRAME] == [], (
            "the server sent binary WebSocket frames, which graphql-ws in browsers cannot "
            "parse: the view must send JSON as text over WebSockets"
        )
        replies = [frame_message(event) for event in received]
        pushed = next(message for message in replies if message["type"] == "next")
        # GraphiQL shows what the server pushed, not an error of its own.
        assert json.loads(shown) == pushed["payload"]
        assert_only_own_origin_was_contacted(page, server_url)


async def shown_after_sends(
    page: Page, graphql: GraphQLClient, account: Account, sender: Account
) -> str:
    """What GraphiQL's result pane shows once a message sent to `account` reached it."""
    for _ in range(RESENDS):
        variables = {"to": [account.id], "id": uuid.uuid4().hex}
        await graphql.data(SEND, variables, token=sender.token)
        await asyncio.sleep(RESEND_SECONDS)
        shown: str = await page.evaluate(RESULT)
        if shown:
            return shown
    raise AssertionError(f"GraphiQL showed nothing after {RESENDS} messages")


async def test_graphiql_files_are_cached_for_good_under_their_fingerprinted_urls(
    server_url: str,
) -> None:
    async with httpx.AsyncClient(base_url=server_url, timeout=30) as http:
        page = await http.get("/graphql", headers={"Accept": "text/html"})
        script_urls = re.findall(r'<script src="([^"]+)"', page.text)
        versioned = await http.get(script_urls[0])
        unversioned = await http.get(script_urls[0].split("?")[0])
        stale = await http.get(script_urls[0].split("?")[0] + "?v=0000000000000000")

    assert page.status_code == 200 and "graphiql" in page.text
    assert versioned.status_code == 200 and versioned.headers["cache-control"] == (
        IMMUTABLE_CACHE_CONTROL
    )
    assert "cache-control" not in unversioned.headers and "etag" in unversioned.headers
    assert stale.status_code == 200 and "cache-control" not in stale.headers
