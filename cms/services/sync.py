"""Delta sync: everything a caller may see, then only what changed, deletions included.

The change log is the revision table: every write of content records a revision in
the same transaction as the change (cms/services/editing.py), so a change cannot
commit without its entry. A sync token says up to where a client has read it:

- `after`: the highest revision id it has read;
- `xmin` (PostgreSQL): the oldest transaction still running when it read. Ids are
  handed out at insert, not at commit, so a transaction that was running then may
  still commit rows below `after`; they carry their transaction id (the `xact`
  column, filled by the database, migration 0012), and the next sync reads them
  too. Nothing is missed and no lock is taken on the write path; a row may come
  twice, which a mirror absorbs (items are upserts, deletions idempotent);
- `since`: when it read. A scheduled item goes live with nothing written at that
  moment: the next sync also takes the items whose publication time has come since.

An item that changed is sent as it is now, if the caller may see it, else as a
deletion: trashed, deleted, unpublished, or hidden with the whole it belongs to.
Items whose visibility follows another's (an agreement's action plans) are
re-checked with it.

Tokens are signed with CMS_SECRET_KEY, name the caller's scope and the types
asked for, and work on any process. Revisions of items removed from the trash are
removed with them, so a token is good for CMS_TRASH_RETENTION_DAYS: an older one is
refused and the client starts over.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from tortoise.connection import get_connection
from tortoise.models import Model

from cms.db import dialect, placeholders
from cms.errors import Code, InvalidArgumentError
from cms.models.base import PublishableModel
from cms.services.content_types import CONTENT_TYPES
from cms.services.viewer import Viewer
from cms.services.visibility import now, visible
from cms.settings import Settings

# The order of an initial sync, and of kinds in a token.
SYNC_KINDS: tuple[str, ...] = tuple(CONTENT_TYPES)
MAX_PAGE = 100
# Items that are hidden whenever another item is: (kind, its column naming the other
# kind's item). Their visibility changes with the other's, with no revision of theirs.
# Tags follow news too (a tag is public while a public news item uses it), through
# the links now and those in the news' revisions (a link removed by the change).
_FOLLOWERS: dict[str, tuple[tuple[str, str], ...]] = {
    "Agreement": (("ActionPlan", "agreement_id"),)
}
_TOKEN_VERSION = 1


@dataclass(frozen=True, slots=True)
class Position:
    """Where a client stands; with `page`, also where it is within one sync."""

    scope: str  # Viewer.cache_scope: "public" or "drafts"
    kinds: tuple[str, ...]
    after: int = 0  # revisions read
    xmin: int = 0  # PostgreSQL: transactions at or above this one may still add rows
    since: float = 0.0  # epoch seconds; 0: an initial sync
    # Within a sync (a page token): the bounds it reads up to, and the last key sent.
    page: bool = False
    high: int = 0
    high_xmin: int = 0
    until: float = 0.0
    cursor: tuple[Any, ...] = ()

    @property
    def initial(self) -> bool:
        return self.since == 0.0


@dataclass(frozen=True, slots=True)
class Deletion:
    kind: str
    pk: int
    deleted_at: datetime


@dataclass(frozen=True, slots=True)
class SyncPage:
    items: list[tuple[str, Model]]  # (kind, row), in sync order
    deletions: list[Deletion]
    next_page_token: str | None
    next_sync_token: str | None


# ---------------------------------------------------------------- tokens


def _token_error(message: str, code: str | None = None) -> InvalidArgumentError:
    return InvalidArgumentError("token", message, code)


def _sign(settings: Settings, payload: bytes) -> str:
    mac = hmac.new(settings.secret_key.encode(), b"cms-sync\n" + payload, hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()[:20]).decode().rstrip("=")


def encode_token(settings: Settings, position: Position) -> str:
    fields = [
        _TOKEN_VERSION,
        position.scope,
        list(position.kinds),
        position.after,
        position.xmin,
        position.since,
    ]
    if position.page:
        fields += [position.high, position.high_xmin, position.until, list(position.cursor)]
    payload = orjson.dumps(fields)
    body = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    return f"{body}.{_sign(settings, payload)}"


def decode_token(settings: Settings, token: str, viewer: Viewer) -> Position:
    body, _, signature = token.partition(".")
    try:
        payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        valid = hmac.compare_digest(signature, _sign(settings, payload))
        fields = orjson.loads(payload) if valid else None
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        fields = None
    if not isinstance(fields, list) or len(fields) not in (6, 10) or fields[0] != _TOKEN_VERSION:
        raise _token_error(
            "Это не токен синхронизации этого сервера: начните синхронизацию заново (без token)."
        )
    _, scope, kinds, after, xmin, since, *page = fields
    if scope != viewer.visibility_scope:
        raise _token_error(
            "Токен синхронизации выдан для другого уровня доступа: начните синхронизацию "
            "заново с этим ключом."
        )
    return Position(
        scope=scope,
        kinds=tuple(kinds),
        after=after,
        xmin=xmin,
        since=since,
        page=bool(page),
        high=page[0] if page else 0,
        high_xmin=page[1] if page else 0,
        until=page[2] if page else 0.0,
        cursor=tuple(page[3]) if page else (),
    )


# ---------------------------------------------------------------- reading


async def sync(
    settings: Settings,
    viewer: Viewer,
    *,
    token: str | None,
    kinds: Sequence[str] | None,
    first: int,
) -> SyncPage:
    if not 1 <= first <= MAX_PAGE:
        raise InvalidArgumentError("first", f"first должен быть от 1 до {MAX_PAGE}.")
    wanted = tuple(kind for kind in SYNC_KINDS if kinds is None or kind in kinds)
    if not wanted:
        raise InvalidArgumentError("types", "Укажите хотя бы один тип.")
    if token is None:
        high, high_xmin = await _log_end()
        position = Position(
            viewer.visibility_scope,
            wanted,
            page=True,
            high=high,
            high_xmin=high_xmin,
            until=now().timestamp(),
        )
    else:
        position = decode_token(settings, token, viewer)
        if kinds is not None and set(wanted) != set(position.kinds):
            raise _token_error(
                "Токен синхронизации выдан для других типов (types): передайте те же типы "
                "или начните заново."
            )
        reference = position.until if position.page else position.since
        if (
            reference
            and reference < (now() - timedelta(days=settings.trash_retention_days)).timestamp()
        ):
            raise _token_error(
                f"Токен синхронизации старше {settings.trash_retention_days} дн.: изменения "
                "за это время уже не хранятся. Начните синхронизацию заново (без token).",
                Code.SYNC_TOKEN_EXPIRED,
            )
        if not position.page:
            high, high_xmin = await _log_end()
            position = Position(
                position.scope,
                position.kinds,
                position.after,
                position.xmin,
                position.since,
                page=True,
                high=high,
                high_xmin=high_xmin,
                until=now().timestamp(),
            )
    if position.initial:
        return await _initial_page(settings, viewer, position, first)
    return await _delta_page(settings, viewer, position, first)


async def _log_end() -> tuple[int, int]:
    """The last revision written, and (PostgreSQL) the oldest transaction still running:
    one statement, one snapshot."""
    if dialect() == "postgres":
        sql = (
            "SELECT COALESCE(MAX(id), 0) AS high, "
            "pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin FROM revision"
        )
    else:
        sql = "SELECT COALESCE(MAX(id), 0) AS high, 0 AS xmin FROM revision"
    row = (await get_connection("default").execute_query_dict(sql))[0]
    return int(row["high"]), int(row["xmin"])


def _finish(settings: Settings, position: Position) -> str:
    """The token of the next sync: everything up to this one's bounds has been read."""
    return encode_token(
        settings,
        Position(position.scope, position.kinds, position.high, position.high_xmin, position.until),
    )


