"""Starts the application with uvicorn: `python server.py` on CMS_HOST:CMS_PORT."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import uvicorn

from cms.settings import Settings, load_settings
from web.logs import logging_config


@contextlib.contextmanager
def metrics_directory(settings: Settings) -> Iterator[None]:
    """Several workers with metrics on: prometheus-client keeps their values in files
    of one directory, read by whichever worker answers /metrics. Set before the
    workers start (they read it when they import prometheus-client); a directory of
    our own, so no series of an earlier run is summed in."""
    if not (settings.metrics and settings.workers > 1):
        yield
        return
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if given:
        for stale in Path(given).glob("*.db"):
            stale.unlink()
        yield
        return
    directory = tempfile.mkdtemp(prefix="cms-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
    try:
        yield
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def main() -> None:
    settings = load_settings()
    with metrics_directory(settings):
        uvicorn.run(
            "web.app:create_app",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=settings.workers,
            access_log=False,
            # Applied in every worker: the request id on each line, text or JSON.
            log_config=logging_config(settings),
            log_level=settings.log_level.lower(),
            loop="uvloop",
            http="httptools",
            proxy_headers=False,
            # On SIGTERM: requests in flight get this long to finish (web/lifecycle.py).
            timeout_graceful_shutdown=settings.shutdown_timeout,
        )


if __name__ == "__main__":
    main()
