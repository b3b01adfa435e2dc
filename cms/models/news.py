"""News and what hangs off it: tags, quotes, and the links to regions, events and agreements."""

from __future__ import annotations

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from cms.models.base import ContentModel, PublishableModel, SearchableMixin
from cms.models.declare import Declaration, Field, Kind, SearchWeight, declare


class Tag(SearchableMixin, ContentModel):
    slug = fields.CharField(max_length=120, unique=True)
    name = fields.CharField(max_length=120)
    search_text = fields.TextField(default="")

    class Meta:
        table = "tag"
        ordering = ("name", "id")
        indexes = (Index(fields=("name", "id")),)


TAG = declare(
    Declaration(
        "Tag",
        Tag,
        "тег",
        "тега",
        "A tag of news; its slug names it in URLs.",
        (
            Field(
                "slug",
                Kind.SLUG,
                "адрес",
                doc='Transliterated Latin, e.g. "sotrudnichestvo".',
                input_doc="Made from the name when creating.",
            ),
            Field(
                "name",
                Kind.TEXT,
                "название",
                required=True,
                searchable=SearchWeight.TITLE,
                doc='As editors wrote it, e.g. "сотрудничество".',
            ),
        ),
        parent="tag",
        title_field="name",
        input_description="A tag.",
    )
)


class News(SearchableMixin, PublishableModel):
    slug = fields.CharField(max_length=200, unique=True)
    title = fields.CharField(max_length=300)
    lead = fields.TextField(null=True)
    body_html = fields.TextField(default="")
    body_text = fields.TextField(default="")
    search_text = fields.TextField(default="")
    seo_title = fields.CharField(max_length=70, null=True)
    seo_description = fields.CharField(max_length=160, null=True)
    cover: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "models.MediaAsset", related_name="news_covers", null=True, on_delete=fields.RESTRICT
    )
    cover_id: int | None  # Tortoise's column of the foreign key (typed for mypy)
    visit: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "models.Visit", related_name="news", null=True, on_delete=fields.SET_NULL
    )
    visit_id: int | None

    class Meta:
        table = "news"
        indexes = (
            # Every public read filters on status and the trash, then ranges over
            # published_at: one index serves the page and (covering) its count.
            Index(fields=("status", "deleted_at", "published_at", "id")),
            Index(fields=("published_at", "id")),
            Index(fields=("updated_at", "id")),
            Index(fields=("title", "id")),
            # Whether an asset is public is asked per asset (visibility.py).
            Index(fields=("cover_id",)),
        )


NEWS = declare(
    Declaration(
        "News",
        News,
        "новость",
        "новости",
        "A news item with its body, tags, quotes and what it is about.",
        (
            Field(
                "slug",
                Kind.SLUG,
                "адрес",
                input_doc=(
                    "Generated from the title when creating without one; a renamed item "
                    "keeps resolving by its old slugs."
                ),
            ),
            Field(
                "title",
                Kind.TEXT,
                "заголовок",
                required=True,
                searchable=SearchWeight.TITLE,
            ),
            Field(
                "lead",
                Kind.TEXT,
                "лид",
                searchable=SearchWeight.LEAD,
                max_length=2000,
                multiline=True,
                input_doc="Plain text.",
            ),
            Field("body", Kind.RICH_TEXT, "текст", searchable=SearchWeight.BODY),
            Field(
                "tags",
                Kind.TAGS,
                "теги",
                link="NewsTag",
                link_column="tag_id",
                target="Tag",
                input_doc="Tag names; unknown names create tags.",
            ),
            Field(
                "regions",
                Kind.REGIONS,
                "регионы",
                link="NewsRegion",
                link_column="region_id",
                target="Region",
                input_doc="Region codes.",
            ),
            Field(
                "cover", Kind.REFERENCE, "Медиафайл", target="MediaAsset", input_doc="A MediaAsset."
            ),
            Field(
                "agreements",
                Kind.REFERENCES,
                "Соглашение",
                target="Agreement",
                link="NewsAgreement",
                link_column="agreement_id",
            ),
            Field(
                "events",
                Kind.REFERENCES,
                "Событие",
                target="Event",
                link="NewsEvent",
                link_column="event_id",
            ),
            Field("visit", Kind.REFERENCE, "Визит", target="Visit"),
            Field(
                "quotes",
                Kind.PARTS,
                "цитаты",
                link="Quote",
                doc="A quote of a person, as it stands in the text.",
                parts=(
                    Field(
                        "person",
                        Kind.REFERENCE,
                        "Персона",
                        required=True,
                        target="Person",
                        input_name="person_id",
                    ),
                    Field(
                        "text",
                        Kind.TEXT,
                        "текст цитаты",
                        required=True,
                        max_length=5000,
                        multiline=True,
                    ),
                ),
            ),
            Field(
                "seo_title",
                Kind.TEXT,
                "SEO-заголовок",
                doc="The page title for search engines and link previews, at most 70 characters.",
            ),
            Field(
                "seo_description",
                Kind.TEXT,
                "SEO-описание",
                multiline=True,
                doc="The page description for search engines, at most 160 characters.",
            ),
        ),
        parent="news",
        input_description="A news item.",
    )
)


