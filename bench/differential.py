"""The differential test of the read compiler with thousands of generated documents.

`make test` runs tests/api/test_compiler.py with a hundred-odd generated documents
per caller; this runs the same test with more, and a seed of its own, on SQLite and
(when CMS_TEST_DATABASE_URL is set) on PostgreSQL:

    .venv/bin/python bench/differential.py --generated 3000 [--seed 7]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generated", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=1)
    arguments = parser.parse_args()
    backends = ["sqlite"] + (["postgres"] if os.environ.get("CMS_TEST_DATABASE_URL") else [])
    failed = False
    for backend in backends:
        env = {
            **os.environ,
            "CMS_TEST_BACKEND": backend,
            "CMS_DIFFERENTIAL_GENERATED": str(arguments.generated),
            "CMS_DIFFERENTIAL_SEED": str(arguments.seed),
        }
        print(f"--- {backend}: {arguments.generated} generated documents per caller", flush=True)
        command = [sys.executable, "-m", "pytest", "tests/api/test_compiler.py", "-q", "-x"]
        failed |= subprocess.run(command, cwd=ROOT, env=env).returncode != 0
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
