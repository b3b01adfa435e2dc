"""Trusted documents: registered with the CLI from a directory or a manifest; the
public runs only those, staff run anything."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.api.cache_helpers import CachedApp, cached_app
from tests.conftest import TestDatabase, use_api_token
from tests.editing.helpers import sign_in

ROOT = Path(__file__).resolve().parents[2]
NEWS_COUNT = "query NewsCount { news { totalCount } }\n"
REGIONS = "query Regions { regions { code } }\n"
TAGS = "query Tags { tags { totalCount } }"
UNREGISTERED = "{ agreements { totalCount } }"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def register(database_url: str, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cms", "register-documents", str(path)],
        cwd=ROOT,
        env={**os.environ, "CMS_DATABASE_URL": database_url, "CMS_SECRET_KEY": "x" * 32},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
async def app(db: TestDatabase) -> AsyncIterator[CachedApp]:
    async for cached in cached_app(db.url, CMS_TRUSTED_DOCUMENTS="on", CMS_RESPONSE_CACHE="on"):
        yield cached


def persisted(document_id: str) -> dict[str, object]:
    return {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": document_id}}}


async def test_directory_registration_and_what_the_public_may_run(
    app: CachedApp, db: TestDatabase, tmp_path: Path
) -> None:
    # Nothing registered yet: refused, with the code saying why.
    refused = await app.http.post("/graphql", json={"query": UNREGISTERED})
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["extensions"]["code"] == "OPERATION_NOT_TRUSTED"

    (tmp_path / "news").mkdir()
    (tmp_path / "news" / "count.graphql").write_text(NEWS_COUNT, encoding="utf-8")
    (tmp_path / "regions.graphql").write_text(REGIONS, encoding="utf-8")
    result = register(db.url, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Registered 2 new documents" in result.stdout
    again = register(db.url, tmp_path)
    assert "Registered 0 new documents (2 already registered)" in again.stdout

    by_id = await app.http.post("/graphql", json=persisted(sha(NEWS_COUNT)))
    assert by_id.json()["data"] == {"news": {"totalCount": 1}}
    by_text = await app.http.post("/graphql", json={"query": REGIONS})
    assert "errors" not in by_text.json()
    get = await app.http.get(
        "/graphql", params={"extensions": json.dumps(persisted(sha(REGIONS))["extensions"])}
    )
    assert get.status_code == 200
    assert get.headers["etag"]

    # Unregistered: refused before execution; a repeat costs no SQL at all.
    for _ in range(2):
        refused = await app.http.post("/graphql", json={"query": UNREGISTERED})
        assert refused.json()["errors"][0]["extensions"]["code"] == "OPERATION_NOT_TRUSTED"
    assert refused.headers["x-sql-count"] == "0"
    unknown = await app.http.post("/graphql", json=persisted("f" * 64))
    assert unknown.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    # Nobody registers through APQ in this mode.
    apq = await app.http.post(
        "/graphql", json={"query": UNREGISTERED, **persisted(sha(UNREGISTERED))}
    )
    assert apq.json()["errors"][0]["extensions"]["code"] == "OPERATION_NOT_TRUSTED"

    # API tokens are public callers here; logged-in staff (GraphiQL) run anything.
    await use_api_token(app.staff, "read")
    token = await app.http.post("/graphql", json={"query": UNREGISTERED}, headers=app.staff.headers)
    assert token.json()["errors"][0]["extensions"]["code"] == "OPERATION_NOT_TRUSTED"
    await sign_in(app.staff, "editor")
    staff = await app.http.post("/graphql", json={"query": UNREGISTERED}, headers=app.staff.headers)
    assert staff.json()["data"]["agreements"]["totalCount"] >= 1


async def test_manifest_registration(app: CachedApp, db: TestDatabase, tmp_path: Path) -> None:
    codegen = tmp_path / "persisted-documents.json"
    codegen.write_text(json.dumps({sha(TAGS): TAGS}), encoding="utf-8")
    assert register(db.url, codegen).returncode == 0
    apollo = tmp_path / "apollo-manifest.json"
    apollo.write_text(
        json.dumps(
            {
                "format": "apollo-persisted-query-manifest",
                "version": 1,
                "operations": [
                    {"id": "regions-v1", "name": "Regions", "type": "query", "body": REGIONS}
                ],
            }
        ),
        encoding="utf-8",
    )
    assert register(db.url, apollo).returncode == 0
    tags = await app.http.post("/graphql", json=persisted(sha(TAGS)))
    assert "errors" not in tags.json()
    regions = await app.http.post("/graphql", json=persisted("regions-v1"))
    assert "errors" not in regions.json()

    corrupted = tmp_path / "bad.json"
    corrupted.write_text(json.dumps({sha(TAGS): TAGS + " "}), encoding="utf-8")
    result = register(db.url, corrupted)
    assert result.returncode != 0
    assert "SHA-256" in result.stderr
