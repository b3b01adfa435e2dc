"""The speed ladder: how far each way of answering is from the bare server stack.

In one run, on one machine, server on core 0 and load generator on core 1:

- R1: a bare Starlette endpoint answering pre-serialised bytes (bench/baselines.py);
- R3: the news list written by hand (SQL + orjson, no ORM, no GraphQL);
- the CMS, for the representative operations, in each mode it offers: uncached POST;
  with the response cache (CMS_RESPONSE_CACHE=on, POST); as an automatic persisted
  query over GET (Apollo APQ); as a 304 (GET with If-None-Match). A mode whose
  feature is not in this build is reported as "n/a (feature not present)";
- the list queries again on 1k and 100k news (SQL per request, rate at 100k).

For each: requests/s and p50/p99 at the peak (wrk, fixed connections), SQL
statements per request (X-SQL-Count of one request), the server's peak RSS during
the run (VmHWM, reset before each scenario), ratios to R1 and R3, and p99 at three
quarters of the peak rate (bench/openloop.py, an open-loop generator). Writes the
results into bench/LADDER.md between the result markers, and the raw numbers as JSON.

    .venv/bin/python bench/ladder.py            # the full ladder, ~12 minutes
    .venv/bin/python bench/ladder.py --quick    # shorter runs, 10k news only
    .venv/bin/python bench/ladder.py --database-url postgres://postgres@127.0.0.1:5432/ladder
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness
from harness import OPERATIONS, Operation, Request, Server

READS = ("news_list", "news_by_tag", "deep_agreement", "news_item", "narrow_100")
# The ladder issue 13 was filed on (LADDER.md at dd36a87, 10k news): its uncached
# rates in req/s, and the highest peak RSS of the CMS's rows in MiB.
ISSUE_LADDER = {
    "sqlite": {
        "news_list": 121,
        "news_by_tag": 76,
        "deep_agreement": 61,
        "news_item": 138,
        "narrow_100": 117,
    },
    "postgres": {
        "news_list": 141,
        "news_by_tag": 105,
        "deep_agreement": 67,
        "news_item": 122,
        "narrow_100": 136,
    },
}
ISSUE_PEAK_RSS_MIB = {"sqlite": 89, "postgres": 92}
LISTS = ("news_list", "news_by_tag", "narrow_100")
NA = "n/a (feature not present)"


@dataclass
class Row:
    scenario: str
    mode: str
    news: int
    rps: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    sql: int | None = None
    peak_rss_mib: float | None = None
    errors: int = 0
    p99_at_75_ms: float | None = None
    rate_at_75: float | None = None
    achieved_at_75: float | None = None
    # How late the generator's own sends were (p99): the client's share of a latency.
    late_at_75_ms: float | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Settings:
    duration: float
    warmup: float
    open_loop: float
    connections: int


def measure(
    server: Server,
    request: Request,
    row: Row,
    settings: Settings,
    *,
    sql_request: Request | None = None,
) -> Row:
    if sql_request is not None:
        row.sql, _ = harness.sql_count(server.base, sql_request)
    harness.wrk(server.base, request, duration=settings.warmup, connections=settings.connections)
    server.reset_peak_rss()
    result = harness.wrk(
        server.base, request, duration=settings.duration, connections=settings.connections
    )
    row.rps, row.p50_ms, row.p99_ms = result.requests_per_second, result.p50_ms, result.p99_ms
    row.errors = result.non_2xx_3xx
    if result.socket_errors:
        row.note = (row.note + " socket errors: " + result.socket_errors).strip()
    if settings.open_loop > 0 and row.rps:
        rate = round(row.rps * 0.75, 1)
        loop = harness.open_loop(
            server.base,
            request,
            rate=rate,
            duration=settings.open_loop,
            connections=settings.connections,
        )
        row.rate_at_75, row.achieved_at_75 = rate, loop.achieved_rate
        row.p99_at_75_ms = loop.p99_ms
        row.late_at_75_ms = loop.late_p99_ms
        row.errors += loop.failed
    row.peak_rss_mib = server.peak_rss_mib()
    print(
        f"  {row.scenario:<16} {row.mode:<10} {row.news:>6}  {row.rps:>8.0f} req/s  "
        f"p50 {row.p50_ms:6.2f}  p99 {row.p99_ms:6.2f}  sql {row.sql}  "
        f"rss {row.peak_rss_mib:.0f} MiB  p99@75% {row.p99_at_75_ms}",
        flush=True,
    )
    return row


def settle(url: str) -> None:
    """The work the submissions left the database (thousands of new rows: on
    PostgreSQL autovacuum and the checkpoint of the pages they dirtied, on SQLite the
    WAL's checkpoint), done now rather than during the rows measured after them."""
    if url.startswith("postgres"):
        dsn = url.replace("postgres://", "postgresql://", 1)
        subprocess.run(["psql", dsn, "-qc", "VACUUM ANALYZE"], check=True)
        subprocess.run(["psql", dsn, "-qc", "CHECKPOINT"], check=True)
        return
    with contextlib.closing(sqlite3.connect(url.removeprefix("sqlite://"))) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def check(op: Operation, response: httpx.Response) -> None:
    if response.status_code != 200:
        raise RuntimeError(f"{op.name}: HTTP {response.status_code}: {response.text[:300]}")
    payload = response.json()
    if payload.get("errors"):
        raise RuntimeError(f"{op.name}: {payload['errors']}")
    if op.mutation and not payload["data"]["submitFeedback"]["ticket"]:
        raise RuntimeError(f"{op.name}: no ticket: {payload}")


# ---------------------------------------------------------------- modes


def uncached(server: Server, ops: list[str], news: int, settings: Settings) -> list[Row]:
    rows = []
    for name in ops:
        op = OPERATIONS[name]
        request = harness.post(op)
        check(op, request.send(server.base))
        rows.append(
            measure(server, request, Row(name, "uncached", news), settings, sql_request=request)
        )
    return rows


def cached(server: Server, news: int, settings: Settings) -> list[Row]:
    rows = []
    for name in READS:
        op = OPERATIONS[name]
        request = harness.post(op)
        first = request.send(server.base)
        check(op, first)
        sql, response = harness.sql_count(server.base, request)
        hit = sql == 0 or "hit" in response.headers.get("x-cache", "").lower()
        if not hit:
            rows.append(Row(name, "cached", news, note=NA, sql=sql))
            print(f"  {name:<16} cached     {NA} (a repeat still ran {sql} statements)")
            continue
        rows.append(
            measure(server, request, Row(name, "cached", news), settings, sql_request=request)
        )
    return rows


def persisted(server: Server, news: int, settings: Settings) -> list[Row]:
    rows = []
    for name in READS:
        op = OPERATIONS[name]
        request = harness.persisted_get(op)
        registration = harness.register_persisted(server.base, op)
        response = request.send(server.base)
        try:
            ok = response.status_code == 200 and not response.json().get("errors")
        except ValueError:
            ok = False
        if registration.status_code != 200 or not ok:
            rows.append(Row(name, "apq-get", news, note=NA))
            print(
                f"  {name:<16} apq-get    {NA} (GET by hash answered "
                f"{response.status_code}: {response.text[:120]!r})"
            )
            continue
        rows.append(
            measure(server, request, Row(name, "apq-get", news), settings, sql_request=request)
        )
    return rows


def not_modified(server: Server, news: int, settings: Settings, apq: bool) -> list[Row]:
    rows = []
    for name in READS:
        op = OPERATIONS[name]
        get = harness.persisted_get(op) if apq else harness.plain_get(op)
        response = get.send(server.base)
        etag = response.headers.get("etag")
        if response.status_code != 200 or not etag:
            rows.append(Row(name, "304", news, note=NA))
            print(f"  {name:<16} 304        {NA} (no ETag on GET)")
            continue
        conditional = Request(get.method, get.path, headers=(*get.headers, ("If-None-Match", etag)))
        answer = conditional.send(server.base)
        if answer.status_code != 304:
            rows.append(
                Row(name, "304", news, note=f"{NA} (If-None-Match answered {answer.status_code})")
            )
            continue
        rows.append(
            measure(server, conditional, Row(name, "304", news), settings, sql_request=conditional)
        )
    return rows


# ---------------------------------------------------------------- the run


def run(args: argparse.Namespace) -> dict[str, Any]:
    settings = Settings(
        duration=args.duration,
        warmup=args.warmup,
        open_loop=args.open_loop,
        connections=args.connections,
    )
    sizes = [10_000] if args.quick else [1_000, 10_000, 100_000]
    started = time.perf_counter()
    info = harness.machine()
    info["load_before"] = harness.load_average()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="cms-ladder-") as tmp:
        work = Path(tmp)
        urls = {n: harness.demo_database(n, work, args.database_url) for n in sizes}
        main_url = urls[10_000]
        placement = contextlib.ExitStack()
        if args.database_url and not args.postgres_unpinned:
            info["postgres"] = placement.enter_context(
                harness.postgres_on_client_core(args.database_url)
            )
        elif args.database_url:
            info["postgres"] = "PostgreSQL unpinned (on both cores)"

        print("CMS, uncached (10k news)", flush=True)
        with harness.serving(harness.cms_server(main_url)) as server:
            body = harness.post(OPERATIONS["news_list"]).send(server.base)
            check(OPERATIONS["news_list"], body)
            (work / "r1.json").write_bytes(body.content)
            cms_list = body.json()
            ops = [*READS, "submit_feedback"]
            rows += uncached(server, ops, 10_000, settings)
        settle(main_url)

        print("Baselines R1 and R3 (10k news)", flush=True)
        baseline = Server(
            [harness.PYTHON, "bench/baselines.py"],
            {"CMS_DATABASE_URL": main_url, "CMS_BENCH_R1_BODY": str(work / "r1.json")},
        )
        with harness.serving(baseline) as server:
            r3_body = httpx.post(server.base + "/r3").json()
            # The data must be equal; the CMS may add `extensions` (e.g. the cost).
            same = r3_body.get("data") == cms_list.get("data")
            for path, name in (("/r1", "R1"), ("/r3", "R3")):
                request = Request(
                    "POST",
                    path,
                    OPERATIONS["news_list"].body(),
                    (("Content-Type", "application/json"),),
                )
                row = Row(name, "baseline", 10_000, sql={"R1": 0, "R3": 3}[name])
                if name == "R3" and not same:
                    row.note = "R3's answer differs from the CMS's!"
                rows.append(measure(server, request, row, settings))

        for n in sizes:
            if n == 10_000:
                continue
            print(f"CMS, list queries on {n} news", flush=True)
            with harness.serving(harness.cms_server(urls[n])) as server:
                rows += uncached(server, list(LISTS), n, settings)

        print("CMS with the response cache, persisted GET and 304 (10k news)", flush=True)
        with harness.serving(harness.cms_server(main_url, CMS_RESPONSE_CACHE="on")) as server:
            rows += cached(server, 10_000, settings)
            apq_rows = persisted(server, 10_000, settings)
            rows += apq_rows
            apq = any(row.rps for row in apq_rows)
            rows += not_modified(server, 10_000, settings, apq)
        placement.close()
    info["load_after"] = harness.load_average()
    info["seconds"] = f"{time.perf_counter() - started:.0f}"
    return {
        "machine": info,
        "settings": asdict(settings),
        "r3_equal": same,
        "rows": [asdict(row) for row in rows],
        "sizes": sizes,
        "database": "postgres" if args.database_url else "sqlite",
    }


