"""Uploads: the signed form a client sends a file to, before a post or avatar uses it."""

from __future__ import annotations

from datetime import datetime

import strawberry

from resolvers.ids import to_global_id
from resolvers.upload import CreatedUpload, UploadResult
from schema.types.common import UserError


@strawberry.type
class UploadField:
    name: str
    value: str


@strawberry.type(
    description="Where to send a file: POST multipart/form-data to `url` with "
    "every field of `fields`, then the file as the field named `file`."
)
class Upload:
    created: strawberry.Private[CreatedUpload]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(to_global_id("Upload", self.created.record.id))

    @strawberry.field
    def url(self) -> str:
        return self.created.form.url

    @strawberry.field
    def fields(self) -> list[UploadField]:
        return [
            UploadField(name=name, value=value) for name, value in self.created.form.fields.items()
        ]

    @strawberry.field(description="Use the upload before this time.")
    def expires_at(self) -> datetime:
        return self.created.record.expires_at


@strawberry.type
class CreateUploadPayload:
    upload: Upload | None
    errors: list[UserError]

    @classmethod
    def from_result(cls, result: UploadResult) -> CreateUploadPayload:
        return cls(
            upload=None if result.upload is None else Upload(created=result.upload),
            errors=UserError.from_errors(result.errors),
        )


@strawberry.input
class CreateUploadInput:
    content_type: str = strawberry.field(description="image/jpeg, image/png, image/webp, video/mp4")
    byte_size: int
