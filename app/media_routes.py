"""Embedded object storage over HTTP: the signed upload form endpoint and the media files.

Only used when no S3 endpoint is configured; they behave like S3 and a CDN would: the form
is checked against its signature (and writes only the key of a pending upload), and media
are served with immutable cache headers and the content type they were stored with.

Only processed media are served: the raw uploads beside them keep the metadata (GPS
included) that media are stripped of. The path arrives percent-decoded (once) by the
server; whatever it was, it must then be a plain key (storage/objects.py), which no
encoding of dots, slashes, backslashes or NULs is, and no symlink is followed.
"""

from __future__ import annotations

import asyncio

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

from media.accepted import MAX_UPLOAD_BYTES
from resolvers.context import Services
from resolvers.upload import form_may_write
from storage.objects import (
    IMMUTABLE_CACHE_CONTROL,
    MEDIA_KEY_PREFIX,
    LocalObjectStorage,
    UploadRejected,
)

UPLOAD_PATH = "/uploads"
MEDIA_PATH = "/media"
# Browsers must take the stored content type as it is, never sniff a page or a script.
NOSNIFF_HEADERS = {"X-Content-Type-Options": "nosniff"}
FORM_OVERHEAD_BYTES = 64 * 1024  # the form's other fields and multipart boundaries
READ_CHUNK_BYTES = 1024 * 1024


def _storage(request: Request) -> LocalObjectStorage:
    storage: LocalObjectStorage = request.app.state.local_storage
    return storage


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def _not_found() -> Response:
    return PlainTextResponse("not found", status_code=404, headers=NOSNIFF_HEADERS)


async def upload(request: Request) -> Response:
    """Accept a signed upload form, as S3 accepts a presigned POST (204 on success)."""
    storage = _storage(request)
    declared = request.headers.get("content-length")
    # Refused before parsing: the multipart parser would spool any size to disk first.
    if declared is None or not declared.isdigit():
        return PlainTextResponse("send the form with a Content-Length", status_code=411)
    if int(declared) > MAX_UPLOAD_BYTES + FORM_OVERHEAD_BYTES:
        return PlainTextResponse("the form is larger than any upload may be", status_code=413)
    async with request.form(max_files=1, max_fields=16) as form:
        fields = {name: value for name, value in form.items() if isinstance(value, str)}
        try:
            form_allows = storage.verify_upload_form(fields)
        except UploadRejected as error:
            return PlainTextResponse(f"upload refused: {error}", status_code=403)
        # Even a signed form writes only a pending upload's own key, never media/ or
        # another user's prefix, nor an upload already used.
        if not await form_may_write(_services(request), form_allows):
            return PlainTextResponse(
                "upload refused: the form is not for a pending upload", status_code=403
            )
        file = form.get("file")
        if not isinstance(file, UploadFile):
            return PlainTextResponse("the form has no file field named `file`", status_code=400)
        data = bytearray()
        while chunk := await file.read(READ_CHUNK_BYTES):
            data += chunk
            if len(data) > form_allows.max_bytes:
                return PlainTextResponse("the file is larger than allowed", status_code=413)
        if not data:
            return PlainTextResponse("the file is empty", status_code=400)
    await storage.write(form_allows.key, bytes(data), content_type=form_allows.content_type)
    return Response(status_code=204)


async def media(request: Request) -> Response:
    key = MEDIA_KEY_PREFIX + request.path_params["name"]
    stored = await asyncio.to_thread(_storage(request).stored_file, key)
    if stored is None:
        return _not_found()
    return FileResponse(
        stored.path,
        media_type=stored.content_type,
        headers={"Cache-Control": IMMUTABLE_CACHE_CONTROL, **NOSNIFF_HEADERS},
    )


def media_routes() -> list[Route]:
    return [
        Route(UPLOAD_PATH, upload, methods=["POST"]),
        Route(MEDIA_PATH + "/{name:path}", media, methods=["GET", "HEAD"]),
    ]
