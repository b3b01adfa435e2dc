"""The one place that decides what a caller may see.

Every list, lookup, relation, count, search and feed builds its queryset from
`visible()` or adds `visible_q()` for a related model; nothing else filters on
status, publication time or the trash. Media files are served by the same rule
(`media.http` asks `visible(MediaAsset, ...)` for the file's bytes).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TypeVar

from pypika_tortoise.context import SqlContext
from pypika_tortoise.terms import ValueWrapper
from tortoise.expressions import Q, RawSQL, Subquery
from tortoise.models import Model
from tortoise.queryset import QuerySet

from cms.models.appeals import Appeal, AppealEvent
from cms.models.base import ContentModel, PublicationState, PublishableModel
from cms.models.cooperation import (
    ActionPlan,
    ActionPlanItem,
    Agreement,
    AgreementDocument,
    Enterprise,
    Person,
)
from cms.models.feedback import FeedbackMessage
from cms.models.media import MediaAsset
from cms.models.news import News, Tag
from cms.services import surrogate_keys
from cms.services.permissions import Action, allowed
from cms.services.viewer import Viewer

M = TypeVar("M", bound=Model)

# Rows that exist only as part of another: (foreign key to the whole, its model).
_PART_OF: dict[type[Model], tuple[str, type[Model]]] = {
    ActionPlan: ("agreement", Agreement),
    ActionPlanItem: ("action_plan", ActionPlan),
    AgreementDocument: ("agreement", Agreement),
}

# Everything that uses a media asset: (model, its foreign key to MediaAsset). Outside
# the staff, an asset is seen only while a row the caller may see uses it, or when an
# editor marked it public; a test checks that every reference to MediaAsset is here.
MEDIA_USES: tuple[tuple[type[Model], str], ...] = (
    (News, "cover_id"),
    (Person, "photo_id"),
    (Enterprise, "logo_id"),
    (AgreementDocument, "asset_id"),
)


# The moment the rules are applied at, when fixed (see `rules_at`).
_fixed_now: ContextVar[datetime | None] = ContextVar("visibility_now", default=None)


def now() -> datetime:
    return _fixed_now.get() or datetime.now(UTC)


@contextmanager
def rules_at(moment: datetime) -> Iterator[None]:
    """Applies the rules as of `moment` inside the block. The read compiler
    (graphql_schema/compiler) builds its SQL from these rules once, with a marker
    moment that it then binds to the time of each request."""
    token = _fixed_now.set(moment)
    try:
        yield
    finally:
        _fixed_now.reset(token)


def visible_q(
    model: type[Model], viewer: Viewer, *, prefix: str = "", via: type[Model] | None = None
) -> Q:
    """Conditions for rows of `model` the viewer may see; `prefix` (e.g. "news__")
    applies them to a related model from another one, `via` (needed for MediaAsset
    and Tag, whose conditions refer to their row by the query's name for it).

    An answer that asks which rows of a model are visible depends on that model's
    list: its surrogate key is recorded here (cms.services.surrogate_keys), so that a
    publication voids every cached answer it may change, however it was reached."""
    surrogate_keys.record(surrogate_keys.list_key(model.__name__))
    conditions: dict[str, Any] = {}
    if model in (FeedbackMessage, Appeal, AppealEvent) and not allowed(
        viewer, Action.READ_FEEDBACK
    ):
        # Messages hold personal data: only roles that may read it see any (an
        # appeal and its history are part of its message).
        conditions[f"{prefix}id__in"] = []
    if issubclass(model, ContentModel):
        conditions[f"{prefix}deleted_at__isnull"] = True
    if issubclass(model, PublishableModel) and not viewer.sees_drafts:
        conditions[f"{prefix}status"] = PublicationState.PUBLISHED
        conditions[f"{prefix}published_at__lte"] = now()
    q = Q(**conditions)
    if model is MediaAsset and not viewer.sees_drafts:
        q &= _media_in_use_q(viewer, prefix, via)
    if model is Tag and not viewer.sees_drafts:
        # A tag is public once a news item the caller sees uses it: one that an
        # author's draft brought in is not, until that news is published (review).
        surrogate_keys.record(surrogate_keys.list_key(News.__name__))
        q &= _tag_in_use_q(viewer, prefix, via)
    parent = _PART_OF.get(model)
    if parent is not None:
        # A part is hidden whenever the whole it belongs to is.
        parent_field, parent_model = parent
        q &= visible_q(parent_model, viewer, prefix=f"{prefix}{parent_field}__", via=via)
    return q


def _media_in_use_q(viewer: Viewer, prefix: str, via: type[Model] | None) -> Q:
    """Assets marked public or used by something the viewer may see. Subqueries in
    the same statement (a lookup stays one query), each tied to the asset's row
    (`... WHERE news.cover_id = media_asset.id`): an index probe per asset, not a
    list of every public item's media."""
    asset_id = RawSQL(_row_reference(MediaAsset, prefix, via, "id"))
    marked: dict[str, Any] = {f"{prefix}public": True}
    used = Q(**marked)
    for user, column in MEDIA_USES:
        in_use = visible(user, viewer).filter(**{column: asset_id}).values(column)
        condition: dict[str, Any] = {f"{prefix}id__in": Subquery(in_use)}
        used |= Q(**condition)
    return used


def _row_reference(model: type[Model], prefix: str, via: type[Model] | None, column: str) -> str:
    """How the SQL of a query names a column of `model`: its table's own name, or
    the alias Tortoise gives the join (`<table of via>__<path>`) when reached by
    `prefix` from `via`."""
    if not prefix:
        return f'"{model._meta.db_table}"."{column}"'
    if via is None:
        raise ValueError(f"visible_q({model.__name__}, prefix={prefix!r}) needs `via`")
    alias = f"{via._meta.db_table}__{prefix.removesuffix('__')}"
    return f'"{alias}"."{column}"'


def _tag_in_use_q(viewer: Viewer, prefix: str, via: type[Model] | None) -> Q:
    """Tags with a news item the viewer sees: the tag's live news, counted by the
    database's triggers (table news_count, scheduled ones included), less its
    scheduled news (a short range of the (status, deleted_at, published_at) index,
    each probing the (news_id, tag_id) link). Both are tied to the tag's row: a few
    index probes per tag. Listing every tag of every visible news instead took 0.2 s a
    statement at 100,000 news. Hand-written so that the scheduled news drive the
    count."""
    in_use: dict[str, Any] = {f"{prefix}id__in": _TagInUse(_row_reference(Tag, prefix, via, "id"))}
    return Q(**in_use)


class _TagInUse(RawSQL):
    """The ids of the tag in use (see `_tag_in_use_q`).

    A tag with more live news than there are scheduled news at all is in use without
    counting its own scheduled ones: that total is one short index range per
    statement (the database computes an uncorrelated subquery once), and it spares
    the per-tag count for every tag but the rarely used (at 10,000 news, 21 scheduled:
    the tags of a news page cost about 1,200 index probes per request without it).

    The present moment is bound as a parameter like every other one: the statement's
    text stays the same from one request to the next, so the driver's statement cache
    prepares it once (as a literal it was prepared again on every request)."""

    def __init__(self, tag: str) -> None:
        super().__init__(tag)
        self.moment = now()

    def get_sql(self, ctx: SqlContext) -> str:
        tag = self.sql
        published = f"n.status = '{PublicationState.PUBLISHED.value}' AND n.deleted_at IS NULL"
        # Parameters are numbered in the order they are made: the order of the text.
        scheduled = f"FROM news n WHERE {published} AND n.published_at > {self._moment(ctx)}"
        of_tag = (
            f"FROM news n JOIN news_tag l ON l.news_id = n.id AND l.tag_id = {tag} "
            f"WHERE {published} AND n.published_at > {self._moment(ctx)}"
        )
        return (
            f"(SELECT c.scope_id FROM news_count c WHERE c.scope = 'tag' AND c.scope_id = {tag} "
            f"AND (c.n > (SELECT COUNT(*) {scheduled}) OR c.n > (SELECT COUNT(*) {of_tag})))"
        )

    def _moment(self, ctx: SqlContext) -> str:
        return str(ValueWrapper(self.moment).get_sql(ctx))


def visible(model: type[M], viewer: Viewer) -> QuerySet[M]:
    return model.filter(visible_q(model, viewer))
