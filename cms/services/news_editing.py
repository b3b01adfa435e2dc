"""Editing news and tags: their inputs, and merging misspelt tags into the right one."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from tortoise.transactions import in_transaction

from cms.db import flat_values
from cms.errors import Code, ValidationFailedError
from cms.models import (
    News,
    NewsTag,
    SlugRedirect,
    Tag,
    news,
)
from cms.services import batches, revisions
from cms.services.columns import length_limit
from cms.services.content_forms import Form, Values, declared_build, path
from cms.services.content_types import NEWS, TAG
from cms.services.editing import Build, Changes
from cms.services.events import ContentChange, content_changed
from cms.services.permissions import Action, allowed
from cms.services.slug_history import slug_owner
from cms.services.slugs import slugify
from cms.services.validation import Checker
from cms.services.viewer import Viewer
from cms.services.visibility import now
from cms.services.webhooks.events import record_content

MAX_TAGS = 50
_NAME_LENGTH = length_limit(Tag, news.TAG.field("name")) or 120


def news_form(values: Values, viewer: Viewer, image_hosts: Collection[str]) -> Build:
    """A news input: its declared fields, then its tags by name; images in the body
    only from `image_hosts` (settings.richtext_image_hosts) or the site."""

    async def tags(form: Form, changes: Changes) -> None:
        await _tags(form, changes, values.get("tags"), viewer)

    return declared_build(NEWS, values, tags, image_hosts=image_hosts)


async def _tags(form: Form, changes: Changes, names: Sequence[str] | None, viewer: Viewer) -> None:
    """Tags by name: a name finds the tag with its slug (or an old slug of a renamed or
    merged tag); new names become new tags, created inside the transaction."""
    if names is None:
        return
    check = form.check
    if len(names) > MAX_TAGS:
        check.fail(path("tags"), Code.TOO_LONG, f"Не больше {MAX_TAGS} тегов.")
        return
    wanted: dict[str, str] = {}  # slug -> name, in order
    for index, name in enumerate(names):
        cleaned = check.text(
            name, path("tags", index), required=True, max_length=_NAME_LENGTH, label="тег"
        )
        if cleaned is None:
            continue
        slug = slugify(cleaned)
        if not slug:
            check.fail(
                path("tags", index), Code.INVALID, f"Тег «{cleaned}» должен содержать буквы."
            )
            continue
        wanted.setdefault(slug, cleaned)
    slugs = list(wanted)
    found = dict(
        zip(slugs, await batches.by_field(Tag, viewer, "slug", slugs) if slugs else [], strict=True)
    )
    missing = [slug for slug in slugs if found[slug] is None]
    if missing:
        trashed = await flat_values(Tag.filter(slug__in=missing, deleted_at__isnull=False), "slug")
        for slug in trashed:
            check.fail(
                path("tags"),
                Code.CONFLICT,
                f"Тег «{wanted[slug]}» лежит в корзине: восстановите его или выберите другой.",
            )
    if not missing:
        changes.links["tags"] = [found[slug].pk for slug in slugs]  # type: ignore[union-attr]
        return

    async def create_missing(changes: Changes) -> None:
        new_tags = [
            Tag(name=wanted[slug], slug=slug, created_by_id=viewer.user_id) for slug in missing
        ]
        for tag in new_tags:
            tag.fill_search_text()
        # Another news item may name the same new tag at the same moment: its tag is
        # then reused (the insert waits for that transaction and skips the slug).
        await Tag.bulk_create(new_tags, ignore_conflicts=True)
        present = {tag.slug: tag for tag in await Tag.filter(slug__in=missing)}
        trashed_meanwhile = [slug for slug in missing if present[slug].deleted_at is not None]
        if trashed_meanwhile:
            raise ValidationFailedError.one(
                path("tags"),
                Code.CONFLICT,
                f"Тег «{wanted[trashed_meanwhile[0]]}» лежит в корзине: "
                "восстановите его или выберите другой.",
            )
        changes.links["tags"] = [(found[slug] or present[slug]).pk for slug in slugs]
        # A tag that a concurrent news item created has its first revision already
        # (committed with it): that one is kept, the others are written.
        await revisions.record_many(
            TAG,
            ((tag.pk, 1, revisions.snapshot(TAG, tag, {})) for tag in present.values()),
            viewer,
            ["slug", "name"],
            keep_existing=True,
        )
        changes.announce.append(
            ContentChange("Tag", tuple(tag.pk for tag in present.values()), "created")
        )

    changes.prepare = create_missing


def tag_form(values: Values) -> Build:
    async def build(check: Checker, item: Tag | None) -> Changes:
        form = Form(check, item)
        name = form.text("name", "name", values.get("name"), required=True, max_length=_NAME_LENGTH)
        requested = values.get("slug")
        if item is None and requested is None and name is not None:
            # News name their tags: a second tag with the same slug could never be named.
            slug = slugify(name)
            if not slug:
                check.fail(path("name"), Code.INVALID, "Название тега должно содержать буквы.")
            elif await slug_owner(TAG, slug) is not None:
                check.fail(path("name"), Code.CONFLICT, f"Тег «{name}» уже есть.")
            else:
                form.fields["slug"] = slug
            return form.changes()
        await form.slug(TAG, requested, name)
        return form.changes()

    return build


# ---------------------------------------------------------------- merging tags


async def merge_tags(viewer: Viewer, sources: Sequence[str], target: str) -> Tag:
    """Moves every news link of the `sources` tags (slugs) to `target`, without
    duplicates, removes the sources, and keeps their slugs resolving to `target`."""
    if not allowed(viewer, Action.DELETE):
        raise ValidationFailedError.one(None, Code.FORBIDDEN, "Сливать теги может редактор.")
    check = Checker()
    if not sources:
        check.fail(path("from"), Code.REQUIRED, "Укажите теги, которые нужно слить.")
    found = await batches.by_field(Tag, viewer, "slug", [*sources, target])
    into = found[-1]
    if into is None:
        check.fail(path("into"), Code.NOT_FOUND, f"Тег «{target}» не найден.")
    merged: dict[int, Tag] = {}
    for index, (slug, tag) in enumerate(zip(sources, found[:-1], strict=True)):
        if tag is None:
            check.fail(path("from", index), Code.NOT_FOUND, f"Тег «{slug}» не найден.")
        elif into is not None and tag.pk == into.pk:
            check.fail(path("from", index), Code.INVALID, "Тег нельзя слить сам с собой.")
        else:
            merged[tag.pk] = tag
    check.raise_if_any()
    assert into is not None
    source_ids = list(merged)
    moment = now()
    async with in_transaction():
        links = await NewsTag.filter(tag_id__in=[*source_ids, into.pk]).values(
            "id", "news_id", "tag_id"
        )
        linked_to_target = {row["news_id"] for row in links if row["tag_id"] == into.pk}
        moved: dict[int, int] = {}  # news id -> the one link that now points at `into`
        for row in sorted(links, key=lambda row: row["id"]):
            if row["tag_id"] != into.pk and row["news_id"] not in linked_to_target:
                moved.setdefault(row["news_id"], row["id"])
        news_ids = sorted({row["news_id"] for row in links if row["tag_id"] != into.pk})
        if moved:
            await NewsTag.filter(id__in=list(moved.values())).update(tag_id=into.pk)
        await NewsTag.filter(tag_id__in=source_ids).delete()
        await SlugRedirect.filter(content_type="Tag", object_id__in=source_ids).update(
            object_id=into.pk
        )
        await SlugRedirect.bulk_create(
            [
                SlugRedirect(content_type="Tag", slug=tag.slug, object_id=into.pk)
                for tag in merged.values()
            ]
        )
        await Tag.filter(id__in=source_ids).delete()
        # The sources' last revision says they are gone: delta sync reads revisions.
        await revisions.record_many(
            TAG,
            (
                (tag.pk, tag.revision + 1, revisions.snapshot(TAG, tag, {}))
                for tag in merged.values()
            ),
            viewer,
            ["mergedInto"],
        )
        for tag in merged.values():  # gone for webhooks too
            await record_content("Tag", tag, "deleted", tag.revision + 1, ["mergedInto"])
        await _bump_after_merge(viewer, into, news_ids, moment)
    await content_changed(ContentChange("Tag", (into.pk, *source_ids), "merged"))
    if news_ids:
        await content_changed(ContentChange("News", tuple(news_ids), "updated"))
    return into


async def _bump_after_merge(viewer: Viewer, into: Tag, news_ids: list[int], moment: object) -> None:
    """The target tag and every news whose tags changed get a new revision."""
    into.revision += 1
    await Tag.filter(id=into.pk).update(revision=into.revision, updated_at=moment)
    await revisions.record(
        TAG, into.pk, into.revision, viewer, ["mergedTags"], revisions.snapshot(TAG, into, {})
    )
    if not news_ids:
        return
    news = await News.filter(id__in=news_ids)
    links = await revisions.read_links(NEWS, news_ids)
    for item in news:
        item.revision += 1
    # One UPDATE per distinct old revision (usually one), not one per news item.
    for revision in {item.revision for item in news}:
        ids = [item.pk for item in news if item.revision == revision]
        await News.filter(id__in=ids).update(revision=revision, updated_at=moment)
    await revisions.record_many(
        NEWS,
        ((item.pk, item.revision, revisions.snapshot(NEWS, item, links[item.pk])) for item in news),
        viewer,
        ["tags"],
    )