def _next_page(settings: Settings, position: Position, cursor: tuple[Any, ...]) -> str:
    """The token of this sync's next page: its bounds, and the last key sent."""
    return encode_token(settings, replace(position, cursor=cursor))


async def _initial_page(
    settings: Settings, viewer: Viewer, position: Position, first: int
) -> SyncPage:
    """Everything visible, type by type in id order: a statement per type on the page."""
    kind_index, last_id = position.cursor or (0, 0)
    items: list[tuple[str, Model]] = []
    while kind_index < len(position.kinds) and len(items) < first:
        kind = CONTENT_TYPES[position.kinds[kind_index]]
        rows = await (
            visible(kind.model, viewer)
            .filter(id__gt=last_id)
            .order_by("id")
            .limit(first - len(items) + 1)
        )
        room = first - len(items)
        items += [(kind.name, row) for row in rows[:room]]
        if len(rows) > room:  # more of this type: the page is full
            return SyncPage(
                items, [], _next_page(settings, position, (kind_index, items[-1][1].pk)), None
            )
        kind_index, last_id = kind_index + 1, 0
    if kind_index < len(position.kinds):
        return SyncPage(items, [], _next_page(settings, position, (kind_index, 0)), None)
    return SyncPage(items, [], None, _finish(settings, position))


