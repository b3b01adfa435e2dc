"""News and what hangs off it: tags, quotes, and the links to regions, events and agreements."""

from __future__ import annotations

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from cms.models.base import ContentModel, PublishableModel, SearchableMixin


class Tag(SearchableMixin, ContentModel):
    search_fields = ("name",)
    slug = fields.CharField(max_length=120, unique=True)
    name = fields.CharField(max_length=120)
    search_text = fields.TextField(default="")

    class Meta:
        table = "tag"
        ordering = ("name", "id")
        indexes = (Index(fields=("name", "id")),)


class News(SearchableMixin, PublishableModel):
    search_fields = ("title", "lead", "body_text")
    slug = fields.CharField(max_length=200, unique=True)
    title = fields.CharField(max_length=300)
    lead = fields.TextField(null=True)
    body_html = fields.TextField(default="")
    body_text = fields.TextField(default="")
    search_text = fields.TextField(default="")
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
