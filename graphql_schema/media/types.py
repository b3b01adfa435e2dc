"""Media assets as the API shows them."""

from __future__ import annotations

from datetime import datetime

import strawberry

from cms import models
from graphql_schema.context import Info
from graphql_schema.relay import Node, global_id


@strawberry.type
class MediaAsset(Node):
    id: strawberry.ID
    file_name: str
    mime_type: str
    size: int = strawberry.field(description="Bytes.")
    width: int | None
    height: int | None
    alt: str | None = strawberry.field(description="Always set for images.")
    caption: str | None
    credit: str | None
    created_at: datetime
    storage_key: strawberry.Private[str]

    @strawberry.field(description="The original file.")
    def url(self, info: Info) -> str:
        return f"{info.context.settings.public_url}/media/{self.storage_key}"

    @classmethod
    def from_row(cls, row: models.MediaAsset) -> MediaAsset:
        return cls(
            id=global_id("MediaAsset", row.pk),
            file_name=row.file_name,
            mime_type=row.mime_type,
            size=row.size,
            width=row.width,
            height=row.height,
            alt=row.alt,
            caption=row.caption,
            credit=row.credit,
            created_at=row.created_at,
            storage_key=row.storage_key,
        )
