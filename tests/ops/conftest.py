"""Helpers of the operations tests: log capture through the server's own handler
set-up (web/logs.py), and real server processes (`python server.py`)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from cms.settings import Settings
from tests.feedback.conftest import free_port
from web.logs import RequestIdFilter, formatter

ROOT = Path(__file__).resolve().parents[2]


@contextlib.contextmanager
def captured_log(settings: Settings, level: int = logging.DEBUG) -> Iterator[io.StringIO]:
    """Everything logged meanwhile, formatted as the server formats it (text or JSON,
    with request ids), at `level` for every logger. Enter before creating the app:
    it decides at creation whether SQL statements reach the log."""
    output = io.StringIO()
    handler = logging.StreamHandler(output)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(formatter(settings))
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(level)
    try:
        yield output
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)


@contextlib.contextmanager
def server_process(
    environ: dict[str, str], log: Path
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`python server.py` on a free port, with these CMS_* variables."""
    port = free_port()
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "server.py"],
            cwd=ROOT,
            env={**os.environ, "CMS_HOST": "127.0.0.1", "CMS_PORT": str(port), **environ},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        yield f"http://127.0.0.1:{port}", process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def output_of(log: Path) -> str:
    return log.read_text(errors="replace")


async def wait_ready(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient() as http:
        while time.monotonic() < deadline:
            assert process.poll() is None, output_of(log)
            with contextlib.suppress(httpx.TransportError):
                if (await http.get(f"{base}/readyz")).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    pytest.fail(f"{base} did not become ready: {output_of(log)}")
