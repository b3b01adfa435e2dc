"""Logging in and out, bearer tokens, API tokens and what each caller sees."""

import pytest

from cms.models import AuditEntry, AuthSession
from tests.conftest import (
    LOGIN,
    STAFF_PASSWORD,
    GraphQLClient,
    TestDatabase,
    create_staff,
    login_as,
    use_api_token,
)
from tests.seed_content import (
    ARCHIVED_NEWS_SLUG,
    DRAFT_NEWS_SLUG,
    NEWS_SLUG,
    SCHEDULED_NEWS_SLUG,
)

ME = "{ me { email role displayName } }"


async def test_login_me_and_logout(writer_client: GraphQLClient) -> None:
    email = await create_staff("editor", "Editor@Example.com")
    data = await writer_client.data(
        LOGIN, {"email": "  EDITOR@example.COM ", "password": STAFF_PASSWORD}
    )
    login = data["login"]
    assert login["errors"] == []
    assert login["user"] == {"email": email.lower(), "role": "EDITOR"}
    assert login["token"].startswith("cmsu_")
    assert (await writer_client.data(ME))["me"] is None
    writer_client.headers["authorization"] = f"Bearer {login['token']}"
    assert (await writer_client.data(ME))["me"]["role"] == "EDITOR"
    # The token is stored only as a hash.
    assert not await AuthSession.filter(token_hash=login["token"]).exists()
    assert (await writer_client.data("mutation { logout }"))["logout"] is True
    response = await writer_client.http.post(
        "/graphql", json={"query": ME}, headers=writer_client.headers
    )
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("nobody@example.com", STAFF_PASSWORD),
        ("known@example.com", "wrong password"),
        ("known@example.com", ""),
        ("not an e-mail", "x"),
    ],
)
async def test_failed_logins_look_the_same(
    writer_client: GraphQLClient, email: str, password: str
) -> None:
    await create_staff("author", "known@example.com")
    login = (await writer_client.data(LOGIN, {"email": email, "password": password}))["login"]
    assert login["token"] is None
    assert login["errors"] == [
        {"field": None, "code": "INVALID_CREDENTIALS", "message": "Неверный e-mail или пароль."}
    ]


async def test_repeated_failures_lock_the_account_for_a_while(
    writer_client: GraphQLClient,
) -> None:
    email = await create_staff("author")
    for _ in range(5):
        login = (await writer_client.data(LOGIN, {"email": email, "password": "nope"}))["login"]
        assert login["errors"][0]["code"] == "INVALID_CREDENTIALS"
    # Even the right password is refused now, with a time to come back.
    login = (await writer_client.data(LOGIN, {"email": email, "password": STAFF_PASSWORD}))["login"]
    assert login["token"] is None
    assert login["errors"][0]["code"] == "RATE_LIMITED"
    assert "Повторите через" in login["errors"][0]["message"]


async def test_unknown_or_malformed_bearer_tokens_are_401(writer_client: GraphQLClient) -> None:
    for header in ("Bearer cmsu_forged", "Bearer cmst_forged", "Bearer", "Basic dXNlcjpwYXNz"):
        response = await writer_client.http.post(
            "/graphql", json={"query": ME}, headers={"authorization": header}
        )
        assert response.status_code == 401, header
        assert response.headers["www-authenticate"].startswith("Bearer")


async def test_read_only_token_sees_what_anonymous_sees(writer_client: GraphQLClient) -> None:
    query = "query($s: String) { newsItem(slug: $s) { slug } news { totalCount } me { email } }"
    anonymous = await writer_client.data(query, {"s": DRAFT_NEWS_SLUG})
    await use_api_token(writer_client, "read")
    token = await writer_client.data(query, {"s": DRAFT_NEWS_SLUG})
    assert token == anonymous == {"newsItem": None, "news": {"totalCount": 1}, "me": None}
    errors = await writer_client.errors("{ news(filter: {status: DRAFT}) { totalCount } }")
    assert errors[0]["extensions"]["code"] == "FORBIDDEN"


