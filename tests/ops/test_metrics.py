"""/metrics: off by default, behind a token when one is set, and its counters move
with the requests, the response cache, rate limits, the outbox and failures."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from cms.observability import hooks
from tests.conftest import TestDatabase, make_settings
from tests.feedback.conftest import SUBMIT, form
from tests.media.conftest import make_media_app
from tests.media.test_renditions import rendition, upload_photo
from web.app import create_app
from web.metrics import MAX_OPERATION_NAMES, Metrics, route_of

QUERY = "query Regions { regions { code } }"


@contextlib.asynccontextmanager
async def http_app(database: TestDatabase, **env: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(database.url, **env), manage_database=False)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """(sample name, labels) -> value, of a scrape."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(
    scraped: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    return scraped.get((name, frozenset(labels.items())), 0.0)


async def scrape(
    http: httpx.AsyncClient, **headers: str
) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = await http.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return samples(response.text)


async def test_metrics_are_off_unless_asked_for(seeded_db: TestDatabase) -> None:
    async with http_app(seeded_db) as http:
        assert (await http.get("/metrics")).status_code == 404


async def test_requests_cache_and_statements_are_counted(seeded_db: TestDatabase) -> None:
    async with http_app(seeded_db, CMS_METRICS="on", CMS_RESPONSE_CACHE="on") as http:
        for _ in range(3):  # a miss executed by the view, then two fast-lane hits
            response = await http.get(
                "/graphql", params={"query": QUERY, "operationName": "Regions"}
            )
            assert response.status_code == 200
        assert (await http.get("/healthz")).status_code == 200
        assert (await http.get("/no/such/page")).status_code == 404
        assert (await http.get("/media/aa/bb/secret-name.jpg")).status_code == 404
        scraped = await scrape(http)
    graphql = {"route": "/graphql", "method": "GET", "status": "200", "operation": "Regions"}
    assert value(scraped, "cms_http_requests_total", **graphql) == 3
    assert (
        value(
            scraped,
            "cms_http_requests_total",
            route="/healthz",
            method="GET",
            status="200",
            operation="",
        )
        == 1
    )
    assert (
        value(
            scraped,
            "cms_http_requests_total",
            route="other",
            method="GET",
            status="404",
            operation="",
        )
        == 1
    )
    assert (
        value(
            scraped,
            "cms_http_requests_total",
            route="/media/{key}",
            method="GET",
            status="404",
            operation="",
        )
        == 1
    )
    assert value(scraped, "cms_response_cache_total", result="miss") == 1
    assert value(scraped, "cms_response_cache_total", result="hit") == 2
    assert value(scraped, "cms_http_request_duration_seconds_count", route="/graphql") == 3
    # The miss ran SQL (the regions); the hits none: 3 requests, statements summed.
    assert value(scraped, "cms_sql_statements_per_request_count", route="/graphql") == 3
    assert value(scraped, "cms_sql_statements_per_request_sum", route="/graphql") >= 1
    assert value(scraped, "cms_sql_statements_per_request_bucket", route="/graphql", le="0.0") == 2
    assert value(scraped, "cms_worker_processes") == 1
    assert value(scraped, "cms_outbox_pending") == 0


async def test_rate_limit_refusals_are_counted(seeded_db: TestDatabase) -> None:
    async with http_app(seeded_db, CMS_METRICS="on", CMS_RATE_LIMIT_ANONYMOUS="2/60") as http:
        statuses = [
            (await http.post("/graphql", json={"query": "{ __typename }"})).status_code
            for _ in range(4)
        ]
        assert statuses == [200, 200, 429, 429]
        scraped = await scrape(http)
    assert value(scraped, "cms_rate_limit_refusals_total", route="/graphql") == 2
    assert (
        value(
            scraped,
            "cms_http_requests_total",
            route="/graphql",
            method="POST",
            status="429",
            operation="",
        )
        == 2
    )


