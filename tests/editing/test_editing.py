"""Editing content: validation, slugs and their history, tags, revisions, every type."""

from __future__ import annotations

from typing import Any

from cms.db import count_statements
from cms.models import Event, News, Person, Revision, Tag
from graphql_schema.relay import global_id, parse_global_id
from tests.conftest import GraphQLClient, TestDatabase, use_api_token
from tests.editing.helpers import CREATE_NEWS, UPDATE_NEWS, create_news, mutate, sign_in
from tests.seed_content import NEWS_SLUG

# Whatever the number of tags, regions and quotes. createNews: the session; slug (2);
# events, regions, people; tags by slug (+ old slugs, + trashed check for new names);
# new tags (insert, read back, revisions); the news; tags, regions, events, quotes
# (one insert each); the revision; the webhook event (outbox); the audit entry; the
# answer's five relations.
CREATE_NEWS_STATEMENTS = 25
# updateNews: the session; the item; the people; tags by slug (+ old slugs, + trashed);
# its links (5); new tags (3); the compare-and-set; tags, regions, quotes (delete +
# insert; no insert for an empty list); the revision; the webhook event (outbox); the
# audit entry; the answer's five relations.
UPDATE_NEWS_STATEMENTS = 28


async def _statements(client: GraphQLClient, document: str, variables: dict[str, Any]) -> int:
    with count_statements() as statements:
        payload = await mutate(client, document, variables)
    assert payload["errors"] == [], payload["errors"]
    return len(statements)


async def test_statement_counts_do_not_grow_with_tags(
    writer_client: GraphQLClient, db: TestDatabase
) -> None:
    await sign_in(writer_client, "editor")
    await writer_client.data("{ me { email } }")  # the session's first use is recorded once
    person = await Person.get(full_name="Павел Пузанов")
    event = await Event.first()
    assert event is not None
    counts = []
    for size in (1, 6):
        news_input = {
            "title": f"Новость с {size} тегами",
            "body": "<p>Текст</p>",
            "tags": ["сотрудничество", *(f"Новый тег {size}-{i}" for i in range(size))],
            "regions": ["RU-AMU", "RU-ALT"][: min(size, 2)],
            "events": [global_id("Event", event.pk)],
            "quotes": [{"personId": global_id("Person", person.pk), "text": "Цитата"}] * size,
        }
        created = await _statements(writer_client, CREATE_NEWS, {"input": news_input})
        news = await News.get(title=news_input["title"])
        update_input = {
            "title": f"Изменённая новость {size}",
            "tags": [f"Ещё тег {size}-{i}" for i in range(size)],
            "regions": ["RU-ALT"],
            "quotes": [],
        }
        updated = await _statements(
            writer_client, UPDATE_NEWS, {"id": global_id("News", news.pk), "input": update_input}
        )
        counts.append((created, updated))
    assert counts == [(CREATE_NEWS_STATEMENTS, UPDATE_NEWS_STATEMENTS)] * 2


async def test_validation_collects_every_problem_and_writes_nothing(
    writer_client: GraphQLClient, db: TestDatabase
) -> None:
    await sign_in(writer_client, "editor")
    before = await News.all().count(), await Tag.all().count()
    payload = await mutate(
        writer_client,
        CREATE_NEWS,
        {
            "input": {
                "title": "  \u200b ",
                "lead": "л" * 2001,
                "tags": ["Совсем новый тег"],
                "regions": ["RU-XXX"],
                "cover": global_id("MediaAsset", 999),
                "agreements": ["not-an-id"],
                "quotes": [{"personId": global_id("Person", 999), "text": ""}],
                "clear": ["title"],
            }
        },
    )
    assert payload["news"] is None
    problems = {(tuple(error["field"]), error["code"]) for error in payload["errors"]}
    assert problems == {
        (("input", "clear"), "INVALID"),
        (("input", "title"), "REQUIRED"),
        (("input", "lead"), "TOO_LONG"),
        (("input", "regions", "0"), "NOT_FOUND"),
        (("input", "cover"), "NOT_FOUND"),
        (("input", "agreements", "0"), "NOT_FOUND"),
        (("input", "quotes", "0", "personId"), "NOT_FOUND"),
        (("input", "quotes", "0", "text"), "REQUIRED"),
    }
    assert all(error["message"] for error in payload["errors"])
    # Not even the new tag was created.
    assert (await News.all().count(), await Tag.all().count()) == before


