"""Fuzzing the GraphQL API with schemathesis, against a real server.

A fresh SQLite database in a temporary directory is migrated and seeded, an admin is
created and logged in, and `python server.py` serves it in production mode (rate
limits raised so that the fuzzer is not throttled). schemathesis then generates
operations from schema.graphql for `--seconds` as an anonymous caller, and again as
the admin. It fails on any answer that is a 5xx or carries INTERNAL_SERVER_ERROR
(bench/fuzz_checks.py); the server's own log is read as well, so that a 5xx or an
unexpected error is counted even when schemathesis would not report it.

    make fuzz                                   # 90 s per caller
    .venv/bin/python bench/fuzz.py --seconds 30 --workers 2
    .venv/bin/python bench/fuzz.py --postgres postgres://postgres@127.0.0.1:5432/postgres

With `--postgres` (an account that may create databases) the database is a fresh
PostgreSQL one instead, dropped afterwards: column widths and integer ranges are
enforced there, not in SQLite.

Needs the `fuzz` extra: `.venv/bin/pip install -e '.[fuzz]'`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
ADMIN_EMAIL = "fuzz-admin@example.com"
ADMIN_PASSWORD = "fuzz-admin-password-2026"
LOGIN = (
    "mutation($email: String!, $password: String!) { login(input: "
    "{email: $email, password: $password}) { token errors { code message } } }"
)
# Access log lines: "POST /graphql 200 3.1ms sql=2".
ACCESS_LINE = re.compile(r" (GET|POST) (/\S*) (\d{3}) ")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def create_database(admin_url: str, name: str) -> str:
    """A fresh PostgreSQL database next to the one of `admin_url`; its URL."""
    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    base, _, _ = admin_url.rpartition("/")
    return f"{base}/{name}"


async def drop_database(admin_url: str, name: str) -> None:
    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


def server_environment(directory: Path, port: int, database_url: str) -> dict[str, str]:
    unlimited = "1000000000"
    return {
        **os.environ,
        "CMS_ENV": "production",
        "CMS_SECRET_KEY": "fuzz-secret-key-not-for-production",
        "CMS_DATABASE_URL": database_url,
        "CMS_MEDIA_ROOT": str(directory / "uploads"),
        "CMS_HOST": "127.0.0.1",
        "CMS_PORT": str(port),
        "CMS_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "CMS_RATE_LIMIT_ANONYMOUS": f"{unlimited}/60",
        "CMS_RATE_LIMIT_TOKEN": f"{unlimited}/60",
        "CMS_LOGIN_LIMIT_ACCOUNT": f"{unlimited}/60",
        "CMS_LOGIN_LIMIT_ADDRESS": f"{unlimited}/60",
        "CMS_FEEDBACK_LIMIT_ADDRESS": f"{unlimited}/3600",
        "CMS_FEEDBACK_LIMIT_CONTACT": f"{unlimited}/3600",
        "CMS_ACCESS_LOG": "on",
        "CMS_NEW_USER_PASSWORD": ADMIN_PASSWORD,
    }


def prepare(environment: dict[str, str]) -> None:
    for command in (
        ["migrate"],
        ["seed"],
        ["createuser", "--email", ADMIN_EMAIL, "--role", "admin", "--name", "Fuzz"],
    ):
        subprocess.run(
            [PYTHON, "-m", "cms", *command],
            cwd=ROOT,
            env=environment,
            check=True,
            stdout=subprocess.DEVNULL,
        )


def wait_until_up(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("the server exited at start; see its log")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit("the server did not answer /healthz in 30 s")


def admin_token(url: str) -> str:
    response = httpx.post(
        f"{url}/graphql",
        json={"query": LOGIN, "variables": {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}},
        timeout=30,
    )
    token = response.json()["data"]["login"]["token"]
    if not token:
        raise SystemExit(f"the admin could not log in: {response.text}")
    return str(token)


def fuzz(
    url: str,
    seconds: int,
    workers: int,
    headers: list[str],
    excluded: list[str],
    report: Path,
    tally: Path,
) -> int:
    """Runs schemathesis; returns its exit code."""
    command = [
        str(Path(PYTHON).with_name("schemathesis")),
        "run",
        str(ROOT / "schema.graphql"),
        "--url",
        f"{url}/graphql",
        "--checks",
        "no_internal_error",
        "--max-time",
        str(seconds),
        "--workers",
        str(workers),
        "--request-timeout",
        "30",
        "--no-color",
        "--report",
        "ndjson",
        "--report-ndjson-path",
        str(report),
    ]
    for header in headers:
        command += ["--header", header]
    for name in excluded:
        command += ["--exclude-name", name]
    environment = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "fuzz_checks",
        "PYTHONPATH": str(ROOT / "bench"),
        "FUZZ_TALLY": str(tally),
    }
    # In the run's own directory: schemathesis keeps its example database (.schemathesis)
    # in the working directory.
    return subprocess.run(command, cwd=report.parent, env=environment, check=False).returncode


def read_log(path: Path, start: int) -> tuple[Counter[int], int, list[str]]:
    """Statuses of /graphql answers, unexpected errors and 5xx lines logged after `start`."""
    text = path.read_text(encoding="utf-8", errors="replace")[start:]
    statuses: Counter[int] = Counter()
    for match in ACCESS_LINE.finditer(text):
        if match.group(2).startswith("/graphql"):
            statuses[int(match.group(3))] += 1
    unexpected = [line for line in text.splitlines() if "unexpected error" in line]
    return statuses, len(unexpected), unexpected[:20]


def answers(tally: Path) -> str:
    """The most frequent answers: error codes (or "-" for none) with their counts."""
    if not tally.exists():
        return "none recorded"
    counts: Counter[str] = Counter()
    for line in tally.read_text(encoding="utf-8").splitlines():
        _, _, codes = line.partition(" ")
        counts.update(set(codes.split(",")))
    return ", ".join(f"{code} {count}" for code, count in counts.most_common(12))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=90, help="per caller")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--postgres", metavar="ADMIN_URL", help="fuzz a fresh PostgreSQL database")
    arguments = parser.parse_args()
    database = f"cms_fuzz_{os.getpid()}"
    with tempfile.TemporaryDirectory(prefix="cms-fuzz-") as name:
        directory = Path(name)
        port = free_port()
        if arguments.postgres:
            database_url = asyncio.run(create_database(arguments.postgres, database))
        else:
            database_url = f"sqlite://{directory / 'fuzz.db'}"
        try:
            return run(directory, port, database_url, arguments.seconds, arguments.workers)
        finally:
            if arguments.postgres:
                asyncio.run(drop_database(arguments.postgres, database))


def run(directory: Path, port: int, database_url: str, seconds: int, workers: int) -> int:
    """Prepares the database, serves it and fuzzes it; 1 when anything failed."""
    environment = server_environment(directory, port, database_url)
    prepare(environment)
    log_path = directory / "server.log"
    url = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [PYTHON, "server.py"], cwd=ROOT, env=environment, stdout=log, stderr=log
        )
    failed = False
    try:
        wait_until_up(url, server)
        callers = [
            ("anonymous", [], []),
            # Operations that would end the admin's own session (logging out,
            # deactivating or re-passwording the account) would turn the rest of
            # the run into 401s: left to the anonymous run.
            (
                "admin",
                [f"Authorization: Bearer {admin_token(url)}"],
                ["Mutation.logout", "Mutation.updateUser"],
            ),
        ]
        for caller, headers, excluded in callers:
            start = log_path.stat().st_size
            print(f"--- fuzzing as {caller} for {seconds} s ({database_url})", flush=True)
            report = directory / f"{caller}.ndjson"
            tally = directory / f"{caller}.tally"
            code = fuzz(url, seconds, workers, headers, excluded, report, tally)
            statuses, unexpected, examples = read_log(log_path, start)
            five_xx = sum(count for status, count in statuses.items() if status >= 500)
            print(
                f"--- {caller}: {sum(statuses.values())} requests to /graphql, "
                f"statuses {dict(sorted(statuses.items()))}, 5xx: {five_xx}, "
                f"INTERNAL_SERVER_ERROR logged: {unexpected}, schemathesis exit code {code}",
                flush=True,
            )
            print(f"    answers by error code: {answers(tally)}", flush=True)
            for line in examples:
                print("    " + line)
            failed = failed or code != 0 or five_xx > 0 or unexpected > 0
    finally:
        server.terminate()
        server.wait(timeout=30)
    if failed:
        print("--- distinct errors in the server log (the CMS's last frame, the exception):")
        for place, exception in distinct_errors(log_path):
            print(f"    {place}\n        {exception}")
    return 1 if failed else 0


def distinct_errors(log_path: Path) -> list[tuple[str, str]]:
    """Each traceback of the server log as (the last frame in the CMS's code, the
    exception line), once per distinct pair."""
    lines = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
    found: dict[tuple[str, str], None] = {}
    place = ""
    inside = False
    for line in lines:
        if line.startswith("Traceback"):
            inside, place = True, ""
        elif inside and line.startswith(f'  File "{ROOT}/') and "site-packages" not in line:
            place = line.strip()
        elif inside and line and not line.startswith(" "):
            found[(place, line[:300])] = None
            inside = False
    return list(found)


if __name__ == "__main__":
    sys.exit(main())