@pytest.mark.parametrize("who", ["read_drafts", "viewer"])
async def test_drafts_are_readable_by_staff_and_read_drafts_tokens(
    writer_client: GraphQLClient, who: str
) -> None:
    if who == "viewer":
        await login_as(writer_client, "viewer")
    else:
        await use_api_token(writer_client, "read_drafts")
    data = await writer_client.data(
        "query($d: String, $s: String) { draft: newsItem(slug: $d) { status }"
        " scheduled: newsItem(slug: $s) { status }"
        " drafts: news(filter: {status: DRAFT}) { totalCount }"
        " planned: news(filter: {status: SCHEDULED}) { edges { node { slug } } } }",
        {"d": DRAFT_NEWS_SLUG, "s": SCHEDULED_NEWS_SLUG},
    )
    assert data["draft"] == {"status": "DRAFT"}
    assert data["scheduled"] == {"status": "SCHEDULED"}
    assert data["drafts"]["totalCount"] == 1
    assert data["planned"]["edges"] == [{"node": {"slug": SCHEDULED_NEWS_SLUG}}]


SEVERAL_STATUSES = """
query($after: String) {
  news(first: 1, after: $after, filter: {statuses: [DRAFT, SCHEDULED, PUBLISHED, DRAFT]}) {
    totalCount edges { node { slug status } } pageInfo { hasNextPage endCursor }
  }
}
"""