# ---------------------------------------------------------------- the report


def _f(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def targets(result: dict[str, Any]) -> list[tuple[str, str, str]]:
    rows = [Row(**row) for row in result["rows"]]
    by = {(r.scenario, r.mode, r.news): r for r in rows}
    r1 = by[("R1", "baseline", 10_000)].rps or 0
    r3 = by[("R3", "baseline", 10_000)].rps or 0
    out = []
    fast = [r for r in rows if r.mode in ("cached", "apq-get", "304")]
    measured = [r for r in fast if r.rps]
    if not measured:
        out.append(
            (
                "cached and persisted paths ≥ 70% of R1",
                "not measurable",
                "no cache, APQ or 304 in this build",
            )
        )
    else:
        lowest = min(measured, key=lambda r: r.rps or 0)
        met = all((r.rps or 0) >= 0.7 * r1 for r in measured)
        missing = len(fast) - len(measured)
        out.append(
            (
                "cached and persisted paths ≥ 70% of R1",
                "met" if met else "missed",
                f"lowest {lowest.scenario}/{lowest.mode}: {_f(lowest.rps, 0)} req/s = "
                f"{(lowest.rps or 0) / r1:.0%} of R1"
                + (f"; {missing} modes n/a" if missing else ""),
            )
        )
    news = by[("news_list", "uncached", 10_000)]
    share = (news.rps or 0) / r3 if r3 else 0
    out.append(
        (
            "uncached news list ≥ 50% of R3",
            "met" if share >= 0.5 else "missed",
            f"{_f(news.rps, 0)} / {_f(r3, 0)} req/s = {share:.0%}",
        )
    )
    before = ISSUE_LADDER[result["database"]]
    gains = {name: (by[(name, "uncached", 10_000)].rps or 0) / n for name, n in before.items()}
    out.append(
        (
            "every representative read ≥ 5 × its rate in the issue's ladder",
            "met" if min(gains.values()) >= 5 else "missed",
            ", ".join(f"{name} {gain:.1f} ×" for name, gain in gains.items()),
        )
    )
    deep = by[("deep_agreement", "uncached", 10_000)].sql
    out.append(
        (
            "deep agreement in ≤ 3 statements",
            "met" if deep is not None and deep <= 3 else "missed",
            f"{deep} (14 in the issue's ladder)",
        )
    )
    highest = max(r.peak_rss_mib or 0 for r in rows if r.mode != "baseline")
    then = ISSUE_PEAK_RSS_MIB[result["database"]]
    out.append(
        (
            "memory per process no higher than in the issue's ladder",
            "met" if highest <= then else "missed",
            f"highest peak RSS {highest:.0f} MiB ({then} MiB then)",
        )
    )
    if len(result["sizes"]) > 1:
        const = []
        for name in LISTS:
            counts = {n: by[(name, "uncached", n)].sql for n in result["sizes"]}
            const.append((name, counts))
        ok = all(len(set(c.values())) == 1 for _, c in const)
        out.append(
            (
                "SQL statements per request constant across 1k/10k/100k",
                "met" if ok else "missed",
                "; ".join(f"{name}: " + "/".join(str(v) for v in c.values()) for name, c in const),
            )
        )
        big = by[("news_list", "uncached", 100_000)]
        ratio = (big.rps or 0) / (news.rps or 1)
        out.append(
            (
                "news list at 100k ≥ 90% of its rate at 10k",
                "met" if ratio >= 0.9 else "missed",
                f"{_f(big.rps, 0)} / {_f(news.rps, 0)} req/s = {ratio:.0%}",
            )
        )
    # The issue's target is for the uncached rows; at the cached rows' rates (over
    # 10,000 req/s) one Python generator falls behind (listed, not judged).
    cms = [r for r in rows if r.p99_at_75_ms is not None and r.mode == "uncached"]
    slow = [r for r in cms if (r.p99_at_75_ms or 0) >= 50]
    behind = [
        r
        for r in rows
        if r.p99_at_75_ms is not None
        and r.mode != "baseline"
        and (r.achieved_at_75 or 0) < 0.95 * (r.rate_at_75 or 0)
    ]
    worst = max(cms, key=lambda r: r.p99_at_75_ms or 0) if cms else None
    detail = (
        f"worst {worst.scenario}/{worst.mode}/{worst.news}: {_f(worst.p99_at_75_ms, 1)} ms "
        f"(the generator's own sends late by up to {_f(worst.late_at_75_ms, 1)} ms)"
        if worst
        else ""
    )
    if behind:
        detail += "; generator behind its rate on: " + ", ".join(
            f"{r.scenario}/{r.mode}" for r in behind
        )
    out.append(
        ("p99 < 50 ms at 3/4 of the peak rate, uncached rows", "missed" if slow else "met", detail)
    )
    return out


def markdown(result: dict[str, Any], command: str) -> str:
    rows = [Row(**row) for row in result["rows"]]
    by = {(r.scenario, r.mode, r.news): r for r in rows}
    r1 = by[("R1", "baseline", 10_000)].rps or 0
    r3 = by[("R3", "baseline", 10_000)].rps or 0
    m = result["machine"]
    lines = [
        f"Command: `{command}` ({result['database']}; {m['seconds']} s; commit {m['commit']}).",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores; Linux {m['kernel']}; Python {m['python']}; "
        f"SQLite {m['sqlite']}; {m['wrk']}; {m['packages']}. Load average (1/5/15 min) "
        f"before: {m['load_before']}, after: {m['load_after']}."
        + (f" {m['postgres']}." if m.get("postgres") else ""),
        "",
        f"wrk: 1 thread, {result['settings']['connections']} connections, "
        f"{result['settings']['warmup']} s warm-up then {result['settings']['duration']} s; "
        f"open loop at 3/4 of the peak for {result['settings']['open_loop']} s. "
        f"R3 data equal to the CMS's: {'yes' if result['r3_equal'] else 'NO'}.",
        "",
        "| scenario | mode | news | req/s | p50 ms | p99 ms | SQL/req | peak RSS MiB "
        "| × R1 | × R3 | p99 ms at 3/4 peak (achieved req/s; generator late p99 ms) | note |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in rows:
        ratio1 = f"{(r.rps or 0) / r1:.2f}" if r.rps and r1 else "–"
        ratio3 = (
            f"{(r.rps or 0) / r3:.2f}"
            if r.rps and r3 and (r.scenario in ("news_list", "R3", "R1"))
            else ""
        )
        late = f"; {_f(r.late_at_75_ms)}" if r.late_at_75_ms is not None else ""
        at75 = (
            f"{_f(r.p99_at_75_ms)} ({_f(r.achieved_at_75, 0)}{late})"
            if r.p99_at_75_ms is not None
            else "–"
        )
        note = r.note + (f" {r.errors} failed" if r.errors else "")
        lines.append(
            f"| {r.scenario} | {r.mode} | {r.news:,} | {_f(r.rps, 0)} | {_f(r.p50_ms, 2)} | "
            f"{_f(r.p99_ms, 2)} | {'–' if r.sql is None else r.sql} | {_f(r.peak_rss_mib, 0)} | "
            f"{ratio1} | {ratio3} | {at75} | {note.strip()} |"
        )
    lines += ["", "| target | result | numbers |", "| --- | --- | --- |"]
    for name, verdict, detail in targets(result):
        lines.append(f"| {name} | **{verdict}** | {detail} |")
    return "\n".join(lines) + "\n"


def write_between_markers(path: Path, text: str, name: str = "results") -> None:
    """Replaces what is between <!-- NAME:begin --> and <!-- NAME:end --> in `path`."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    current = path.read_text() if path.exists() else ""
    if begin not in current:
        current += f"\n{begin}\n{end}\n"
    head, rest = current.split(begin, 1)
    _, tail = rest.split(end, 1)
    path.write_text(f"{head}{begin}\n{text}{end}{tail}")


def main() -> None:
    parser = argparse.ArgumentParser(description="The speed ladder (see bench/LADDER.md).")
    parser.add_argument("--quick", action="store_true", help="short runs, 10k news only")
    parser.add_argument("--database-url", default=None, help="PostgreSQL instead of SQLite")
    parser.add_argument("--duration", type=float, default=None)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument(
        "--postgres-unpinned",
        action="store_true",
        help="leave PostgreSQL on both cores (by default it shares the generator's)",
    )
    parser.add_argument("--report", default=str(harness.ROOT / "bench" / "LADDER.md"))
    parser.add_argument("--json", default=None, help="where to store the raw numbers")
    args = parser.parse_args()
    args.duration = args.duration or (3.0 if args.quick else 6.0)
    args.warmup = 1.0 if args.quick else 2.0
    args.open_loop = 2.0 if args.quick else 4.0
    command = "  ".join([".venv/bin/python bench/ladder.py", *sys.argv[1:]]).replace("  ", " ")
    result = run(args)
    text = markdown(result, command)
    print(text)
    markers = "results" if result["database"] == "sqlite" else f"results-{result['database']}"
    write_between_markers(Path(args.report), text, markers)
    raw = (
        Path(args.json)
        if args.json
        else (harness.ROOT / "bench" / "results" / f"ladder-{result['database']}.json")
    )
    raw.parent.mkdir(exist_ok=True)
    raw.write_text(json.dumps(result, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
