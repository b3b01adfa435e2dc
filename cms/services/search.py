"""Plain substring search over an item's folded `search_text`.

Every model with SearchableMixin is searched the same way on SQLite and
PostgreSQL; Russian full-text search with word forms is a later step.
"""

from __future__ import annotations

from tortoise.expressions import Q

from cms.errors import InvalidArgumentError
from cms.models.base import fold_for_search

MAX_SEARCH_LENGTH = 200


def search_q(search: str, argument: str = "filter.search", *, prefix: str = "") -> Q:
    term = fold_for_search(" ".join(search.split()))
    if len(term) > MAX_SEARCH_LENGTH:
        raise InvalidArgumentError(argument, f"Строка поиска длиннее {MAX_SEARCH_LENGTH} символов.")
    return Q(**{f"{prefix}search_text__contains": term}) if term else Q()
