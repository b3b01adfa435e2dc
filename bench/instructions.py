"""Instructions per uncached request, counted by valgrind (callgrind): a measure that
other load on a shared machine does not disturb, to compare two commits.

The real application (its ASGI app, every middleware, the view, the ORM, SQLite in
its driver thread) answers `--requests` POSTs of one operation in process (no
socket, so uvicorn's HTTP parsing is left out), after 30 to warm up. Under
callgrind, only those requests are counted, in every thread: a small C helper,
compiled here with cc against valgrind's callgrind.h, zeroes the counters and
starts instrumentation before them and dumps the counts after them (outside
valgrind its calls do nothing).

    .venv/bin/python bench/instructions.py --operation news_item --callgrind

prints instructions per request (a minute or two per operation). Run it from the
root of the checkout to measure: it imports that checkout's code (`web.app`, or
`server` for commits before the web/ package), so another commit is measured by
running this file from a worktree of it.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path.cwd()
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import harness  # noqa: E402

_HELPER = """#include <valgrind/callgrind.h>
void cms_bench_start(void) { CALLGRIND_ZERO_STATS; CALLGRIND_START_INSTRUMENTATION; }
void cms_bench_stop(void) { CALLGRIND_DUMP_STATS_AT("measured"); CALLGRIND_STOP_INSTRUMENTATION; }
"""


def helper() -> ctypes.CDLL:
    """The start/stop helper, built once into the bench cache."""
    harness.CACHE_DIR.mkdir(parents=True, exist_ok=True)
    library = harness.CACHE_DIR / "callgrind-control.so"
    if not library.exists():
        source = library.with_suffix(".c")
        source.write_text(_HELPER)
        building = library.with_suffix(".building")
        subprocess.run(
            ["cc", "-O1", "-shared", "-fPIC", "-o", str(building), str(source)], check=True
        )
        building.rename(library)
    return ctypes.CDLL(str(library))


async def serve(operation: str, requests: int, news: int) -> None:
    import httpx
    import orjson

    control = helper()
    work = Path(tempfile.mkdtemp(prefix="cms-instructions-"))
    url = harness.demo_database(news, work)
    os.environ.update(harness.BENCH_ENV)
    os.environ["CMS_DATABASE_URL"] = url
    os.environ["CMS_RESPONSE_CACHE"] = "off"
    try:
        from web.app import create_app
    except ImportError:  # before the web/ package
        from server import create_app  # type: ignore[attr-defined,no-redef]
    from cms.settings import load_settings

    app = create_app(load_settings())
    op = harness.OPERATIONS[operation]
    body = op.body()
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:

            async def one(index: int) -> bytes:
                content = body
                if op.mutation:  # a new e-mail per request, like the ladder's wrk script
                    content = body.replace(b"bench@", f"bench-{index}@".encode(), 1)
                response = await client.post(
                    "/graphql", content=content, headers={"content-type": "application/json"}
                )
                assert response.status_code == 200, response.text
                return response.content

            for index in range(30):
                # Answers are checked while warming up only: decoding them is not counted.
                answer = orjson.loads(await one(index))
                assert "errors" not in answer, answer
                assert answer["data"], answer
            control.cms_bench_start()
            for index in range(30, 30 + requests):
                await one(index)
            control.cms_bench_stop()


def callgrind(operation: str, requests: int, news: int) -> int:
    """Instructions of `requests` requests, counted by callgrind in a child process."""
    with tempfile.TemporaryDirectory() as directory:
        out = Path(directory) / "callgrind.out"
        subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                "--instr-atstart=no",
                f"--callgrind-out-file={out}",
                sys.executable,
                str(Path(__file__).resolve()),
                "--operation",
                operation,
                "--requests",
                str(requests),
                "--news",
                str(news),
            ],
            cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": "0"},
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        dumps = [path for path in Path(directory).iterdir() if path.name != out.name]
        measured = [p for p in dumps if "Trigger: Client Request: measured" in p.read_text()]
        assert len(measured) == 1, f"expected one dump of the measured requests: {dumps}"
        match = re.search(r"^summary: (\d+)", measured[0].read_text(), re.MULTILINE)
        assert match, "no summary line in the callgrind output"
        return int(match.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--operation", default="news_item", choices=sorted(harness.OPERATIONS))
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--news", type=int, default=10_000)
    parser.add_argument("--callgrind", action="store_true", help="count under callgrind")
    args = parser.parse_args()
    if not args.callgrind:
        asyncio.run(serve(args.operation, args.requests, args.news))
        return
    harness.demo_database(args.news, Path(tempfile.mkdtemp()))  # built outside valgrind
    total = callgrind(args.operation, args.requests, args.news)
    print(
        f"{args.operation}: {total / args.requests:,.0f} instructions per request "
        f"(callgrind, {args.requests} requests after 30 to warm up; {harness.machine()['commit']})"
    )


if __name__ == "__main__":
    main()
