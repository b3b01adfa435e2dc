"""No mutation escapes the audit log: ids decode only in their canonical form, and the
entry is written in the same transaction as the change, so neither commits alone."""

from __future__ import annotations

import pytest
from tortoise.connection import get_connection

from cms.models import AuditEntry, Enterprise, News, Revision
from graphql_schema.relay import parse_global_id
from tests.conftest import GraphQLClient, TestDatabase
from tests.editing.helpers import (
    DELETE_NEWS,
    PUBLISH_NEWS,
    UPDATE_NEWS,
    create_news,
    mutate,
    sign_in,
)

UNPUBLISH_NEWS = "mutation($id: ID!) { unpublishNews(id: $id) { news { id } errors { code } } }"


@pytest.mark.parametrize(
    ("document", "extra"),
    [
        (UPDATE_NEWS, {"input": {"title": "Подмена"}}),
        (PUBLISH_NEWS, {}),
        (UNPUBLISH_NEWS, {}),
        (DELETE_NEWS, {}),
    ],
)
async def test_an_id_with_trailing_junk_is_refused_and_nothing_is_written(
    writer_client: GraphQLClient, db: TestDatabase, document: str, extra: dict
) -> None:
    await sign_in(writer_client, "editor")
    news = await create_news(writer_client, title="Исходный заголовок")
    _, pk = parse_global_id(news["id"])
    padded = news["id"] + "." * 128
    errors = await writer_client.errors(document, {"id": padded, **extra})
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "идентификатор id" in errors[0]["message"]
    stored = await News.get(id=pk)
    assert (stored.title, stored.revision, stored.deleted_at) == ("Исходный заголовок", 1, None)
    assert await Revision.filter(content_type="News", object_id=pk).count() == 1
    # The refused attempt is still on record, under an object id that fits its column.
    (entry,) = await AuditEntry.exclude(action="createNews")
    assert entry.succeeded is False
    assert entry.object_id is not None
    assert len(entry.object_id) <= 120


@pytest.mark.parametrize(
    "value", ["TmV3czox=", "TmV3czox\n", " TmV3czox", "TmV3czoxAA", "TmV3czowMQ"]
)
async def test_only_the_canonical_form_of_an_id_is_accepted(
    client: GraphQLClient, value: str
) -> None:
    # News:1 is "TmV3czox"; padding, whitespace, trailing bits and "News:01" are not it.
    errors = await client.errors("query($id: ID!) { node(id: $id) { id } }", {"id": value})
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"


async def _break_audit_writes() -> None:
    """A real failure of the audit table: the database refuses every new entry."""
    connection = get_connection("default")
    if connection.capabilities.dialect == "postgres":
        await connection.execute_script(
            "CREATE FUNCTION refuse_audit() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION 'audit log unavailable'; END $$ LANGUAGE plpgsql; "
            "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_entry "
            "FOR EACH ROW EXECUTE FUNCTION refuse_audit();"
        )
    else:
        await connection.execute_script(
            "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_entry "
            "BEGIN SELECT RAISE(ABORT, 'audit log unavailable'); END;"
        )


@pytest.mark.parametrize(
    ("document", "extra"),
    [
        (UPDATE_NEWS, {"input": {"title": "Без записи в журнале"}}),
        (PUBLISH_NEWS, {}),
        (DELETE_NEWS, {}),
    ],
)
async def test_a_failing_audit_write_rolls_the_change_back(
    writer_client: GraphQLClient, db: TestDatabase, document: str, extra: dict
) -> None:
    await sign_in(writer_client, "editor")
    news = await create_news(writer_client, title="Исходный заголовок")
    _, pk = parse_global_id(news["id"])
    await _break_audit_writes()
    errors = await writer_client.errors(document, {"id": news["id"], **extra})
    assert errors[0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    stored = await News.get(id=pk)
    assert (stored.title, stored.status, stored.revision) == ("Исходный заголовок", "draft", 1)
    assert stored.deleted_at is None
    assert await Revision.filter(content_type="News", object_id=pk).count() == 1


async def test_the_entry_and_the_change_commit_together(
    writer_client: GraphQLClient, db: TestDatabase
) -> None:
    await sign_in(writer_client, "editor")
    news = await create_news(writer_client, title="Исходный заголовок")
    payload = await mutate(
        writer_client, UPDATE_NEWS, {"id": news["id"], "input": {"title": "Правка"}}
    )
    assert payload["errors"] == []
    (entry,) = await AuditEntry.filter(action="updateNews")
    assert (entry.object_id, entry.succeeded) == (news["id"], True)


async def test_a_failing_audit_write_rolls_back_any_audited_mutation(
    writer_client: GraphQLClient, db: TestDatabase
) -> None:
    """Not only news: every root mutation runs in the transaction of its entry."""
    await sign_in(writer_client, "editor")
    await _break_audit_writes()
    errors = await writer_client.errors(
        'mutation { createEnterprise(input: {name: "Завод без журнала"}) '
        "{ enterprise { id } errors { code } } }"
    )
    assert errors[0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert not await Enterprise.filter(name="Завод без журнала").exists()
