"""The `search` of list filters.

Content types searched by the full-text engine (cms/services/fulltext.py, Russian
word forms, phrases, exclusions, prefixes) are filtered by it when the caller names
the model; anything else (feedback messages, by ticket and text) by a plain
substring of the item's folded `search_text`.
"""

from __future__ import annotations

from tortoise.expressions import Q
from tortoise.models import Model

from cms.errors import InvalidArgumentError
from cms.models.base import fold_for_search
from cms.services import fulltext

MAX_SEARCH_LENGTH = fulltext.MAX_QUERY_LENGTH


def search_q(
    search: str,
    argument: str = "filter.search",
    *,
    prefix: str = "",
    model: type[Model] | None = None,
) -> Q:
    if model is not None and not prefix and model in fulltext.SEARCH_MODELS.values():
        return fulltext.matching_q(model, search, argument)
    term = fold_for_search(" ".join(search.split()))
    if len(term) > MAX_SEARCH_LENGTH:
        raise InvalidArgumentError(argument, f"Строка поиска длиннее {MAX_SEARCH_LENGTH} символов.")
    return Q(**{f"{prefix}search_text__contains": term}) if term else Q()
