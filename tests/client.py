"""A small GraphQL-over-HTTP client for the tests, and helpers to make accounts."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from tests.contract import operation_source

TEST_PASSWORD = "correct horse battery staple"
_counter = itertools.count()


@dataclass(frozen=True)
class Account:
    id: str
    username: str
    email: str
    token: str


class GraphQLClient:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def post(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )

    async def execute(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None
    ) -> dict[str, Any]:
        """The whole response body (data and errors) of a request that must be HTTP 200."""
        response = await self.post(query, variables, token=token)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def data(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None
    ) -> dict[str, Any]:
        """The `data` of a request that must succeed without GraphQL errors."""
        body = await self.execute(query, variables, token=token)
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data

    async def run(self, operation: str, account: Account | None, **variables: Any) -> Any:
        """The one root field the contract's `operation` answers, as `account` (None:
        anonymous) runs it."""
        token = None if account is None else account.token
        data = await self.data(operation_source(operation), variables, token=token)
        return next(iter(data.values()))

    async def create_upload(
        self, account: Account, content_type: str, byte_size: int
    ) -> dict[str, Any]:
        data = await self.data(
            """mutation ($t: String!, $n: Int!) { createUpload(input: {contentType: $t, byteSize: $n}) {
                 upload { id url fields { name value } expiresAt } errors { code field message } } }""",
            {"t": content_type, "n": byte_size},
            token=account.token,
        )
        payload: dict[str, Any] = data["createUpload"]
        return payload

    async def send_upload_form(
        self, upload: dict[str, Any], data: bytes, content_type: str
    ) -> httpx.Response:
        """POST the bytes as a browser would: the form's fields, then the file."""
        fields = {field["name"]: field["value"] for field in upload["fields"]}
        return await self.http.post(
            upload["url"], data=fields, files={"file": ("upload", data, content_type)}
        )

    async def upload(self, account: Account, data: bytes, content_type: str = "image/jpeg") -> str:
        """Upload `data` through the whole flow; returns the upload id."""
        payload = await self.create_upload(account, content_type, len(data))
        assert payload["errors"] == [], payload["errors"]
        response = await self.send_upload_form(payload["upload"], data, content_type)
        assert response.status_code in (200, 201, 204), response.text
        upload_id: str = payload["upload"]["id"]
        return upload_id

    async def create_post(
        self, account: Account, images: list[bytes], caption: str = "", **extra: Any
    ) -> dict[str, Any]:
        upload_ids = [await self.upload(account, image) for image in images]
        data = await self.data(
            """mutation ($ids: [ID!]!, $caption: String, $cmid: String) {
                 createPost(input: {uploadIds: $ids, caption: $caption, clientMutationId: $cmid}) {
                   post { id caption hashtags mentions { username } likeCount commentCount
                          media { id type url width height } }
                   errors { code field message } } }""",
            {"ids": upload_ids, "caption": caption, "cmid": extra.get("client_mutation_id")},
            token=account.token,
        )
        payload: dict[str, Any] = data["createPost"]
        return payload

    async def sign_up(self, prefix: str = "user", *, private: bool = False) -> Account:
        username = f"{prefix}_{next(_counter)}_{uuid.uuid4().hex[:6]}"
        data = await self.data(
            """mutation ($u: String!, $e: String!, $p: String!) {
                 signUp(input: {username: $u, email: $e, password: $p}) {
                   token user { id } errors { code field message } } }""",
            {"u": username, "e": f"{username}@example.com", "p": TEST_PASSWORD},
        )
        payload = data["signUp"]
        assert payload["errors"] == [], payload["errors"]
        account = Account(
            payload["user"]["id"], username, f"{username}@example.com", payload["token"]
        )
        if private:
            await self.data(
                "mutation { updateProfile(input: {isPrivate: true}) { errors { field } } }",
                token=account.token,
            )
        return account
