"""Mutations of the news area: news with their publication, tags and merging them.
News and tags are made from their declarations (graphql_schema/content/declared.py)."""

from __future__ import annotations

import strawberry

from cms.services.content_types import NEWS, TAG
from cms.services.news_editing import merge_tags, news_form, tag_form
from cms.services.permissions import Action
from graphql_schema.content import types
from graphql_schema.content.declared import ContentMutations, mutation_type, payload_type
from graphql_schema.context import Info
from graphql_schema.editing import editor, payload


@strawberry.input(description="Misspelt tags to fold into the right one (tag slugs).")
class MergeTagsInput:
    from_: list[str] = strawberry.field(name="from")
    into: str


TagPayload = payload_type("Tag", "tag", types.Tag)


@strawberry.mutation(
    description="Moves every news link of the `from` tags to `into` (no duplicates), "
    "removes them, and keeps their slugs resolving to `into` (editors)."
)
async def _merge_tags(info: Info, input: MergeTagsInput) -> TagPayload:  # type: ignore[valid-type]
    viewer = editor(info, "Слияние тегов", Action.DELETE)
    write = merge_tags(viewer, input.from_, input.into)
    return await payload(TagPayload, "tag", types.Tag.from_row, write)


NewsMutations = mutation_type(
    "NewsMutations",
    ContentMutations(
        NEWS,
        types.News,
        form=news_form,
        docs={
            "create": "A new draft news item (staff, WRITE tokens).",
            "update": "Changes a news item; a stale expectedRevision is a CONFLICT and "
            "changes nothing. Authors and WRITE tokens change only their own drafts.",
            "publish": "Publishes now, or at `at`: a future moment schedules it (editors).",
            "unpublish": "Back to a draft, hidden at once (editors).",
            "delete": "Moves a news item to the trash.",
        },
    ),
    ContentMutations(
        TAG,
        types.Tag,
        payload=TagPayload,
        form=lambda values, viewer, image_hosts: tag_form(values),
        docs={
            "create": "A new tag.",
            "update": "Renames a tag; its old slug keeps resolving.",
            "delete": "Moves a tag to the trash (its news keep their links).",
        },
    ),
    merge_tags=_merge_tags,
)
