"""Search over generated news (cms/services/demo.py, written by bulk inserts) finds
exactly what a plain Python reading of the same rules finds: every visible news whose
title, lead or body holds a form of every word asked for."""

from __future__ import annotations

import random

from cms.models import News
from cms.services import fulltext
from cms.services.demo import generate_demo
from cms.services.viewer import Viewer
from cms.services.visibility import visible
from tests.conftest import TestDatabase


def _oracle(news: list[News], query: str) -> set[int]:
    parsed = fulltext.parse_query(query)
    found = set()
    for item in news:
        text = " ".join(getattr(item, name) or "" for name in fulltext.search_fields(News))
        tokens = set(fulltext.index_text(text).split())
        if all(_matches(term, tokens) for term in parsed.wanted):
            found.add(item.pk)
    return found


def _matches(term: fulltext.Term, tokens: set[str]) -> bool:
    if {*term.stems, *term.alternatives} & tokens:
        return True
    prefix = term.prefix
    return prefix is not None and any(token.startswith(prefix) for token in tokens)


async def test_generated_news_match_the_oracle(empty_db: TestDatabase) -> None:
    await generate_demo(120, seed=7)
    news = await visible(News, Viewer())
    vocabulary = sorted(
        {word for item in news for word in fulltext.words(item.title)} - fulltext.STOP_WORDS
    )
    rng = random.Random(3)
    queries = rng.sample(vocabulary, 12)
    # Two words at once, and a word with a quote and punctuation around it.
    queries += [f"{a} {b}" for a, b in zip(queries[:4], queries[4:8], strict=True)]
    queries += [f"«{queries[0]}»!", f"'{queries[1]}", queries[2][:4]]
    for query in queries:
        expected = _oracle(news, query)
        page = await fulltext.search(Viewer(), query, kinds=["News"], limit=100)
        assert {hit.item.pk for hit in page.hits} == expected, query
        assert await page.total_count() == len(expected), query
