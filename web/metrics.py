"""Prometheus metrics: what an operator watches without reading logs.

Off unless CMS_METRICS=on; then `GET /metrics` answers in the Prometheus text format
(behind `Authorization: Bearer <CMS_METRICS_TOKEN>` when a token is set). Requests are
counted by the outermost middleware (web/request_id.py), once per request, fast-lane
hits included; what it cannot see itself, the inner layers leave in the ASGI scope
(the operation's name, a response-cache hit or miss, the SQL statement count). The
domain and media report through `cms.observability.hooks`. Every label has a bounded
set of values: routes are templates, operation names are capped per process.

With several worker processes (CMS_WORKERS > 1) server.py points
PROMETHEUS_MULTIPROC_DIR at a fresh directory before the workers start:
prometheus-client then keeps each process's values in files there, and whichever
worker answers a scrape sums them all.
"""

from __future__ import annotations

import hmac
import os
import re
from collections.abc import Iterator

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response

from cms.errors import Code
from cms.observability import hooks
from cms.services.feedback.notifications import outbox_depth
from cms.settings import Settings
from web.responses import error_response

# Paths the application answers, as the route templates counted under.
_EXACT = frozenset({"/graphql", "/healthz", "/readyz", "/metrics", "/media", "/sitemap.xml"})
_PREFIXES = (
    ("/media/", "/media/{key}"),
    ("/feeds/", "/feeds/{feed}"),
    ("/sitemaps/", "/sitemaps/{page}"),
    ("/graphiql-assets/", "/graphiql-assets/{file}"),
)
_METHODS = frozenset({"GET", "POST", "HEAD", "OPTIONS"})
# Operation names callers choose: a valid GraphQL name, and at most this many distinct
# names per process; others are counted as "other".
_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,63}")
MAX_OPERATION_NAMES = 200
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
_STATEMENT_BUCKETS = (0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89)
_RENDITION_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


# A request's counter, latency histogram and statements histogram.
_Series = tuple[Counter, Histogram, Histogram]


def route_of(path: str) -> str:
    if path in _EXACT:
        return path
    for prefix, template in _PREFIXES:
        if path.startswith(prefix):
            return template
    return "other"


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class _Outbox(Collector):
    """The outbox's depth, read from the database just before each scrape (the same
    for every process, so it is a gauge of the scrape, not of a process)."""

    def __init__(self) -> None:
        self.pending = 0
        self.failed = 0

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            "cms_outbox_pending", "Notifications waiting to be sent.", value=self.pending
        )
        yield GaugeMetricFamily(
            "cms_outbox_failed", "Notifications given up on after every retry.", value=self.failed
        )


class Metrics:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.multiprocess = multiprocess_dir() is not None
        # In multiprocess mode values live in files, collected per scrape; otherwise in
        # this application's own registry (tests create many applications).
        self.registry = CollectorRegistry()
        owner = None if self.multiprocess else self.registry
        self.requests = Counter(
            "cms_http_requests",
            "HTTP requests answered, by route, method, status and GraphQL operation.",
            ["route", "method", "status", "operation"],
            registry=owner,
        )
        self.latency = Histogram(
            "cms_http_request_duration_seconds",
            "Time to answer a request, by route.",
            ["route"],
            buckets=_LATENCY_BUCKETS,
            registry=owner,
        )
        self.statements = Histogram(
            "cms_sql_statements_per_request",
            "SQL statements a request issued, by route.",
            ["route"],
            buckets=_STATEMENT_BUCKETS,
            registry=owner,
        )
        self.cache = Counter(
            "cms_response_cache",
            "Response cache lookups, by result (hit or miss).",
            ["result"],
            registry=owner,
        )
        self.rate_limited = Counter(
            "cms_rate_limit_refusals",
            "Requests refused by a rate limit (HTTP 429), by route.",
            ["route"],
            registry=owner,
        )
        self.delivery_failures = Counter(
            "cms_outbox_delivery_failures",
            "Failed attempts to send a notification.",
            registry=owner,
        )
        self.renditions = Histogram(
            "cms_rendition_seconds",
            "Time to make an image rendition.",
            buckets=_RENDITION_BUCKETS,
            registry=owner,
        )
        self.database_errors = Counter(
            "cms_database_errors",
            "Failures of the database (unreachable, timed out).",
            registry=owner,
        )
        self.redis_errors = Counter(
            "cms_redis_errors", "Failed Redis calls (answered without Redis).", registry=owner
        )
        # One series per live process: which workers a scrape has summed.
        self.workers = Gauge(
            "cms_worker_processes",
            "Server processes reporting (1 each, by pid in multiprocess mode).",
            registry=owner,
            multiprocess_mode="liveall",
        )
        self.workers.set(1)
        self._outbox = _Outbox()
        self._names: set[str] = set()
        # (route, method, status, operation) -> its series: labels() costs a lock and
        # a few tuples per call, a dict lookup does not (the fast lane stays cheap).
        self._series: dict[tuple[str, str, int, object], _Series] = {}

    def register_hooks(self) -> None:
        hooks.database_error = self.database_errors.inc
        hooks.redis_error = self.redis_errors.inc
        hooks.delivery_failed = self.delivery_failures.inc
        hooks.rendition_made = self.renditions.observe

    def _series_of(self, route: str, method: str, status: int, operation: object) -> _Series:
        return (
            self.requests.labels(
                route,
                method if method in _METHODS else "other",
                str(status),
                self.operation_label(operation),
            ),
            self.latency.labels(route),
            self.statements.labels(route),
        )

    def operation_label(self, name: object) -> str:
        if not isinstance(name, str) or not name:
            return ""
        if name in self._names:
            return name
        if len(self._names) >= MAX_OPERATION_NAMES or not _NAME.fullmatch(name):
            return "other"
        self._names.add(name)
        return name

    def observe(
        self,
        path: str,
        method: str,
        status: int,
        seconds: float,
        operation: object,
        cache: object,
        statements: int,
    ) -> None:
        """One answered request (called by the outermost middleware)."""
        route = route_of(path)
        key = (route, method, status, operation)
        series = self._series.get(key)
        if series is None:
            series = self._series_of(route, method, status, operation)
            if len(self._series) < 4096:  # label values are bounded; the keys too
                self._series[key] = series
        requests, latency, statements_histogram = series
        requests.inc()
        latency.observe(seconds)
        statements_histogram.observe(statements)
        if cache is not None:
            self.cache.labels(cache).inc()
        if status == 429:
            self.rate_limited.labels(route).inc()

    async def endpoint(self, request: Request) -> Response:
        token = self.settings.metrics_token
        if token is not None:
            given = request.headers.get("authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
                return error_response(
                    401,
                    "Метрики доступны только с токеном (Authorization: Bearer …).",
                    Code.UNAUTHENTICATED,
                    headers={"www-authenticate": "Bearer"},
                )
        try:
            self._outbox.pending, self._outbox.failed = await outbox_depth()
        except Exception:
            hooks.database_error()  # the rest is still worth scraping
        registry = self.registry
        if self.multiprocess:
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        body = generate_latest(registry) + generate_latest(self._outbox_registry())
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    def _outbox_registry(self) -> CollectorRegistry:
        registry = CollectorRegistry()
        registry.register(self._outbox)
        return registry

    def process_exited(self) -> None:
        """Drops this process's live series (its counters stay in the sums)."""
        if self.multiprocess:
            multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]
