"""Object storage for media bytes: any S3-compatible service, or a local folder.

Clients upload straight to storage with a signed form (S3's presigned POST; the same shape
signed by us for the local folder), so media bytes never pass through the API processes.
Processed media are written under content-addressed keys and never change, so a CDN may
cache them forever. Every object keeps the content type it was written with, and is served
with it (never one guessed from its key).

Keys are plain: segments of letters, digits, `-`, `_` and `.`, none starting with a dot, so
that no key (however a client encoded it) names a parent folder, an absolute path, a
backslash or a NUL, and the local folder's own metadata is never a key.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import re
import tempfile
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import aioboto3
from botocore.config import Config
from botocore.exceptions import ClientError

# Content-addressed keys never change meaning: let browsers and CDNs keep them a year.
IMMUTABLE_CACHE_CONTROL = "public, max-age=31536000, immutable"
S3_TIMEOUT_SECONDS = 10
MAX_KEY_LENGTH = 1024  # S3's own limit on a key
KEY_PATTERN = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*(?:/[A-Za-z0-9_-][A-Za-z0-9._-]*)*")
# Processed media, the only public objects: raw uploads (with their metadata) are not.
MEDIA_KEY_PREFIX = "media/"
# What an object without a recorded type is served as: a download, never a page or script.
UNKNOWN_CONTENT_TYPE = "application/octet-stream"
# Where the local folder keeps each object's content type: no key starts with a dot.
LOCAL_METADATA_FOLDER = ".metadata"
# What S3 answers a conditional write that found the key taken (or being written).
S3_KEY_TAKEN_CODES = frozenset({"PreconditionFailed", "412", "ConditionalRequestConflict"})


def is_valid_key(key: str) -> bool:
    return len(key.encode()) <= MAX_KEY_LENGTH and KEY_PATTERN.fullmatch(key) is not None


@dataclass(frozen=True, slots=True)
class PresignedPost:
    """Where and how a client uploads: POST multipart/form-data to `url` with `fields`, then
    the file as the field named `file`."""

    url: str
    fields: dict[str, str]


class ObjectStorage(Protocol):
    async def presign_upload(
        self, key: str, *, content_type: str, max_bytes: int, expires_in: int
    ) -> PresignedPost: ...

    async def read(self, key: str, *, max_bytes: int) -> bytes | None:
        """The object's first `max_bytes + 1` bytes (so callers can tell it is too big), or
        None when there is no such object."""
        ...

    async def write(self, key: str, data: bytes, *, content_type: str) -> None: ...

    async def create(self, key: str, data: bytes, *, content_type: str) -> bool:
        """Write the object only if there is none under `key`; whether this call created
        it (only the request that created an object may take it back)."""
        ...

    async def delete(self, key: str) -> None: ...

    async def ping(self) -> None: ...


class S3ObjectStorage:
    def __init__(self, client: Any, bucket: str) -> None:
        self._client = client
        self._bucket = bucket

    async def presign_upload(
        self, key: str, *, content_type: str, max_bytes: int, expires_in: int
    ) -> PresignedPost:
        post = await self._client.generate_presigned_post(
            Bucket=self._bucket,
            Key=key,
            Fields={"Content-Type": content_type},
            Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_bytes]],
            ExpiresIn=expires_in,
        )
        return PresignedPost(url=post["url"], fields=dict(post["fields"]))

    async def read(self, key: str, *, max_bytes: int) -> bytes | None:
        try:
            response = await self._client.get_object(
                Bucket=self._bucket, Key=key, Range=f"bytes=0-{max_bytes}"
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
                return None
            raise
        async with response["Body"] as body:
            data: bytes = await body.read()
            return data

    async def write(self, key: str, data: bytes, *, content_type: str) -> None:
        await self._client.put_object(
            Bucket=self._bucket,
            Key=key,
            Body=data,
            ContentType=content_type,
            CacheControl=IMMUTABLE_CACHE_CONTROL,
        )

    async def create(self, key: str, data: bytes, *, content_type: str) -> bool:
        try:
            await self._client.put_object(
                Bucket=self._bucket,
                Key=key,
                Body=data,
                ContentType=content_type,
                CacheControl=IMMUTABLE_CACHE_CONTROL,
                IfNoneMatch="*",
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in S3_KEY_TAKEN_CODES:
                return False
            raise
        return True

    async def delete(self, key: str) -> None:
        await self._client.delete_object(Bucket=self._bucket, Key=key)

    async def ping(self) -> None:
        await self._client.head_bucket(Bucket=self._bucket)


class UploadRejected(Exception):
    """A form posted to the local upload endpoint that its signature does not allow."""


@dataclass(frozen=True, slots=True)
class StoredFile:
    """An object of the local folder: its file, and the content type it was written with."""

    path: Path
    content_type: str


@dataclass(frozen=True, slots=True)
class SignedForm:
    """What a verified upload form allows: one key, of one content type, up to a size."""

    key: str
    content_type: str
    max_bytes: int


class LocalObjectStorage:
    """A folder on disk, for development: the app serves uploads and media itself."""

    def __init__(self, root: Path, upload_url: str, secret_key: bytes) -> None:
        self.root = root
        self._real_root = root.resolve()
        self._upload_url = upload_url
        self._secret_key = secret_key

    def _signature(self, key: str, content_type: str, max_bytes: int, expires: int) -> str:
        message = f"{key}\n{content_type}\n{max_bytes}\n{expires}".encode()
        return hmac.new(self._secret_key, message, hashlib.sha256).hexdigest()

    def path(self, key: str) -> Path:
        """The file of `key`; refuses keys that are not plain or that a symlink under the
        folder would lead elsewhere."""
        if not is_valid_key(key):
            raise UploadRejected("invalid key")
        path = self._real_root / key
        if path.resolve() != path:
            raise UploadRejected("invalid key")
        return path

    def _metadata_path(self, key: str) -> Path:
        return self._real_root / LOCAL_METADATA_FOLDER / f"{key}.json"

    def stored_file(self, key: str) -> StoredFile | None:
        """The object under `key` with its content type; None when there is no such
        object, or `key` is not one (not plain, or behind a symlink)."""
        try:
            path = self.path(key)
        except UploadRejected:
            return None
        if not path.is_file():
            return None
        try:
            metadata = json.loads(self._metadata_path(key).read_text())
            content_type = str(metadata["content_type"])
        except (OSError, ValueError, KeyError, TypeError):
            content_type = UNKNOWN_CONTENT_TYPE
        return StoredFile(path, content_type)

    async def presign_upload(
        self, key: str, *, content_type: str, max_bytes: int, expires_in: int
    ) -> PresignedPost:
        expires = int(time.time()) + expires_in
        fields = {
            "key": key,
            "Content-Type": content_type,
            "x-max-bytes": str(max_bytes),
            "x-expires": str(expires),
            "x-signature": self._signature(key, content_type, max_bytes, expires),
        }
        return PresignedPost(url=self._upload_url, fields=fields)

    def verify_upload_form(self, fields: Mapping[str, str]) -> SignedForm:
        """What a posted form may write, if its signature holds and it has not expired.
        The signature alone is not enough: the caller checks the key is an upload's."""
        try:
            key, content_type = fields["key"], fields["Content-Type"]
            max_bytes, expires = int(fields["x-max-bytes"]), int(fields["x-expires"])
            signature = fields["x-signature"]
        except (KeyError, ValueError) as error:
            raise UploadRejected("missing or malformed policy fields") from error
        expected = self._signature(key, content_type, max_bytes, expires)
        if not hmac.compare_digest(signature, expected):
            raise UploadRejected("signature does not match")
        if expires < time.time():
            raise UploadRejected("the upload form has expired")
        self.path(key)
        return SignedForm(key=key, content_type=content_type, max_bytes=max_bytes)

    async def read(self, key: str, *, max_bytes: int) -> bytes | None:
        def read_file() -> bytes | None:
            try:
                with self.path(key).open("rb") as file:
                    return file.read(max_bytes + 1)
            except FileNotFoundError:
                return None

        return await asyncio.to_thread(read_file)

    async def write(self, key: str, data: bytes, *, content_type: str) -> None:
        await asyncio.to_thread(self._write_file, key, data, content_type, replace=True)

    async def create(self, key: str, data: bytes, *, content_type: str) -> bool:
        return await asyncio.to_thread(self._write_file, key, data, content_type, replace=False)

    async def delete(self, key: str) -> None:
        def delete_file() -> None:
            self.path(key).unlink(missing_ok=True)
            self._metadata_path(key).unlink(missing_ok=True)

        await asyncio.to_thread(delete_file)

    def _write_file(self, key: str, data: bytes, content_type: str, *, replace: bool) -> bool:
        """Write atomically (a reader sees the old object or the new one, never half), its
        content type first, so an object is never there without it; with `replace` false,
        only where there is no object yet. Whether this call wrote the object."""
        path = self.path(key)
        if not replace and path.exists():
            return False
        _write_atomically(self._metadata_path(key), json.dumps({"content_type": content_type}))
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as temporary:
            temporary.write(data)
        if replace:
            os.replace(temporary.name, path)
            return True
        try:
            os.link(temporary.name, path)  # fails, atomically, when another writer was first
        except FileExistsError:
            return False
        finally:
            os.unlink(temporary.name)
        return True

    async def ping(self) -> None:
        await asyncio.to_thread(self.root.mkdir, parents=True, exist_ok=True)


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False) as temporary:
        temporary.write(text)
    os.replace(temporary.name, path)


@asynccontextmanager
async def open_s3_storage(
    *,
    endpoint_url: str,
    bucket: str,
    region: str,
    access_key_id: str | None,
    secret_access_key: str | None,
) -> AsyncIterator[S3ObjectStorage]:
    session = aioboto3.Session(
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret_access_key,
        region_name=region,
    )
    config = Config(
        signature_version="s3v4",
        connect_timeout=S3_TIMEOUT_SECONDS,
        read_timeout=S3_TIMEOUT_SECONDS,
        retries={"max_attempts": 3, "mode": "standard"},
    )
    async with session.client("s3", endpoint_url=endpoint_url, config=config) as client:
        yield S3ObjectStorage(client, bucket)
