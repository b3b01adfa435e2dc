"""What the HTTP benchmarks share: demo databases, a pinned server, wrk, an open-loop client.

The server runs on core 0 (`taskset -c 0`), the load generator on core 1: on a
two-core machine neither steals the other's CPU. Everything talks over loopback.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import platform
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
SERVER_CORE = "0"
CLIENT_CORE = "1"
CACHE_DIR = Path(os.environ.get("CMS_BENCH_CACHE", Path(tempfile.gettempdir()) / "cms-bench"))

# Limits that would refuse a load test; everything else is the default configuration.
BENCH_ENV = {
    "CMS_LOG_LEVEL": "WARNING",
    "CMS_SECRET_KEY": "bench-secret-key",
    "CMS_RATE_LIMIT_ANONYMOUS": "1000000000/60",
    "CMS_RATE_LIMIT_TOKEN": "1000000000/60",
    "CMS_FEEDBACK_LIMIT_ADDRESS": "1000000000/3600",
    "CMS_FEEDBACK_LIMIT_CONTACT": "1000000000/3600",
    "CMS_FEEDBACK_DEDUPE_SECONDS": "0",
    "CMS_GRAPHIQL": "false",
}

# ---------------------------------------------------------------- the queries

NEWS_LIST = (
    "query NewsList($first: Int) { news(first: $first) { totalCount "
    "edges { cursor node { id slug title lead publishedAt url tags { name slug } } } "
    "pageInfo { hasNextPage endCursor } } }"
)
NEWS_BY_TAG = (
    'query NewsByTag($first: Int) { news(first: $first, filter: {tag: "sotrudnichestvo"}) { '
    "totalCount edges { node { slug title publishedAt tags { name } regions { code } } } } }"
)
NEWS_ITEM = (
    "query NewsItem($slug: String) { newsItem(slug: $slug) { title lead body { html text } "
    "readingTimeMinutes tags { name } regions { name } events { title } "
    "agreements { title } visit { title } quotes { text person { fullName "
    "organization { name } } } cover { url } } }"
)
DEEP_AGREEMENT = (
    "query DeepAgreement($slug: String) { agreement(slug: $slug) { title "
    "parties { name region { name } } "
    "actionPlans { title directions { name } signatories { fullName } "
    "items { title direction { name } event { title } } "
    "visits { title organizer { name } delegationRegion { name } "
    "enterprises { name locality industries location { lat lon } } } "
    "visitedEnterprises { name locality } } } }"
)
NARROW_100 = "query Narrow($first: Int) { news(first: $first) { edges { node { id title } } } }"
SUBMIT_FEEDBACK = (
    "mutation Submit($input: SubmitFeedbackInput!) { "
    "submitFeedback(input: $input) { ticket errors { code message } } }"
)
NEWS_SLUG = (
    "amurskaya-oblast-i-altayskiy-kray-opredelili-perspektivnye-napravleniya-sotrudnichestva"
    "-do-2025-goda"
)
AGREEMENT_SLUG = "soglashenie-amurskaya-oblast-altayskiy-kray"


@dataclass(frozen=True)
class Operation:
    name: str
    label: str
    query: str
    variables: dict[str, Any]
    mutation: bool = False

    def body(self) -> bytes:
        return json.dumps({"query": self.query, "variables": self.variables}).encode()

    def sha256(self) -> str:
        return hashlib.sha256(self.query.encode()).hexdigest()


OPERATIONS = {
    op.name: op
    for op in (
        Operation("news_list", "news list with tags (20)", NEWS_LIST, {"first": 20}),
        Operation("news_by_tag", "news by tag (20)", NEWS_BY_TAG, {"first": 20}),
        Operation("deep_agreement", "deep agreement", DEEP_AGREEMENT, {"slug": AGREEMENT_SLUG}),
        Operation("news_item", "one news item with body", NEWS_ITEM, {"slug": NEWS_SLUG}),
        Operation("narrow_100", "narrow list (100 items)", NARROW_100, {"first": 100}),
        Operation(
            "submit_feedback",
            "submitFeedback mutation",
            SUBMIT_FEEDBACK,
            {
                "input": {
                    "kind": "QUESTION",
                    "name": "Нагрузочный тест",
                    "email": "bench@example.ru",
                    "subject": "Нагрузочный тест",
                    "message": "Текст обращения нагрузочного теста.",
                    "consentToProcessing": True,
                }
            },
            mutation=True,
        ),
    )
}

# ---------------------------------------------------------------- the machine


def machine() -> dict[str, str]:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    versions = {}
    for package in ("strawberry-graphql", "starlette", "uvicorn", "tortoise-orm", "orjson"):
        with contextlib.suppress(Exception):
            from importlib.metadata import version

            versions[package] = version(package)
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "sqlite": sqlite3.sqlite_version,
        "wrk": (wrk.stdout or wrk.stderr).splitlines()[0] if (wrk.stdout or wrk.stderr) else "?",
        "packages": ", ".join(f"{name} {v}" for name, v in versions.items()),
        "load": Path("/proc/loadavg").read_text().split(" ", 3)[:3].__str__(),
        "commit": subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
        ).stdout.strip(),
    }


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# ---------------------------------------------------------------- databases


def _schema_key() -> str:
    """Demo databases are rebuilt when the migrations or the demo generator change."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "cms" / "migrations").glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    for extra in ("cms/services/demo.py", "cms/services/seeding.py"):
        digest.update((ROOT / extra).read_bytes())
    return digest.hexdigest()[:12]


