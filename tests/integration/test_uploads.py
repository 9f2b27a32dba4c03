"""Uploads: the signed form, what it allows, and the checks when an upload is used.

Tests that take `media_graphql` run twice: embedded storage, and moto's S3 server over HTTP.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import httpx
import pytest

from app.services import Runtime
from resolvers.context import Context
from resolvers.errors import FieldError
from resolvers.ids import to_global_id
from resolvers.upload import UPLOAD_LIFETIME, create_upload, usable_uploads
from tests.client import GraphQLClient
from tests.conftest import insert_user
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
