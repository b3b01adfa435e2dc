"""The two lower rungs of the speed ladder, served like the CMS (uvicorn, uvloop, httptools).

R1 `/r1`: a bare Starlette endpoint answering pre-serialised bytes (the CMS's own
news-list response, read from CMS_BENCH_R1_BODY): the ceiling of this server stack
on this machine, with no GraphQL, no database and no serialisation at all.

R3 `/r3`: the news list of the CMS (20 items with their tags, totalCount, cursors,
pageInfo) written by hand: three SQL statements straight on aiosqlite or asyncpg and
orjson, no ORM, no GraphQL. The same data as the CMS answers (bench/ladder.py checks
that the two responses are equal), so the gap between R3 and the CMS is what the
GraphQL layer and the ORM cost.

    CMS_DATABASE_URL=sqlite:////tmp/x.db CMS_PORT=8001 .venv/bin/python bench/baselines.py
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

PAGE = 20
SITE = os.environ.get("CMS_SITE_URL", "http://localhost:3000").rstrip("/")
LIVE = "status = 'published' AND deleted_at IS NULL"


class Database:
    """Just enough of SQLite and PostgreSQL for the three statements."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.sqlite = url.startswith("sqlite")
        self.connection: Any = None
        self.pool: Any = None

    async def open(self) -> None:
        if self.sqlite:
            import aiosqlite

            self.connection = await aiosqlite.connect(self.url.removeprefix("sqlite://"))
        else:
            import asyncpg

            self.pool = await asyncpg.create_pool(
                self.url.replace("postgres://", "postgresql://", 1), min_size=1, max_size=5
            )

    async def close(self) -> None:
        if self.connection is not None:
            await self.connection.close()
        if self.pool is not None:
            await self.pool.close()

    async def rows(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        if self.sqlite:
            async with self.connection.execute(sql.replace("$", "?"), args) as cursor:
                return list(await cursor.fetchall())
        return [tuple(row) for row in await self.pool.fetch(_numbered(sql), *args)]


def _numbered(sql: str) -> str:
    parts = sql.split("$")
    return parts[0] + "".join(f"${i}{part}" for i, part in enumerate(parts[1:], start=1))


def _moment(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


def _now_param(db: Database) -> Any:
    now = datetime.now(UTC)
    # SQLite keeps UTC moments as text ("2026-01-01 00:00:00+00:00") and compares text.
    return now.isoformat(" ") if db.sqlite else now


def _global_id(pk: int) -> str:
    return base64.urlsafe_b64encode(f"News:{pk}".encode()).decode()


def _cursor(published_at: str, pk: int) -> str:
    raw = json.dumps(
        ["news:published_at_desc", published_at, pk], separators=(",", ":"), ensure_ascii=False
    ).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


async def news_list(db: Database) -> bytes:
    now = _now_param(db)
    page = await db.rows(
        f"SELECT id, slug, title, lead, published_at FROM news WHERE {LIVE} "
        "AND published_at <= $ ORDER BY published_at DESC, id DESC LIMIT $",
        now,
        PAGE + 1,
    )
    (total,) = (
        await db.rows(
            "SELECT (SELECT n FROM news_count WHERE scope = 'all' AND scope_id = 0) - "
            f"(SELECT COUNT(*) FROM news WHERE {LIVE} AND published_at > $)",
            now,
        )
    )[0]
    rows = page[:PAGE]
    ids = [row[0] for row in rows]
    tags: dict[int, list[dict[str, str]]] = {pk: [] for pk in ids}
    if ids:
        marks = ", ".join("$" for _ in ids)
        for news_id, name, slug in await db.rows(
            "SELECT l.news_id, t.name, t.slug FROM news_tag l JOIN tag t ON t.id = l.tag_id "
            f"WHERE t.deleted_at IS NULL AND l.news_id IN ({marks}) "
            "ORDER BY l.news_id, l.position, l.id",
            *ids,
        ):
            tags[news_id].append({"name": name, "slug": slug})
    edges = []
    for pk, slug, title, lead, published_at in rows:
        moment = _moment(published_at).isoformat()
        edges.append(
            {
                "cursor": _cursor(moment, pk),
                "node": {
                    "id": _global_id(pk),
                    "slug": slug,
                    "title": title,
                    "lead": lead,
                    "publishedAt": moment,
                    "url": f"{SITE}/news/{quote(slug)}",
                    "tags": tags[pk],
                },
            }
        )
    data = {
        "data": {
            "news": {
                "totalCount": total,
                "edges": edges,
                "pageInfo": {
                    "hasNextPage": len(page) > PAGE,
                    "endCursor": edges[-1]["cursor"] if edges else None,
                },
            }
        }
    }
    return orjson.dumps(data)


def create_app() -> Starlette:
    body_file = os.environ.get("CMS_BENCH_R1_BODY")
    r1_body = open(body_file, "rb").read() if body_file else b'{"data":{}}'  # noqa: SIM115
    db = Database(os.environ.get("CMS_DATABASE_URL", "sqlite://cms.db"))

    async def r1(request: Request) -> Response:
        return Response(r1_body, media_type="application/json")

    async def r3(request: Request) -> Response:
        return Response(await news_list(db), media_type="application/json")

    async def healthz(request: Request) -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await db.open()
        try:
            yield
        finally:
            await db.close()

    return Starlette(
        routes=[
            Route("/r1", r1, methods=["GET", "POST"]),
            Route("/r3", r3, methods=["GET", "POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ],
        lifespan=lifespan,
    )


def main() -> None:
    uvicorn.run(
        "baselines:create_app",
        factory=True,
        app_dir=os.path.dirname(os.path.abspath(__file__)),
        host="127.0.0.1",
        port=int(os.environ.get("CMS_PORT", "8001")),
        access_log=False,
        log_level="warning",
        loop="uvloop",
        http="httptools",
    )


if __name__ == "__main__":
    main()
