"""Deleting moves items to the trash: hidden from every read path, back whole on restore."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from cms.models import Enterprise, News, Person, Revision, Tag
from cms.services.trash import purge_trash
from cms.services.visibility import now
from graphql_schema.relay import global_id
from tests.conftest import GraphQLClient, TestDatabase
from tests.editing.helpers import DELETE_NEWS, RESTORE, act_as, mutate
from tests.seed_content import AGREEMENT_SLUG, NEWS_SLUG, PLAN_SLUG

NEWS_PATHS = """
query($slug: String, $id: ID!, $agreement: String, $plan: String) {
  news(first: 100) { totalCount edges { node { slug } } }
  bySlug: newsItem(slug: $slug) { slug }
  byId: newsItem(id: $id) { slug }
  node(id: $id) { id }
  tag(slug: "sotrudnichestvo") { newsCount news { totalCount edges { node { slug } } } }
  agreement(slug: $agreement) { news { totalCount } }
  actionPlan(slug: $plan) { visits { news { totalCount } } }
  searched: news(filter: {search: "Алтайский"}) { totalCount }
}
"""


def _news_counts(data: dict[str, Any]) -> tuple[int, ...]:
    return (
        data["news"]["totalCount"],
        data["tag"]["newsCount"],
        data["tag"]["news"]["totalCount"],
        data["agreement"]["news"]["totalCount"],
        data["actionPlan"]["visits"][0]["news"]["totalCount"],
        data["searched"]["totalCount"],
    )


async def test_deleted_news_disappears_everywhere_and_comes_back_whole(
    writer_client: GraphQLClient, db: TestDatabase
) -> None:
    news = await News.get(slug=NEWS_SLUG)
    news_id = global_id("News", news.pk)
    variables = {"slug": NEWS_SLUG, "id": news_id, "agreement": AGREEMENT_SLUG, "plan": PLAN_SLUG}
    before = await writer_client.data(NEWS_PATHS, variables)
    assert _news_counts(before) == (1, 1, 1, 1, 1, 1)
    await act_as(writer_client, "editor")
    deleted = await mutate(writer_client, DELETE_NEWS, {"id": news_id})
    assert deleted == {"deletedId": news_id, "errors": []}
    for caller in ("anonymous", "editor"):
        await act_as(writer_client, caller)
        gone = await writer_client.data(NEWS_PATHS, variables)
        if caller == "anonymous":
            # The tag's only news is gone: a tag no public news uses is not public.
            assert gone["tag"] is None
            gone["tag"] = {"newsCount": 0, "news": {"totalCount": 0}}
        assert _news_counts(gone) == (0, 0, 0, 0, 0, 0), caller
        assert (gone["bySlug"], gone["byId"], gone["node"]) == (None, None, None), caller
        assert NEWS_SLUG not in str(gone)
    # Deleting again: it is not there any more.
    await act_as(writer_client, "editor")
    again = await mutate(writer_client, DELETE_NEWS, {"id": news_id})
    assert again["errors"][0]["code"] == "NOT_FOUND"

    await act_as(writer_client, "admin")
    trash = await writer_client.data(
        "{ trash { totalCount edges { node { contentType title deletedAt "
        "deletedBy { role } node { ... on News { slug title tags { slug } } } } } } }"
    )
    assert trash["trash"]["totalCount"] == 1
    (entry,) = [edge["node"] for edge in trash["trash"]["edges"]]
    assert entry["contentType"] == "News"
    assert entry["title"] == news.title
    assert entry["deletedBy"] == {"role": "EDITOR"}
    assert entry["node"]["slug"] == NEWS_SLUG
    assert {"slug": "sotrudnichestvo"} in entry["node"]["tags"]
    restored = await mutate(writer_client, RESTORE, {"id": news_id})
    assert restored == {"node": {"id": news_id}, "errors": []}
    await act_as(writer_client, "anonymous")
    after = await writer_client.data(NEWS_PATHS, variables)
    assert after == before
    history = await Revision.filter(content_type="News", object_id=news.pk).order_by("number")
    # Revision 1 is the seed's: seeding writes through the editing service.
    assert [(row.number, row.changed_fields) for row in history[1:]] == [
        (2, ["deletedAt"]),
        (3, ["deletedAt"]),
    ]
    assert history[0].number == 1
    assert {"title", "body", "tags", "quotes"} <= set(history[0].changed_fields)


ENTERPRISE_PATHS = """
query($slug: String, $id: ID!, $plan: String) {
  enterprises(first: 100) { totalCount }
  bySlug: enterprise(slug: $slug) { name }
  node(id: $id) { id }
  actionPlan(slug: $plan) { visitedEnterprises { slug } visits { enterprises { slug } } }
  regions { code enterprises { totalCount } }
}
"""


async def test_deleted_enterprise_leaves_visits_and_returns_in_its_place(
    writer_client: GraphQLClient, db: TestDatabase
) -> None:
    enterprise = await Enterprise.get(slug="kosmodrom-vostochnyy")
    enterprise_id = global_id("Enterprise", enterprise.pk)
    variables = {"slug": enterprise.slug, "id": enterprise_id, "plan": PLAN_SLUG}
    before = await writer_client.data(ENTERPRISE_PATHS, variables)
    await act_as(writer_client, "editor")
    deleted = await mutate(
        writer_client,
        "mutation($id: ID!) { deleteEnterprise(id: $id) { deletedId errors { code } } }",
        {"id": enterprise_id},
    )
    assert deleted["errors"] == []
    await act_as(writer_client, "anonymous")
    gone = await writer_client.data(ENTERPRISE_PATHS, variables)
    assert gone["enterprises"]["totalCount"] == before["enterprises"]["totalCount"] - 1
    assert (gone["bySlug"], gone["node"]) == (None, None)
    assert enterprise.slug not in str(gone["actionPlan"])
    visited = [item["slug"] for item in before["actionPlan"]["visitedEnterprises"]]
    assert [item["slug"] for item in gone["actionPlan"]["visitedEnterprises"]] == [
        slug for slug in visited if slug != enterprise.slug
    ]
    await act_as(writer_client, "admin")
    await mutate(writer_client, RESTORE, {"id": enterprise_id})
    await act_as(writer_client, "anonymous")
    assert await writer_client.data(ENTERPRISE_PATHS, variables) == before


QUOTES = "query($slug: String) { newsItem(slug: $slug) { quotes { person { fullName } } } }"


async def test_deleting_a_person_hides_their_quotes_until_restored(
    writer_client: GraphQLClient, db: TestDatabase
) -> None:
    person = await Person.get(full_name="Павел Пузанов")
    before = await writer_client.data(QUOTES, {"slug": NEWS_SLUG})
    assert {"person": {"fullName": "Павел Пузанов"}} in before["newsItem"]["quotes"]
    await act_as(writer_client, "editor")
    await mutate(
        writer_client,
        "mutation($id: ID!) { deletePerson(id: $id) { errors { code } } }",
        {"id": global_id("Person", person.pk)},
    )
    hidden = await writer_client.data(QUOTES, {"slug": NEWS_SLUG})
    assert "Пузанов" not in str(hidden)
    await act_as(writer_client, "admin")
    await mutate(writer_client, RESTORE, {"id": global_id("Person", person.pk)})
    assert await writer_client.data(QUOTES, {"slug": NEWS_SLUG}) == before


async def test_deleting_an_agreement_hides_its_plans(
    writer_client: GraphQLClient, db: TestDatabase
) -> None:
    query = "query($p: String) { actionPlan(slug: $p) { slug } actionPlans { totalCount } }"
    before = await writer_client.data(query, {"p": PLAN_SLUG})
    assert before["actionPlan"] == {"slug": PLAN_SLUG}
    await act_as(writer_client, "editor")
    agreement = await writer_client.data(
        "query($a: String) { agreement(slug: $a) { id } }", {"a": AGREEMENT_SLUG}
    )
    await mutate(
        writer_client,
        "mutation($id: ID!) { deleteAgreement(id: $id) { errors { code } } }",
        {"id": agreement["agreement"]["id"]},
    )
    await act_as(writer_client, "anonymous")
    after = await writer_client.data(query, {"p": PLAN_SLUG})
    assert after["actionPlan"] is None
    assert after["actionPlans"]["totalCount"] == before["actionPlans"]["totalCount"] - 1


async def test_purge_removes_only_what_is_old_enough(
    writer_client: GraphQLClient, db: TestDatabase
) -> None:
    await act_as(writer_client, "editor")
    old_tag = await Tag.get(slug="amurekpoforum2023")
    person = await Person.get(full_name="Павел Пузанов")
    for type_name, pk in (("Tag", old_tag.pk), ("Person", person.pk)):
        field = "deleteTag" if type_name == "Tag" else "deletePerson"
        await mutate(
            writer_client,
            f"mutation($id: ID!) {{ {field}(id: $id) {{ errors {{ code }} }} }}",
            {"id": global_id(type_name, pk)},
        )
    await Person.filter(id=person.pk).update(deleted_at=now() - timedelta(days=40))
    removed = await purge_trash(now() - timedelta(days=30))
    assert removed == {"Person": 1}
    assert not await Person.exists(id=person.pk)
    assert await Tag.exists(id=old_tag.pk)
    assert not await Revision.exists(content_type="Person", object_id=person.pk)
    # The news lost the quote for good; everything else of it is intact.
    await act_as(writer_client, "anonymous")
    data = await writer_client.data(QUOTES, {"slug": NEWS_SLUG})
    assert "Пузанов" not in str(data)
    assert data["newsItem"]["quotes"]
