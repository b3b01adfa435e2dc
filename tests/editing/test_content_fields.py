"""Fields added through the declarations alone: the enterprise's ИНН and ОГРН with
their check digits, and the SEO title and description of news. Each works end to
end: create, update, revisions, restore and the seed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cms.models import Enterprise, News, Revision
from cms.models.identifiers import inn_problem, ogrn_problem
from cms.services.seeding import load_seed, read_fixture
from tests.conftest import GraphQLClient, TestDatabase
from tests.editing.helpers import ERRORS, create_news, mutate, sign_in

ENTERPRISE_FIELDS = "id name inn ogrn revision"
CREATE_ENTERPRISE = f"""
mutation($input: EnterpriseInput!) {{
  createEnterprise(input: $input) {{ enterprise {{ {ENTERPRISE_FIELDS} }} {ERRORS} }}
}}
"""
UPDATE_ENTERPRISE = f"""
mutation($id: ID!, $input: EnterpriseInput!) {{
  updateEnterprise(id: $id, input: $input) {{ enterprise {{ {ENTERPRISE_FIELDS} }} {ERRORS} }}
}}
"""
UPDATE_NEWS_SEO = f"""
mutation($id: ID!, $input: NewsInput!) {{
  updateNews(id: $id, input: $input) {{ news {{ seoTitle seoDescription revision }} {ERRORS} }}
}}
"""
RESTORE_REVISION = """
mutation($id: ID!, $n: Int!) { restoreRevision(id: $id, revision: $n) {
  node { ... on Enterprise { inn ogrn } ... on News { seoTitle seoDescription } }
  errors { code } } }
