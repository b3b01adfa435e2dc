"""Root query fields of the history area: revisions of an item, the trash."""

from __future__ import annotations

import strawberry

from cms import models
from cms.services.content_types import CONTENT_TYPES, ContentType
from cms.services.pagination import Ordering, Page, SortKey, encode_cursor, paginate
from cms.services.permissions import Action
from cms.services.trash import TRASH_ORDER, trash_count, trash_page
from graphql_schema.context import Info
from graphql_schema.errors import bad_input
from graphql_schema.history.types import Revision, TrashItem
from graphql_schema.permissions import require
from graphql_schema.relay import Connection, connection, page_window, parse_global_id

REVISIONS_ORDER = Ordering("revision:number_desc", (SortKey("number", "int", True),))


def content_type_of(id: str, argument: str = "id") -> tuple[ContentType, int]:
    """The editable type and primary key of a global ID, or BAD_USER_INPUT."""
    type_name, pk = parse_global_id(id, argument)
    kind = CONTENT_TYPES.get(type_name)
    if kind is None:
        raise bad_input(argument, f"У объектов типа {type_name} нет ревизий и корзины.")
    return kind, pk


@strawberry.type
class HistoryQueries:
    @strawberry.field(description="The revisions of an item, newest first (staff).")
    async def revisions(
        self, info: Info, id: strawberry.ID, first: int | None = None, after: str | None = None
    ) -> Connection[Revision]:
        require(info.context.viewer, Action.READ_HISTORY, "История изменений")
        kind, pk = content_type_of(id)
        window = page_window(info, REVISIONS_ORDER, first=first, after=after)
        queryset = models.Revision.filter(content_type=kind.name, object_id=pk)
        return connection(await paginate(queryset, REVISIONS_ORDER, window), Revision.from_row)

    @strawberry.field(description="Deleted items of every type, newest first (admin).")
    async def trash(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[TrashItem]:
        require(info.context.viewer, Action.MANAGE_TRASH, "Корзина")
        window = page_window(info, TRASH_ORDER, first=first, after=after)
        entries, has_more = await trash_page(window)
        page = Page(
            entries,
            [encode_cursor(TRASH_ORDER, entry) for entry in entries],
            has_next_page=has_more,
            has_previous_page=after is not None,
            count=trash_count,
        )
        return connection(page, TrashItem.from_entry)
