"""Drafts, scheduled and archived content never reach anonymous callers, on any path."""

import json

from cms.models import ActionPlan, ActionPlanItem, Agreement, News
from graphql_schema.relay import global_id
from tests.conftest import GraphQLClient, TestDatabase, client_with
from tests.seed_content import (
    AGREEMENT_SLUG,
    DRAFT_AGREEMENT_SLUG,
    HIDDEN_NEWS_SLUGS,
    NEWS_SLUG,
    PLAN_OF_DRAFT_AGREEMENT_SLUG,
    PLAN_SLUG,
)

EVERY_NEWS_PATH = """
{
  news(first: 100) { totalCount edges { node { slug } } }
  byTag: news(filter: {tag: "sotrudnichestvo"}) { totalCount edges { node { slug } } }
  byTags: news(filter: {tags: ["sotrudnichestvo", "amurekpoforum2023"]}) {
    totalCount edges { node { slug } } }
  byRegion: news(filter: {region: "RU-AMU"}) { totalCount edges { node { slug } } }
  bySearch: news(filter: {search: "Амурская"}) { totalCount edges { node { slug } } }
  byDate: news(filter: {publishedAfter: "2000-01-01T00:00:00Z"}) { totalCount }
  backwards: news(last: 100) { totalCount edges { node { slug } } }
  byTitle: news(orderBy: TITLE_ASC) { edges { node { slug } } }
  byUpdate: news(orderBy: UPDATED_AT_DESC) { edges { node { slug } } }
  tags(first: 100) { edges { node { slug newsCount news(first: 20) { totalCount
    edges { node { slug } } } } } }
  agreements(first: 100) { totalCount edges { node { slug news(first: 20) {
    totalCount edges { node { slug } } } actionPlans { slug visits { news(first: 20) {
    totalCount edges { node { slug } } } } } } } }
  enterprises(first: 100) { edges { node { visits { news(first: 20) { totalCount
    edges { node { slug } } } } } } }
}
"""


async def test_no_hidden_news_on_any_list_path(seeded_db: TestDatabase) -> None:
    # Every path at once costs far more than any page may (about 700,000).
    async with client_with(seeded_db, CMS_MAX_COST="1000000") as client:
        data = await client.data(EVERY_NEWS_PATH)
    text = json.dumps(data, ensure_ascii=False)
    for slug in HIDDEN_NEWS_SLUGS:
        assert slug not in text
    assert NEWS_SLUG in text
    # Every count, list and nested list holds the one published item and no more.
    for name in ("news", "byTag", "byTags", "byRegion", "bySearch", "byDate", "backwards"):
        assert data[name]["totalCount"] == 1, name
    for edge in data["tags"]["edges"]:
        tag = edge["node"]
        assert tag["newsCount"] == tag["news"]["totalCount"] == len(tag["news"]["edges"]) <= 1


async def test_no_hidden_news_by_slug_id_or_node(
    client: GraphQLClient, seeded_db: TestDatabase
) -> None:
    hidden = await News.filter(slug__in=HIDDEN_NEWS_SLUGS)
    assert len(hidden) == len(HIDDEN_NEWS_SLUGS)
    for news in hidden:
        news_id = global_id("News", news.pk)
        data = await client.data(
            "query($slug: String, $id: ID!) { bySlug: newsItem(slug: $slug) { slug }"
            " byId: newsItem(id: $id) { slug } node(id: $id) { id } }",
            {"slug": news.slug, "id": news_id},
        )
        assert data == {"bySlug": None, "byId": None, "node": None}, news.slug


async def test_staff_only_status_filter_is_refused_to_anonymous(client: GraphQLClient) -> None:
    for status in ("DRAFT", "SCHEDULED", "ARCHIVED"):
        errors = await client.errors(f"{{ news(filter: {{status: {status}}}) {{ totalCount }} }}")
        assert errors[0]["extensions"]["code"] == "UNAUTHENTICATED"
    data = await client.data("{ news(filter: {status: PUBLISHED}) { totalCount } }")
    assert data["news"]["totalCount"] == 1


async def test_draft_agreement_and_its_plan_are_hidden_everywhere(
    client: GraphQLClient, seeded_db: TestDatabase
) -> None:
    draft = await Agreement.get(slug=DRAFT_AGREEMENT_SLUG)
    plan = await ActionPlan.get(slug=PLAN_OF_DRAFT_AGREEMENT_SLUG)
    item = await ActionPlanItem.filter(action_plan_id=plan.pk).first()
    assert item is not None
    # The plan itself is PUBLISHED: it is hidden because its agreement is a draft.
    assert plan.status == "published"
    data = await client.data(
        """
        query($agreement: ID!, $plan: ID!, $item: ID!, $slug: String, $planSlug: String) {
          agreements(first: 100) { totalCount edges { node { slug } } }
          actionPlans(first: 100) { totalCount edges { node { slug } } }
          ofDraft: actionPlans(agreement: $agreement) { totalCount }
          a1: agreement(slug: $slug) { id }
          a2: agreement(id: $agreement) { id }
          p1: actionPlan(slug: $planSlug) { id }
          p2: actionPlan(id: $plan) { id }
          n1: node(id: $agreement) { id }
          n2: node(id: $plan) { id }
          n3: node(id: $item) { id }
        }
        """,
        {
            "agreement": global_id("Agreement", draft.pk),
            "plan": global_id("ActionPlan", plan.pk),
            "item": global_id("ActionPlanItem", item.pk),
            "slug": DRAFT_AGREEMENT_SLUG,
            "planSlug": PLAN_OF_DRAFT_AGREEMENT_SLUG,
        },
    )
    assert [edge["node"]["slug"] for edge in data["agreements"]["edges"]] == [AGREEMENT_SLUG]
    assert data["agreements"]["totalCount"] == 1
    assert [edge["node"]["slug"] for edge in data["actionPlans"]["edges"]] == [PLAN_SLUG]
    assert data["actionPlans"]["totalCount"] == 1
    assert data["ofDraft"]["totalCount"] == 0
    for name in ("a1", "a2", "p1", "p2", "n1", "n2", "n3"):
        assert data[name] is None, name


async def test_scheduled_news_is_stored_and_only_waits_for_its_time(
    seeded_db: TestDatabase,
) -> None:
    # The guard of the tests above: the hidden items really exist in the database.
    statuses = {news.slug: news.status for news in await News.filter(slug__in=HIDDEN_NEWS_SLUGS)}
    assert sorted(statuses.values()) == ["archived", "draft", "published"]
