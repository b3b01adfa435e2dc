"""The README tells a new user every command, the health endpoints and every setting."""

import argparse
import re
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


def test_configuration_is_one_table_naming_every_setting() -> None:
    section = README.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    lines = section.strip().splitlines()
    table = [line for line in lines if line.startswith("|")]
    first = lines.index(table[0])
    # One table: its rows follow each other with nothing in between.
    assert lines[first : first + len(table)] == table
    settings = (ROOT / "cms" / "settings.py").read_text(encoding="utf-8")
    for name in sorted(set(re.findall(r'"(CMS_[A-Z_]+)"', settings))):
        assert name in "\n".join(table), name
