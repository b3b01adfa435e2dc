"""Read API throughput: the four representative queries against `python server.py`.

Builds (once, cached under /tmp/cms-bench) a migrated, seeded SQLite database with
10,000 generated news (`python -m cms demo --news 10000`), serves it with the real
server (uvicorn, uvloop, httptools, one process) pinned to core 0, and drives it
with wrk pinned to core 1 over loopback: POST /graphql with a JSON body from a wrk
Lua script. For each query: requests/s, p50 and p99 latency, and the SQL statements
of one request (the X-SQL-Count header the development server sends). Writes the
numbers into bench/REPORT.md between the result markers.

    .venv/bin/python bench/read_api.py                 # 8 s per query after a 2 s warm-up
    .venv/bin/python bench/read_api.py --duration 4 --connections 16
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness
from ladder import write_between_markers

QUERIES = ("news_list", "news_by_tag", "deep_agreement", "news_item")


def main() -> None:
    parser = argparse.ArgumentParser(description="Read API throughput (bench/REPORT.md).")
    parser.add_argument("--news", type=int, default=10_000)
    parser.add_argument("--duration", type=float, default=8.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--database-url", default=None, help="PostgreSQL instead of SQLite")
    parser.add_argument("--report", default=str(harness.ROOT / "bench" / "REPORT.md"))
    args = parser.parse_args()
    command = " ".join([".venv/bin/python bench/read_api.py", *sys.argv[1:]])
    info = harness.machine()
    info["load_before"] = harness.load_average()
    started = time.perf_counter()
    rows = []
    with tempfile.TemporaryDirectory(prefix="cms-read-api-") as tmp:
        url = harness.demo_database(args.news, Path(tmp), args.database_url)
        with harness.serving(harness.cms_server(url)) as server:
            for name in QUERIES:
                op = harness.OPERATIONS[name]
                request = harness.post(op)
                sql, response = harness.sql_count(server.base, request)
                payload = response.json()
                if response.status_code != 200 or payload.get("errors"):
                    raise SystemExit(f"{name}: {response.status_code} {response.text[:300]}")
                harness.wrk(
                    server.base, request, duration=args.warmup, connections=args.connections
                )
                result = harness.wrk(
                    server.base, request, duration=args.duration, connections=args.connections
                )
                rows.append((op, sql, result, len(response.content)))
                print(
                    f"{name:<16} {result.requests_per_second:8.0f} req/s  "
                    f"p50 {result.p50_ms:6.2f} ms  p99 {result.p99_ms:6.2f} ms  sql {sql}",
                    flush=True,
                )
    info["load_after"] = harness.load_average()
    lines = [
        f"Command: `{command}` ({'postgres' if args.database_url else 'sqlite'}, "
        f"{args.news:,} news; {time.perf_counter() - started:.0f} s; commit {info['commit']}).",
        "",
        f"Machine: {info['cpu']}, {info['cores']} cores; Linux {info['kernel']}; "
        f"Python {info['python']}; SQLite {info['sqlite']}; {info['wrk']}; "
        f"{info['packages']}. Load average (1/5/15 min) before: {info['load_before']}, "
        f"after: {info['load_after']}.",
        "",
        f"wrk: 1 thread on core 1, {args.connections} connections, {args.warmup:g} s warm-up, "
        f"then {args.duration:g} s; the server on core 0.",
        "",
        "| query | req/s | p50 ms | p99 ms | SQL statements | response bytes | failed |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for op, sql, result, size in rows:
        lines.append(
            f"| {op.label} | {result.requests_per_second:,.0f} | {result.p50_ms:.2f} | "
            f"{result.p99_ms:.2f} | {sql} | {size:,} | {result.non_2xx_3xx} |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    write_between_markers(Path(args.report), text)


if __name__ == "__main__":
    main()
