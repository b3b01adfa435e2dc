"""Types and helpers shared by several areas."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from functools import cache
from typing import Any

import strawberry
from strawberry.exceptions import StrawberryInputCoercionError
from strawberry.schema.types.base_scalars import DateTimeDefinition
from strawberry.types.scalar import ScalarDefinition

from cms.services import richtext
from cms.services.publishing import PublicationStatus as DomainPublicationStatus
from cms.services.sanitizing import BodyFormat as DomainBodyFormat
from graphql_schema.context import Info
from graphql_schema.errors import bad_input
from graphql_schema.media.dataloaders import media_of_visible_rows
from graphql_schema.media.types import MediaAsset

# Domain enums are the GraphQL enums: strawberry.enum registers the class in place
# (a plain alias, so that annotations stay types for mypy).
PublicationStatus = DomainPublicationStatus
strawberry.enum(
    PublicationStatus,
    name="PublicationStatus",
    description="SCHEDULED: published with publishedAt in the future.",
)
BodyFormat = DomainBodyFormat
strawberry.enum(BodyFormat, name="BodyFormat")

MAX_EXCERPT_LENGTH = 5000


@cache
def enum_type(domain: type[Enum]) -> Any:
    """The API's enum of a domain enum, under the same name (registered once)."""
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


def _parse_datetime(value: object) -> datetime:
    """An ISO 8601 moment that can be stored: the database keeps moments in UTC, and
    one near the ends of the calendar (9999-12-31T23:59:59-14:00) has no UTC form."""
    if not isinstance(value, str):
        raise StrawberryInputCoercionError(f"Дата и время должны быть строкой ISO 8601: {value!r}.")
    try:
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is not None:
            moment.astimezone(UTC)
        else:
            moment.replace(tzinfo=UTC)
    except (ValueError, OverflowError):
        raise StrawberryInputCoercionError(
            f"Некорректные дата и время {value[:60]!r}: нужен момент ISO 8601 "
            "между 0001-01-01 и 9999-12-31 по UTC."
        ) from None
    return moment


# The built-in DateTime (same name and description, so the SDL does not change),
# refusing moments that cannot be stored instead of failing deep in the database layer.
DATETIME = ScalarDefinition(
    name=DateTimeDefinition.name,
    description=DateTimeDefinition.description,
    specified_by_url=None,
    serialize=DateTimeDefinition.serialize,
    parse_value=_parse_datetime,
    parse_literal=None,
    origin=datetime,
)


@strawberry.type
class GeoPoint:
    lat: float
    lon: float


@strawberry.input
class GeoPointInput:
    lat: float = strawberry.field(description="-90 to 90.")
    lon: float = strawberry.field(description="-180 to 180.")


async def media(info: Info, asset_id: int | None) -> MediaAsset | None:
    """A media asset that a visible row uses, through the request's loader (None when
    absent or hidden)."""
    if asset_id is None:
        return None
    row = await info.context.loaders[media_of_visible_rows].load(asset_id)
    return MediaAsset.from_row(row) if row else None
