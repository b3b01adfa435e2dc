"""Latency from `publishNews` to a subscriber's message, with many subscriptions open.

A fresh SQLite database (migrated and seeded) and `python server.py` pinned to core 0;
this client on core 1 opens CONNECTIONS WebSocket connections (graphql-transport-ws)
with SUBSCRIPTIONS each, anonymous, all on `contentChanged(kinds: [NEWS])`. Then, for
each of EVENTS drafts made beforehand, it sends `publishNews` and records, for every
subscription, the time from sending the mutation to receiving that news item's
PUBLISHED message (what the subscriber's own code would see). The mutation's own
answer time is reported too. See bench/REPORT-subscriptions.md.

    taskset -c 1 .venv/bin/python bench/subscriptions.py --connections 10 \\
        --subscriptions 100 --events 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from websockets.asyncio.client import ClientConnection, connect

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import PYTHON, ROOT, cms_server, load_average, machine, serving

SUBSCRIPTION = (
    "subscription { contentChanged(kinds: [NEWS]) "
    "{ action id item { id ... on News { title slug publishedAt } } } }"
)
CREATE = "mutation($t: String!) { createNews(input: {title: $t}) { news { id } errors { code } } }"
PUBLISH = "mutation($id: ID!) { publishNews(id: $id) { news { id } errors { code } } }"


PASSWORD = "bench correct horse battery"
LOGIN = """
mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) { token } }
"""


def create_editor(database_url: str) -> str:
    email = "bench-editor@example.com"
    subprocess.run(
        [PYTHON, "-m", "cms", "createuser", "--email", email, "--role", "editor"],
        cwd=ROOT,
        env={**os.environ, "CMS_DATABASE_URL": database_url, "CMS_NEW_USER_PASSWORD": PASSWORD},
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return email


def login(base: str, email: str) -> str:
    answer = httpx.post(
        base + "/graphql", json={"query": LOGIN, "variables": {"e": email, "p": PASSWORD}}
    ).json()
    token: str = answer["data"]["login"]["token"]
    return token


class Subscriber:
    """One connection: its subscriptions' PUBLISHED messages, by news id, timed."""

    def __init__(self, connection: ClientConnection, count: int) -> None:
        self.connection = connection
        self.count = count
        # news id -> receipt times (one per subscription)
        self.received: dict[str, list[float]] = {}
        self.heard = asyncio.Event()

    async def start(self) -> None:
        await self.connection.send(json.dumps({"type": "connection_init", "payload": {}}))
        ack = json.loads(await self.connection.recv())
        assert ack["type"] == "connection_ack", ack
        for n in range(self.count):
            message = {"id": str(n), "type": "subscribe", "payload": {"query": SUBSCRIPTION}}
            await self.connection.send(json.dumps(message))

    async def read(self) -> None:
        async for raw in self.connection:
            now = time.perf_counter()
            message = json.loads(raw)
            if message["type"] == "ping":
                await self.connection.send('{"type":"pong"}')
                continue
            assert message["type"] == "next", message
            event = message["payload"]["data"]["contentChanged"]
            self.received.setdefault(event["id"], []).append(now)
            self.heard.set()


async def run(base: str, token: str, connections: int, per_connection: int, events: int) -> dict:
    total = connections * per_connection
    headers = {"authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as http:

        async def mutate(query: str, variables: dict) -> tuple[dict, float]:
            started = time.perf_counter()
            answer = (
                await http.post("/graphql", json={"query": query, "variables": variables})
            ).json()
            assert "errors" not in answer, answer
            (payload,) = answer["data"].values()
            assert payload["errors"] == [], payload
            return payload, time.perf_counter() - started

        drafts = [
            (await mutate(CREATE, {"t": f"Новость для подписчиков {n}"}))[0]["news"]["id"]
            for n in range(events + 1)
        ]
        ws = base.replace("http://", "ws://") + "/graphql"
        subscribers = []
        for _ in range(connections):
            connection = await connect(
                ws,
                subprotocols=["graphql-transport-ws"],
                max_queue=None,  # type: ignore[list-item]
            )
            subscriber = Subscriber(connection, per_connection)
            await subscriber.start()
            subscribers.append(subscriber)
        readers = [asyncio.create_task(s.read()) for s in subscribers]
        # Every subscription listens once each has heard a first publication.
        warm = drafts.pop()
        await mutate(PUBLISH, {"id": warm})
        deadline = time.perf_counter() + 60
        while sum(len(s.received.get(warm, ())) for s in subscribers) < total:
            assert time.perf_counter() < deadline, "not every subscription listens"
            await asyncio.sleep(0.05)

        latencies: list[float] = []
        last: list[float] = []
        mutation_times: list[float] = []
        for news_id in drafts:
            started = time.perf_counter()
            _, took = await mutate(PUBLISH, {"id": news_id})
            mutation_times.append(took)
            deadline = time.perf_counter() + 60
            while sum(len(s.received.get(news_id, ())) for s in subscribers) < total:
                assert time.perf_counter() < deadline, "an event did not reach everyone"
                await asyncio.sleep(0.01)
            times = [t - started for s in subscribers for t in s.received[news_id]]
            latencies.extend(times)
            last.append(max(times))
        for task in readers:
            task.cancel()
        for subscriber in subscribers:
            await subscriber.connection.close()

    def ms(values: list[float], q: float) -> float:
        ordered = sorted(values)
        return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return {
        "subscriptions": total,
        "events": len(drafts),
        "messages": len(latencies),
        "p50_ms": ms(latencies, 0.50),
        "p90_ms": ms(latencies, 0.90),
        "p99_ms": ms(latencies, 0.99),
        "max_ms": 1000 * max(latencies),
        "last_subscriber_median_ms": 1000 * statistics.median(last),
        "publish_mutation_median_ms": 1000 * statistics.median(mutation_times),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=10)
    parser.add_argument("--subscriptions", type=int, default=100, help="per connection")
    parser.add_argument("--events", type=int, default=10)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="cms-bench-subscriptions-"))
    database_url = f"sqlite:///{workdir / 'bench.db'}"
    env = {**os.environ, "CMS_DATABASE_URL": database_url}
    for command in (["migrate"], ["seed"]):
        subprocess.run(
            [PYTHON, "-m", "cms", *command],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    email = create_editor(database_url)
    server = cms_server(
        database_url,
        CMS_SUBSCRIPTION_MAX_PER_CONNECTION=str(args.subscriptions),
        CMS_SUBSCRIPTION_MAX_CONNECTIONS_PER_ADDRESS=str(args.connections),
    )
    print(f"load average before: {load_average()}")
    with serving(server):
        token = login(server.base, email)
        result = asyncio.run(
            run(server.base, token, args.connections, args.subscriptions, args.events)
        )
    print(f"load average after: {load_average()}")
    print(json.dumps({"machine": machine(), "result": result}, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