async def test_impossible_values_are_refused(
    writer_client: GraphQLClient, db: TestDatabase
) -> None:
    await sign_in(writer_client, "editor")
    enterprise = await mutate(
        writer_client,
        "mutation($input: EnterpriseInput!) { createEnterprise(input: $input) "
        "{ enterprise { id } errors { field code } } }",
        {
            "input": {
                "name": "Завод",
                "location": {"lat": 95, "lon": -200},
                "website": "javascript:alert(1)",
                "region": "RU-NOPE",
            }
        },
    )
    assert {tuple(error["field"]) for error in enterprise["errors"]} == {
        ("input", "location", "lat"),
        ("input", "location", "lon"),
        ("input", "website"),
        ("input", "region"),
    }
    plan = await mutate(
        writer_client,
        "mutation($input: ActionPlanInput!) { createActionPlan(input: $input) "
        "{ actionPlan { id } errors { field code } } }",
        {"input": {"title": "План", "periodStart": "2025-01-01", "periodEnd": "2024-01-01"}},
    )
    assert {(tuple(error["field"]), error["code"]) for error in plan["errors"]} == {
        (("input", "agreement"), "REQUIRED"),
        (("input", "periodEnd"), "INVALID"),
    }
    event = await mutate(
        writer_client,
        'mutation { createEvent(input: {title: "Форум", startsOn: "2024-05-02", '
        'endsOn: "2024-05-01"}) { event { id } errors { field code } } }',
    )
    assert event["errors"] == [{"field": ["input", "endsOn"], "code": "INVALID"}]


async def test_slugs_are_unique_editable_and_old_ones_keep_resolving(
    writer_client: GraphQLClient, db: TestDatabase
) -> None:
    await sign_in(writer_client, "editor")
    first = await create_news(writer_client, title="Визит делегации")
    second = await create_news(writer_client, title="Визит делегации")
    assert (first["slug"], second["slug"]) == ("vizit-delegatsii", "vizit-delegatsii-2")
    conflict = await mutate(
        writer_client, UPDATE_NEWS, {"id": second["id"], "input": {"slug": "vizit-delegatsii"}}
    )
    assert conflict["errors"][0]["field"] == ["input", "slug"]
    assert conflict["errors"][0]["code"] == "CONFLICT"
    renamed = await mutate(
        writer_client, UPDATE_NEWS, {"id": first["id"], "input": {"slug": "Итоги визита"}}
    )
    assert renamed["news"]["slug"] == "itogi-vizita"
    lookup = "query($s: String) { newsItem(slug: $s) { id slug } }"
    for slug in ("vizit-delegatsii", "itogi-vizita"):
        found = await writer_client.data(lookup, {"s": slug})
        assert found["newsItem"] == {"id": first["id"], "slug": "itogi-vizita"}
    # The old slug stays with its item: a new item does not take it.
    third = await create_news(writer_client, title="Визит делегации")
    assert third["slug"] == "vizit-delegatsii-3"


async def test_merge_tags_moves_links_without_duplicates_and_keeps_old_slugs(
    writer_client: GraphQLClient, db: TestDatabase
) -> None:
    await sign_in(writer_client, "editor")
    both = await create_news(writer_client, title="Обе", tags=["сотрудничество", "Сотрудничесвто"])
    wrong = await create_news(writer_client, title="Опечатка", tags=["Сотрудничесвто", "Сотрудн"])
    merged = await mutate(
        writer_client,
        'mutation { mergeTags(input: {from: ["sotrudnichesvto", "sotrudn"], '
        'into: "sotrudnichestvo"}) { tag { slug newsCount } errors { code } } }',
    )
    assert merged["errors"] == []
    tags_of = "query($id: ID!) { newsItem(id: $id) { tags { slug } revision } }"
    for news in (both, wrong):
        data = await writer_client.data(tags_of, {"id": news["id"]})
        assert data["newsItem"]["tags"] == [{"slug": "sotrudnichestvo"}]
        assert data["newsItem"]["revision"] == 2
    for slug in ("sotrudnichesvto", "sotrudn"):
        found = await writer_client.data(
            "query($s: String!) { tag(slug: $s) { slug } bySlug: news(filter: {tag: $s}, "
            "first: 100) { totalCount } }",
            {"s": slug},
        )
        assert found["tag"] == {"slug": "sotrudnichestvo"}
        assert found["bySlug"]["totalCount"] == 1  # the one published seed news
    # A misspelt name typed again lands on the right tag.
    again = await create_news(writer_client, title="Снова", tags=["Сотрудничесвто"])
    assert again["tags"] == [{"name": "сотрудничество", "slug": "sotrudnichestvo"}]


