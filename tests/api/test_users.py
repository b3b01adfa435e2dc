"""Admins manage staff accounts: create, change role, deactivate, reset a password."""

import pytest

from tests.conftest import LOGIN, GraphQLClient, login_as

CREATE = """
mutation($input: CreateUserInput!) { createUser(input: $input) {
  user { id email role isActive } errors { field code message } } }
"""
UPDATE = """
mutation($id: ID!, $input: UpdateUserInput!) { updateUser(id: $id, input: $input) {
  user { email role isActive } errors { field code message } } }
"""
NEW_PASSWORD = "a brand new long password"


async def test_admin_creates_changes_and_deactivates_an_account(
    writer_client: GraphQLClient,
) -> None:
    await login_as(writer_client, "admin")
    created = (
        await writer_client.data(
            CREATE,
            {"input": {"email": "Redactor@Amurobl.ru", "role": "AUTHOR", "password": NEW_PASSWORD}},
        )
    )["createUser"]
    assert created["errors"] == []
    assert created["user"]["email"] == "redactor@amurobl.ru"
    user_id = created["user"]["id"]

    # The new author logs in and works.
    author = GraphQLClient(writer_client.http)
    token = (await author.data(LOGIN, {"email": "redactor@amurobl.ru", "password": NEW_PASSWORD}))[
        "login"
    ]["token"]
    author.headers["authorization"] = f"Bearer {token}"
    assert (await author.data("{ me { role } }"))["me"] == {"role": "AUTHOR"}

    promoted = (await writer_client.data(UPDATE, {"id": user_id, "input": {"role": "EDITOR"}}))[
        "updateUser"
    ]
    assert promoted["user"]["role"] == "EDITOR"
    # A role change ends the sessions: the old token no longer works.
    response = await author.http.post(
        "/graphql", json={"query": "{ me { role } }"}, headers=author.headers
    )
    assert response.status_code == 401

    deactivated = (await writer_client.data(UPDATE, {"id": user_id, "input": {"isActive": False}}))[
        "updateUser"
    ]
    assert deactivated["user"]["isActive"] is False
    author.headers.clear()
    login = (await author.post(LOGIN, {"email": "redactor@amurobl.ru", "password": NEW_PASSWORD}))[
        "data"
    ]["login"]
    assert login["errors"][0]["code"] == "INVALID_CREDENTIALS"
    users = (await writer_client.data("{ users { email isActive } }"))["users"]
    assert {"email": "redactor@amurobl.ru", "isActive": False} in users


async def test_bad_account_input_is_explained(writer_client: GraphQLClient) -> None:
    await login_as(writer_client, "admin")
    payload = (
        await writer_client.data(
            CREATE, {"input": {"email": "not-an-email", "role": "VIEWER", "password": "short"}}
        )
    )["createUser"]
    assert payload["user"] is None
    assert {(tuple(error["field"]), error["code"]) for error in payload["errors"]} == {
        (("input", "email"), "INVALID"),
        (("input", "password"), "TOO_SHORT"),
    }
    me = (await writer_client.data("{ me { id } }"))["me"]
    self_demotion = (
        await writer_client.data(UPDATE, {"id": me["id"], "input": {"role": "VIEWER"}})
    )["updateUser"]
    assert self_demotion["errors"][0]["code"] == "FORBIDDEN"
    missing = (
        await writer_client.data(UPDATE, {"id": "VXNlcjo5OTk5OQ==", "input": {"role": "VIEWER"}})
    )["updateUser"]
    assert missing["errors"][0]["code"] == "NOT_FOUND"


@pytest.mark.parametrize(("caller", "code"), [(None, "UNAUTHENTICATED"), ("editor", "FORBIDDEN")])
async def test_only_admins_manage_accounts(
    writer_client: GraphQLClient, caller: str | None, code: str
) -> None:
    if caller:
        await login_as(writer_client, caller)
    for query, variables in [
        ("{ users { email } }", None),
        (CREATE, {"input": {"email": "x@example.com", "role": "ADMIN", "password": NEW_PASSWORD}}),
        (UPDATE, {"id": "VXNlcjox", "input": {"role": "ADMIN"}}),
    ]:
        errors = await writer_client.errors(query, variables)
        assert errors[0]["extensions"]["code"] == code
