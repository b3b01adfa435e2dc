"""The response cache under content changes: `wrk` reads the news list (the cache on,
one process) while an editor makes one change per second, and the hit rate (answers
with `X-SQL-Count: 0`) and throughput are compared with a load without changes.

Scenarios: no changes; one publication per second (a draft published, then
unpublished, and so on: each one enters or leaves the list); one draft edit per
second (the public sees nothing of it). Each is run against this tree (precise
invalidation by surrogate key) and, with `--baseline COMMIT`, against that commit
exported to a temporary directory (the whole-cache generation counter it replaced).
Writes bench/REPORT-invalidation.md.

    .venv/bin/python bench/invalidation.py --baseline cd7d6b7
    .venv/bin/python bench/invalidation.py --baseline a683338 --section results-compiled \
        --name "misses compiled" --baseline-name "misses through Strawberry"
    .venv/bin/python bench/invalidation.py --news 10000 --duration 6 --redis redis://127.0.0.1:6379/0
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import re
import shlex
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness
from ladder import write_between_markers

PASSWORD = "bench-admin-password-1"
EMAIL = "bench-invalidation@example.ru"
DRAFT_SLUG = "chernovik-itogi-b2b-peregovorov-amurskikh-i-altayskikh-predpriyatiy"
# (what wrk reads, what the editor changes once a second)
SCENARIOS = (
    ("news_list", "no changes"),
    ("news_list", "1 publication/s"),
    ("news_list", "1 draft edit/s"),
    ("deep_agreement", "no changes"),
    ("deep_agreement", "1 publication/s"),
)

# Counts the answers served from the cache (no SQL), per wrk thread.
_COUNT_HITS = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
hits = 0
answers = 0
function response(status, headers, body)
  answers = answers + 1
  if headers["x-sql-count"] == "0" or headers["X-SQL-Count"] == "0" then hits = hits + 1 end
end
function done(summary, latency, requests)
  for _, thread in ipairs(threads) do
    io.write(string.format("HITS %d %d\\n", thread:get("hits"), thread:get("answers")))
  end
end
"""


@dataclass
class Row:
    variant: str
    read: str
    scenario: str
    rps: float
    p50_ms: float
    p99_ms: float
    hit_rate: float
    misses: int
    changes: int


class Editor:
    """Logs in as an admin and makes the changes of a scenario."""

    def __init__(self, base: str) -> None:
        self.http = httpx.Client(base_url=base, timeout=30)
        login = self.http.post(
            "/graphql",
            json={
                "query": "mutation($e: String!, $p: String!) { login(input: {email: $e, "
                "password: $p}) { token errors { message } } }",
                "variables": {"e": EMAIL, "p": PASSWORD},
            },
        )
        token = login.json()["data"]["login"]["token"]
        assert token, login.text
        self.http.headers["authorization"] = f"Bearer {token}"
        found = self.http.post(
            "/graphql", json={"query": f'{{ newsItem(slug: "{DRAFT_SLUG}") {{ id status }} }}'}
        )
        self.draft = found.json()["data"]["newsItem"]["id"]
        self.published = False
        self.count = 0

    def change(self, scenario: str) -> None:
        if scenario == "1 publication/s":
            name = "unpublishNews" if self.published else "publishNews"
            query = f"mutation($id: ID!) {{ {name}(id: $id) {{ errors {{ message }} }} }}"
            variables: dict[str, object] = {"id": self.draft}
            self.published = not self.published
        else:
            name = "updateNews"
            query = (
                "mutation($id: ID!, $lead: String) { updateNews(id: $id, input: {lead: $lead}) "
                "{ errors { message } } }"
            )
            variables = {"id": self.draft, "lead": f"Правка черновика {self.count}"}
        answer = self.http.post("/graphql", json={"query": query, "variables": variables})
        assert answer.json()["data"][name]["errors"] == [], answer.text
        self.count += 1

    def reset(self) -> None:
        """Leaves the draft a draft for the next scenario."""
        if self.published:
            self.change("1 publication/s")
        self.count = 0


def measure(
    server: harness.Server, editor: Editor, variant: str, read: str, scenario: str, args
) -> Row:
    request = harness.post(harness.OPERATIONS[read])
    harness.wrk(server.base, request, duration=args.warmup, connections=args.connections)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        running = pool.submit(
            harness.wrk,
            server.base,
            request,
            duration=args.duration,
            connections=args.connections,
            extra_lua=_COUNT_HITS,
        )
        if scenario != "no changes":
            time.sleep(0.5)
            while not running.done():
                started = time.monotonic()
                editor.change(scenario)
                time.sleep(max(0.0, 1.0 - (time.monotonic() - started)))
        result = running.result()
    hits = answers = 0
    for found in re.findall(r"HITS (\d+) (\d+)", result.raw):
        hits += int(found[0])
        answers += int(found[1])
    row = Row(
        variant,
        read,
        scenario,
        result.requests_per_second,
        result.p50_ms,
        result.p99_ms,
        hits / answers if answers else 0.0,
        answers - hits,
        editor.count,
    )
    editor.reset()
    print(
        f"  {variant:<28} {read:<15} {scenario:<16} {row.rps:8.0f} req/s  "
        f"hits {row.hit_rate:6.1%} ({row.misses} misses)  "
        f"p50 {row.p50_ms:6.2f}  p99 {row.p99_ms:7.2f}  changes {row.changes}",
        flush=True,
    )
    return row