"""


@pytest.mark.parametrize(
    "value", ["7707083893", "7830002293", "500100732259"], ids=["inn10", "inn10b", "inn12"]
)
def test_valid_inn(value: str) -> None:
    assert inn_problem(value) is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("7707083894", "Поле «ИНН»: неверная контрольная цифра."),
        ("500100732258", "Поле «ИНН»: неверная контрольная цифра."),
        ("77070838", "Поле «ИНН» должно состоять из 10 цифр (организация) или 12 цифр (ИП)."),
        ("77070838９３", "Поле «ИНН» должно состоять из 10 цифр (организация) или 12 цифр (ИП)."),
    ],
)
def test_invalid_inn(value: str, message: str) -> None:
    assert inn_problem(value) == message


@pytest.mark.parametrize("value", ["1027700132195", "1037739010891", "304500116000157"])
def test_valid_ogrn(value: str) -> None:
    assert ogrn_problem(value) is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1027700132194", "Поле «ОГРН»: неверная контрольная цифра."),
        ("304500116000158", "Поле «ОГРН»: неверная контрольная цифра."),
        (
            "10277001321",
            "Поле «ОГРН» должно состоять из 13 цифр (организация) или 15 цифр (ОГРНИП).",
        ),
    ],
)
def test_invalid_ogrn(value: str, message: str) -> None:
    assert ogrn_problem(value) == message


async def test_enterprise_inn_and_ogrn_end_to_end(
    writer_client: GraphQLClient, db: TestDatabase
) -> None:
    await sign_in(writer_client, "editor")
    bad = await mutate(
        writer_client,
        CREATE_ENTERPRISE,
        {"input": {"name": "Завод", "inn": "7707083894", "ogrn": "12345"}},
    )
    assert bad["enterprise"] is None
    assert [(error["field"], error["code"]) for error in bad["errors"]] == [
        (["input", "inn"], "INVALID"),
        (["input", "ogrn"], "INVALID"),
    ]
    assert "«ИНН»" in bad["errors"][0]["message"]
    assert "«ОГРН»" in bad["errors"][1]["message"]
    assert not await Enterprise.filter(name="Завод").exists()

    created = await mutate(
        writer_client,
        CREATE_ENTERPRISE,
        {"input": {"name": "Завод", "inn": " 7707083893 ", "ogrn": "1027700132195"}},
    )
    assert created["errors"] == []
    enterprise = created["enterprise"]
    assert (enterprise["inn"], enterprise["ogrn"], enterprise["revision"]) == (
        "7707083893",
        "1027700132195",
        1,
    )
    updated = await mutate(
        writer_client,
        UPDATE_ENTERPRISE,
        {"id": enterprise["id"], "input": {"inn": "500100732259", "clear": ["ogrn"]}},
    )
    assert updated["errors"] == []
    assert (updated["enterprise"]["inn"], updated["enterprise"]["ogrn"]) == ("500100732259", None)
    row = await Enterprise.get(name="Завод")
    changed = await Revision.get(content_type="Enterprise", object_id=row.pk, number=2)
    assert changed.changed_fields == ["inn", "ogrn"]
    restored = await mutate(writer_client, RESTORE_REVISION, {"id": enterprise["id"], "n": 1})
    assert restored == {"node": {"inn": "7707083893", "ogrn": "1027700132195"}, "errors": []}


async def test_news_seo_fields_end_to_end(writer_client: GraphQLClient, db: TestDatabase) -> None:
    await sign_in(writer_client, "editor")
    news = await create_news(writer_client, seoTitle="Амур и Алтай", seoDescription="Кратко")
    too_long = await mutate(
        writer_client,
        UPDATE_NEWS_SEO,
        {"id": news["id"], "input": {"seoTitle": "з" * 71, "seoDescription": "о" * 161}},
    )
    assert [(error["field"], error["code"]) for error in too_long["errors"]] == [
        (["input", "seoTitle"], "TOO_LONG"),
        (["input", "seoDescription"], "TOO_LONG"),
    ]
    updated = await mutate(
        writer_client, UPDATE_NEWS_SEO, {"id": news["id"], "input": {"seoTitle": "Новое"}}
    )
    assert updated == {
        "news": {"seoTitle": "Новое", "seoDescription": "Кратко", "revision": 2},
        "errors": [],
    }
    restored = await mutate(writer_client, RESTORE_REVISION, {"id": news["id"], "n": 1})
    assert restored["node"] == {"seoTitle": "Амур и Алтай", "seoDescription": "Кратко"}


async def test_the_seed_reads_the_new_fields(db: TestDatabase, tmp_path: Path) -> None:
    data = read_fixture()
    data["enterprises"][0]["inn"] = "7707083893"
    data["enterprises"][0]["ogrn"] = "1027700132195"
    data["news"][0]["seo_title"] = "Амур и Алтай: план до 2025 года"
    fixture = tmp_path / "seed.json"
    fixture.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    report = await load_seed(fixture)
    assert report.updated == {"Enterprise": 1, "News": 1}
    enterprise = await Enterprise.get(slug=data["enterprises"][0]["slug"])
    assert (enterprise.inn, enterprise.ogrn) == ("7707083893", "1027700132195")
    news = await News.get(slug=data["news"][0]["slug"])
    assert news.seo_title == "Амур и Алтай: план до 2025 года"
    revision = await Revision.get(content_type="News", object_id=news.pk, number=news.revision)
    assert revision.changed_fields == ["seoTitle"]
    assert not (await load_seed(fixture)).changed


async def test_the_seed_refuses_a_wrong_check_digit(db: TestDatabase, tmp_path: Path) -> None:
    from cms.services.seeding import SeedError

    data = read_fixture()
    data["enterprises"][0]["inn"] = "7707083894"
    fixture = tmp_path / "seed.json"
    fixture.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(SeedError, match="«ИНН»: неверная контрольная цифра"):
        await load_seed(fixture)


async def test_parts_are_checked_from_their_declaration(
    writer_client: GraphQLClient, db: TestDatabase
) -> None:
    await sign_in(writer_client, "editor")
    plans = await writer_client.data("{ actionPlans { edges { node { id items { id } } } } }")
    first, second = (edge["node"] for edge in plans["actionPlans"]["edges"])
    foreign = second["items"][0]["id"]
    payload = await mutate(
        writer_client,
        "mutation($id: ID!, $input: ActionPlanInput!) { updateActionPlan(id: $id, input: $input)"
        " { actionPlan { id } errors { field code message } } }",
        {
            "id": first["id"],
            "input": {
                "items": [
                    {"id": foreign, "title": "Чужой пункт"},
                    {"title": " ", "event": "RXZlbnQ6OTk5"},
                ]
            },
        },
    )
    assert payload["actionPlan"] is None
    assert [(error["field"], error["code"]) for error in payload["errors"]] == [
        (["input", "items", "0", "id"], "NOT_FOUND"),
        (["input", "items", "1", "title"], "REQUIRED"),
        (["input", "items", "1", "event"], "NOT_FOUND"),
    ]
    assert payload["errors"][2]["message"] == "Событие не найден(а)."
    news = await create_news(writer_client)
    quotes = await mutate(
        writer_client,
        "mutation($id: ID!, $input: NewsInput!) { updateNews(id: $id, input: $input)"
        " { news { id } errors { field code } } }",
        {"id": news["id"], "input": {"quotes": [{"personId": "UGVyc29uOjk5OQ==", "text": "т"}]}},
    )
    assert quotes["errors"] == [
        {"field": ["input", "quotes", "0", "personId"], "code": "NOT_FOUND"}
    ]
