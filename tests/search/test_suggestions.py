"""Typo tolerance: "Возможно, вы искали …" when nothing matches, on the backend under
test, from the lexicon of the content's words (pg_trgm on PostgreSQL, an FTS5 trigram
table on SQLite). Allowed differences between the databases: none for this corpus
(candidates come from different trigram indexes, but both are chosen by the same
similarity threshold and edit distance in Python)."""

from __future__ import annotations

import pytest

from cms import db as cms_db
from cms.models import Enterprise, FeedbackMessage, News, Role
from cms.services import fulltext
from cms.services.viewer import Viewer
from tests.conftest import GraphQLClient, TestDatabase
from tests.search import corpus

ANONYMOUS = Viewer()
EDITOR = Viewer(user_id=1, role=Role.EDITOR)


@pytest.mark.parametrize(
    ("query", "suggestion"),
    [
        ("космадром", "космодром"),
        ("Сатрудничество", "сотрудничество"),
        ("предпреятия алтайского", "предприятия алтайского"),
        ('"саглашение о сотрудничестве"', '"соглашение о сотрудничестве"'),
        ("благовещенкс", "благовещенск"),
        ("сыроварян -ракеты", "сыроварня -ракеты"),
    ],
)
async def test_a_misspelt_query_gets_a_suggestion(
    empty_db: TestDatabase, query: str, suggestion: str
) -> None:
    await corpus.build()
    page = await fulltext.search(ANONYMOUS, query)
    assert page.hits == []
    assert page.suggestion == suggestion
    corrected = await fulltext.search(ANONYMOUS, suggestion)
    assert corrected.hits


@pytest.mark.parametrize("query", ["космодром", "абракадабра", "кс", "12345", "и"])
async def test_no_suggestion_when_found_or_nothing_near(empty_db: TestDatabase, query: str) -> None:
    await corpus.build()
    page = await fulltext.search(ANONYMOUS, query)
    assert page.suggestion is None


async def test_words_of_hidden_items_are_never_suggested_to_who_cannot_see_them(
    empty_db: TestDatabase,
) -> None:
    await corpus.build()
    # «тайное», «совещание» are in the draft, scheduled, trashed and archived news only.
    for query in ("тайнае", "совешание", "космодром тайнае"):
        assert (await fulltext.search(ANONYMOUS, query)).suggestion is None, query
    # Staff see drafts: the same typo is corrected for them.
    assert (await fulltext.search(EDITOR, "тайнае")).suggestion == "тайное"
    assert (await fulltext.search(EDITOR, "совешание")).suggestion == "совещание"
    # The trash is searched by nobody: «письмо» is only there.
    assert (await fulltext.search(EDITOR, "писмо")).suggestion is None


async def test_the_lexicon_follows_writes_and_holds_no_feedback(empty_db: TestDatabase) -> None:
    await News.create(
        slug="n", title="Планетарий открылся", status=corpus.PUBLISHED, published_at=corpus.now()
    )
    await Enterprise.create(slug="e", name="Маслозавод")
    await News.filter(slug="n").update(title="Обсерватория открылась")
    assert (await fulltext.search(ANONYMOUS, "обсирватория")).suggestion == "обсерватория"
    assert (await fulltext.search(ANONYMOUS, "маслозовод")).suggestion == "маслозавод"
    # A sender's words are personal data: never in the lexicon, never suggested.
    await FeedbackMessage.create(ticket="Q-1", name="Квазимодо Звонарёв", message="Колокольня")
    connection = cms_db.get_connection("default")
    _, rows = await connection.execute_query(
        "SELECT count(*) AS n FROM search_lexicon WHERE word IN ('квазимодо', 'колокольня')"
    )
    assert rows[0]["n"] == 0
    assert (await fulltext.search(EDITOR, "квазимода")).suggestion is None


SUGGEST = "query ($q: String!) { search(query: $q) { totalCount suggestion edges { cursor } } }"


async def test_the_api_offers_the_suggestion(client: GraphQLClient) -> None:
    missed = (await client.data(SUGGEST, {"q": "космадром"}))["search"]
    assert missed == {"totalCount": 0, "suggestion": "космодром", "edges": []}
    found = (await client.data(SUGGEST, {"q": "космодром"}))["search"]
    assert found["totalCount"] > 0
    assert found["suggestion"] is None
    # The seed's draft says «черновик»; an anonymous caller is not told so.
    assert (await client.data(SUGGEST, {"q": "черновек"}))["search"]["suggestion"] is None


async def test_a_suggestion_costs_a_few_statements(client: GraphQLClient) -> None:
    with cms_db.count_statements() as statements:
        await client.data(SUGGEST, {"q": "космадром васточный"})
    # The empty page, the known words, candidates per unknown word, one check.
    assert len(statements) <= 1 + 1 + 2 + fulltext.MAX_SUGGESTION_TRIES, statements