async def test_the_token_protects_the_metrics(seeded_db: TestDatabase) -> None:
    async with http_app(seeded_db, CMS_METRICS="on", CMS_METRICS_TOKEN="scrape-me") as http:
        refused = await http.get("/metrics")
        assert refused.status_code == 401
        assert refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        wrong = await http.get("/metrics", headers={"authorization": "Bearer wrong"})
        assert wrong.status_code == 401
        scraped = await scrape(http, authorization="Bearer scrape-me")
    assert (
        value(
            scraped,
            "cms_http_requests_total",
            route="/metrics",
            method="GET",
            status="401",
            operation="",
        )
        == 2
    )


async def test_outbox_depth_and_redis_errors(db: TestDatabase) -> None:
    # Redis on a port nobody listens on: every Redis call fails and is counted, and
    # the API answers without it. SMTP is configured, so a submission queues a
    # notification (the mailer does not run without the lifespan).
    async with http_app(
        db,
        CMS_METRICS="on",
        CMS_REDIS_URL="redis://127.0.0.1:9/0",
        CMS_SMTP_URL="smtp://127.0.0.1:9",
        CMS_FEEDBACK_NOTIFY_TO="staff@example.org",
    ) as http:
        response = await http.post(
            "/graphql", json={"query": SUBMIT, "variables": {"input": form()}}
        )
        assert response.status_code == 200
        assert response.json()["data"]["submitFeedback"]["ticket"]
        scraped = await scrape(http)
    assert value(scraped, "cms_outbox_pending") == 1
    assert value(scraped, "cms_outbox_failed") == 0
    assert value(scraped, "cms_redis_errors_total") >= 1
    assert (
        value(
            scraped,
            "cms_http_requests_total",
            route="/graphql",
            method="POST",
            status="200",
            operation="",
        )
        == 1
    )


async def test_hooks_feed_the_counters(seeded_db: TestDatabase) -> None:
    """What cms and media report (delivery failures, renditions, database errors)
    reaches the metrics of the application created last."""
    async with http_app(seeded_db, CMS_METRICS="on") as http:
        hooks.delivery_failed()
        hooks.rendition_made(0.2)
        hooks.database_error()
        scraped = await scrape(http)
    assert value(scraped, "cms_outbox_delivery_failures_total") == 1
    assert value(scraped, "cms_rendition_seconds_count") == 1
    assert value(scraped, "cms_rendition_seconds_bucket", le="0.25") == 1
    assert value(scraped, "cms_database_errors_total") == 1


def test_labels_have_bounded_values() -> None:
    metrics = Metrics(make_settings("sqlite://:memory:", CMS_METRICS="on"))
    names = {metrics.operation_label(f"Op{n}") for n in range(MAX_OPERATION_NAMES + 50)}
    assert len(names) == MAX_OPERATION_NAMES + 1
    assert "other" in names
    assert metrics.operation_label("Op1") == "Op1"  # known names stay
    assert metrics.operation_label("x" * 65) == "other"
    assert metrics.operation_label("not a name") == "other"
    assert metrics.operation_label(None) == ""
    assert route_of("/media/ab/cd/file.jpg") == "/media/{key}"
    assert route_of("/feeds/news.rss") == "/feeds/{feed}"
    assert route_of("/anything/else") == "other"


async def test_rendition_time_is_measured_once_per_rendition_made(
    db: TestDatabase, tmp_path: Path
) -> None:
    async for app in make_media_app(db, tmp_path / "media", CMS_METRICS="on"):
        asset = await upload_photo(app)
        made = await rendition(app, asset["id"], width=300)
        assert made is not None
        for _ in range(2):  # made by the first GET, served by the second
            assert (await app.http.get(app.local(made["url"]))).status_code == 200
        scraped = samples((await app.http.get("/metrics")).text)
    assert value(scraped, "cms_rendition_seconds_count") == 1
    assert value(scraped, "cms_rendition_seconds_sum") > 0
    assert (
        value(
            scraped,
            "cms_http_requests_total",
            route="/media/{key}",
            method="GET",
            status="200",
            operation="",
        )
        == 2
    )
