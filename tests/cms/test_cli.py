"""`python -m cms` commands take roles and scopes as the API spells them or in lower case."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cms.__main__ import _parser
from cms.models import ApiToken, Role, TokenScope, User
from tests.conftest import TestDatabase

ROOT = Path(__file__).resolve().parents[2]


def cms_command(database: TestDatabase, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "CMS_DATABASE_URL": database.url,
        "CMS_SECRET_KEY": "test-secret-key-not-for-production",
        "CMS_NEW_USER_PASSWORD": "a long enough password for the cli",
    }
    return subprocess.run(
        [sys.executable, "-m", "cms", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("spelling", ["VIEWER", "viewer", "Viewer"])
def test_createuser_role_in_either_spelling(spelling: str) -> None:
    args = _parser().parse_args(["createuser", "--email", "a@b.ru", "--role", spelling])
    assert args.role == Role.VIEWER.value


def test_create_token_scope_in_either_spelling() -> None:
    args = _parser().parse_args(
        ["create-token", "--name", "x", "--scope", "READ_DRAFTS", "--scope", "read"]
    )
    assert args.scope == [TokenScope.READ_DRAFTS.value, TokenScope.READ.value]


async def test_createuser_and_create_token_as_the_api_spells_them(db: TestDatabase) -> None:
    done = cms_command(db, "createuser", "--email", "Viewer@Example.ru", "--role", "VIEWER")
    assert done.returncode == 0, done.stderr
    user = await User.get(email="viewer@example.ru")
    assert user.role is Role.VIEWER
    done = cms_command(db, "create-token", "--name", "syndication", "--scope", "READ_DRAFTS")
    assert done.returncode == 0, done.stderr
    token = await ApiToken.get(name="syndication")
    assert token.scopes == [TokenScope.READ_DRAFTS.value]


def test_an_unknown_role_is_refused_with_the_choices() -> None:
    with pytest.raises(SystemExit):
        _parser().parse_args(["createuser", "--email", "a@b.ru", "--role", "OWNER"])
