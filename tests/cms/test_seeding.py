"""The seed content: complete, faithful to the article, and idempotent."""

from tortoise.connection import get_connection

from cms.models import (
    ActionPlan,
    Agreement,
    AgreementParty,
    News,
    NewsTag,
    Person,
    Quote,
    Revision,
    Tag,
    Visit,
    VisitEnterprise,
)
from cms.services.content_types import CONTENT_TYPES
from cms.services.demo import generate_demo
from cms.services.events import ContentChange, subscribe, unsubscribe
from cms.services.seeding import load_seed
from tests.conftest import TestDatabase
from tests.seed_content import AGREEMENT_SLUG, NEWS_SLUG, PLAN_SLUG, VISITED_ENTERPRISES

TABLES = (
    "news",
    "tag",
    "news_tag",
    "news_region",
    "news_event",
    "news_agreement",
    "quote",
    "region",
    "organization",
    "person",
    "cooperation_direction",
    "event",
    "agreement",
    "agreement_party",
    "action_plan",
    "action_plan_item",
    "action_plan_signatory",
    "action_plan_direction",
    "visit",
    "visit_enterprise",
    "enterprise",
    "enterprise_industry",
)


async def table_snapshot() -> dict[str, list[dict]]:
    connection = get_connection("default")
    return {
        table: await connection.execute_query_dict(f'SELECT * FROM "{table}" ORDER BY id')
        for table in TABLES
    }


async def test_seeding_twice_changes_nothing(db: TestDatabase) -> None:
    before = await table_snapshot()
    report = await load_seed()
    assert report.total_created == 0
    assert report.total_updated == 0
    assert await table_snapshot() == before


async def test_seed_into_an_empty_database(empty_db: TestDatabase) -> None:
    report = await load_seed()
    assert report.total_created > 100
    assert (await load_seed()).total_created == 0


async def test_the_article_as_data(seeded_db: TestDatabase) -> None:
    news = await News.get(slug=NEWS_SLUG)
    assert news.published_at is not None
    assert news.published_at.isoformat().startswith("2023-03-27")
    for fragment in (
        "В Амурской области с официальным визитом побывала делегация из Алтайского края",
        "Мы в большей степени развернуты на республики центральной Азии",
        "зону B2B-переговоров",
        "кондитерскую фабрику «Зея»",
    ):
        assert fragment in news.body_text
    assert "Поделиться новостью" not in news.body_text
    tags = await Tag.filter(news_links__news_id=news.pk).order_by("news_links__position")
    assert [tag.name for tag in tags] == ["сотрудничество", "АмурЭкпоФорум2023"]
    quotes = await Quote.filter(news_id=news.pk).order_by("position").prefetch_related("person")
    assert [quote.person.full_name for quote in quotes] == ["Павел Пузанов", "Виталий Снесарь"]
    for quote in quotes:
        assert quote.text in news.body_text
    snesar = await Person.get(full_name="Виталий Снесарь")
    assert snesar.position is not None
    assert "руководитель администрации" in snesar.position


async def test_the_agreement_plan_and_visit(seeded_db: TestDatabase) -> None:
    agreement = await Agreement.get(slug=AGREEMENT_SLUG)
    assert agreement.in_force_since is not None
    assert agreement.in_force_since.year == 2002
    parties = await AgreementParty.filter(agreement_id=agreement.pk).order_by("position")
    assert len(parties) == 2
    plan = await ActionPlan.get(slug=PLAN_SLUG)
    assert plan.agreement_id == agreement.pk
    assert plan.signed_at is not None
    assert "Точка кипения" in plan.signed_at
    visit = await Visit.get(action_plan_id=plan.pk)
    assert (visit.ends_on - visit.starts_on).days == 1
    stops = (
        await VisitEnterprise.filter(visit_id=visit.pk)
        .order_by("position")
        .prefetch_related("enterprise")
    )
    assert [stop.enterprise.name for stop in stops] == VISITED_ENTERPRISES
    for stop in stops:
        enterprise = stop.enterprise
        assert enterprise.locality
        assert enterprise.latitude is not None
        assert enterprise.longitude is not None
        assert 49 < enterprise.latitude < 53
        assert 126 < enterprise.longitude < 130


async def test_demo_news_are_realistic_and_unique(db: TestDatabase) -> None:
    before = await News.all().count()
    assert await generate_demo(300, seed=11) == 300
    assert await generate_demo(300, seed=11) == 300
    assert await News.all().count() == before + 600
    slugs = await News.all().values_list("slug", flat=True)
    assert len(slugs) == len(set(slugs))
    statuses = set(await News.all().values_list("status", flat=True))
    assert {"published", "draft"} <= statuses
    sample = await News.filter(status="published").order_by("-id").first()
    assert sample is not None
    assert sample.body_text
    assert any("а" <= char <= "я" for char in sample.title.lower())
    assert sample.search_text == sample.search_text.casefold()
    assert await NewsTag.filter(news_id=sample.pk).exists()


async def test_seeded_content_has_its_first_revision_and_events(empty_db: TestDatabase) -> None:
    changes: list[ContentChange] = []

    async def listen(change: ContentChange) -> None:
        changes.append(change)

    subscribe(listen)
    try:
        await load_seed()
    finally:
        unsubscribe(listen)
    created = {(change.content_type, change.object_ids[0]) for change in changes}
    assert {change.action for change in changes} == {"created"}
    for kind in CONTENT_TYPES.values():
        ids = set(await kind.model.all().values_list("id", flat=True))
        assert {(kind.name, pk) for pk in ids} <= created, kind.name
        first = await Revision.filter(content_type=kind.name, number=1).values_list(
            "object_id", flat=True
        )
        assert set(first) == ids, kind.name
    news = await News.get(slug=NEWS_SLUG)
    revision = await Revision.get(content_type="News", object_id=news.pk, number=1)
    assert revision.author_id is None
    assert revision.snapshot["fields"]["status"] == "published"
    assert len(revision.snapshot["links"]["quotes"]) == 2
    assert news.revision == 1