def _cms(args: list[str], env: dict[str, str]) -> None:
    subprocess.run(
        [PYTHON, "-m", "cms", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        check=True,
        stdout=subprocess.DEVNULL,
    )


def demo_database(news: int, workdir: Path, database_url: str | None = None) -> str:
    """A migrated, seeded database with `news` generated news, ready to be written to.

    SQLite: built once per size into CMS_BENCH_CACHE (default /tmp/cms-bench) and copied
    into `workdir` for each run. PostgreSQL (`database_url` given): the database named
    there plus `_<news>` is created and filled when it does not exist yet."""
    if database_url:
        parts = urllib.parse.urlsplit(database_url)
        name = f"{parts.path.lstrip('/')}_{news}_{_schema_key()}"
        url = urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))
        admin = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
        exists = subprocess.run(
            ["psql", admin, "-tAc", f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        if not exists:
            subprocess.run(["psql", admin, "-qc", f'CREATE DATABASE "{name}"'], check=True)
            env = {"CMS_DATABASE_URL": url}
            _cms(["migrate"], env)
            _cms(["seed"], env)
            _cms(["demo", "--news", str(news)], env)
            # Planner statistics and the visibility map of the bulk-loaded tables
            # (autovacuum may not have run): without the map an index-only scan
            # reads the table too, and the first runs after a build measured the one
            # news item at half its rate.
            subprocess.run(
                ["psql", url.replace("postgres://", "postgresql://", 1), "-qc", "VACUUM ANALYZE"],
                check=True,
            )
        return url
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    cached = CACHE_DIR / f"news-{news}-{_schema_key()}.db"
    if not cached.exists():
        building = cached.with_suffix(".building")
        building.unlink(missing_ok=True)
        env = {"CMS_DATABASE_URL": f"sqlite:///{building}"}
        started = time.perf_counter()
        print(f"  building the {news}-news demo database …", flush=True)
        _cms(["migrate"], env)
        _cms(["seed"], env)
        _cms(["demo", "--news", str(news)], env)
        with sqlite3.connect(building) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            connection.execute("ANALYZE")
        for suffix in ("-wal", "-shm"):
            Path(f"{building}{suffix}").unlink(missing_ok=True)
        building.rename(cached)
        print(f"  built in {time.perf_counter() - started:.0f} s", flush=True)
    target = workdir / f"news-{news}.db"
    shutil.copyfile(cached, target)
    return f"sqlite:///{target}"


@contextlib.contextmanager
def postgres_on_client_core(database_url: str) -> Iterator[str]:
    """The local PostgreSQL server's processes moved to the load generator's core while
    the block runs, and put back after; yields a sentence for the report.

    Unpinned, its backends run on the server's core too and take from the process
    measured a share that varies from run to run with the scheduler (a peak 15 % higher
    or lower, and then three quarters of it a rate near or beyond what the server
    sustains): the database then sits where a deployment puts it, off the application
    server's CPU, sharing a core with the client instead. Backends started later
    inherit the postmaster's core."""
    admin = database_url.replace("postgres://", "postgresql://", 1)
    try:
        directory = subprocess.run(
            ["psql", admin, "-tAc", "SHOW data_directory"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        postmaster = int((Path(directory) / "postmaster.pid").read_text().split()[0])
        before = os.sched_getaffinity(postmaster)
        pinned = {int(CLIENT_CORE)}
        for pid in _postgres_processes(postmaster):
            os.sched_setaffinity(pid, pinned)
    except (OSError, subprocess.CalledProcessError, ValueError, IndexError) as error:
        yield f"PostgreSQL unpinned (could not move it to core {CLIENT_CORE}: {error})"
        return
    try:
        yield f"PostgreSQL on core {CLIENT_CORE} with the load generator"
    finally:
        for pid in _postgres_processes(postmaster):
            with contextlib.suppress(OSError):
                os.sched_setaffinity(pid, before)


def _postgres_processes(postmaster: int) -> list[int]:
    """The postmaster's threads and its children's (each a thread id for sched_setaffinity)."""
    children = subprocess.run(
        ["pgrep", "-P", str(postmaster)], capture_output=True, text=True
    ).stdout.split()
    threads = []
    for pid in [postmaster, *map(int, children)]:
        with contextlib.suppress(OSError):
            threads += [int(task.name) for task in Path(f"/proc/{pid}/task").iterdir()]
    return threads


# ---------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A process serving HTTP on 127.0.0.1, pinned to the server core."""

    command: list[str]
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    log: Path | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, ready_path: str = "/healthz", timeout: float = 60) -> None:
        self.log = Path(tempfile.mkstemp(prefix="cms-bench-server-", suffix=".log")[1])
        env = {**os.environ, **BENCH_ENV, **self.env, "CMS_PORT": str(self.port)}
        self.process = subprocess.Popen(
            ["taskset", "-c", SERVER_CORE, *self.command],
            cwd=ROOT,
            env=env,
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.base + ready_path, timeout=1).status_code < 500:
                    return
            time.sleep(0.2)
        raise RuntimeError("server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def _status(self, key: str) -> int:
        assert self.process is not None
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
        return 0

    def reset_peak_rss(self) -> None:
        """Linux: writing 5 to clear_refs sets the high-water mark to the current RSS."""
        assert self.process is not None
        with contextlib.suppress(OSError):
            Path(f"/proc/{self.process.pid}/clear_refs").write_text("5")

    def peak_rss_mib(self) -> float:
        return self._status("VmHWM") / 1024


@contextlib.contextmanager
def serving(server: Server, ready_path: str = "/healthz") -> Iterator[Server]:
    server.start(ready_path)
    try:
        yield server
    finally:
        server.stop()


def cms_server(database_url: str, **env: str) -> Server:
    """The CMS with its response cache off unless `env` turns it on (it is on by
    default since the cache branch: the uncached rungs must really be uncached)."""
    return Server(
        [PYTHON, "server.py"],
        {"CMS_DATABASE_URL": database_url, "CMS_RESPONSE_CACHE": "off", **env},
    )


# ---------------------------------------------------------------- requests


@dataclass(frozen=True)
class Request:
    """One HTTP request as wrk sends it again and again."""

    method: str
    path: str
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    vary_feedback: bool = False  # a new e-mail per request (submitFeedback)

    def lua(self) -> str:
        lines = [f'wrk.method = "{self.method}"']
        for name, value in self.headers:
            lines.append(f"wrk.headers[{_lua_string(name)}] = {_lua_string(value)}")
        if self.body and not self.vary_feedback:
            lines.append(f"wrk.body = {_lua_string(self.body.decode())}")
        if self.vary_feedback:
            template = self.body.decode().replace("%", "%%").replace("bench@", "bench-%d@", 1)
            lines += [
                "local counter = 0",
                f"local template = {_lua_string(template)}",
                "request = function()",
                "  counter = counter + 1",
                "  return wrk.format(nil, nil, nil, string.format(template, counter))",
                "end",
            ]
        return "\n".join(lines) + "\n"

    def send(self, base: str) -> httpx.Response:
        return httpx.request(
            self.method, base + self.path, content=self.body or None, headers=dict(self.headers)
        )


def _lua_string(text: str) -> str:
    """A Lua string literal: every byte that is not plain printable ASCII escaped."""
    out = []
    for byte in text.encode():
        char = chr(byte)
        if char.isascii() and char.isprintable() and char not in '"\\':
            out.append(char)
        else:
            out.append(f"\\{byte:03d}")
    return '"' + "".join(out) + '"'


def post(op: Operation) -> Request:
    return Request(
        "POST",
        "/graphql",
        op.body(),
        (("Content-Type", "application/json"),),
        vary_feedback=op.mutation,
    )


def persisted_get(op: Operation) -> Request:
    """Automatic persisted query (Apollo APQ): the hash instead of the document."""
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": op.sha256()}}
    query = urllib.parse.urlencode(
        {
            "extensions": json.dumps(extensions, separators=(",", ":")),
            "variables": json.dumps(op.variables, separators=(",", ":")),
        }
    )
    return Request("GET", f"/graphql?{query}", headers=(("Accept", "application/json"),))


def register_persisted(base: str, op: Operation) -> httpx.Response:
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": op.sha256()}}
    return httpx.post(
        base + "/graphql",
        json={"query": op.query, "variables": op.variables, "extensions": extensions},
    )


def plain_get(op: Operation) -> Request:
    query = urllib.parse.urlencode(
        {"query": op.query, "variables": json.dumps(op.variables, separators=(",", ":"))}
    )
    return Request("GET", f"/graphql?{query}", headers=(("Accept", "application/json"),))


# ---------------------------------------------------------------- wrk


@dataclass
class WrkResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx_3xx: int
    socket_errors: str
    raw: str


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(
    base: str, request: Request, *, duration: float, connections: int, extra_lua: str = ""
) -> WrkResult:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(request.lua() + extra_lua)
    try:
        completed = subprocess.run(
            [
                "taskset",
                "-c",
                CLIENT_CORE,
                "wrk",
                "-t1",
                f"-c{connections}",
                f"-d{max(1, round(duration))}s",
                "--latency",
                "--timeout",
                "10s",
                "-s",
                script.name,
                base + request.path,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        os.unlink(script.name)
    out = completed.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    percentiles = dict(re.findall(r"\s+(\d+)%\s+([\d.]+\w+)", out))

    def percentile(key: str) -> float:
        match = re.match(r"([\d.]+)(\w+)", percentiles[key])
        assert match
        return _ms(match.group(1), match.group(2))

    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return WrkResult(
        rps,
        percentile("50"),
        percentile("99"),
        total,
        int(bad.group(1)) if bad else 0,
        errors.group(1).strip() if errors else "",
        out,
    )


# ---------------------------------------------------------------- open loop


@dataclass
class OpenLoopResult:
    target_rate: float
    achieved_rate: float
    p50_ms: float
    p99_ms: float
    late_p99_ms: float
    sent: int
    failed: int


def open_loop(
    base: str, request: Request, *, rate: float, duration: float, connections: int = 8
) -> OpenLoopResult:
    """Requests at a fixed rate whatever the answers (wrk2's idea): run on the client core
    in a child process; latency counts from the moment a request was due, so a stalled
    server is not hidden by the client waiting for it (no coordinated omission).
    `connections` are opened before the clock starts, as wrk's are."""
    completed = subprocess.run(
        [
            "taskset",
            "-c",
            CLIENT_CORE,
            PYTHON,
            str(ROOT / "bench" / "openloop.py"),
            "--url",
            base + request.path,
            "--method",
            request.method,
            "--rate",
            str(rate),
            "--duration",
            str(duration),
            "--connections",
            str(connections),
        ],
        input=json.dumps(
            {"body": request.body.decode(), "headers": dict(request.headers)}
        ).encode(),
        capture_output=True,
        check=True,
    )
    data = json.loads(completed.stdout)
    return OpenLoopResult(**data)


def sql_count(base: str, request: Request) -> tuple[int | None, httpx.Response]:
    response = request.send(base)
    header = response.headers.get("x-sql-count")
    return (int(header) if header is not None else None), response


def run_async(coro: Any) -> Any:
    return asyncio.run(coro)
