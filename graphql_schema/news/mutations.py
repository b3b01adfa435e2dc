"""Mutations of the news area: news with their publication, tags and merging them."""

from __future__ import annotations

from datetime import datetime

import strawberry

from cms.services import editing
from cms.services.content_types import NEWS, TAG
from cms.services.news_editing import (
    NEWS_CLEARABLE,
    NewsData,
    QuoteData,
    TagData,
    merge_tags,
    news_form,
    tag_form,
)
from cms.services.permissions import Action
from cms.services.sanitizing import BodyFormat as DomainBodyFormat
from graphql_schema.context import Info
from graphql_schema.editing import (
    UPDATE_RULE,
    clear_field_description,
    deleted,
    editor,
    input_id,
    input_ids,
    payload,
    plain,
)
from graphql_schema.news.types import News, Tag
from graphql_schema.payloads import DeletePayload, UserError
from graphql_schema.relay import parse_typed_id

# Domain enums are the GraphQL enums: strawberry.enum registers the class in place
# (a plain alias, so that annotations stay types for mypy).
BodyFormat = DomainBodyFormat
strawberry.enum(BodyFormat, name="BodyFormat")


@strawberry.input
class QuoteInput:
    person_id: strawberry.ID
    text: str


@strawberry.input(description=f"A news item. {UPDATE_RULE}")
class NewsInput:
    title: str | None = strawberry.field(default=None, description="Required when creating.")
    slug: str | None = strawberry.field(
        default=None,
        description="Generated from the title when creating without one; a renamed item "
        "keeps resolving by its old slugs.",
    )
    lead: str | None = strawberry.field(default=None, description="Plain text.")
    body: str | None = strawberry.field(
        default=None, description="HTML or Markdown, by bodyFormat; stored sanitised."
    )
    body_format: BodyFormat = DomainBodyFormat.HTML
    tags: list[str] | None = strawberry.field(
        default=None, description="Tag names; unknown names create tags."
    )
    regions: list[str] | None = strawberry.field(default=None, description="Region codes.")
    cover: strawberry.ID | None = strawberry.field(default=None, description="A MediaAsset.")
    agreements: list[strawberry.ID] | None = None
    events: list[strawberry.ID] | None = None
    visit: strawberry.ID | None = None
    quotes: list[QuoteInput] | None = None
    clear: list[str] | None = strawberry.field(
        default=None, description=clear_field_description(list(NEWS_CLEARABLE))
    )

    def to_domain(self) -> NewsData:
        quotes = plain(self.quotes)
        return NewsData(
            title=plain(self.title),
            slug=plain(self.slug),
            lead=plain(self.lead),
            body=plain(self.body),
            body_format=plain(self.body_format),
            tags=plain(self.tags),
            regions=plain(self.regions),
            cover=input_id(self.cover, "MediaAsset"),
            agreements=input_ids(self.agreements, "Agreement"),
            events=input_ids(self.events, "Event"),
            visit=input_id(self.visit, "Visit"),
            quotes=None
            if quotes is None
            else [
                QuoteData(person_id=input_id(quote.person_id, "Person") or 0, text=quote.text)
                for quote in quotes
            ],
            clear=tuple(plain(self.clear) or ()),
        )


@strawberry.input(description=f"A tag. {UPDATE_RULE}")
class TagInput:
    name: str | None = strawberry.field(default=None, description="Required when creating.")
    slug: str | None = strawberry.field(
        default=None, description="Made from the name when creating."
    )


@strawberry.input(description="Misspelt tags to fold into the right one (tag slugs).")
class MergeTagsInput:
    from_: list[str] = strawberry.field(name="from")
    into: str


@strawberry.type
class NewsPayload:
    news: News | None
    errors: list[UserError]


@strawberry.type
class TagPayload:
    tag: Tag | None
    errors: list[UserError]