def export(commit: str, into: Path) -> Path:
    """The tree of `commit` (read from git, nothing checked out)."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", commit],
        cwd=harness.ROOT,
        capture_output=True,
        check=True,
    ).stdout
    target = into / f"tree-{commit}"
    target.mkdir()
    archive_path = into / "tree.tar"
    archive_path.write_bytes(archive)
    with tarfile.open(archive_path) as tar:
        tar.extractall(target, filter="data")
    return target


def run_variant(variant: str, root: Path, database_url: str, env: dict[str, str], args) -> list:
    server = harness.Server(
        [harness.PYTHON, str(root / "server.py")],
        {"CMS_DATABASE_URL": database_url, "CMS_RESPONSE_CACHE": "on", **env},
    )
    rows = []
    with harness.serving(server):
        editor = Editor(server.base)
        for read, scenario in SCENARIOS:
            rows.append(measure(server, editor, variant, read, scenario, args))
    return rows


def markdown(rows: list[Row], args, command: str, load: tuple[str, str]) -> str:
    m = harness.machine()
    lines = [
        "## Results",
        "",
        f"`{command}`",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}; {m['wrk']}. "
        f"Load average (1/5/15 min) before: {load[0]}, after: {load[1]}: **the machine was "
        "loaded** by other sessions sharing its two cores, so absolute numbers are low "
        "and noisy; compare the rows of one run.",
        "",
        f"{args.news} news on SQLite, one server process (`python server.py`, response cache "
        f"{'in Redis' if args.redis else 'in process'}), `wrk -t1 -c{args.connections}` "
        f"posting the news list (20 items with tags) or the deep agreement query for "
        f"{args.duration:g} s after {args.warmup:g} s of warm-up; the editor's changes (to a "
        "news item) go through the same server. Misses are answers with SQL.",
        "",
        "| cache | reads | changes | req/s | vs no changes | hit rate | misses | p50 ms "
        "| p99 ms | changes made |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    quiet = {(row.variant, row.read): row.rps for row in rows if row.scenario == "no changes"}
    for row in rows:
        base = quiet.get((row.variant, row.read))
        ratio = f"{row.rps / base:.0%}" if base else "-"
        lines.append(
            f"| {row.variant} | {row.read} | {row.scenario} | {row.rps:.0f} | {ratio} | "
            f"{row.hit_rate:.2%} | {row.misses} | {row.p50_ms:.2f} | {row.p99_ms:.2f} "
            f"| {row.changes} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description="Cache hits under changes (REPORT-invalidation).")
    parser.add_argument("--news", type=int, default=10_000)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--baseline", default=None, help="a commit to compare with")
    parser.add_argument("--name", default="precise (surrogate keys)", help="this tree's rows")
    parser.add_argument("--baseline-name", default="whole cache", help="the baseline's rows")
    parser.add_argument("--redis", default=None, help="a Redis URL: the cache in Redis")
    parser.add_argument("--report", default=str(harness.ROOT / "bench" / "REPORT-invalidation.md"))
    parser.add_argument("--section", default=None, help="of the report (default: by the store)")
    args = parser.parse_args()
    command = shlex.join(["python", "bench/invalidation.py", *sys.argv[1:]])
    load_before = harness.load_average()
    env: dict[str, str] = {}
    if args.redis:
        env = {"CMS_REDIS_URL": args.redis, "CMS_REDIS_PREFIX": f"bench-{uuid.uuid4().hex[:8]}"}
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="cms-bench-invalidation-") as workdir:
        variants = [(args.name, harness.ROOT)]
        if args.baseline:
            variants.append(
                (f"{args.baseline_name} ({args.baseline})", export(args.baseline, Path(workdir)))
            )
        for variant, root in variants:
            database_url = harness.demo_database(args.news, Path(workdir))
            subprocess.run(
                [harness.PYTHON, "-m", "cms", "createuser", "--email", EMAIL, "--role", "ADMIN"],
                cwd=harness.ROOT,
                env={
                    **os.environ,
                    **harness.BENCH_ENV,
                    "CMS_DATABASE_URL": database_url,
                    "CMS_NEW_USER_PASSWORD": PASSWORD,
                },
                check=True,
                capture_output=True,
            )
            rows += run_variant(variant, root, database_url, env, args)
    text = markdown(rows, args, command, (load_before, harness.load_average()))
    print(text)
    # The run in process and the run on Redis each keep their own section.
    section = args.section or ("results-redis" if args.redis else "results")
    write_between_markers(Path(args.report), text, section)


if __name__ == "__main__":
    main()
