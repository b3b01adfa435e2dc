"""The README tells a new user every command and the health endpoints (every setting:
tests/cms/test_settings.py)."""

import argparse
from pathlib import Path

from cms.__main__ import _parser

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands() -> list[str]:
    (subparsers,) = [
        action for action in _parser()._actions if isinstance(action, argparse._SubParsersAction)
    ]
    return list(subparsers.choices)


def test_every_cli_command_is_listed() -> None:
    commands = _commands()
    assert {"createuser", "ensure-admin", "create-token"} <= set(commands)
    for command in commands:
        assert f"python -m cms {command}" in README, command


def test_health_endpoints_and_the_first_admin_are_documented() -> None:
    assert "`/healthz`" in README
    assert "`/readyz`" in README
    assert "The first `make run`" in README
