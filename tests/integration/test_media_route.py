"""The embedded media route: only processed media under `media/`, served as stored.

Requests are sent byte for byte over a socket: HTTP clients normalise dot segments away, a
hostile client does not.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.client import Account
from tests.conftest import EmbeddedServer
from tests.media import jpeg


@dataclass(frozen=True)
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes


async def raw_get(base_url: str, target: str) -> RawResponse:
    """GET `target` exactly as written: no client-side decoding or dot-segment removal."""
    url = httpx.URL(base_url)
    reader, writer = await asyncio.open_connection(url.host, url.port)
    request = f"GET {target} HTTP/1.1\r\nHost: {url.host}:{url.port}\r\nConnection: close\r\n\r\n"
    writer.write(request.encode("latin-1"))
    await writer.drain()
    raw = await reader.read()  # the server closes the connection after its answer
    writer.close()
    await writer.wait_closed()
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return RawResponse(int(status_line.split()[1]), headers, body)


@dataclass(frozen=True)
class PostedPhoto:
    """A photo with a location, posted: its raw upload sits in storage beside its media."""

    upload_key: str
    upload_bytes: bytes
    rendition_path: str


def base_url(embedded: EmbeddedServer) -> str:
    return str(embedded.graphql.http.base_url).rstrip("/")


def storage_root(embedded: EmbeddedServer) -> Path:
    storage = embedded.runtime.local_storage
    assert storage is not None
    return storage.root


async def post_photo(embedded: EmbeddedServer) -> PostedPhoto:
    graphql = embedded.graphql
    account: Account = await graphql.sign_up()
    photo = jpeg(400, 300, gps=True)
    upload = (await graphql.create_upload(account, "image/jpeg", len(photo)))["upload"]
    assert (await graphql.send_upload_form(upload, photo, "image/jpeg")).status_code == 204
    data = await graphql.data(
        "mutation ($ids: [ID!]!) { createPost(input: {uploadIds: $ids}) { post { media { url } } } }",
        {"ids": [upload["id"]]},
        token=account.token,
    )
    url = httpx.URL(data["createPost"]["post"]["media"][0]["url"])
    key = next(field["value"] for field in upload["fields"] if field["name"] == "key")
    return PostedPhoto(upload_key=key, upload_bytes=photo, rendition_path=url.path)


def escape(key: str, separator: str) -> str:
    return key.replace("/", separator)


TRAVERSALS = {
    "plain dots": lambda key, root: f"/media/../{key}",
    "encoded dots": lambda key, root: f"/media/%2e%2e/{key}",
    "encoded dots, upper case": lambda key, root: f"/media/%2E%2E/{key}",
    "half-encoded dots": lambda key, root: f"/media/.%2e/{key}",
    "encoded slashes": lambda key, root: f"/media/..%2f{escape(key, '%2f')}",
    "dot segment first": lambda key, root: f"/media/./../{key}",
    "double-encoded dots": lambda key, root: f"/media/%252e%252e/{key}",
    "encoded backslashes": lambda key, root: f"/media/..%5c{escape(key, '%5c')}",
    "backslashes": lambda key, root: f"/media/..\\{escape(key, chr(92))}",
    "absolute path": lambda key, root: f"/media/{root}/{key}",
    "encoded absolute path": lambda key, root: f"/media/%2f{root.lstrip('/')}/{key}",
    "NUL byte": lambda key, root: f"/media/%2e%2e/{key}%00.jpg",
}


@pytest.mark.parametrize("traversal", TRAVERSALS.values(), ids=TRAVERSALS.keys())
async def test_no_encoding_of_a_path_out_of_media_serves_the_raw_upload(
    embedded: EmbeddedServer, traversal: object
) -> None:
    """Given a posted photo whose raw upload (GPS included) is in storage, when its key is
    asked for through the media route with a path that climbs out of `media/`, then the
    request is refused and not a byte of the upload is served."""
    photo = await post_photo(embedded)
    assert callable(traversal)
    target = traversal(photo.upload_key, str(storage_root(embedded)))

    response = await raw_get(base_url(embedded), target)

    assert response.status in (400, 404), (target, response.status)
    assert photo.upload_bytes not in response.body


@pytest.mark.parametrize("link", ["file", "folder"])
async def test_a_symlink_under_media_is_not_followed(embedded: EmbeddedServer, link: str) -> None:
    """Given a symlink under `media/` to a raw upload (or to its folder), when it is asked
    for, then it is not found."""
    photo = await post_photo(embedded)
    root = storage_root(embedded)
    upload_file = root / photo.upload_key
    name = f"link-{os.urandom(4).hex()}"
    if link == "file":
        (root / "media" / f"{name}.jpg").symlink_to(upload_file)
        target = f"/media/{name}.jpg"
    else:
        (root / "media" / name).symlink_to(upload_file.parent, target_is_directory=True)
        target = f"/media/{name}/{upload_file.name}"

    response = await raw_get(base_url(embedded), target)

    assert response.status == 404
    assert photo.upload_bytes not in response.body


async def test_served_media_are_not_sniffed_by_browsers(embedded: EmbeddedServer) -> None:
    photo = await post_photo(embedded)

    response = await raw_get(base_url(embedded), photo.rendition_path)

    assert response.status == 200
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-type"] == "image/jpeg"


async def test_served_media_carry_the_stored_content_type_not_one_guessed_from_the_key(
    embedded: EmbeddedServer,
) -> None:
    """Given an object under a key ending in `.html`, stored as a JPEG, when it is served,
    then it is a JPEG."""
    key = f"media/{os.urandom(8).hex()}.html"
    await embedded.runtime.services.objects.write(key, jpeg(20, 20), content_type="image/jpeg")

    response = await raw_get(base_url(embedded), f"/{key}")

    assert response.status == 200
    assert response.headers["content-type"] == "image/jpeg"
