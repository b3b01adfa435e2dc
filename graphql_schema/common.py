"""Types and helpers shared by several areas."""

from __future__ import annotations

from enum import Enum
from functools import cache
from typing import Any

import strawberry

from cms.services import richtext
from cms.services.publishing import PublicationStatus as DomainPublicationStatus
from cms.services.sanitizing import BodyFormat as DomainBodyFormat
from graphql_schema.context import Info
from graphql_schema.errors import bad_input
from graphql_schema.media.dataloaders import media_by_id
from graphql_schema.media.types import MediaAsset

PublicationStatus = strawberry.enum(
    DomainPublicationStatus,
    name="PublicationStatus",
    description="SCHEDULED: published with publishedAt in the future.",
)
BodyFormat = strawberry.enum(DomainBodyFormat, name="BodyFormat")

MAX_EXCERPT_LENGTH = 5000


@cache
def enum_type(domain: type[Enum]) -> Any:
    """The API's enum of a domain enum, under the same name (made once)."""
    return strawberry.enum(domain, name=domain.__name__)


@strawberry.type
class RichText:
    html: str = strawberry.field(description="Sanitised HTML, safe to inject into a page.")
    text: str = strawberry.field(
        description="Plain text: accessibility mode, previews, syndication."
    )

    @strawberry.field(description="The plain text cut at a word boundary, at most `length` long.")
    def excerpt(self, length: int = 200) -> str:
        if length < 0 or length > MAX_EXCERPT_LENGTH:
            raise bad_input("length", f"length должен быть от 0 до {MAX_EXCERPT_LENGTH}.")
        return richtext.excerpt(self.text, length)


@strawberry.type
class GeoPoint:
    lat: float
    lon: float


@strawberry.input
class GeoPointInput:
    lat: float = strawberry.field(description="-90 to 90.")
    lon: float = strawberry.field(description="-180 to 180.")


async def media(info: Info, asset_id: int | None) -> MediaAsset | None:
    """A media asset by id through the request's loader (None when absent or hidden)."""
    if asset_id is None:
        return None
    row = await info.context.loaders[media_by_id].load(asset_id)
    return MediaAsset.from_row(row) if row else None
