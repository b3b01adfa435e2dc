"""Types shared by several areas."""

from __future__ import annotations

import strawberry

from cms.services import richtext
from cms.services.publishing import PublicationStatus as DomainPublicationStatus
from graphql_schema.errors import bad_input

# Domain enums are the GraphQL enums: strawberry.enum registers the class in place
# (a plain alias, so that annotations stay types for mypy).
PublicationStatus = DomainPublicationStatus
strawberry.enum(
    PublicationStatus,
    name="PublicationStatus",
    description="SCHEDULED: published with publishedAt in the future.",
)

MAX_EXCERPT_LENGTH = 5000


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
