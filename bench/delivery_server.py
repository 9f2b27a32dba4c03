"""The server under test of `bench.delivery`: `pictograph serve`'s app and uvicorn
configuration (app/main.py, app/server.py), in a process of its own, which seeds its own
data before it serves.

The embedded MongoDB (mongomock) lives inside this process, so the client process cannot
seed it, and seeding through the API would mean thousands of argon2 sign-ups (and the
sign-up limit of 20 an hour per address): the data is written through the stores instead,
as `app.seed` writes the demo data. One public author with one post (created through the
resolvers, as a client's upload would be), `--likers` accounts that like it, and
`--subscribers` accounts, each with a session of its own, so every socket of the benchmark
is a different viewer and each event's per-receiver checks are checks of distinct people.
Nothing about the server is configured for the benchmark: the rate limits, the cap on
unacknowledged sockets per client address and the subscription limits are the defaults.

With `--seed-out` it writes the tokens and ids for the client, and every document of its
database (bson's extended JSON). A second server started with `--seed-from` that file
loads those documents into its own embedded MongoDB instead of seeding: the two processes
then hold the same users, sessions and post under the same ids, which is what an event
(ids only) needs to be received in either (see BENCHMARKS.md for what is not shared).
"""

from __future__ import annotations

import io
import resource
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
import uvicorn
from bson import json_util
from PIL import Image
from starlette.applications import Starlette

from app.main import create_app
from app.server import tune_garbage_collector, uvicorn_config
from app.services import Runtime
from app.settings import Settings
from resolvers.context import Context, Services
from resolvers.ids import to_global_id
from resolvers.post import create_post
from resolvers.upload import create_upload
from storage.user import UserRecord

PHOTO_SIDE = 64  # the post's photo: its renditions are made once, at seeding, and not measured


def raise_open_files_limit() -> tuple[int, int]:
    """RLIMIT_NOFILE's soft limit raised to the hard one (a socket is a descriptor)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return soft, hard


async def _user(services: Services, name: str) -> UserRecord:
    user_id = services.ids.next_id()
    return await services.stores.users.insert(
        user_id=user_id,
        username=f"{name}_{user_id}",
        email=f"{user_id}@bench.pictograph.dev",
        password_hash="-",  # never logs in: its session is made below
        created_at=services.clock(),
    )


async def _token(services: Services, settings: Settings, user: UserRecord) -> str:
    now = services.clock()
    return await services.stores.sessions.create(
        user.id, now=now, expires_at=now + settings.session_lifetime
    )


async def _photo_post(services: Services, author: UserRecord) -> str:
    context = Context.for_viewer(services, author)
    image = io.BytesIO()
    Image.new("RGB", (PHOTO_SIDE, PHOTO_SIDE), (200, 120, 40)).save(image, "JPEG")
    data = image.getvalue()
    upload = await create_upload(context, "image/jpeg", len(data))
    assert upload.upload is not None, upload.errors
    await services.objects.write(upload.upload.record.key, data, content_type="image/jpeg")
    created = await create_post(
        context, [to_global_id("Upload", upload.upload.record.id)], "Benchmark", None
    )
    assert created.post is not None, created.errors
    return to_global_id("Post", created.post.id)


async def seed(runtime: Runtime, settings: Settings, subscribers: int, likers: int) -> Any:
    services = runtime.services
    author = await _user(services, "author")
    post_id = await _photo_post(services, author)
    liker_tokens = [
        await _token(services, settings, await _user(services, "liker")) for _ in range(likers)
    ]
    subscriber_tokens = [
        await _token(services, settings, await _user(services, "subscriber"))
        for _ in range(subscribers)
    ]
    return {"post_id": post_id, "likers": liker_tokens, "subscribers": subscriber_tokens}


async def dump_documents(runtime: Runtime) -> dict[str, list[Any]]:
    database = runtime.database
    return {
        name: await database[name].find({}).to_list(None)
        for name in await database.list_collection_names()
    }


async def load_documents(runtime: Runtime, collections: dict[str, list[Any]]) -> None:
    for name, documents in collections.items():
        if documents:
            await runtime.database[name].insert_many(documents)


def main(
    port: Annotated[int, typer.Option()],
    subscribers: Annotated[int, typer.Option()] = 0,
    likers: Annotated[int, typer.Option()] = 0,
    seed_out: Annotated[Path | None, typer.Option()] = None,
    seed_from: Annotated[Path | None, typer.Option()] = None,
) -> None:
    raise_open_files_limit()
    settings = Settings.model_validate({"port": port})  # and PICTOGRAPH_* from the environment
    app = create_app(settings)
    served = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with served(app):
            runtime: Runtime = app.state.runtime
            if seed_from is not None:
                await load_documents(runtime, json_util.loads(seed_from.read_text())["documents"])
            elif seed_out is not None:
                seeded = await seed(runtime, settings, subscribers, likers)
                seeded["documents"] = await dump_documents(runtime)
                written = seed_out.with_suffix(".partial")
                written.write_text(json_util.dumps(seeded))
                written.rename(seed_out)  # the client waits for the whole file
            yield

    app.router.lifespan_context = lifespan
    tune_garbage_collector()  # as `pictograph serve` does
    uvicorn.Server(uvicorn_config(app, settings, log_level="warning")).run()


if __name__ == "__main__":
    typer.run(main)
