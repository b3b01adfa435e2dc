"""Tortoise's SQLite engine with the functions of full-text search
(and three for the read compiler).

The full-text index of SQLite (cms/services/fulltext.py) is kept by triggers that
stem the text with `cms_search_text()` and ranked by `cms_search_rank()`, Python
functions that every connection of the app registers (`cms.db.tortoise_config`
names this engine for sqlite:// URLs). A tool that writes searchable tables through
a connection of its own (the sqlite3 shell) gets "no such function:
cms_search_text" instead of leaving the index stale.
"""

from __future__ import annotations

import base64

from tortoise.backends.sqlite.client import SqliteClient

from cms.services.fulltext import index_text, search_rank
from cms.services.ids import encode_global_id
from cms.services.richtext import reading_time_minutes


def base64url(text: str) -> str:
    """Unpadded base64url of UTF-8 text: what a cursor is (cms/services/pagination.py)."""
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


class SearchingSqliteClient(SqliteClient):
    async def _post_connect(self) -> None:
        await super()._post_connect()
        assert self._connection is not None
        await self._connection.create_function("cms_search_text", 1, index_text, deterministic=True)
        await self._connection.create_function(
            "cms_search_rank", 5, search_rank, deterministic=True
        )
        # SQLite has no base64: the read compiler (graphql_schema/compiler) makes
        # global ids, cursors and reading times with the API's own functions.
        await self._connection.create_function(
            "cms_global_id", 2, encode_global_id, deterministic=True
        )
        await self._connection.create_function("cms_base64url", 1, base64url, deterministic=True)
        await self._connection.create_function(
            "cms_reading_time", 1, reading_time_minutes, deterministic=True
        )


client_class = SearchingSqliteClient
