"""`search(query, kinds, first, after)`: one ranked search across content
(cms/services/fulltext.py), hits with their item, score and highlighted snippets."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

import strawberry
from strawberry.utils.str_converters import to_camel_case

from cms.services import fulltext, surrogate_keys
from graphql_schema.context import Info
from graphql_schema.errors import bad_input
from graphql_schema.node import NODE_TYPES
from graphql_schema.relay import Node, PageInfo
from graphql_schema.sync import ContentKind

_CURSOR_PREFIX = "search:"


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{offset}".encode()).decode()


def _offset(after: str | None) -> int:
    if after is None:
        return 0
    try:
        text = base64.urlsafe_b64decode(after.encode("ascii")).decode("ascii")
    except (UnicodeError, binascii.Error, ValueError):
        text = ""
    number = text.removeprefix(_CURSOR_PREFIX)
    if not text.startswith(_CURSOR_PREFIX) or not number.isdigit() or len(number) > 9:
        raise bad_input("after", "Некорректный курсор after: возьмите его из прежнего ответа.")
    return int(number) + 1


@strawberry.type(description="A matched field of a hit: part of its text around the match.")
class SearchHighlight:
    field: str = strawberry.field(description="The field's name in the API, e.g. `title`.")
    snippet: str = strawberry.field(
        description="HTML: the text escaped, matched words inside <mark>…</mark>."
    )


@strawberry.type(description="An item that matched a search.")
class SearchHit:
    item: Node = strawberry.field(description="The item, as its own type (News, Tag, …).")
    kind: ContentKind
    score: float = strawberry.field(
        description="Relevance: higher is better; comparable within one answer only."
    )
    highlights: list[SearchHighlight] = strawberry.field(
        description="The fields that matched, with the matched words marked."
    )


@strawberry.type
class SearchHitEdge:
    cursor: str
    node: SearchHit


@strawberry.type(description="Hits of a search, best first.")
class SearchConnection:
    edges: list[SearchHitEdge]
    page_info: PageInfo
    page: strawberry.Private[fulltext.SearchPage]

    @strawberry.field(description="How many items match, on every page.")
    async def total_count(self) -> int:
        return await self.page.total_count()

    @strawberry.field(
        description="When nothing matched: the query with its misspelt words corrected "
        "(«Возможно, вы искали …»), offered only if it finds something for the same "
        "caller; in lower case, ё as е. Null otherwise."
    )
    def suggestion(self) -> str | None:
        return self.page.suggestion


@strawberry.type
class SearchQueries:
    @strawberry.field(
        description="Full-text search across content in Russian: every word form matches "
        "(«сотрудничества» finds «сотрудничестве»), ё and е alike, case and punctuation "
        'ignored. "Quoted words" match as a phrase, -word excludes, the last word also '
        "matches as the beginning of a word (`косм` finds «космодром»). Titles and names "
        "weigh more than leads, leads more than bodies; newer items win ties. Drafts and "
        "scheduled items are found by staff only."
    )
    async def search(
        self,
        info: Info,
        query: str,
        kinds: list[ContentKind] | None = None,
        first: int | None = None,
        after: str | None = None,
        snippet_length: Annotated[
            int,
            strawberry.argument(description="About how many characters each highlight holds."),
        ] = fulltext.DEFAULT_SNIPPET_LENGTH,
    ) -> SearchConnection:
        settings = info.context.settings
        size = settings.page_size_default if first is None else first
        if not 0 <= size <= settings.page_size_max:
            raise bad_input("first", f"first должен быть от 0 до {settings.page_size_max}.")
        if not 20 <= snippet_length <= fulltext.MAX_SNIPPET_LENGTH:
            raise bad_input(
                "snippetLength",
                f"snippetLength должен быть от 20 до {fulltext.MAX_SNIPPET_LENGTH}.",
            )
        offset = _offset(after)
        chosen = None if kinds is None else [kind.value for kind in kinds]
        # A new or newly published item of these types may join the hits.
        surrogate_keys.record_lists(fulltext.SEARCH_MODELS if chosen is None else chosen)
        page = await fulltext.search(
            info.context.viewer,
            query,
            kinds=chosen,
            offset=offset,
            limit=size,
            snippet_length=snippet_length,
        )
        edges = [
            SearchHitEdge(
                cursor=_cursor(offset + position),
                node=SearchHit(
                    item=NODE_TYPES[hit.kind][1](hit.item),
                    kind=ContentKind(hit.kind),
                    score=hit.score,
                    highlights=[
                        SearchHighlight(field=to_camel_case(h.field), snippet=h.snippet)
                        for h in hit.highlights
                    ],
                ),
            )
            for position, hit in enumerate(page.hits)
        ]
        return SearchConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next_page,
                has_previous_page=offset > 0,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
            page=page,
        )
