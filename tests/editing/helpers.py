"""Callers and documents shared by the editing tests."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import timedelta
from typing import Any

from cms.models import AuthSession, Role, TokenScope, User
from cms.services.auth import SESSION_PREFIX
from cms.services.visibility import now
from tests.conftest import GraphQLClient, use_api_token


async def sign_in(client: GraphQLClient, role: str) -> User:
    """A staff member of `role` with a session made directly (no Argon2 per test)."""
    user = await User.create(
        email=f"{role}-{uuid.uuid4().hex[:8]}@example.com", display_name=role, role=Role(role)
    )
    token = SESSION_PREFIX + secrets.token_urlsafe(32)
    await AuthSession.create(
        user=user,
        token_hash=hashlib.sha256(token.encode()).hexdigest(),
        expires_at=now() + timedelta(hours=1),
    )
    client.headers["authorization"] = f"Bearer {token}"
    return user


async def act_as(client: GraphQLClient, who: str) -> None:
    """anonymous, token:<scope>, or a role name."""
    client.headers.pop("authorization", None)
    if who == "anonymous":
        return
    if who.startswith("token:"):
        await use_api_token(client, TokenScope(who.removeprefix("token:")).value)
        return
    await sign_in(client, who)


ERRORS = "errors { field code message }"
NEWS_FIELDS = (
    "id slug title lead status publishedAt revision updatedAt body { html text } "
    "tags { name slug } regions { code } quotes { text person { fullName } } "
    "cover { id } visit { title } events { title } agreements { title }"
)
CREATE_NEWS = f"""
mutation($input: NewsInput!) {{ createNews(input: $input) {{ news {{ {NEWS_FIELDS} }} {ERRORS} }} }}
"""
UPDATE_NEWS = f"""
mutation($id: ID!, $input: NewsInput!, $rev: Int) {{
  updateNews(id: $id, input: $input, expectedRevision: $rev) {{ news {{ {NEWS_FIELDS} }} {ERRORS} }}
}}
"""
PUBLISH_NEWS = f"""
mutation($id: ID!, $at: DateTime) {{
  publishNews(id: $id, at: $at) {{ news {{ {NEWS_FIELDS} }} {ERRORS} }}
}}
"""
DELETE_NEWS = f"mutation($id: ID!) {{ deleteNews(id: $id) {{ deletedId {ERRORS} }} }}"
RESTORE = f"""
mutation($id: ID!) {{ restoreFromTrash(id: $id) {{ node {{ id }} {ERRORS} }} }}
"""


async def mutate(
    client: GraphQLClient, document: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The one payload of a mutation that must not fail at the GraphQL level."""
    data = await client.data(document, variables)
    (payload,) = data.values()
    return payload


async def create_news(client: GraphQLClient, **fields: Any) -> dict[str, Any]:
    payload = await mutate(client, CREATE_NEWS, {"input": {"title": "Новость", **fields}})
    assert payload["errors"] == [], payload["errors"]
    return payload["news"]
