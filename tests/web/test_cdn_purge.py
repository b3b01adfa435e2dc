"""The CDN purge hook: a change the public may see POSTs the surrogate keys it
touches to CMS_CDN_PURGE_URL, received here by a real local HTTP server; a draft
edit posts nothing, and a CDN that fails is logged without failing the change."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from cms.models import News
from graphql_schema.relay import global_id
from tests.api.cache_helpers import cached_app
from tests.conftest import TestDatabase
from tests.editing.helpers import PUBLISH_NEWS, UPDATE_NEWS, mutate, sign_in
from tests.seed_content import DRAFT_NEWS_SLUG, NEWS_SLUG


class Receiver:
    """A local HTTP server that records what is POSTed and answers `status`."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], dict[str, list[str]]]] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                headers = {name.lower(): value for name, value in self.headers.items()}
                receiver.received.append((headers, json.loads(body)))
                self.send_response(receiver.status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/purge"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()


async def test_changes_purge_their_keys_at_the_cdn(
    db: TestDatabase, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    async for app in cached_app(
        db.url,
        CMS_RESPONSE_CACHE="on",
        CMS_CDN_PURGE_URL=receiver.url,
        CMS_CDN_PURGE_TOKEN="cdn-secret",
    ):
        cdn = app.response_cache.cdn
        assert cdn is not None
        await sign_in(app.staff, "editor")
        draft = await News.get(slug=DRAFT_NEWS_SLUG)

        # A draft edit touches nothing public: nothing to purge.
        await mutate(
            app.staff, UPDATE_NEWS, {"id": global_id("News", draft.pk), "input": {"title": "Т"}}
        )
        await cdn.wait()
        assert receiver.received == []

        # The answers a CDN holds name the same keys as the purge.
        listed = await app.http.get(
            "/graphql", params={"query": "{ news { edges { node { id } } } }"}
        )
        assert "news-list" in listed.headers["surrogate-key"].split()
        await mutate(app.staff, PUBLISH_NEWS, {"id": global_id("News", draft.pk)})
        await cdn.wait()
        ((headers, body),) = receiver.received
        assert headers["authorization"] == "Bearer cdn-secret"
        assert headers["content-type"] == "application/json"
        assert body == {"keys": sorted([f"News:{draft.pk}", "news-list", "any-content"])}

        # A CDN that fails is logged; the change stands.
        receiver.status = 503
        published = await News.get(slug=NEWS_SLUG)
        with caplog.at_level(logging.WARNING, logger="cms.cdn"):
            payload = await mutate(
                app.staff,
                UPDATE_NEWS,
                {"id": global_id("News", published.pk), "input": {"title": "Новое"}},
            )
            await cdn.wait()
        assert payload["errors"] == []
        assert len(receiver.received) == 2
        assert any("HTTP 503" in r.getMessage() for r in caplog.records if r.name == "cms.cdn")


async def test_an_unreachable_cdn_is_logged(
    db: TestDatabase, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    url = receiver.url
    receiver.server.shutdown()
    receiver.server.server_close()  # nothing listens there any more
    async for app in cached_app(db.url, CMS_RESPONSE_CACHE="on", CMS_CDN_PURGE_URL=url):
        cdn = app.response_cache.cdn
        assert cdn is not None
        await sign_in(app.staff, "editor")
        draft = await News.get(slug=DRAFT_NEWS_SLUG)
        with caplog.at_level(logging.WARNING, logger="cms.cdn"):
            payload = await mutate(app.staff, PUBLISH_NEWS, {"id": global_id("News", draft.pk)})
            await cdn.wait()
        assert payload["errors"] == []
        # (Apps of earlier tests not yet collected may hear the change too.)
        lines = [r.getMessage() for r in caplog.records if r.name == "cms.cdn"]
        assert lines
        assert all(line.startswith("CDN purge of 3 keys failed:") for line in lines)
