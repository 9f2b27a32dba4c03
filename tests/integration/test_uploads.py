"""Uploads: the signed form, what it allows, and the checks when an upload is used.

Tests that take `media_graphql` run twice: embedded storage, and moto's S3 server over HTTP.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.services import Runtime, open_runtime
from media.accepted import MAX_PIXELS_PER_REQUEST
from media.decode_slots import DecodeSlots
from media.image import Render, Rendition
from resolvers.context import Context, Services
from resolvers.errors import FieldError
from resolvers.ids import parse_global_id, parse_typed_id, to_global_id
from resolvers.post import create_post
from resolvers.upload import UPLOAD_LIFETIME, create_upload, usable_uploads
from storage.cache import record_cache
from storage.objects import ObjectStorage, PresignedPost
from storage.post import PostRecord, PostStore
from storage.upload import UploadRecord, new_upload_key
from storage.user import UserRecord
from tests.client import Account, GraphQLClient
from tests.conftest import EmbeddedServer, insert_user, make_settings, s3_overrides
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


def upload_record_id(upload: dict[str, Any]) -> int:
    record_id = parse_typed_id(upload["id"], "Upload")
    assert record_id is not None
    return record_id


def form_key(upload: dict[str, Any]) -> str:
    return str(next(field["value"] for field in upload["fields"] if field["name"] == "key"))


def user_record_id(account: Account) -> int:
    parsed = parse_global_id(account.id)
    assert parsed is not None
    return parsed[1]


async def created_uploads(graphql: GraphQLClient, count: int) -> list[dict[str, Any]]:
    account = await graphql.sign_up()
    return [
        (await graphql.create_upload(account, "image/jpeg", 1_000))["upload"] for _ in range(count)
    ]


async def test_upload_ids_are_not_in_the_order_they_were_made(graphql: GraphQLClient) -> None:
    """Given uploads made one after another, then their ids are not ordered (a time-ordered
    id, as every other record has, would let one upload's id lead to the next)."""
    ids = [upload_record_id(upload) for upload in await created_uploads(graphql, 16)]

    assert ids != sorted(ids) and ids != sorted(ids, reverse=True)


async def test_upload_keys_are_random_and_carry_no_id(graphql: GraphQLClient) -> None:
    uploads = await created_uploads(graphql, 8)

    tokens = [form_key(upload).rsplit("/", 1)[1] for upload in uploads]
    assert len(set(tokens)) == len(tokens)
    assert all(len(token) >= 32 for token in tokens)  # 128 bits, hex
    assert all(str(upload_record_id(upload)) not in form_key(upload) for upload in uploads)


FORGED_KEYS = {
    "a media key": lambda attacker, victim, victim_key: f"media/{'0' * 64}.jpg",
    "another user's prefix": lambda attacker, victim, victim_key: new_upload_key(victim),
    "another user's upload token": lambda attacker, victim, victim_key: (
        f"uploads/{attacker}/{victim_key.rsplit('/', 1)[1]}"
    ),
}


@pytest.mark.parametrize("forged_key", FORGED_KEYS.values(), ids=FORGED_KEYS.keys())
async def test_a_signed_embedded_form_writes_only_a_pending_uploads_own_key(
    embedded: EmbeddedServer, forged_key: Any
) -> None:
    """Given a form correctly signed with the server's secret, but for a key that is no
    pending upload's (under media/, another user's prefix, or another user's token), when
    it is posted, then it is refused and nothing is written."""
    graphql, storage = embedded.graphql, embedded.runtime.local_storage
    assert storage is not None
    attacker, victim = await graphql.sign_up(), await graphql.sign_up()
    victim_upload = (await graphql.create_upload(victim, "image/jpeg", 1_000))["upload"]
    photo = jpeg(50, 50)
    key = forged_key(user_record_id(attacker), user_record_id(victim), form_key(victim_upload))
    form = await storage.presign_upload(
        key, content_type="image/jpeg", max_bytes=len(photo), expires_in=600
    )

    response = await graphql.send_upload_form(
        {"fields": [{"name": n, "value": v} for n, v in form.fields.items()], "url": form.url},
        photo,
        "image/jpeg",
    )

    assert response.status_code == 403
    assert await storage.read(key, max_bytes=len(photo)) is None


async def test_the_form_of_a_used_upload_writes_nothing_more(graphql: GraphQLClient) -> None:
    """Given an upload that a post used, when its form (still within its lifetime) is
    posted again, then it is refused."""
    account = await graphql.sign_up()
    photo = jpeg(300, 300)
    upload = (await graphql.create_upload(account, "image/jpeg", len(photo)))["upload"]
    await graphql.send_upload_form(upload, photo, "image/jpeg")
    await graphql.data(
        "mutation ($ids: [ID!]!) { createPost(input: {uploadIds: $ids}) { post { id } } }",
        {"ids": [upload["id"]]},
        token=account.token,
    )

    response = await graphql.send_upload_form(upload, jpeg(300, 300, gps=True), "image/jpeg")

    assert response.status_code == 403


@pytest.fixture(params=["embedded", "s3"])
async def any_storage_runtime(
    request: pytest.FixtureRequest, redis_url: str, s3_endpoint: str, tmp_path: Path
) -> AsyncIterator[Runtime]:
    """The app's services over the embedded object storage, and over moto's S3 server."""
    overrides = {} if request.param == "embedded" else s3_overrides(s3_endpoint)
    settings = make_settings(redis_url, media_dir=str(tmp_path), **overrides)
    async with open_runtime(settings) as runtime:
        yield runtime


class DatabaseWentAway(Exception):
    pass


class PostStoreFailingInsert(PostStore):
    """The real store, whose insert fails as a MongoDB that just went away would."""

    async def insert(self, post: PostRecord, *, client_mutation_id: str | None) -> None:
        raise DatabaseWentAway


class StorageFailingAfter(RecordingStorage):
    """The real storage, failing as an unreachable S3 would once `creates` objects were
    created."""

    def __init__(self, storage: ObjectStorage, creates: int) -> None:
        super().__init__(storage)
        self._creates_left = creates

    async def create(self, key: str, data: bytes, *, content_type: str) -> bool:
        if self._creates_left == 0:
            raise ConnectionError("object storage went away")
        self._creates_left -= 1
        return await super().create(key, data, content_type=content_type)


def with_failing_post_insert(runtime: Runtime, objects: ObjectStorage) -> Services:
    redis = runtime.services.redis
    posts = PostStoreFailingInsert(
        runtime.database["posts"], record_cache(redis, "post", PostRecord)
    )
    stores = dataclasses.replace(runtime.services.stores, posts=posts)
    return dataclasses.replace(runtime.services, stores=stores, objects=objects)


async def missing_keys(services: Services, keys: list[str]) -> list[str]:
    return [key for key in keys if await services.objects.read(key, max_bytes=0) is None]


async def test_a_post_whose_insert_fails_leaves_no_renditions(
    any_storage_runtime: Runtime,
) -> None:
    """Given two good uploads, when their post's insert into MongoDB fails after the
    renditions were stored, then the error propagates and every rendition is gone."""
    runtime = any_storage_runtime
    viewer = await insert_user(runtime.services)
    uploads = await stored_uploads(runtime.services, viewer, [jpeg(1200, 900), jpeg(700, 700)])
    storage = RecordingStorage(runtime.services.objects)
    services = with_failing_post_insert(runtime, storage)

    with pytest.raises(DatabaseWentAway):
        await create_post(Context.for_viewer(services, viewer), global_ids(uploads), None, None)

    assert len(storage.writes) == 6  # three widths of each photo
    assert await missing_keys(runtime.services, storage.writes) == storage.writes


async def test_a_post_failing_midway_through_its_renditions_removes_those_it_wrote(
    any_storage_runtime: Runtime,
) -> None:
    """Given two good uploads, when storage fails after the first photo's renditions were
    stored, then those renditions are removed."""
    runtime = any_storage_runtime
    viewer = await insert_user(runtime.services)
    uploads = await stored_uploads(runtime.services, viewer, [jpeg(1200, 900), jpeg(700, 700)])
    storage = StorageFailingAfter(runtime.services.objects, creates=3)
    services = dataclasses.replace(runtime.services, objects=storage)

    with pytest.raises(ConnectionError):
        await create_post(Context.for_viewer(services, viewer), global_ids(uploads), None, None)

    assert len(storage.writes) == 3
    assert await missing_keys(runtime.services, storage.writes) == storage.writes


async def test_a_failed_post_keeps_the_renditions_another_post_shares(
    any_storage_runtime: Runtime,
) -> None:
    """Given a post of a photo, when another post of the very same photo (the same
    content-addressed renditions) fails in its insert, then the first post's renditions
    are all still there."""
    runtime = any_storage_runtime
    viewer = await insert_user(runtime.services)
    photo = jpeg(1200, 900)
    first = await create_post(
        Context.for_viewer(runtime.services, viewer),
        global_ids(await stored_uploads(runtime.services, viewer, [photo])),
        None,
        None,
    )
    assert first.post is not None
    shared = [rendition.key for rendition in first.post.media[0].renditions]
    services = with_failing_post_insert(runtime, runtime.services.objects)
    again = await stored_uploads(runtime.services, viewer, [photo])

    with pytest.raises(DatabaseWentAway):
        await create_post(Context.for_viewer(services, viewer), global_ids(again), None, None)

    assert await missing_keys(runtime.services, shared) == []


async def test_a_post_over_the_pixel_budget_is_refused_before_decoding_beyond_it(
    media_runtime: Runtime,
) -> None:
    """Given more 49-megapixel photos (each under the per-image cap) than the per-request
    pixel budget holds, when they are posted, then the post is refused naming `uploadIds`
    at the first photo over the budget, which is never decoded, and nothing is stored."""
    side = 7_000
    within_budget = MAX_PIXELS_PER_REQUEST // (side * side)
    photo = jpeg(side, side)
    viewer = await insert_user(media_runtime.services)
    uploads = await stored_uploads(media_runtime.services, viewer, [photo] * (within_budget + 1))
    storage = RecordingStorage(media_runtime.services.objects)
    with WatchedDecodeSlots(1) as slots:
        services = dataclasses.replace(media_runtime.services, decode_slots=slots, objects=storage)

        result = await create_post(
            Context.for_viewer(services, viewer), global_ids(uploads), None, None
        )

    assert [(error.field, error.message.split(":")[0]) for error in result.errors] == [
        ("uploadIds", f"Upload {within_budget + 1}")
    ]
    assert slots.renders == within_budget
    assert storage.writes == []


class PostStoreWhereARetryLandsFirst(PostStore):
    """The real store, where the first insert lets `retry` (the same createPost again) run
    to its end before it goes on, as a retry racing the first call would."""

    def __init__(
        self,
        collection: Any,
        cache: Any,
        retry: Callable[[], Awaitable[object]],
    ) -> None:
        super().__init__(collection, cache)
        self._retry: Callable[[], Awaitable[object]] | None = retry

    async def insert(self, post: PostRecord, *, client_mutation_id: str | None) -> None:
        if self._retry is not None:
            retry, self._retry = self._retry, None
            await retry()
        await super().insert(post, client_mutation_id=client_mutation_id)


async def test_a_post_that_loses_to_its_retry_keeps_the_renditions_the_retry_uses(
    any_storage_runtime: Runtime,
) -> None:
    """Given a createPost that stored its renditions first, when its retry (the same
    photo, the same clientMutationId) reuses them and is saved first, then the call that
    lost hands back the retry's post, whose renditions are all still there."""
    runtime = any_storage_runtime
    viewer = await insert_user(runtime.services)
    photo = jpeg(1200, 900)
    first_uploads = await stored_uploads(runtime.services, viewer, [photo])
    retry_uploads = await stored_uploads(runtime.services, viewer, [photo])
    services: Services

    async def retry() -> object:
        return await create_post(
            Context.for_viewer(services, viewer), global_ids(retry_uploads), None, "once"
        )

    posts = PostStoreWhereARetryLandsFirst(
        runtime.database["posts"], record_cache(runtime.services.redis, "post", PostRecord), retry
    )
    services = dataclasses.replace(
        runtime.services, stores=dataclasses.replace(runtime.services.stores, posts=posts)
    )

    result = await create_post(
        Context.for_viewer(services, viewer), global_ids(first_uploads), None, "once"
    )

    assert result.post is not None
    keys = [rendition.key for rendition in result.post.media[0].renditions]
    assert await missing_keys(runtime.services, keys) == []


class PostStoreWithInsertHook(PostStore):
    """The real store, running `before_insert` first: a point to order two requests at."""

    def __init__(
        self, collection: Any, cache: Any, before_insert: Callable[[], Awaitable[None]]
    ) -> None:
        super().__init__(collection, cache)
        self._before_insert = before_insert

    async def insert(self, post: PostRecord, *, client_mutation_id: str | None) -> None:
        await self._before_insert()
        await super().insert(post, client_mutation_id=client_mutation_id)


async def test_a_post_keeps_renditions_it_found_stored_when_their_creator_fails_meanwhile(
    any_storage_runtime: Runtime,
) -> None:
    """Given a request that stored a photo's renditions and has not yet failed, when a
    second post of the same photo finds them stored, and the first request fails and takes
    them back before the second is saved, then the second post's renditions are there."""
    runtime = any_storage_runtime
    viewer = await insert_user(runtime.services)
    photo = jpeg(1200, 900)
    failing_uploads = await stored_uploads(runtime.services, viewer, [photo])
    saved_uploads = await stored_uploads(runtime.services, viewer, [photo])
    failing_stored, saved_stored = asyncio.Event(), asyncio.Event()

    def with_posts(before_insert: Callable[[], Awaitable[None]]) -> Services:
        cache = record_cache(runtime.services.redis, "post", PostRecord)
        posts = PostStoreWithInsertHook(runtime.database["posts"], cache, before_insert)
        stores = dataclasses.replace(runtime.services.stores, posts=posts)
        return dataclasses.replace(runtime.services, stores=stores)

    async def fail_once_the_other_has_stored() -> None:
        failing_stored.set()
        await saved_stored.wait()
        raise DatabaseWentAway

    async def failing_post() -> None:
        services = with_posts(fail_once_the_other_has_stored)
        with pytest.raises(DatabaseWentAway):
            await create_post(
                Context.for_viewer(services, viewer), global_ids(failing_uploads), None, None
            )

    failing = asyncio.create_task(failing_post())
    await failing_stored.wait()

    async def insert_once_the_failure_is_over() -> None:
        saved_stored.set()
        await failing

    services = with_posts(insert_once_the_failure_is_over)
    result = await create_post(
        Context.for_viewer(services, viewer), global_ids(saved_uploads), None, None
    )

    assert result.post is not None
    keys = [rendition.key for rendition in result.post.media[0].renditions]
    assert await missing_keys(runtime.services, keys) == []
