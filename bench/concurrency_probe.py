"""Do requests per second hold with concurrency (issue 13, item 3)? A probe.

The news list (response cache off) with 1, 4 and 16 requests in flight, through
Strawberry (`CMS_QUERY_COMPILER=off`) and compiled, for `--seconds` each:

- by default in one process, over the ASGI app (no socket, no uvicorn);
- with `--wrk`, against a real uvicorn server (bench/harness.py: the server on
  core 0, wrk on core 1), one server per executor.

    .venv/bin/python bench/concurrency_probe.py [--news 10000] [--seconds 3] [--wrk]
        [--connections 1,4,16] [--database-url postgres://postgres@127.0.0.1:5432/concurrency]
    .venv/bin/python bench/concurrency_probe.py --mixed   # reads beside writes
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import harness

EXECUTORS = (("off", "Strawberry"), ("on", "compiled"))


def cpu_and_queue_seconds(pid: int) -> tuple[float, float]:
    """CPU time of a process's threads so far, and how long they waited, runnable,
    for a CPU (/proc/<pid>/task/*/schedstat: nanoseconds on a CPU, waiting)."""
    cpu = queued = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(FileNotFoundError):
            on_cpu, waiting, _ = (task / "schedstat").read_text().split()
            cpu, queued = cpu + int(on_cpu), queued + int(waiting)
    return cpu / 1e9, queued / 1e9


def cell(
    rate: float, cpu_per_request: float, p99_ms: float | None = None, queued: float | None = None
) -> str:
    """Requests per second and the server's CPU milliseconds per request: on a loaded
    machine the rate follows the CPU the server gets, the CPU per request much less.
    Over HTTP also the p99 and the share of the run the server's threads waited for a
    CPU taken by other processes."""
    tail = "" if p99_ms is None else f", p99 {p99_ms:.0f} ms"
    tail += "" if queued is None else f", waited {queued:.0%}"
    return f"{rate:,.0f} ({cpu_per_request * 1000:.2f} ms CPU{tail})"


def header(url: str, news: int, seconds: float, how: str, connections: list[int]) -> None:
    database = "PostgreSQL" if url.startswith("postgres") else "SQLite"
    print(
        f"{news} news, {database}, {how}, {seconds:g} s per cell, "
        f"load average {harness.load_average()}"
    )
    print(
        "| executor | "
        + " | ".join(f"{n} in flight: req/s (CPU/request)" for n in connections)
        + " |"
    )
    print("| --- |" + " ---: |" * len(connections))


async def in_process(url: str, news: int, seconds: float, connections: list[int]) -> None:
    import httpx

    from cms.settings import load_settings
    from web.app import create_app

    os.environ.update(harness.BENCH_ENV)
    os.environ["CMS_DATABASE_URL"] = url
    os.environ["CMS_RESPONSE_CACHE"] = "off"
    apps = {
        mode: create_app(
            load_settings({**os.environ, "CMS_QUERY_COMPILER": mode}),
            manage_database=mode == "off",
        )
        for mode, _ in EXECUTORS
    }
    body = harness.OPERATIONS["news_list"].body()
    headers = {"content-type": "application/json"}
    header(url, news, seconds, "in process", connections)
    async with (
        apps["off"].router.lifespan_context(apps["off"]),
        apps["on"].router.lifespan_context(apps["on"]),
    ):
        for mode, label in EXECUTORS:
            transport = httpx.ASGITransport(app=apps[mode])
            async with httpx.AsyncClient(transport=transport, base_url="http://p") as client:
                await client.post("/graphql", content=body, headers=headers)
                cells = []
                for workers in connections:
                    done = 0
                    deadline = time.perf_counter() + seconds

                    async def worker(
                        client: httpx.AsyncClient = client, deadline: float = deadline
                    ) -> None:
                        nonlocal done
                        while time.perf_counter() < deadline:
                            response = await client.post("/graphql", content=body, headers=headers)
                            assert response.status_code == 200
                            done += 1

                    started, cpu = time.perf_counter(), time.process_time()
                    await asyncio.gather(*(worker() for _ in range(workers)))
                    rate = done / (time.perf_counter() - started)
                    cells.append(cell(rate, (time.process_time() - cpu) / done))
                print(f"| {label} | " + " | ".join(cells) + " |")


def over_http(url: str, news: int, seconds: float, connections: list[int]) -> None:
    op = harness.OPERATIONS["news_list"]
    request = harness.post(op)
    header(url, news, seconds, "uvicorn + wrk", connections)
    for mode, label in EXECUTORS:
        with harness.serving(harness.cms_server(url, CMS_QUERY_COMPILER=mode)) as server:
            response = request.send(server.base)
            assert response.status_code == 200
            assert b'"errors"' not in response.content
            harness.wrk(server.base, request, duration=1, connections=4)  # warm up
            cells = []
            for n in connections:
                assert server.process is not None
                cpu, queued = cpu_and_queue_seconds(server.process.pid)
                started = time.perf_counter()
                result = harness.wrk(server.base, request, duration=seconds, connections=n)
                took = time.perf_counter() - started
                assert result.non_2xx_3xx == 0, result.raw
                assert not result.socket_errors, result.raw
                cpu_after, queued_after = cpu_and_queue_seconds(server.process.pid)
                used = (cpu_after - cpu) / result.requests
                waited = (queued_after - queued) / took
                cells.append(cell(result.requests_per_second, used, result.p99_ms, waited))
            print(f"| {label} | " + " | ".join(cells) + " |", flush=True)


def mixed(url: str, news: int, seconds: float) -> None:
    """Reads and writes side by side (compiled on): the news list with 16 connections
    and, at the same time, the submitFeedback mutation with 2; each also alone."""
    reads = harness.post(harness.OPERATIONS["news_list"])
    writes = harness.post(harness.OPERATIONS["submit_feedback"])
    database = "PostgreSQL" if url.startswith("postgres") else "SQLite"
    print(f"{news} news, {database}, mixed load, load average {harness.load_average()}")
    with harness.serving(harness.cms_server(url, CMS_QUERY_COMPILER="on")) as server:
        assert writes.send(server.base).status_code == 200
        alone = harness.wrk(server.base, writes, duration=seconds, connections=4)
        print(f"submitFeedback alone, 4 connections: {alone.requests_per_second:,.0f} req/s")
        alone = harness.wrk(server.base, reads, duration=seconds, connections=16)
        print(f"news list alone, 16 connections: {alone.requests_per_second:,.0f} req/s")
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            beside = pool.submit(harness.wrk, server.base, writes, duration=seconds, connections=2)
            read = harness.wrk(server.base, reads, duration=seconds, connections=16)
            write = beside.result()
        print(
            f"together: news list {read.requests_per_second:,.0f} req/s "
            f"(p99 {read.p99_ms:.0f} ms), submitFeedback {write.requests_per_second:,.0f} "
            f"req/s (p99 {write.p99_ms:.0f} ms)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--news", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--connections", default="1,4,16", help="requests in flight, e.g. 1,16")
    parser.add_argument("--database-url", default=None, help="PostgreSQL instead of SQLite")
    parser.add_argument("--wrk", action="store_true", help="uvicorn and wrk, not in process")
    parser.add_argument("--mixed", action="store_true", help="reads beside writes (wrk)")
    arguments = parser.parse_args()
    connections = [int(n) for n in arguments.connections.split(",")]
    work = Path(tempfile.mkdtemp(prefix="cms-concurrency-"))
    url = harness.demo_database(arguments.news, work, arguments.database_url)
    if arguments.mixed:
        mixed(url, arguments.news, arguments.seconds)
    elif arguments.wrk:
        over_http(url, arguments.news, arguments.seconds, connections)
    else:
        asyncio.run(in_process(url, arguments.news, arguments.seconds, connections))


if __name__ == "__main__":
    main()