async def test_revisions_are_listed_and_restored_with_links(
    writer_client: GraphQLClient, db: TestDatabase
) -> None:
    editor = await sign_in(writer_client, "editor")
    news = await create_news(writer_client, title="Первая", tags=["один"], regions=["RU-AMU"])
    await mutate(
        writer_client,
        UPDATE_NEWS,
        {"id": news["id"], "input": {"title": "Вторая", "tags": ["два"], "regions": []}},
    )
    history = await writer_client.data(
        "query($id: ID!) { revisions(id: $id) { totalCount edges { node { number changedFields "
        "author { email } snapshot } } } }",
        {"id": news["id"]},
    )
    nodes = [edge["node"] for edge in history["revisions"]["edges"]]
    assert [node["number"] for node in nodes] == [2, 1]
    assert nodes[0]["changedFields"] == ["title", "tags", "regions"]
    assert nodes[0]["author"] == {"email": editor.email}
    assert nodes[1]["snapshot"]["fields"]["title"] == "Первая"
    restored = await mutate(
        writer_client,
        "mutation($id: ID!) { restoreRevision(id: $id, revision: 1) { node { ... on News { "
        "title revision tags { name } regions { code } } } errors { code } } }",
        {"id": news["id"]},
    )
    assert restored == {
        "node": {
            "title": "Первая",
            "revision": 3,
            "tags": [{"name": "один"}],
            "regions": [{"code": "RU-AMU"}],
        },
        "errors": [],
    }
    missing = await mutate(
        writer_client,
        "mutation($id: ID!) { restoreRevision(id: $id, revision: 9) { errors { field code } } }",
        {"id": news["id"]},
    )
    assert missing["errors"] == [{"field": ["revision"], "code": "NOT_FOUND"}]


async def test_seed_items_keep_their_first_state_as_a_revision(
    writer_client: GraphQLClient, db: TestDatabase
) -> None:
    await sign_in(writer_client, "editor")
    news = await News.get(slug=NEWS_SLUG)
    await mutate(
        writer_client, UPDATE_NEWS, {"id": global_id("News", news.pk), "input": {"tags": []}}
    )
    stored = await Revision.filter(content_type="News", object_id=news.pk).order_by("number")
    assert [row.number for row in stored] == [1, 2]
    assert stored[0].author_id is None  # type: ignore[attr-defined]
    assert len(stored[0].snapshot["links"]["tags"]) == 2


async def test_authors_and_write_tokens_edit_only_their_own_drafts(
    writer_client: GraphQLClient, db: TestDatabase
) -> None:
    await sign_in(writer_client, "author")
    own = await create_news(writer_client, title="Мой черновик")
    edited = await mutate(writer_client, UPDATE_NEWS, {"id": own["id"], "input": {"lead": "Л"}})
    assert edited["errors"] == []
    author_header = writer_client.headers["authorization"]
    await sign_in(writer_client, "editor")
    await mutate(
        writer_client,
        "mutation($id: ID!) { publishNews(id: $id) { errors { code } } }",
        {"id": own["id"]},
    )
    writer_client.headers["authorization"] = author_header
    refused = await mutate(writer_client, UPDATE_NEWS, {"id": own["id"], "input": {"lead": "X"}})
    assert refused["errors"][0]["code"] == "FORBIDDEN"
    draft = await create_news(writer_client, title="Удалю сам")
    removed = await mutate(
        writer_client,
        "mutation($id: ID!) { deleteNews(id: $id) { errors { code } } }",
        {"id": draft["id"]},
    )
    assert removed["errors"] == []
    await use_api_token(writer_client, "write")
    by_token = await create_news(writer_client, title="От интегратора", tags=["Импорт"])
    again = await mutate(writer_client, UPDATE_NEWS, {"id": by_token["id"], "input": {"lead": "Л"}})
    assert again["errors"] == []
    others = await mutate(writer_client, UPDATE_NEWS, {"id": own["id"], "input": {"lead": "Л"}})
    assert others["errors"][0]["code"] == "FORBIDDEN"
    first = await Revision.get(
        content_type="News", object_id=parse_global_id(by_token["id"])[1], number=1
    )
    assert first.author_token_id is not None  # type: ignore[attr-defined]
    assert first.author_id is None  # type: ignore[attr-defined]


