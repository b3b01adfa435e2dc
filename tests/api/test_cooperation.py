"""Reading agreements, action plans, visits, enterprises and reference lists."""

from tests.conftest import GraphQLClient
from tests.seed_content import AGREEMENT_SLUG, NEWS_SLUG, PLAN_SLUG, VISITED_ENTERPRISES

DIRECTIONS = {
    "медицина",
    "сельское хозяйство",
    "информационные технологии",
    "спорт",
    "культура",
    "бизнес-миссии",
    "логистика",
    "цифровая трансформация",
    "туризм",
}


async def test_acceptance_query_returns_the_thirteen_enterprises(client: GraphQLClient) -> None:
    data = await client.data(
        "query($slug: String) { agreement(slug: $slug) { actionPlans { periodStart periodEnd"
        " visitedEnterprises { name locality } } } }",
        {"slug": AGREEMENT_SLUG},
    )
    (plan,) = data["agreement"]["actionPlans"]
    assert (plan["periodStart"], plan["periodEnd"]) == ("2023-01-01", "2025-12-31")
    names = [enterprise["name"] for enterprise in plan["visitedEnterprises"]]
    assert names == VISITED_ENTERPRISES
    localities = {
        enterprise["name"]: enterprise["locality"] for enterprise in plan["visitedEnterprises"]
    }
    assert localities["МЭЗ «Амурский»"] == "Белогорск"
    assert localities["Животноводческий комплекс «Луч»"] == "Ивановка"
    assert all(locality for locality in localities.values())


async def test_the_agreement_with_everything_around_it(client: GraphQLClient) -> None:
    data = await client.data(
        """
        query($slug: String) { agreement(slug: $slug) {
          title status agreementStatus inForceSince url summary body { text }
          parties { name kind region { code name } }
          documents { url }
          news(first: 5) { totalCount edges { node { slug } } }
          actionPlans {
            slug title signedOn signedAt url status agreement { slug }
            signatories { fullName }
            directions { name slug }
            items { title itemStatus dueOn direction { slug } event { title } }
            visits { title startsOn endsOn organizer { name kind }
              delegationRegion { name } hostRegion { name } actionPlan { slug }
              enterprises { name } news(first: 5) { totalCount } }
          }
        } }
        """,
        {"slug": AGREEMENT_SLUG},
    )
    agreement = data["agreement"]
    assert agreement["status"] == "PUBLISHED"
    assert agreement["agreementStatus"] == "ACTIVE"
    assert agreement["inForceSince"].startswith("2002")
    assert agreement["url"] == f"https://invest.example/agreements/{AGREEMENT_SLUG}"
    assert [party["name"] for party in agreement["parties"]] == [
        "Правительство Амурской области",
        "Правительство Алтайского края",
    ]
    assert [party["region"]["code"] for party in agreement["parties"]] == ["RU-AMU", "RU-ALT"]
    assert agreement["news"]["edges"] == [{"node": {"slug": NEWS_SLUG}}]
    (plan,) = agreement["actionPlans"]
    assert plan["slug"] == PLAN_SLUG
    assert plan["agreement"]["slug"] == AGREEMENT_SLUG
    assert plan["signedOn"] == "2023-03-27"
    assert "Точка кипения" in plan["signedAt"]
    assert "Благовещенск" in plan["signedAt"]
    assert {direction["name"] for direction in plan["directions"]} == DIRECTIONS
    assert "Снесарь" in " ".join(person["fullName"] for person in plan["signatories"])
    first_item = plan["items"][0]
    assert "АмурЭкспоФорум" in first_item["title"]
    assert first_item["event"]["title"] == "АмурЭкспоФорум-2023"
    (visit,) = plan["visits"]
    assert visit["delegationRegion"]["name"] == "Алтайский край"
    assert visit["hostRegion"]["name"] == "Амурская область"
    assert visit["organizer"]["kind"] == "MINISTRY"
    assert visit["actionPlan"]["slug"] == PLAN_SLUG
    assert [enterprise["name"] for enterprise in visit["enterprises"]] == VISITED_ENTERPRISES
    assert visit["news"]["totalCount"] == 1


