"""Embedded object storage over HTTP: the signed upload form endpoint and the media files.

Only used when no S3 endpoint is configured; they behave like S3 and a CDN would: the form
is checked against its signature, and media are served with immutable cache headers.
"""

from __future__ import annotations

import mimetypes

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

from media.accepted import MAX_UPLOAD_BYTES
from storage.objects import IMMUTABLE_CACHE_CONTROL, LocalObjectStorage, UploadRejected

UPLOAD_PATH = "/uploads"
MEDIA_PATH = "/media"
MEDIA_KEY_PREFIX = "media/"  # only processed media are public; raw uploads are not
FORM_OVERHEAD_BYTES = 64 * 1024  # the form's other fields and multipart boundaries
READ_CHUNK_BYTES = 1024 * 1024


def _storage(request: Request) -> LocalObjectStorage:
    storage: LocalObjectStorage = request.app.state.local_storage
    return storage


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
            key, max_bytes = storage.verify_upload_form(fields)
        except UploadRejected as error:
            return PlainTextResponse(f"upload refused: {error}", status_code=403)
        file = form.get("file")
        if not isinstance(file, UploadFile):
            return PlainTextResponse("the form has no file field named `file`", status_code=400)
        data = bytearray()
        while chunk := await file.read(READ_CHUNK_BYTES):
            data += chunk
            if len(data) > max_bytes:
                return PlainTextResponse("the file is larger than allowed", status_code=413)
        if not data:
            return PlainTextResponse("the file is empty", status_code=400)
    await storage.write(key, bytes(data), content_type=fields["Content-Type"])
    return Response(status_code=204)


async def media(request: Request) -> Response:
    storage = _storage(request)
    try:
        path = storage.path(MEDIA_KEY_PREFIX + request.path_params["name"])
    except UploadRejected:
        return PlainTextResponse("not found", status_code=404)
    if not path.is_file():
        return PlainTextResponse("not found", status_code=404)
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return FileResponse(
        path, media_type=media_type, headers={"Cache-Control": IMMUTABLE_CACHE_CONTROL}
    )


def media_routes() -> list[Route]:
    return [
        Route(UPLOAD_PATH, upload, methods=["POST"]),
        Route(MEDIA_PATH + "/{name:path}", media, methods=["GET", "HEAD"]),
    ]
