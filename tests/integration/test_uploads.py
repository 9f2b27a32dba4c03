"""Uploads: the signed form, what it allows, and the checks when an upload is used.

Tests that take `media_graphql` run twice: embedded storage, and moto's S3 server over HTTP.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.services import Runtime, open_runtime
from media.decode_slots import DecodeSlots
from media.image import Render, Rendition
from resolvers.context import Context, Services
from resolvers.errors import FieldError
from resolvers.ids import to_global_id
from resolvers.post import create_post
from resolvers.upload import UPLOAD_LIFETIME, create_upload, usable_uploads
from storage.objects import ObjectStorage, PresignedPost
from storage.upload import UploadRecord
from storage.user import UserRecord
from tests.client import GraphQLClient
from tests.conftest import insert_user, make_settings
from tests.media import decoded, decompression_bomb, jpeg, png_with_transparency

VIEWER_POSTS = "{ viewer { postCount posts { edges { node { id } } } } }"


async def post_errors(
    graphql: GraphQLClient, token: str, upload_ids: list[str], caption: str = ""
) -> Any:
    data = await graphql.data(
        """mutation ($ids: [ID!]!, $caption: String) { createPost(input: {uploadIds: $ids, caption: $caption}) {
             post { id } errors { code field message } } }""",
        {"ids": upload_ids, "caption": caption},
        token=token,
    )
    assert data["createPost"]["post"] is None
    return [(error["code"], error["field"]) for error in data["createPost"]["errors"]]


async def nothing_was_posted(graphql: GraphQLClient, token: str) -> bool:
    viewer = (await graphql.data(VIEWER_POSTS, token=token))["viewer"]
    return bool(viewer["postCount"] == 0 and viewer["posts"]["edges"] == [])


@pytest.mark.parametrize(
    ("content_type", "byte_size", "field"),
    [
        ("image/gif", 1_000, "contentType"),
        ("application/pdf", 1_000, "contentType"),
        ("image/jpeg", 0, "byteSize"),
        ("image/jpeg", 20 * 1024 * 1024 + 1, "byteSize"),
        ("video/mp4", 100 * 1024 * 1024 + 1, "byteSize"),
    ],
)
async def test_create_upload_refuses_types_and_sizes_it_does_not_take(
    graphql: GraphQLClient, content_type: str, byte_size: int, field: str
) -> None:
    account = await graphql.sign_up()

    payload = await graphql.create_upload(account, content_type, byte_size)

    assert payload["upload"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("INVALID", field)]


async def test_create_upload_needs_a_viewer(graphql: GraphQLClient) -> None:
    body = await graphql.execute(
        'mutation { createUpload(input: {contentType: "image/jpeg", byteSize: 10}) { errors { code } } }'
    )

    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_an_upload_form_carries_a_key_under_the_viewers_prefix(
    media_graphql: GraphQLClient,
) -> None:
    account = await media_graphql.sign_up()

    payload = await media_graphql.create_upload(account, "image/jpeg", 1_000)

    fields = {field["name"]: field["value"] for field in payload["upload"]["fields"]}
    assert fields["key"].startswith("uploads/")
    assert fields["Content-Type"] == "image/jpeg"
    assert payload["upload"]["expiresAt"]


async def test_a_tampered_embedded_upload_form_is_refused(graphql: GraphQLClient) -> None:
    account = await graphql.sign_up()
    upload = (await graphql.create_upload(account, "image/jpeg", 1_000))["upload"]
    for field in upload["fields"]:
        if field["name"] == "key":
            field["value"] = "media/overwritten.jpg"

    response = await graphql.send_upload_form(upload, jpeg(10, 10), "image/jpeg")

    assert response.status_code == 403


async def test_the_embedded_upload_endpoint_refuses_more_bytes_than_declared(
    graphql: GraphQLClient,
) -> None:
    account = await graphql.sign_up()
    upload = (await graphql.create_upload(account, "image/jpeg", 100))["upload"]

    response = await graphql.send_upload_form(upload, os.urandom(101), "image/jpeg")

    assert response.status_code == 413


async def test_an_uploaded_photo_becomes_clean_upright_renditions(
    media_graphql: GraphQLClient,
) -> None:
    account = await media_graphql.sign_up()
    photo = jpeg(1600, 1200, orientation=6, gps=True)  # shot sideways, with a location

    payload = await media_graphql.create_post(account, [photo])

    assert payload["errors"] == []
    media = payload["post"]["media"][0]
    assert (media["type"], media["width"], media["height"]) == ("IMAGE", 1080, 1440)
    async with httpx.AsyncClient() as http:
        response = await http.get(media["url"])
    assert response.status_code == 200
    assert "immutable" in response.headers["cache-control"]
    image = decoded(response.content)
    assert (image.format, image.size) == ("JPEG", (1080, 1440))
    assert dict(image.getexif()) == {}  # no orientation, no GPS, nothing
    assert "icc_profile" not in image.info and "exif" not in image.info


async def test_a_transparent_png_is_flattened_onto_white(media_graphql: GraphQLClient) -> None:
    account = await media_graphql.sign_up()
    image_bytes = png_with_transparency()
    upload_id = await media_graphql.upload(account, image_bytes, "image/png")

    data = await media_graphql.data(
        "mutation ($ids: [ID!]!) { createPost(input: {uploadIds: $ids}) { post { media { url } } errors { code } } }",
        {"ids": [upload_id]},
        token=account.token,
    )

    async with httpx.AsyncClient() as http:
        rendition = decoded((await http.get(data["createPost"]["post"]["media"][0]["url"])).content)
    assert rendition.convert("RGB").getpixel((10, 10)) == (255, 255, 255)


async def test_an_upload_whose_bytes_are_not_the_declared_type_is_refused(
    media_graphql: GraphQLClient,
) -> None:
    account = await media_graphql.sign_up()
    photo = jpeg(300, 300)
    upload_id = await media_graphql.upload(account, photo, "image/png")  # says PNG, is JPEG

    assert await post_errors(media_graphql, account.token, [upload_id]) == [
        ("INVALID", "uploadIds")
    ]
    assert await nothing_was_posted(media_graphql, account.token)


async def test_an_upload_smaller_than_declared_is_refused(media_graphql: GraphQLClient) -> None:
    account = await media_graphql.sign_up()
    photo = jpeg(300, 300)
    upload = (await media_graphql.create_upload(account, "image/jpeg", len(photo) + 10))["upload"]
    await media_graphql.send_upload_form(upload, photo, "image/jpeg")

    assert await post_errors(media_graphql, account.token, [upload["id"]]) == [
        ("INVALID", "uploadIds")
    ]
    assert await nothing_was_posted(media_graphql, account.token)


async def test_an_upload_never_sent_is_refused(media_graphql: GraphQLClient) -> None:
    account = await media_graphql.sign_up()
    upload = (await media_graphql.create_upload(account, "image/jpeg", 1_000))["upload"]

    assert await post_errors(media_graphql, account.token, [upload["id"]]) == [
        ("INVALID", "uploadIds")
    ]


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(jpeg(800, 600)[:-2_000], id="truncated"),
        pytest.param(os.urandom(5_000), id="undecodable"),
    ],
)
async def test_a_damaged_image_is_refused(media_graphql: GraphQLClient, content: bytes) -> None:
    account = await media_graphql.sign_up()
    upload_id = await media_graphql.upload(account, content, "image/jpeg")

    assert await post_errors(media_graphql, account.token, [upload_id]) == [
        ("INVALID", "uploadIds")
    ]
    assert await nothing_was_posted(media_graphql, account.token)


async def test_a_decompression_bomb_is_refused(graphql: GraphQLClient) -> None:
    account = await graphql.sign_up()
    upload_id = await graphql.upload(account, decompression_bomb(), "image/png")

    errors = await graphql.data(
        "mutation ($ids: [ID!]!) { createPost(input: {uploadIds: $ids}) { errors { field message } } }",
        {"ids": [upload_id]},
        token=account.token,
    )

    assert errors["createPost"]["errors"][0]["field"] == "uploadIds"
    assert "pixels" in errors["createPost"]["errors"][0]["message"]


async def test_another_users_upload_is_not_found(media_graphql: GraphQLClient) -> None:
    owner, thief = await media_graphql.sign_up(), await media_graphql.sign_up()
    upload_id = await media_graphql.upload(owner, jpeg(300, 300))

    assert await post_errors(media_graphql, thief.token, [upload_id]) == [
        ("NOT_FOUND", "uploadIds")
    ]


async def test_an_upload_is_used_only_once(media_graphql: GraphQLClient) -> None:
    account = await media_graphql.sign_up()
    upload_id = await media_graphql.upload(account, jpeg(300, 300))
    await media_graphql.data(
        "mutation ($ids: [ID!]!) { createPost(input: {uploadIds: $ids}) { post { id } } }",
        {"ids": [upload_id]},
        token=account.token,
    )

    assert await post_errors(media_graphql, account.token, [upload_id]) == [
        ("INVALID", "uploadIds")
    ]


async def test_a_failed_post_leaves_its_good_uploads_usable(graphql: GraphQLClient) -> None:
    account = await graphql.sign_up()
    good = await graphql.upload(account, jpeg(300, 300))
    bad = await graphql.upload(account, os.urandom(3_000), "image/jpeg")
    await post_errors(graphql, account.token, [good, bad])

    data = await graphql.data(
        "mutation ($ids: [ID!]!) { createPost(input: {uploadIds: $ids}) { post { id } errors { code } } }",
        {"ids": [good]},
        token=account.token,
    )

    assert data["createPost"]["errors"] == []


async def test_an_expired_upload_is_refused(runtime: Runtime) -> None:
    services = runtime.services
    user = await insert_user(services)
    context = Context.for_viewer(services, user)
    created = await create_upload(context, "image/jpeg", 1_000)
    assert created.upload is not None
    later = dataclasses.replace(services, clock=lambda: services.clock() + UPLOAD_LIFETIME)
    context.services = later
    result = await usable_uploads(
        context, [to_global_id("Upload", created.upload.record.id)], "uploadIds"
    )

    assert isinstance(result, FieldError) and "expired" in result.message


class RecordingStorage:
    """The app's own object storage, noting the keys it is asked to read, write (or create)
    and delete."""

    def __init__(self, storage: ObjectStorage) -> None:
        self._storage = storage
        self.reads: list[str] = []
        self.writes: list[str] = []
        self.deletes: list[str] = []

    async def presign_upload(
        self, key: str, *, content_type: str, max_bytes: int, expires_in: int
    ) -> PresignedPost:
        return await self._storage.presign_upload(
            key, content_type=content_type, max_bytes=max_bytes, expires_in=expires_in
        )

    async def read(self, key: str, *, max_bytes: int) -> bytes | None:
        self.reads.append(key)
        return await self._storage.read(key, max_bytes=max_bytes)

    async def write(self, key: str, data: bytes, *, content_type: str) -> None:
        self.writes.append(key)
        await self._storage.write(key, data, content_type=content_type)

    async def create(self, key: str, data: bytes, *, content_type: str) -> bool:
        self.writes.append(key)
        return await self._storage.create(key, data, content_type=content_type)

    async def delete(self, key: str) -> None:
        self.deletes.append(key)
        await self._storage.delete(key)

    async def ping(self) -> None:
        await self._storage.ping()


class WatchedDecodeSlots(DecodeSlots):
    """The real bound, counting the renders it runs and the most that ran at once."""

    def __init__(self, slots: int) -> None:
        super().__init__(slots)
        self._lock = threading.Lock()
        self._running = 0
        self.renders = 0
        self.most_running = 0

    async def render(self, render: Render, data: bytes) -> list[Rendition]:
        def watched(data: bytes) -> list[Rendition]:
            with self._lock:
                self.renders += 1
                self._running += 1
                self.most_running = max(self.most_running, self._running)
            try:
                return render(data)
            finally:
                with self._lock:
                    self._running -= 1

        return await super().render(watched, data)


@pytest.fixture
async def media_runtime(redis_url: str, tmp_path: Path) -> AsyncIterator[Runtime]:
    """The app's services with the embedded object storage in a folder of the test's own."""
    async with open_runtime(make_settings(redis_url, media_dir=str(tmp_path))) as runtime:
        yield runtime


async def stored_uploads(
    services: Services, viewer: UserRecord, contents: list[bytes]
) -> list[UploadRecord]:
    """Uploads of `contents`, each declared as a JPEG, with their bytes in storage (as the
    signed form would put them)."""
    context = Context.for_viewer(services, viewer)
    records = []
    for data in contents:
        created = await create_upload(context, "image/jpeg", len(data))
        assert created.upload is not None, created.errors
        records.append(created.upload.record)
        await services.objects.write(records[-1].key, data, content_type="image/jpeg")
    return records


def global_ids(records: list[UploadRecord]) -> list[str]:
    return [to_global_id("Upload", record.id) for record in records]


async def test_a_post_reads_its_uploads_one_at_a_time_and_stops_at_a_bad_one(
    media_runtime: Runtime,
) -> None:
    """Given three uploads of which the second is not an image, when they are posted, then
    the first and the second are read, in turn, and the third never is."""
    viewer = await insert_user(media_runtime.services)
    first, bad, third = await stored_uploads(
        media_runtime.services, viewer, [jpeg(300, 300), os.urandom(3_000), jpeg(300, 300)]
    )
    storage = RecordingStorage(media_runtime.services.objects)
    services = dataclasses.replace(media_runtime.services, objects=storage)

    result = await create_post(
        Context.for_viewer(services, viewer), global_ids([first, bad, third]), None, None
    )

    assert [error.message.split(":")[0] for error in result.errors] == ["Upload 2"]
    assert storage.reads == [first.key, bad.key]


async def test_a_post_refused_for_its_last_upload_stores_no_renditions(
    media_runtime: Runtime,
) -> None:
    """Given two good uploads and a bad third, when they are posted, then the post is
    refused and not one rendition of the good ones was written."""
    viewer = await insert_user(media_runtime.services)
    uploads = await stored_uploads(
        media_runtime.services, viewer, [jpeg(300, 300), jpeg(400, 300), os.urandom(3_000)]
    )
    storage = RecordingStorage(media_runtime.services.objects)
    services = dataclasses.replace(media_runtime.services, objects=storage)

    result = await create_post(
        Context.for_viewer(services, viewer), global_ids(uploads), None, None
    )

    assert result.post is None and len(result.errors) == 1
    assert storage.writes == []


async def test_concurrent_posts_decode_one_image_at_a_time_on_one_slot(
    media_runtime: Runtime,
) -> None:
    """Given a process with one decode slot, when three viewers post three photos each at
    once, then every photo is decoded through the slot, never two at the same time."""
    with WatchedDecodeSlots(1) as slots:
        services = dataclasses.replace(media_runtime.services, decode_slots=slots)
        viewers = [await insert_user(services) for _ in range(3)]
        uploads = [
            await stored_uploads(services, viewer, [jpeg(1600, 1200) for _ in range(3)])
            for viewer in viewers
        ]

        results = await asyncio.gather(
            *(
                create_post(Context.for_viewer(services, viewer), global_ids(records), None, None)
                for viewer, records in zip(viewers, uploads, strict=True)
            )
        )

    assert [len(result.errors) for result in results] == [0, 0, 0]
    assert (slots.renders, slots.most_running) == (9, 1)