@strawberry.type
class NewsMutations:
    @strawberry.mutation(description="A new draft news item (staff, WRITE tokens).")
    async def create_news(self, info: Info, input: NewsInput) -> NewsPayload:
        viewer = editor(info, "Создание новости")
        build = news_form(input.to_domain(), viewer, info.context.settings.richtext_image_hosts)
        return await payload(
            NewsPayload, "news", News.from_row, editing.create(NEWS, viewer, build)
        )

    @strawberry.mutation(
        description="Changes a news item; a stale expectedRevision is a CONFLICT and "
        "changes nothing. Authors and WRITE tokens change only their own drafts."
    )
    async def update_news(
        self,
        info: Info,
        id: strawberry.ID,
        input: NewsInput,
        expected_revision: int | None = None,
    ) -> NewsPayload:
        viewer = editor(info, "Изменение новости")
        write = editing.update(
            NEWS,
            viewer,
            parse_typed_id(id, "News"),
            news_form(input.to_domain(), viewer, info.context.settings.richtext_image_hosts),
            expected_revision=expected_revision,
        )
        return await payload(NewsPayload, "news", News.from_row, write)

    @strawberry.mutation(
        description="Publishes now, or at `at`: a future moment schedules it (editors)."
    )
    async def publish_news(
        self, info: Info, id: strawberry.ID, at: datetime | None = None
    ) -> NewsPayload:
        viewer = editor(info, "Публикация новости", Action.PUBLISH)
        write = editing.publish(NEWS, viewer, parse_typed_id(id, "News"), at)
        return await payload(NewsPayload, "news", News.from_row, write)

    @strawberry.mutation(description="Back to a draft, hidden at once (editors).")
    async def unpublish_news(self, info: Info, id: strawberry.ID) -> NewsPayload:
        viewer = editor(info, "Снятие новости с публикации", Action.PUBLISH)
        write = editing.unpublish(NEWS, viewer, parse_typed_id(id, "News"))
        return await payload(NewsPayload, "news", News.from_row, write)

    @strawberry.mutation(description="Moves a news item to the trash.")
    async def delete_news(self, info: Info, id: strawberry.ID) -> DeletePayload:
        viewer = editor(info, "Удаление новости")
        return await deleted(id, editing.delete(NEWS, viewer, parse_typed_id(id, "News")))

    @strawberry.mutation(description="A new tag.")
    async def create_tag(self, info: Info, input: TagInput) -> TagPayload:
        viewer = editor(info, "Создание тега")
        build = tag_form(TagData(name=plain(input.name), slug=plain(input.slug)))
        return await payload(TagPayload, "tag", Tag.from_row, editing.create(TAG, viewer, build))

    @strawberry.mutation(description="Renames a tag; its old slug keeps resolving.")
    async def update_tag(
        self,
        info: Info,
        id: strawberry.ID,
        input: TagInput,
        expected_revision: int | None = None,
    ) -> TagPayload:
        viewer = editor(info, "Изменение тега")
        build = tag_form(TagData(name=plain(input.name), slug=plain(input.slug)))
        write = editing.update(
            TAG, viewer, parse_typed_id(id, "Tag"), build, expected_revision=expected_revision
        )
        return await payload(TagPayload, "tag", Tag.from_row, write)

    @strawberry.mutation(description="Moves a tag to the trash (its news keep their links).")
    async def delete_tag(self, info: Info, id: strawberry.ID) -> DeletePayload:
        viewer = editor(info, "Удаление тега")
        return await deleted(id, editing.delete(TAG, viewer, parse_typed_id(id, "Tag")))

    @strawberry.mutation(
        description="Moves every news link of the `from` tags to `into` (no duplicates), "
        "removes them, and keeps their slugs resolving to `into` (editors)."
    )
    async def merge_tags(self, info: Info, input: MergeTagsInput) -> TagPayload:
        viewer = editor(info, "Слияние тегов", Action.DELETE)
        write = merge_tags(viewer, input.from_, input.into)
        return await payload(TagPayload, "tag", Tag.from_row, write)