async def test_staff_list_news_of_several_statuses_in_one_query(
    writer_client: GraphQLClient,
) -> None:
    await login_as(writer_client, "viewer")
    slugs: list[str] = []
    after = None
    while True:  # page by page: the cursor works over mixed statuses
        page = (await writer_client.data(SEVERAL_STATUSES, {"after": after}))["news"]
        assert page["totalCount"] == 3
        slugs += [edge["node"]["slug"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert sorted(slugs) == sorted([DRAFT_NEWS_SLUG, SCHEDULED_NEWS_SLUG, NEWS_SLUG])
    data = await writer_client.data(
        "{ live: news(filter: {statuses: [SCHEDULED, PUBLISHED]}) { totalCount }"
        " archived: news(filter: {statuses: [ARCHIVED]}) { edges { node { slug } } } }"
    )
    assert data["live"]["totalCount"] == 2
    assert data["archived"]["edges"] == [{"node": {"slug": ARCHIVED_NEWS_SLUG}}]


@pytest.mark.parametrize(
    "news_filter",
    ["{statuses: []}", "{status: DRAFT, statuses: [DRAFT]}", "{status: PUBLISHED, statuses: []}"],
)
async def test_an_empty_or_doubled_status_filter_is_bad_input(
    writer_client: GraphQLClient, news_filter: str
) -> None:
    await login_as(writer_client, "viewer")
    errors = await writer_client.errors(f"{{ news(filter: {news_filter}) {{ totalCount }} }}")
    assert len(errors) == 1
    assert errors[0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": "filter.statuses"}


TYPED_STATUS = """
query($s: PublicationStatus) { news(filter: {status: $s}) { edges { node { slug } } } }
"""


async def test_a_single_status_variable_still_fits_status(writer_client: GraphQLClient) -> None:
    """`status` kept its type when `statuses` came: queries written for it still validate."""
    published = await writer_client.data(TYPED_STATUS, {"s": "PUBLISHED"})
    assert published == await writer_client.data(TYPED_STATUS, {"s": None})
    assert published["news"]["edges"] == [{"node": {"slug": NEWS_SLUG}}]
    errors = await writer_client.errors(TYPED_STATUS, {"s": "DRAFT"})
    assert errors[0]["extensions"]["code"] == "UNAUTHENTICATED"
    await login_as(writer_client, "viewer")
    drafts = await writer_client.data(TYPED_STATUS, {"s": "DRAFT"})
    assert drafts["news"]["edges"] == [{"node": {"slug": DRAFT_NEWS_SLUG}}]


async def test_anonymous_callers_keep_the_published_default(client: GraphQLClient) -> None:
    data = await client.data(
        "{ all: news { totalCount } listed: news(filter: {statuses: [PUBLISHED]}) { totalCount } }"
    )
    assert data == {"all": {"totalCount": 1}, "listed": {"totalCount": 1}}
    for news_filter in ("{status: DRAFT}", "{statuses: [DRAFT, PUBLISHED]}"):
        errors = await client.errors(f"{{ news(filter: {news_filter}) {{ totalCount }} }}")
        assert errors[0]["extensions"]["code"] == "UNAUTHENTICATED", news_filter


CREATE_TOKEN = """
mutation($name: String!, $scopes: [TokenScope!]!) {
  createApiToken(input: {name: $name, scopes: $scopes}) {
    token apiToken { id name scopes prefix } errors { field code message }
  }
}
"""


async def test_admin_manages_api_tokens(writer_client: GraphQLClient) -> None:
    await login_as(writer_client, "admin")
    payload = (
        await writer_client.data(CREATE_TOKEN, {"name": "Минэкономразвития", "scopes": ["READ"]})
    )["createApiToken"]
    assert payload["errors"] == []
    secret = payload["token"]
    assert secret.startswith(payload["apiToken"]["prefix"])
    listed = (await writer_client.data("{ apiTokens { id name lastUsedAt revokedAt } }"))[
        "apiTokens"
    ]
    assert [token["name"] for token in listed] == ["Минэкономразвития"]
    assert listed[0]["lastUsedAt"] is None
    integrator = {"authorization": f"Bearer {secret}"}
    assert (
        await writer_client.http.post("/graphql", json={"query": ME}, headers=integrator)
    ).status_code == 200
    listed = (await writer_client.data("{ apiTokens { lastUsedAt } }"))["apiTokens"]
    assert listed[0]["lastUsedAt"] is not None
    revoke = await writer_client.data(
        "mutation($id: ID!) { revokeApiToken(id: $id) { deletedId errors { code } } }",
        {"id": payload["apiToken"]["id"]},
    )
    assert revoke["revokeApiToken"]["errors"] == []
    response = await writer_client.http.post("/graphql", json={"query": ME}, headers=integrator)
    assert response.status_code == 401
    again = await writer_client.data(
        "mutation($id: ID!) { revokeApiToken(id: $id) { deletedId errors { code } } }",
        {"id": payload["apiToken"]["id"]},
    )
    assert again["revokeApiToken"]["errors"] == [{"code": "NOT_FOUND"}]


async def test_bad_token_input_is_a_user_error(writer_client: GraphQLClient) -> None:
    await login_as(writer_client, "admin")
    payload = (await writer_client.data(CREATE_TOKEN, {"name": "  ", "scopes": []}))[
        "createApiToken"
    ]
    assert payload["token"] is None
    assert {error["code"] for error in payload["errors"]} == {"REQUIRED"}
    assert {tuple(error["field"]) for error in payload["errors"]} == {
        ("input", "name"),
        ("input", "scopes"),
    }


@pytest.mark.parametrize(
    ("caller", "code"),
    [(None, "UNAUTHENTICATED"), ("read", "FORBIDDEN"), ("editor", "FORBIDDEN")],
)
async def test_only_admins_manage_tokens(
    writer_client: GraphQLClient, caller: str | None, code: str
) -> None:
    if caller == "read":
        await use_api_token(writer_client, "read")
    elif caller:
        await login_as(writer_client, caller)
    for query, variables in [
        ("{ apiTokens { id } }", None),
        (CREATE_TOKEN, {"name": "x", "scopes": ["READ"]}),
        ('mutation { revokeApiToken(id: "QXBpVG9rZW46MQ") { deletedId } }', None),
    ]:
        errors = await writer_client.errors(query, variables)
        assert errors[0]["extensions"]["code"] == code


async def test_mutations_by_staff_land_in_the_audit_log(
    writer_client: GraphQLClient, db: TestDatabase
) -> None:
    await login_as(writer_client, "admin")
    await writer_client.data(CREATE_TOKEN, {"name": "лента", "scopes": ["READ"]})
    await writer_client.data(CREATE_TOKEN, {"name": "", "scopes": ["READ"]})
    entries = await AuditEntry.all().order_by("id")
    assert [(entry.action, entry.succeeded) for entry in entries] == [
        ("createApiToken", True),
        ("createApiToken", False),
    ]
    assert entries[0].actor.startswith("admin-")
    assert entries[0].address
    assert entries[0].object_id
    log = await writer_client.data(
        "{ auditLog(first: 10) { totalCount edges { node { actor action objectId succeeded } } } }"
    )
    assert log["auditLog"]["totalCount"] == 2
    assert log["auditLog"]["edges"][0]["node"]["succeeded"] is False
    # Anonymous logins are not audited; the audit log is staff-only.
    writer_client.headers.clear()
    errors = await writer_client.errors("{ auditLog { totalCount } }")
    assert errors[0]["extensions"]["code"] == "UNAUTHENTICATED"
