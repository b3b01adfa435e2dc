"""The lists the read compiler pages: each as the service that owns it reads it.

A root connection (`news`, `tags`, `agreements`, `actionPlans`, `enterprises`,
`events`) or a connection of an item (`Tag.news`, `Region.enterprises` ...) is a
`Listing`: given the caller and the field's arguments, the visible rows, their order,
how they are counted and how a request's filter values are bound. The rows, orders
and counts are the services' own (cms/services/news.py, cooperation.py) and the
loaders' (graphql_schema/*/dataloaders.py); plan.py builds the page around them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from tortoise.functions import Count
from tortoise.queryset import QuerySet, ValuesQuery

from cms import models
from cms.services import cooperation
from cms.services.columns import fits as fits_column
from cms.services.content_types import CONTENT_TYPES, ContentType
from cms.services.news import (
    TAGS_ORDER,
    NewsFilter,
    NewsOrder,
    news_count_query,
    news_ordering,
    news_queryset,
    tag_news_count_query,
)
from cms.services.pagination import Ordering
from cms.services.viewer import Viewer
from cms.services.visibility import visible
from graphql_schema.compiler.sql import Fallback, Sentinels, Unsupported
from graphql_schema.news.dataloaders import NEWS_IN_LISTS, published_news
from graphql_schema.relay import parse_typed_id


@dataclass(frozen=True, slots=True)
class Listed:
    """A list as the service that owns it reads it, for one plan."""

    kind: ContentType
    ordering: Ordering
    rows: QuerySet[Any]  # the visible rows, filtered, in no order yet
    bind: Callable[[dict[str, Any], dict[str, Any]], None]  # its filters' values, or Fallback
    counter: ValuesQuery[Literal[False]] | None = None  # news: the maintained counters
    count: ValuesQuery[Literal[False]] | None = None  # else this one value, or COUNT(*)


# (the caller, the field's arguments, sentinels, the prefix of its argument values, the
# parent's id in a list of an item).
Listing = Callable[[Viewer, dict[str, Any], Sentinels, str, int | None], Listed]
_PAGE_ARGUMENTS = frozenset({"first", "after", "last", "before"})


def _only(given: dict[str, Any], names: frozenset[str] = frozenset()) -> None:
    """Arguments beyond the page and `names` are not compiled."""
    for name, value in given.items():
        if value is not None and name not in _PAGE_ARGUMENTS | names:
            raise Unsupported(f"the argument {name}")


def _present(value: Any) -> frozenset[str]:
    return frozenset(name for name, item in (value or {}).items() if item is not None)


@dataclass(frozen=True, slots=True)
class _Filter:
    """The `filter` argument of a list in a plan: which of its fields are given, each
    bound per request (a text that must fit its column, a moment) or fixed in the
    plan (an enum). Another set of fields or another enum falls back, and so does a
    text the service would not take as it is (too long, or with spaces around)."""

    present: frozenset[str]
    values: dict[str, Any]  # what the service's filter is built with
    texts: dict[str, tuple[Any, str]]  # a text field: the model and column it must fit
    fixed: dict[str, Any]
    prefix: str

    @staticmethod
    def of(
        given: dict[str, Any],
        sentinels: Sentinels,
        prefix: str,
        *,
        texts: Mapping[str, tuple[Any, str]] = {},
        moments: frozenset[str] = frozenset(),
        fixed: frozenset[str] = frozenset(),
    ) -> _Filter:
        found = given.get("filter") or {}
        present = _present(found)
        values: dict[str, Any] = {}
        for name in present:
            if name in texts:
                values[name] = sentinels.text(f"{prefix}f.{name}")
            elif name in moments:
                values[name] = sentinels.moment(f"{prefix}f.{name}")
            elif name in fixed:
                values[name] = found[name]
            else:
                raise Unsupported(f"filter.{name}")
        kept = {name: found[name] for name in present if name in fixed}
        return _Filter(present, values, dict(texts), kept, prefix)

    def get(self, name: str) -> Any:
        return self.values.get(name)

    def bind(self, values: dict[str, Any], args: dict[str, Any]) -> None:
        found = values.get("filter") or {}
        if _present(found) != self.present:
            raise Fallback
        for name in self.present:
            value = found[name]
            if name in self.fixed:
                if value != self.fixed[name]:
                    raise Fallback
                continue
            if name in self.texts:
                model, column = self.texts[name]
                if value != value.strip() or not fits_column(model, column, value):
                    raise Fallback
            elif isinstance(value, datetime):
                value = utc(value)
            args[f"{self.prefix}f.{name}"] = value


def _unfiltered(values: dict[str, Any], args: dict[str, Any]) -> None:
    """The binder of a list without arguments: nothing to bind."""


def _news_list(
    viewer: Viewer, given: dict[str, Any], sentinels: Sentinels, prefix: str, _: int | None
) -> Listed:
    """`news`: its public orders but by relevance, filtered by a tag, a region, dates."""
    _only(given, frozenset({"filter", "orderBy"}))
    order = given["orderBy"]
    if order is NewsOrder.RELEVANCE:
        raise Unsupported("news by relevance")
    found = _Filter.of(
        given,
        sentinels,
        prefix,
        texts={"tag": (models.Tag, "slug"), "region": (models.Region, "code")},
        moments=frozenset({"publishedAfter", "publishedBefore"}),
    )
    news_filter = NewsFilter(
        tag=found.get("tag"),
        region=found.get("region"),
        published_after=found.get("publishedAfter"),
        published_before=found.get("publishedBefore"),
    )

    def bind(values: dict[str, Any], args: dict[str, Any]) -> None:
        if values["orderBy"] != order:
            raise Fallback
        found.bind(values, args)

    return Listed(
        CONTENT_TYPES["News"],
        news_ordering(order, news_filter.statuses),
        news_queryset(viewer, news_filter, order),
        bind,
        news_count_query(news_filter),
    )


def _tags_list(
    viewer: Viewer, given: dict[str, Any], sentinels: Sentinels, prefix: str, _: int | None
) -> Listed:
    _only(given)
    return Listed(CONTENT_TYPES["Tag"], TAGS_ORDER, visible(models.Tag, viewer), _unfiltered)


def _agreements_list(
    viewer: Viewer, given: dict[str, Any], sentinels: Sentinels, prefix: str, _: int | None
) -> Listed:
    _only(given, frozenset({"filter"}))
    found = _Filter.of(
        given,
        sentinels,
        prefix,
        texts={"region": (models.Region, "code")},
        fixed=frozenset({"agreementStatus"}),
    )
    agreement_filter = cooperation.AgreementFilter(
        region=found.get("region"), agreement_status=found.get("agreementStatus")
    )
    return Listed(
        CONTENT_TYPES["Agreement"],
        cooperation.AGREEMENTS_ORDER,
        cooperation.agreements_queryset(viewer, agreement_filter),
        found.bind,
    )


def _action_plans_list(
    viewer: Viewer, given: dict[str, Any], sentinels: Sentinels, prefix: str, _: int | None
) -> Listed:
    _only(given, frozenset({"agreement"}))
    agreement = None if given["agreement"] is None else sentinels.integer(prefix + "agreement")

    def bind(values: dict[str, Any], args: dict[str, Any]) -> None:
        if agreement is not None:
            try:
                args[prefix + "agreement"] = parse_typed_id(
                    values["agreement"], "Agreement", "agreement"
                )
            except Exception as error:
                raise Fallback from error

    return Listed(
        CONTENT_TYPES["ActionPlan"],
        cooperation.ACTION_PLANS_ORDER,
        cooperation.action_plans_queryset(viewer, agreement),
        bind,
    )


def _enterprises_list(
    viewer: Viewer, given: dict[str, Any], sentinels: Sentinels, prefix: str, _: int | None
) -> Listed:
    _only(given, frozenset({"filter"}))
    found = _Filter.of(
        given,
        sentinels,
        prefix,
        texts={
            "region": (models.Region, "code"),
            "locality": (models.Enterprise, "locality"),
            "industry": (models.EnterpriseIndustry, "name"),
        },
    )
    enterprise_filter = cooperation.EnterpriseFilter(
        region=found.get("region"), locality=found.get("locality"), industry=found.get("industry")
    )
    return Listed(
        CONTENT_TYPES["Enterprise"],
        cooperation.ENTERPRISES_ORDER,
        cooperation.enterprises_queryset(viewer, enterprise_filter),
        found.bind,
    )


def _events_list(
    viewer: Viewer, given: dict[str, Any], sentinels: Sentinels, prefix: str, _: int | None
) -> Listed:
    _only(given)
    return Listed(
        CONTENT_TYPES["Event"],
        cooperation.EVENTS_ORDER,
        cooperation.events_queryset(viewer),
        _unfiltered,
    )


# Root connections and how their lists are read.
ROOT_LISTS: dict[str, Listing] = {
    "news": _news_list,
    "tags": _tags_list,
    "agreements": _agreements_list,
    "actionPlans": _action_plans_list,
    "enterprises": _enterprises_list,
    "events": _events_list,
}


def _of_parent(
    kind: str,
    ordering: Ordering,
    rows: Callable[[Viewer], QuerySet[Any]],
    parent_field: str,
    *,
    counter: Callable[[Any], ValuesQuery[Literal[False]]] | None = None,
) -> Listing:
    """A list of an item as its loader reads it (`paginate_per_parent`): the rows
    whose `parent_field` is the item's id, counted distinct, or by `counter` (the
    service's query of the maintained counters that its loader reads)."""

    def listing(
        viewer: Viewer, given: dict[str, Any], sentinels: Sentinels, prefix: str, parent: Any
    ) -> Listed:
        _only(given)
        scoped = rows(viewer).filter(**{parent_field: parent})
        # As `_count_per_parent` counts (grouped: a join to links repeats rows).
        count = scoped.annotate(_n=Count("id", distinct=True)).group_by(parent_field).values("_n")
        return Listed(
            CONTENT_TYPES[kind],
            ordering,
            scoped,
            _unfiltered,
            counter=None if counter is None else counter(parent),
            count=count,
        )

    return listing


# Lists of an item, with the rows and parent field of their loaders
# (graphql_schema/news/dataloaders.py, graphql_schema/cooperation/dataloaders.py).
ITEM_LISTS: dict[tuple[str, str], Listing] = {
    ("Tag", "news"): _of_parent(
        "News", NEWS_IN_LISTS, published_news, "tag_links__tag_id", counter=tag_news_count_query
    ),
    ("Agreement", "news"): _of_parent(
        "News", NEWS_IN_LISTS, published_news, "agreement_links__agreement_id"
    ),
    ("Visit", "news"): _of_parent("News", NEWS_IN_LISTS, published_news, "visit_id"),
    ("Region", "enterprises"): _of_parent(
        "Enterprise",
        cooperation.ENTERPRISES_ORDER,
        lambda viewer: visible(models.Enterprise, viewer),
        "region_id",
    ),
}


def utc(moment: datetime) -> datetime:
    """A moment as the columns hold it (Tortoise writes UTC); a moment without a
    zone is left to Strawberry."""
    if moment.tzinfo is None:
        raise Fallback
    return moment.astimezone(UTC)