async def test_enterprises_within_a_bounding_box(client: GraphQLClient) -> None:
    query = """
    query($filter: EnterpriseFilter) { enterprises(first: 100, filter: $filter) {
      totalCount edges { node { name locality location { lat lon } industries url } } } }
    """
    everything = (await client.data(query))["enterprises"]
    assert everything["totalCount"] == 13
    assert all(edge["node"]["location"] for edge in everything["edges"])
    assert all(edge["node"]["industries"] for edge in everything["edges"])
    # Blagoveshchensk and its surroundings, not Belogorsk nor the cosmodrome.
    around_city = {"south": 50.1, "west": 127.3, "north": 50.5, "east": 127.7}
    near = (await client.data(query, {"filter": {"within": around_city}}))["enterprises"]
    assert 0 < near["totalCount"] < 13
    for edge in near["edges"]:
        location = edge["node"]["location"]
        assert 50.1 <= location["lat"] <= 50.5
        assert 127.3 <= location["lon"] <= 127.7
    nowhere = {"south": 10, "west": 10, "north": 11, "east": 11}
    assert (await client.data(query, {"filter": {"within": nowhere}}))["enterprises"][
        "totalCount"
    ] == 0
    belogorsk = (await client.data(query, {"filter": {"locality": "Белогорск"}}))["enterprises"]
    assert [edge["node"]["name"] for edge in belogorsk["edges"]] == ["МЭЗ «Амурский»"]
    searched = (await client.data(query, {"filter": {"search": "космодром"}}))["enterprises"]
    assert [edge["node"]["name"] for edge in searched["edges"]] == ["Космодром «Восточный»"]
    industry = everything["edges"][0]["node"]["industries"][0]
    by_industry = (await client.data(query, {"filter": {"industry": industry}}))["enterprises"]
    assert by_industry["totalCount"] >= 1
    by_region = (await client.data(query, {"filter": {"region": "RU-ALT"}}))["enterprises"]
    assert by_region["totalCount"] == 0


async def test_bad_bounding_box_is_a_clear_error(client: GraphQLClient) -> None:
    errors = await client.errors(
        "{ enterprises(filter: {within: {south: 95, west: 0, north: 96, east: 1}}) { totalCount } }"
    )
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert errors[0]["extensions"]["argument"] == "filter.within.south"


async def test_reference_lists(client: GraphQLClient) -> None:
    data = await client.data(
        "{ regions { code name enterprises(first: 3) { totalCount edges { node { name } } } }"
        " directions { name } events { totalCount edges { node { title startsOn place } } } }"
    )
    regions = {region["code"]: region for region in data["regions"]}
    assert regions["RU-AMU"]["name"] == "Амурская область"
    assert regions["RU-AMU"]["enterprises"]["totalCount"] == 13
    assert len(regions["RU-AMU"]["enterprises"]["edges"]) == 3
    assert regions["RU-ALT"]["enterprises"]["totalCount"] == 0
    assert {direction["name"] for direction in data["directions"]} >= DIRECTIONS
    titles = [edge["node"]["title"] for edge in data["events"]["edges"]]
    assert "АмурЭкспоФорум-2023" in titles


async def test_action_plans_of_an_agreement_and_lookups(client: GraphQLClient) -> None:
    agreement = (
        await client.data(
            "query($slug: String) { agreement(slug: $slug) { id } }", {"slug": AGREEMENT_SLUG}
        )
    )["agreement"]
    data = await client.data(
        "query($id: ID) { actionPlans(agreement: $id) { totalCount edges { node { slug id } } } }",
        {"id": agreement["id"]},
    )
    (edge,) = data["actionPlans"]["edges"]
    plan_id = edge["node"]["id"]
    lookups = await client.data(
        "query($id: ID!, $slug: String) { byId: actionPlan(id: $id) { slug url }"
        " bySlug: actionPlan(slug: $slug) { id } node(id: $id) { ... on ActionPlan { slug } } }",
        {"id": plan_id, "slug": PLAN_SLUG},
    )
    assert lookups["byId"]["slug"] == PLAN_SLUG
    assert lookups["byId"]["url"] == f"https://invest.example/action-plans/{PLAN_SLUG}"
    assert lookups["bySlug"]["id"] == plan_id
    assert lookups["node"]["slug"] == PLAN_SLUG
    enterprise = await client.data(
        '{ enterprise(slug: "kosmodrom-vostochnyy") { name locality url region { code }'
        " visits { title } } }"
    )
    assert enterprise["enterprise"]["locality"]
    assert enterprise["enterprise"]["visits"][0]["title"].startswith("Официальный визит")
