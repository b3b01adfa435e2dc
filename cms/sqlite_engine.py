"""Tortoise's SQLite engine with the functions of full-text search.

The full-text index of SQLite (cms/services/fulltext.py) is kept by triggers that
stem the text with `cms_search_text()` (and add its words to the lexicon with
`cms_search_words()`) and ranked by `cms_search_rank()`, Python
functions that every connection of the app registers (`cms.db.tortoise_config`
names this engine for sqlite:// URLs). A tool that writes searchable tables through
a connection of its own (the sqlite3 shell) gets "no such function:
cms_search_text" instead of leaving the index stale.
"""

from __future__ import annotations

from tortoise.backends.sqlite.client import SqliteClient

from cms.services.fulltext import index_text, lexicon_json, search_rank


class SearchingSqliteClient(SqliteClient):
    async def _post_connect(self) -> None:
        await super()._post_connect()
        assert self._connection is not None
        await self._connection.create_function("cms_search_text", 1, index_text, deterministic=True)
        await self._connection.create_function(
            "cms_search_rank", 5, search_rank, deterministic=True
        )
        await self._connection.create_function(
            "cms_search_words", 1, lexicon_json, deterministic=True
        )


client_class = SearchingSqliteClient