class NewsCount(Model):
    """How many news are live (PUBLISHED, not in the trash, with a publication time)
    in a scope: all news ("all", 0), per tag ("tag", tag id), per region ("region",
    region id). Database triggers keep it exact (migration 0006_news_counts); the
    code only reads it (cms/services/news_counts.py). Scheduled news are included:
    readers subtract those whose moment has not come."""

    id = fields.IntField(primary_key=True)
    scope = fields.CharField(max_length=16)
    scope_id = fields.IntField()
    n = fields.IntField(default=0)

    class Meta:
        table = "news_count"
        unique_together = (("scope", "scope_id"),)


class NewsTag(Model):
    id = fields.IntField(primary_key=True)
    news: fields.ForeignKeyRelation[News] = fields.ForeignKeyField(
        "models.News", related_name="tag_links", on_delete=fields.CASCADE
    )
    tag: fields.ForeignKeyRelation[Tag] = fields.ForeignKeyField(
        "models.Tag", related_name="news_links", on_delete=fields.CASCADE
    )
    position = fields.IntField(default=0)

    class Meta:
        table = "news_tag"
        unique_together = (("news", "tag"),)
        indexes = (Index(fields=("tag_id", "news_id")),)


class NewsRegion(Model):
    id = fields.IntField(primary_key=True)
    news: fields.ForeignKeyRelation[News] = fields.ForeignKeyField(
        "models.News", related_name="region_links", on_delete=fields.CASCADE
    )
    region: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "models.Region", related_name="news_links", on_delete=fields.CASCADE
    )
    position = fields.IntField(default=0)

    class Meta:
        table = "news_region"
        unique_together = (("news", "region"),)
        indexes = (Index(fields=("region_id", "news_id")),)


class NewsEvent(Model):
    id = fields.IntField(primary_key=True)
    news: fields.ForeignKeyRelation[News] = fields.ForeignKeyField(
        "models.News", related_name="event_links", on_delete=fields.CASCADE
    )
    event: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "models.Event", related_name="news_links", on_delete=fields.CASCADE
    )
    position = fields.IntField(default=0)

    class Meta:
        table = "news_event"
        unique_together = (("news", "event"),)
        indexes = (Index(fields=("event_id", "news_id")),)


class NewsAgreement(Model):
    id = fields.IntField(primary_key=True)
    news: fields.ForeignKeyRelation[News] = fields.ForeignKeyField(
        "models.News", related_name="agreement_links", on_delete=fields.CASCADE
    )
    agreement: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "models.Agreement", related_name="news_links", on_delete=fields.CASCADE
    )
    position = fields.IntField(default=0)

    class Meta:
        table = "news_agreement"
        unique_together = (("news", "agreement"),)
        indexes = (Index(fields=("agreement_id", "news_id")),)


class Quote(Model):
    id = fields.IntField(primary_key=True)
    news: fields.ForeignKeyRelation[News] = fields.ForeignKeyField(
        "models.News", related_name="quotes", on_delete=fields.CASCADE
    )
    news_id: int
    person: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "models.Person", related_name="quotes", on_delete=fields.RESTRICT
    )
    text = fields.TextField()
    position = fields.IntField(default=0)

    class Meta:
        table = "quote"
        ordering = ("news_id", "position", "id")
