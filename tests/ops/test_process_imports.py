"""What a server process loads: libraries of optional features only when configured
(redis-py with CMS_REDIS_URL, httpx on a webhook's first delivery, aiobotocore with
S3, prometheus-client with metrics), so that a process of the default configuration
stays small (bench/LADDER.md: memory per process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OPTIONAL = ("redis", "httpx", "aiobotocore", "prometheus_client")

_PROBE = f"""
import json, sys
from web.app import create_app
create_app()
print(json.dumps([name for name in {OPTIONAL!r} if name in sys.modules]))
"""


def _loaded(tmp_path: Path, **env: str) -> list[str]:
    clean = {key: value for key, value in os.environ.items() if not key.startswith("CMS_")}
    completed = subprocess.run(
        [sys.executable, "-c", _PROBE],
        cwd=ROOT,
        env={**clean, "CMS_DATABASE_URL": f"sqlite:///{tmp_path / 'cms.db'}", **env},
        capture_output=True,
        text=True,
        check=True,
    )
    loaded: list[str] = json.loads(completed.stdout.strip().splitlines()[-1])
    return loaded


def test_the_default_configuration_loads_no_optional_library(tmp_path: Path) -> None:
    assert _loaded(tmp_path) == []


def test_redis_is_loaded_where_it_is_configured(tmp_path: Path) -> None:
    # The client is made when the application is (it connects on first use).
    assert _loaded(tmp_path, CMS_REDIS_URL="redis://127.0.0.1:6379/0") == ["redis"]
