"""Webhook events per second through the outbox to a local receiver.

Writes `--events` events into the outbox (as committed changes leave them), then
runs one sender (the loop of a server process, or of `python -m cms worker`) until
every delivery is acknowledged by a receiver on 127.0.0.1 (another process: an
asyncio server that answers 204 at once), and reports events per second, the
attempts and the failures. The database is migrated fresh; see
bench/REPORT-webhooks.md.

    .venv/bin/python bench/webhooks.py --database sqlite:////tmp/wh-bench.db --events 2000
    .venv/bin/python bench/webhooks.py --database postgres://postgres@127.0.0.1:5432/whbench
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cms import db  # noqa: E402
from cms.models import WebhookDelivery, WebhookEvent  # noqa: E402
from cms.services.webhooks.delivery import WebhookSender  # noqa: E402
from cms.services.webhooks.endpoints import EndpointInput, create  # noqa: E402
from cms.services.webhooks.events import EventType, record  # noqa: E402
from cms.settings import load_settings  # noqa: E402

RESPONSE = b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"


async def serve(port: int) -> None:
    """The receiver: reads each request (headers, then Content-Length bytes), answers
    204, keeps the connection."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                await reader.readexactly(length)
                writer.write(RESPONSE)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


async def bench(database: str, events: int, concurrency: int, port: int) -> None:
    env = {
        "CMS_DATABASE_URL": database,
        "CMS_SECRET_KEY": "bench",
        "CMS_WEBHOOK_ALLOW_PRIVATE": "on",
        "CMS_WEBHOOK_CONCURRENCY": str(concurrency),
    }
    settings = load_settings(env)
    await db.migrate(database)
    async with db.database(database):
        await create(
            settings,
            EndpointInput(
                url=f"http://127.0.0.1:{port}/hook", event_types=[EventType.CONTENT_UPDATED]
            ),
            created_by=None,
        )
        started = time.perf_counter()
        for n in range(events):
            await record(
                EventType.CONTENT_UPDATED,
                {
                    "kind": "News",
                    "id": f"bench-{n}",
                    "databaseId": n,
                    "slug": f"news-{n}",
                    "status": "PUBLISHED",
                    "revision": 2,
                    "changedFields": ["title"],
                },
                content_type="News",
            )
        written = time.perf_counter() - started
        sender = WebhookSender(settings)
        started = time.perf_counter()
        rounds = 0
        while await WebhookDelivery.filter(delivered_at__isnull=True).exists() or (
            await WebhookEvent.filter(dispatched_at__isnull=True).exists()
        ):
            await sender.run_once()
            rounds += 1
        took = time.perf_counter() - started
        await sender.close()
        delivered = await WebhookDelivery.filter(delivered_at__isnull=False).count()
        attempts = sum(await WebhookDelivery.all().values_list("attempts", flat=True))
    print(f"database: {database.split(':')[0]}, events: {events}, concurrency: {concurrency}")
    print(f"outbox writes: {events / written:.0f} events/s (one insert each, no transaction)")
    print(
        f"delivered: {delivered} in {took:.2f} s = {delivered / took:.0f} events/s "
        f"({rounds} rounds, {attempts} attempts)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True, help="a fresh database URL")
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=10, help="CMS_WEBHOOK_CONCURRENCY")
    parser.add_argument("--port", type=int, default=18765)
    parser.add_argument("--receiver", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.receiver:
        asyncio.run(serve(args.port))
        return
    receiver = subprocess.Popen(
        [sys.executable, __file__, "--receiver", "--database", "-", "--port", str(args.port)],
        env=os.environ,
    )
    try:
        time.sleep(0.5)
        asyncio.run(bench(args.database, args.events, args.concurrency, args.port))
    finally:
        receiver.terminate()
        receiver.wait()


if __name__ == "__main__":
    main()
