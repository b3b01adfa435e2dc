"""`python -m cms reindex` rebuilds the index with progress, on the backend under test."""

from __future__ import annotations

import re

from tortoise import connections

from cms import db as cms_db
from cms.models import News
from cms.services import fulltext
from cms.services.viewer import Viewer
from tests.cms.test_cli import cms_command
from tests.conftest import TestDatabase


async def test_reindex_command(db: TestDatabase) -> None:
    connection = connections.get("default")
    if cms_db.dialect() == "postgres":
        await connection.execute_script("UPDATE news SET search_vector = NULL")
    else:
        await connection.execute_script("DELETE FROM news_fts")
    assert (await fulltext.search(Viewer(), "космодром", kinds=["News"])).hits == []
    done = cms_command(db, "reindex")
    assert done.returncode == 0, done.stderr
    news = await News.all().count()
    assert re.search(rf"News +{news}/{news}", done.stdout), done.stdout
    assert "Indexed" in done.stdout
    page = await fulltext.search(Viewer(), "космодром", kinds=["News"])
    assert len(page.hits) == 1