async def test_cooperation_content_round_trip(
    writer_client: GraphQLClient, db: TestDatabase
) -> None:
    await sign_in(writer_client, "editor")
    plans = await writer_client.data("{ actionPlans { edges { node { id items { id title } } } } }")
    plan = plans["actionPlans"]["edges"][0]["node"]
    kept = plan["items"][0]
    updated = await mutate(
        writer_client,
        "mutation($id: ID!, $input: ActionPlanInput!) { updateActionPlan(id: $id, input: $input) "
        "{ actionPlan { items { id title itemStatus } } errors { field code } } }",
        {
            "id": plan["id"],
            "input": {
                "items": [
                    {"title": "Новый пункт", "itemStatus": "IN_PROGRESS"},
                    {"id": kept["id"], "title": kept["title"] + " (уточнено)"},
                ]
            },
        },
    )
    assert updated["errors"] == []
    items = updated["actionPlan"]["items"]
    assert [item["title"] for item in items] == ["Новый пункт", kept["title"] + " (уточнено)"]
    assert items[1]["id"] == kept["id"]
    assert items[0]["itemStatus"] == "IN_PROGRESS"

    enterprises = await writer_client.data("{ enterprises(first: 3) { edges { node { id } } } }")
    ids = [edge["node"]["id"] for edge in enterprises["enterprises"]["edges"]]
    visit = await mutate(
        writer_client,
        "mutation($input: VisitInput!) { createVisit(input: $input) { visit { id "
        "enterprises { id } delegationRegion { code } } errors { field code } } }",
        {
            "input": {
                "title": "Ответный визит",
                "delegationRegion": "RU-AMU",
                "hostRegion": "RU-ALT",
                "startsOn": "2024-06-01",
                "endsOn": "2024-06-03",
                "enterprises": [ids[2], ids[0], ids[1]],
            }
        },
    )
    assert visit["errors"] == []
    assert [item["id"] for item in visit["visit"]["enterprises"]] == [ids[2], ids[0], ids[1]]

    created = await mutate(
        writer_client,
        "mutation($input: EnterpriseInput!) { createEnterprise(input: $input) { enterprise { "
        "id slug industries location { lat lon } website region { code } } errors { code } } }",
        {
            "input": {
                "name": "Амурский кирпичный завод",
                "industries": ["строительство", "строительство", "керамика"],
                "location": {"lat": 50.29, "lon": 127.53},
                "website": "https://kirpich.example",
                "region": "RU-AMU",
            }
        },
    )
    enterprise = created["enterprise"]
    assert enterprise["slug"] == "amurskiy-kirpichnyy-zavod"
    assert enterprise["industries"] == ["строительство", "керамика"]
    assert enterprise["location"] == {"lat": 50.29, "lon": 127.53}
    cleared = await mutate(
        writer_client,
        'mutation($id: ID!) { updateEnterprise(id: $id, input: {clear: ["location", '
        '"website"], slug: "kirpich"}) { enterprise { slug location { lat } website '
        "industries } errors { code } } }",
        {"id": enterprise["id"]},
    )
    assert cleared["enterprise"] == {
        "slug": "kirpich",
        "location": None,
        "website": None,
        "industries": ["строительство", "керамика"],
    }
    old = await writer_client.data(
        'query { enterprise(slug: "amurskiy-kirpichnyy-zavod") { slug } }'
    )
    assert old["enterprise"] == {"slug": "kirpich"}
