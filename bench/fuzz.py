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

Needs the `fuzz` extra: `.venv/bin/pip install -e '.[fuzz]'`.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

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


def server_environment(directory: Path, port: int) -> dict[str, str]:
    unlimited = "1000000000"
    return {
        **os.environ,
        "CMS_ENV": "production",
        "CMS_SECRET_KEY": "fuzz-secret-key-not-for-production",
        "CMS_DATABASE_URL": f"sqlite://{directory / 'fuzz.db'}",
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
    url: str, seconds: int, workers: int, headers: list[str], excluded: list[str], report: Path
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
    }
    return subprocess.run(command, cwd=ROOT, env=environment, check=False).returncode


def read_log(path: Path, start: int) -> tuple[Counter[int], int, list[str]]:
    """Statuses of /graphql answers, unexpected errors and 5xx lines logged after `start`."""
    text = path.read_text(encoding="utf-8", errors="replace")[start:]
    statuses: Counter[int] = Counter()
    for match in ACCESS_LINE.finditer(text):
        if match.group(2).startswith("/graphql"):
            statuses[int(match.group(3))] += 1
    unexpected = [line for line in text.splitlines() if "unexpected error" in line]
    return statuses, len(unexpected), unexpected[:20]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=90, help="per caller")
    parser.add_argument("--workers", type=int, default=2)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cms-fuzz-") as name:
        directory = Path(name)
        port = free_port()
        environment = server_environment(directory, port)
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
                print(f"--- fuzzing as {caller} for {arguments.seconds} s", flush=True)
                report = directory / f"{caller}.ndjson"
                code = fuzz(url, arguments.seconds, arguments.workers, headers, excluded, report)
                statuses, unexpected, examples = read_log(log_path, start)
                five_xx = sum(count for status, count in statuses.items() if status >= 500)
                print(
                    f"--- {caller}: {sum(statuses.values())} requests to /graphql, "
                    f"statuses {dict(sorted(statuses.items()))}, 5xx: {five_xx}, "
                    f"INTERNAL_SERVER_ERROR logged: {unexpected}, schemathesis exit code {code}",
                    flush=True,
                )
                for line in examples:
                    print("    " + line)
                failed = failed or code != 0 or five_xx > 0 or unexpected > 0
        finally:
            server.terminate()
            server.wait(timeout=30)
        if failed:
            tail = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
            tracebacks = [n for n, line in enumerate(tail) if "Traceback" in line]
            for n in tracebacks[:5]:
                print("\n".join(tail[n : n + 40]))
                print("...")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
