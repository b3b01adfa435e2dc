"""Why requests per second fall with concurrency on SQLite (issue 13, item 3): a probe.

In one process, over the ASGI app (no socket, no uvicorn), `--seconds` of the news
list with 1 and with 16 requests in flight, through Strawberry and compiled, with
the interpreter's default GIL switch interval (5 ms) and a short one (0.5 ms).

    .venv/bin/python bench/concurrency_probe.py [--news 10000] [--seconds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import harness


async def run(news: int, seconds: float) -> None:
    import httpx

    from cms.settings import load_settings
    from web.app import create_app

    work = Path(tempfile.mkdtemp(prefix="cms-concurrency-"))
    url = harness.demo_database(news, work)
    os.environ.update(harness.BENCH_ENV)
    os.environ["CMS_DATABASE_URL"] = url
    os.environ["CMS_RESPONSE_CACHE"] = "off"
    apps = {
        mode: create_app(
            load_settings({**os.environ, "CMS_QUERY_COMPILER": mode}),
            manage_database=mode == "off",
        )
        for mode in ("off", "on")
    }
    body = harness.OPERATIONS["news_list"].body()
    headers = {"content-type": "application/json"}
    print(f"{news} news, SQLite, {seconds} s per cell, load average {harness.load_average()}")
    print("| executor | switch interval | 1 in flight, req/s | 16 in flight, req/s |")
    print("| --- | ---: | ---: | ---: |")
    async with (
        apps["off"].router.lifespan_context(apps["off"]),
        apps["on"].router.lifespan_context(apps["on"]),
    ):
        for mode, label in (("off", "Strawberry"), ("on", "compiled")):
            transport = httpx.ASGITransport(app=apps[mode])
            async with httpx.AsyncClient(transport=transport, base_url="http://p") as client:
                await client.post("/graphql", content=body, headers=headers)
                for interval in (0.005, 0.0005):
                    sys.setswitchinterval(interval)
                    rates = []
                    for workers in (1, 16):
                        done = 0
                        deadline = time.perf_counter() + seconds

                        async def worker(
                            client: httpx.AsyncClient = client, deadline: float = deadline
                        ) -> None:
                            nonlocal done
                            while time.perf_counter() < deadline:
                                response = await client.post(
                                    "/graphql", content=body, headers=headers
                                )
                                assert response.status_code == 200
                                done += 1

                        started = time.perf_counter()
                        await asyncio.gather(*(worker() for _ in range(workers)))
                        rates.append(done / (time.perf_counter() - started))
                    print(
                        f"| {label} | {interval * 1000:g} ms | {rates[0]:,.0f} | {rates[1]:,.0f} |"
                    )
    sys.setswitchinterval(0.005)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--news", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=3.0)
    arguments = parser.parse_args()
    asyncio.run(run(arguments.news, arguments.seconds))


if __name__ == "__main__":
    main()