async def _delta_page(
    settings: Settings, viewer: Viewer, position: Position, first: int
) -> SyncPage:
    keys = await _changed_keys(position, first + 1)
    more = len(keys) > first
    keys = keys[:first]
    by_kind: dict[str, list[int]] = {}
    for kind, pk, _, _ in keys:
        by_kind.setdefault(kind, []).append(pk)
    rows: dict[tuple[str, int], Model] = {}
    for kind_name, ids in by_kind.items():
        model = CONTENT_TYPES[kind_name].model
        for found in await visible(model, viewer).filter(id__in=ids):
            rows[kind_name, found.pk] = found
    items: list[tuple[str, Model]] = []
    deletions: list[Deletion] = []
    for kind, pk, _, changed_at in keys:
        row = rows.get((kind, pk))
        if row is not None:
            items.append((kind, row))
        else:
            deletions.append(Deletion(kind, pk, changed_at))
    if more:
        kind, pk, seq, _ = keys[-1]
        return SyncPage(items, deletions, _next_page(settings, position, (seq, kind, pk)), None)
    return SyncPage(items, deletions, None, _finish(settings, position))


async def _changed_keys(position: Position, limit: int) -> list[tuple[str, int, int, datetime]]:
    """(kind, id, sequence, when) of every item to send, in sequence order from the
    page's cursor: one statement.

    An item is sent when a revision of it was written since the token (or by a
    transaction still running when the token was made), when its publication time
    has come since, or when an item it follows did either. Its sequence is its last
    revision within the sync's bounds (0 for an item that has none)."""
    args: list[Any] = []

    def arg(value: Any) -> str:
        args.append(value)
        return placeholders(1, start=len(args))[0]

    high = arg(position.high)
    new_rows = f"r.id > {arg(position.after)}"
    if position.xmin:
        new_rows = f"({new_rows} OR r.xact >= {arg(position.xmin)})"
    sources = [
        f"SELECT r.content_type AS kind, r.object_id AS pk FROM revision r "
        f"WHERE {new_rows} AND r.id <= {high}"
    ]
    since = arg(datetime.fromtimestamp(position.since, UTC))
    until = arg(datetime.fromtimestamp(position.until, UTC))
    for name in position.kinds:
        model = CONTENT_TYPES[name].model
        if issubclass(model, PublishableModel):
            sources.append(
                f"SELECT {arg(name)}, id FROM {model._meta.db_table} WHERE status = 'published' "
                f"AND deleted_at IS NULL AND published_at > {since} AND published_at <= {until}"
            )
    changed = " UNION ".join(sources)
    for leader, followers in _FOLLOWERS.items():
        for follower, column in followers:
            if follower in position.kinds:
                table = CONTENT_TYPES[follower].model._meta.db_table
                sources.append(
                    f"SELECT {arg(follower)}, f.id FROM {table} f WHERE f.{column} IN "
                    f"(SELECT l.pk FROM ({changed}) l WHERE l.kind = {arg(leader)})"
                )
    if "Tag" in position.kinds:
        news = f"SELECT l.pk FROM ({changed}) l WHERE l.kind = {arg('News')}"
        tag = arg("Tag")
        sources.append(f"SELECT {tag}, t.tag_id FROM news_tag t WHERE t.news_id IN ({news})")
        sources.append(
            f"SELECT {tag}, {_snapshot_link_value()} FROM revision s "
            f"{_snapshot_join('s', 'tags')} WHERE s.content_type = {arg('News')} "
            f"AND s.object_id IN ({news})"
        )
    keyset = ""
    if position.cursor:
        seq, kind, pk = (arg(value) for value in position.cursor)
        keyset = (
            f"HAVING COALESCE(MAX(r.id), 0) > {seq} OR (COALESCE(MAX(r.id), 0) = {seq} "
            f"AND (c.kind > {kind} OR (c.kind = {kind} AND c.pk > {pk})))"
        )
    kinds = ", ".join(arg(kind) for kind in position.kinds)
    sql = (
        "SELECT c.kind AS kind, c.pk AS pk, COALESCE(MAX(r.id), 0) AS seq, "
        f"MAX(r.created_at) AS changed_at FROM ({' UNION '.join(sources)}) c "
        "LEFT JOIN revision r ON r.content_type = c.kind AND r.object_id = c.pk "
        f"AND r.id <= {high} WHERE c.kind IN ({kinds}) GROUP BY c.kind, c.pk {keyset} "
        f"ORDER BY seq, kind, pk LIMIT {arg(limit)}"
    )
    rows = await get_connection("default").execute_query_dict(sql, args)
    fallback = datetime.fromtimestamp(position.until, UTC)
    return [
        (row["kind"], int(row["pk"]), int(row["seq"]), _moment(row["changed_at"], fallback))
        for row in rows
    ]


def _snapshot_join(alias: str, link: str) -> str:
    """The elements of a link list in a revision's JSON snapshot, as rows."""
    if dialect() == "postgres":
        return f"CROSS JOIN LATERAL jsonb_array_elements_text({alias}.snapshot -> '{link}') e"
    return f"JOIN json_each({alias}.snapshot, '$.{link}') e"


def _snapshot_link_value() -> str:
    return "e::int" if dialect() == "postgres" else "CAST(e.value AS INTEGER)"


def _moment(value: Any, fallback: datetime) -> datetime:
    if value is None:
        return fallback
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)
