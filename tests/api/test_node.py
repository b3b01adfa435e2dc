"""`node(id:)` resolves every type that implements Node; accounts, tokens and the audit
log only for the staff whose permission also lets them list those."""

from cms import models
from cms.services.auth import create_api_token
from graphql_schema.node import NODE_TYPES
from graphql_schema.relay import global_id
from graphql_schema.schema import schema
from tests.conftest import GraphQLClient, create_staff, login_as

NODES = """
query($user: ID!, $token: ID!, $entry: ID!) {
  user: node(id: $user) { id ... on User { email } }
  token: node(id: $token) { id ... on ApiToken { name } }
  entry: node(id: $entry) { id ... on AuditEntry { action } }
}
"""


def test_every_type_implementing_node_is_resolved() -> None:
    node = schema._schema.get_type("Node")
    implementations = schema._schema.get_possible_types(node)  # type: ignore[arg-type]
    assert {implementation.name for implementation in implementations} == set(NODE_TYPES)


async def _ids() -> dict[str, str]:
    """A staff account, a token and an audit entry, as global IDs."""
    user = await models.User.get(email=await create_staff("editor"))
    _, token = await create_api_token(
        name="integrator", scopes=[models.TokenScope.READ], created_by=None
    )
    entry = await models.AuditEntry.create(actor="someone", action="publishNews")
    return {
        "user": global_id("User", user.pk),
        "token": global_id("ApiToken", token.pk),
        "entry": global_id("AuditEntry", entry.pk),
    }


async def test_admin_refetches_accounts_tokens_and_audit_entries(
    writer_client: GraphQLClient,
) -> None:
    ids = await _ids()
    await login_as(writer_client, "admin")
    data = await writer_client.data(NODES, ids)
    assert data["user"]["id"] == ids["user"]
    assert data["user"]["email"].startswith("editor-")
    assert data["token"] == {"id": ids["token"], "name": "integrator"}
    assert data["entry"] == {"id": ids["entry"], "action": "publishNews"}


async def test_staff_see_themselves_and_what_their_role_may_list(
    writer_client: GraphQLClient,
) -> None:
    ids = await _ids()
    await login_as(writer_client, "viewer")
    # A viewer reads history (the audit log), not other accounts nor tokens.
    data = await writer_client.data(NODES, ids)
    assert data == {
        "user": None,
        "token": None,
        "entry": {"id": ids["entry"], "action": "publishNews"},
    }
    me = (await writer_client.data("{ me { id email } }"))["me"]
    refetched = await writer_client.data(
        "query($id: ID!) { node(id: $id) { ... on User { id email } } }", {"id": me["id"]}
    )
    assert refetched["node"] == me


async def test_anonymous_callers_and_tokens_get_null(writer_client: GraphQLClient) -> None:
    ids = await _ids()
    assert await writer_client.data(NODES, ids) == {"user": None, "token": None, "entry": None}
    secret, _ = await create_api_token(
        name="reader", scopes=[models.TokenScope.WRITE], created_by=None
    )
    writer_client.headers["authorization"] = f"Bearer {secret}"
    assert await writer_client.data(NODES, ids) == {"user": None, "token": None, "entry": None}
