"""Media assets as the API shows them."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from cms import models
from graphql_schema.context import Info
from graphql_schema.errors import bad_input
from graphql_schema.relay import Node, global_id
from media import renditions
from media.images import average_colour
from media.service import media_url

# Domain enums are the GraphQL enums: strawberry.enum registers the class in place
# (a plain alias, so that annotations stay types for mypy).
RenditionFit = renditions.Fit
strawberry.enum(RenditionFit, name="RenditionFit")


@strawberry.enum
class ImageFormat(Enum):
    WEBP = "webp"
    JPEG = "jpeg"
    PNG = "png"
    AVIF = "avif"


@strawberry.type(description="A resized copy of an image, made on its first request.")
class Rendition:
    url: str
    width: int
    height: int
    mime_type: str


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
    placeholder: str | None = strawberry.field(
        description="BlurHash of an image: paint it blurred while the image loads."
    )
    created_at: datetime
    updated_at: datetime
    revision: int = strawberry.field(description="Grows with every change.")
    public: bool = strawberry.field(
        description="Marked public by an editor: shown to everyone even when no public item "
        "uses it (an image in a body). Otherwise only what published content uses is public."
    )
    storage_key: strawberry.Private[str]
    sha256: strawberry.Private[str]

    @strawberry.field(description="The original file.")
    def url(self, info: Info) -> str:
        return media_url(info.context.settings, self.storage_key)

    @strawberry.field(description="The average colour of an image, #rrggbb: a CSS background.")
    def dominant_color(self) -> str | None:
        return average_colour(self.placeholder) if self.placeholder else None

    @strawberry.field(
        description="A resized copy: the width is rounded up to an allowed one (by default "
        "160 320 480 640 960 1280 1920); with both sides the shape snaps to the nearest "
        "allowed aspect ratio; never larger than the original. Null for non-images."
    )
    def rendition(
        self,
        info: Info,
        width: int | None = None,
        height: int | None = None,
        fit: RenditionFit | None = renditions.Fit.COVER,
        format: ImageFormat | None = ImageFormat.WEBP,
    ) -> Rendition | None:
        if self.width is None or self.height is None:
            return None
        source_size = (self.width, self.height)
        output = renditions.FORMATS[(format or ImageFormat.WEBP).value]
        try:
            spec = renditions.normalize(
                width=width,
                height=height,
                fit=renditions.Fit(fit or renditions.Fit.COVER),
                output=output,
                source_size=source_size,
                settings=info.context.settings,
            )
        except renditions.RenditionArgumentError as error:
            raise bad_input(error.argument, error.message) from None
        out_width, out_height = renditions.output_size(spec, source_size)
        return Rendition(
            url=media_url(info.context.settings, renditions.rendition_key(self.sha256, spec)),
            width=out_width,
            height=out_height,
            mime_type=output.mime,
        )

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
            placeholder=row.placeholder,
            created_at=row.created_at,
            updated_at=row.updated_at,
            revision=row.revision,
            public=row.public,
            storage_key=row.storage_key,
            sha256=row.sha256,
        )
