"""Reading news, tags and their relations over HTTP."""

from datetime import datetime

from tests.conftest import GraphQLClient
from tests.seed_content import NEWS_SLUG, NEWS_TITLE

NEWS_ITEM = """
query($slug: String) {
  newsItem(slug: $slug) {
    id slug title lead status publishedAt updatedAt revision url readingTimeMinutes
    body { html text excerpt(length: 120) }
    tags { name slug newsCount }
    regions { code name }
    quotes { text person { fullName position organization { name kind region { code } } } }
    events { title startsOn endsOn place }
    agreements { title inForceSince }
    visit { title startsOn endsOn delegationRegion { code } hostRegion { code } }
    cover { url }
  }
}
"""


async def test_the_seed_news_item_with_everything_it_cites(client: GraphQLClient) -> None:
    item = (await client.data(NEWS_ITEM, {"slug": NEWS_SLUG}))["newsItem"]
    assert item["title"] == NEWS_TITLE
    assert item["status"] == "PUBLISHED"
    assert datetime.fromisoformat(item["publishedAt"]).date().isoformat() == "2023-03-27"
    assert datetime.fromisoformat(item["publishedAt"]).utcoffset() is not None
    assert item["url"] == f"https://invest.example/news/{NEWS_SLUG}"
    assert [tag["name"] for tag in item["tags"]] == ["сотрудничество", "АмурЭкпоФорум2023"]
    assert [tag["slug"] for tag in item["tags"]] == ["sotrudnichestvo", "amurekpoforum2023"]
    assert {region["code"] for region in item["regions"]} == {"RU-AMU", "RU-ALT"}
    speakers = [quote["person"]["fullName"] for quote in item["quotes"]]
    assert speakers == ["Павел Пузанов", "Виталий Снесарь"]
    assert item["quotes"][0]["person"]["position"].startswith(
        "заместитель председателя Правительства Амурской области"
    )
    assert item["quotes"][0]["text"].startswith("Соглашение о сотрудничестве")
    assert item["events"][0]["title"] == "АмурЭкспоФорум-2023"
    assert item["agreements"][0]["inForceSince"].startswith("2002")
    assert item["visit"]["delegationRegion"]["code"] == "RU-ALT"
    assert item["visit"]["hostRegion"]["code"] == "RU-AMU"
    assert item["cover"] is None
    # The full text of the article, as HTML and as plain text.
    assert "кондитерскую фабрику «Зея»" in item["body"]["text"]
    assert item["body"]["html"].startswith("<p>")
    assert "<" not in item["body"]["text"]
    assert len(item["body"]["excerpt"]) <= 120
    assert item["body"]["excerpt"].endswith("…")
    assert item["readingTimeMinutes"] >= 2
    assert item["revision"] >= 1


async def test_lookup_by_id_equals_lookup_by_slug(client: GraphQLClient) -> None:
    by_slug = (await client.data(NEWS_ITEM, {"slug": NEWS_SLUG}))["newsItem"]
    query = (
        "query($id: ID!) { newsItem(id: $id) { id slug } node(id: $id) { ... on News { slug } } }"
    )
    data = await client.data(query, {"id": by_slug["id"]})
    assert data["newsItem"] == {"id": by_slug["id"], "slug": NEWS_SLUG}
    assert data["node"] == {"slug": NEWS_SLUG}


async def test_unknown_slug_and_id_give_null(client: GraphQLClient) -> None:
    data = await client.data(
        '{ a: newsItem(slug: "net-takoy") { id } b: newsItem(id: "TmV3czo5OTk5OTk=") { id }'
        ' c: tag(slug: "net") { id } d: node(id: "VGFnOjk5OTk5") { id } }'
    )
    assert data == {"a": None, "b": None, "c": None, "d": None}


async def test_news_list_newest_first_with_tags(client: GraphQLClient) -> None:
    data = await client.data(
        "{ news(first: 5) { totalCount edges { cursor node { title publishedAt tags { slug } } }"
        " pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"
    )
    connection = data["news"]
    assert connection["totalCount"] == 1
    assert [edge["node"]["title"] for edge in connection["edges"]] == [NEWS_TITLE]
    assert connection["pageInfo"]["hasNextPage"] is False
    assert connection["pageInfo"]["startCursor"] == connection["edges"][0]["cursor"]


async def test_tag_with_its_news(client: GraphQLClient) -> None:
    data = await client.data(
        '{ tag(slug: "sotrudnichestvo") { name newsCount'
        " news(first: 10) { totalCount edges { node { slug } } } } }"
    )
    tag = data["tag"]
    assert tag["name"] == "сотрудничество"
    assert tag["newsCount"] == tag["news"]["totalCount"] == 1
    assert [edge["node"]["slug"] for edge in tag["news"]["edges"]] == [NEWS_SLUG]


async def test_tags_list_and_search_ignore_case(client: GraphQLClient) -> None:
    data = await client.data(
        '{ all: tags { totalCount edges { node { name } } } found: tags(search: "АМУРэкпо") {'
        " edges { node { slug } } } }"
    )
    assert data["all"]["totalCount"] >= 2
    assert data["found"]["edges"] == [{"node": {"slug": "amurekpoforum2023"}}]


async def test_news_filters(client: GraphQLClient) -> None:
    query = """
    query($filter: NewsFilter) { news(filter: $filter) { totalCount edges { node { slug } } } }
    """
    cases = [
        ({"tag": "sotrudnichestvo"}, 1),
        ({"tags": ["net-takogo", "amurekpoforum2023"]}, 1),
        ({"tag": "net-takogo"}, 0),
        ({"region": "RU-ALT"}, 1),
        ({"region": "RU-MOW"}, 0),
        ({"publishedAfter": "2023-03-01T00:00:00+09:00"}, 1),
        ({"publishedAfter": "2023-03-28T00:00:00+09:00"}, 0),
        ({"publishedBefore": "2023-03-27T00:00:00+00:00"}, 0),
        ({"search": "КОСМОДРОМ «восточный»"}, 1),
        ({"search": "Ёлка-несуществующая"}, 0),
        ({"search": "   "}, 1),
    ]
    for news_filter, expected in cases:
        connection = (await client.data(query, {"filter": news_filter}))["news"]
        assert connection["totalCount"] == expected, news_filter
        assert len(connection["edges"]) == expected, news_filter


async def test_every_news_ordering_works(client: GraphQLClient) -> None:
    for order in ("PUBLISHED_AT_DESC", "PUBLISHED_AT_ASC", "TITLE_ASC", "UPDATED_AT_DESC"):
        data = await client.data(f"{{ news(orderBy: {order}) {{ edges {{ node {{ slug }} }} }} }}")
        assert [edge["node"]["slug"] for edge in data["news"]["edges"]] == [NEWS_SLUG]
