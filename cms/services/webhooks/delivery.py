"""Delivering webhooks from the outbox: the background loop of a server process or
of `python -m cms worker`.

A round: committed events are fanned out into deliveries (one per endpoint that
wants the event, in one transaction with marking the events), then due deliveries
are claimed (cms/services/outbox.py) and sent at once, with no transaction or
connection held during the requests; each result is written afterwards. A failure
is retried with exponential backoff and jitter until the last attempt; 410 Gone
and a run of failures disable the endpoint, with the reason.

httpx is imported on the first delivery: with its command-line extras (click, rich,
pygments) it is about 5 MiB in every server process, most of which never has an
endpoint to send to.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from cms.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from cms.observability import report_unexpected
from cms.services import outbox
from cms.services.visibility import now
from cms.services.webhooks import signing
from cms.services.webhooks.addresses import RefusedAddressError, Target, connect_url, resolve
from cms.services.webhooks.events import EventType, body, waking
from cms.settings import Settings

if TYPE_CHECKING:
    import httpx

logger = logging.getLogger("cms.webhooks")

PENDING_EVENTS = Q(dispatched_at__isnull=True)
PENDING_DELIVERIES = Q(delivered_at__isnull=True, failed_at__isnull=True)
ENDPOINT_OFF = "Адрес отключён: не отправлено."  # the error of a delivery it stopped
RESPONSE_KEPT = 1024  # bytes of a response kept in the log
USER_AGENT = "cms-webhooks/1"
_DISPATCH_BATCH = 200  # events turned into deliveries in one round
_GATHER_SECONDS = 0.1  # the shortest time between two rounds, but for a backlog
_PRUNE_EVERY = 3600.0  # seconds between two prunings of the log by one process


@dataclass(frozen=True, slots=True)
class Outcome:
    """One attempt as it went: a status code, or an error before any answer."""

    started_at: datetime
    duration_ms: int
    status_code: int | None = None
    response_body: str = ""
    error: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass(frozen=True, slots=True)
class RoundReport:
    dispatched: int = 0
    sent: int = 0
    failed: int = 0


def _wants(endpoint: WebhookEndpoint, event: WebhookEvent) -> bool:
    if event.event_type not in endpoint.event_types:
        return False
    if event.created_at < endpoint.created_at:  # before the endpoint existed
        return False
    if event.event_type.startswith("content.") and endpoint.content_types:
        return event.content_type in endpoint.content_types
    return True


class WebhookSender:
    """Fans out and delivers; `run()` is the background loop."""

    def __init__(self, settings: Settings, *, clock: Callable[[], datetime] = now) -> None:
        self.settings = settings
        self.clock = clock
        # The claim outlives every request of a round (they run side by side).
        self.lease = timedelta(seconds=3 * settings.webhook_timeout + 30)
        self._wakeup = asyncio.Event()
        self._last_prune = 0.0
        # One connection pool per host name: connections go to checked addresses, and
        # a kept-alive TLS connection made for one name must not carry another's.
        self._clients: dict[str, httpx.AsyncClient] = {}

    # ------------------------------------------------------------ the loop

    def wake(self) -> None:
        """Something was written: look at the outbox now, not at the next poll."""
        self._wakeup.set()

    async def run(self) -> None:
        # Woken by the events this process writes (events.record), not by every
        # change: with no endpoint active nothing is written, and no round runs.
        waking.add(self.wake)
        try:
            while True:
                self._wakeup.clear()
                try:
                    report = await self.run_once()
                    if (
                        report.dispatched >= _DISPATCH_BATCH
                        or report.sent + report.failed >= self.settings.webhook_concurrency
                    ):
                        continue  # a backlog: the next round at once
                    busy = report.dispatched or report.sent or report.failed
                    wait = 0.0 if busy else await self._seconds_to_next()
                    await self._prune_now_and_then()
                except asyncio.CancelledError:
                    raise
                except Exception as error:
                    report_unexpected(error)
                    logger.exception("webhooks: a round failed")
                    wait = self.settings.webhook_poll_seconds
                if wait > 0:
                    # Not asyncio.wait_for: on Python 3.11 its inner task can miss the
                    # cancellation that stops the server, which then waits for ever.
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(wait):
                            await self._wakeup.wait()
                # Under load changes come one by one, each waking the sender: a round
                # for what a moment gathers, not a round of claims per change competing
                # with the requests for the database.
                await asyncio.sleep(_GATHER_SECONDS)
        finally:
            waking.discard(self.wake)
            await self.close()

    async def close(self) -> None:
        clients, self._clients = self._clients, {}
        for client in clients.values():
            await client.aclose()

    async def run_once(self) -> RoundReport:
        dispatched = await self.dispatch_events()
        sent, failed = await self.deliver_due()
        return RoundReport(dispatched, sent, failed)

    async def _seconds_to_next(self) -> float:
        return await outbox.seconds_to_next(
            WebhookDelivery, PENDING_DELIVERIES, self.clock(), self.settings.webhook_poll_seconds
        )

    async def _prune_now_and_then(self) -> None:
        if time.monotonic() - self._last_prune < _PRUNE_EVERY:
            return
        self._last_prune = time.monotonic()
        removed = await prune(self.settings, self.clock())
        if removed:
            logger.info("webhooks: %d old events removed from the log", removed)

    # ------------------------------------------------------------ fan-out

    async def dispatch_events(self, *, batch: int = _DISPATCH_BATCH) -> int:
        """Committed events turned into deliveries; how many events."""
        moment = self.clock()
        events = await outbox.claim(
            WebhookEvent, PENDING_EVENTS, moment=moment, lease=timedelta(seconds=60), limit=batch
        )
        if not events:
            return 0
        endpoints = await WebhookEndpoint.filter(active=True)
        rows = [
            WebhookDelivery(endpoint_id=endpoint.pk, event_id=event.pk, next_attempt_at=moment)
            for event in events
            for endpoint in endpoints
            if _wants(endpoint, event)
        ]
        async with in_transaction():
            if rows:
                # A fan-out repeated after a lost claim adds nothing twice.
                await WebhookDelivery.bulk_create(rows, ignore_conflicts=True)
            await WebhookEvent.filter(id__in=[event.pk for event in events]).update(
                dispatched_at=moment
            )
        if rows:
            self.wake()
        return len(events)

    # ------------------------------------------------------------ delivery

    async def deliver_due(self) -> tuple[int, int]:
        """Sends the deliveries due now, side by side; (sent, failed)."""
        moment = self.clock()
        claimed = await outbox.claim(
            WebhookDelivery,
            PENDING_DELIVERIES,
            moment=moment,
            lease=self.lease,
            limit=self.settings.webhook_concurrency,
        )
        if not claimed:
            return 0, 0
        endpoints = {
            row.pk: row
            for row in await WebhookEndpoint.filter(id__in={d.endpoint_id for d in claimed})
        }
        events = {
            row.pk: row for row in await WebhookEvent.filter(id__in={d.event_id for d in claimed})
        }
        # The database is not touched while the requests run.
        try:
            outcomes = await asyncio.gather(
                *(self._attempt(endpoints.get(d.endpoint_id), events[d.event_id]) for d in claimed)
            )
        except asyncio.CancelledError:
            await asyncio.shield(
                outbox.release(WebhookDelivery, PENDING_DELIVERIES, claimed, moment)
            )
            raise
        sent = failed = 0
        # Endpoints deleted while their requests ran took their deliveries with them.
        alive = set(
            await WebhookEndpoint.filter(id__in=list(endpoints)).values_list("id", flat=True)
        )
        # The results of the round in one transaction: one commit, not one per row.
        async with in_transaction():
            for delivery, outcome in zip(claimed, outcomes, strict=True):
                endpoint = endpoints.get(delivery.endpoint_id)
                if endpoint is None or endpoint.pk not in alive:
                    continue
                if outcome is None:
                    await WebhookDelivery.filter(id=delivery.pk).update(
                        failed_at=self.clock(), last_error=ENDPOINT_OFF
                    )
                    failed += 1
                    continue
                await self._record(delivery, endpoint, outcome)
                if outcome.succeeded:
                    sent += 1
                else:
                    failed += 1
        return sent, failed

    def _client(self, host: str) -> httpx.AsyncClient:
        client = self._clients.get(host)
        if client is None:
            import httpx

            # No redirects (a 3xx is a failure: it could lead to an internal address),
            # no proxies from the environment.
            client = self._clients[host] = httpx.AsyncClient(
                follow_redirects=False,
                trust_env=False,
                timeout=httpx.Timeout(self.settings.webhook_timeout),
                limits=httpx.Limits(max_connections=self.settings.webhook_concurrency),
            )
        return client

    async def _attempt(
        self, endpoint: WebhookEndpoint | None, event: WebhookEvent
    ) -> Outcome | None:
        """One request; None when the endpoint is off (nothing is sent)."""
        if endpoint is None or not endpoint.active:
            return None
        import httpx

        started_at = self.clock()
        started = time.perf_counter()

        def took() -> int:
            return round((time.perf_counter() - started) * 1000)

        content = body(self.settings, event)
        keys = [endpoint.secret]
        expires = endpoint.previous_secret_expires_at
        if endpoint.previous_secret and expires is not None and expires > started_at:
            keys.append(endpoint.previous_secret)
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            **signing.headers(keys, event.message_id, started_at, content),
        }
        # One limit for the whole attempt (the name, the connection, the answer):
        # httpx's time-outs are per phase, and a receiver dripping bytes would
        # outlast them.
        limit = self.settings.webhook_timeout
        try:
            async with asyncio.timeout(limit):
                target = await resolve(
                    endpoint.url, allow_private=self.settings.webhook_allow_private
                )
                status, kept = await self._post(endpoint.url, target, content, headers)
        except RefusedAddressError as refused:
            return Outcome(started_at, took(), error=f"Отказано: {refused}"[:300])
        except (TimeoutError, httpx.TimeoutException):
            return Outcome(started_at, took(), error="Время ожидания ответа истекло.")
        except httpx.HTTPError as error:
            return Outcome(started_at, took(), error=f"{type(error).__name__}: {error}"[:300])
        text = kept[:RESPONSE_KEPT].decode("utf-8", errors="replace")
        return Outcome(started_at, took(), status_code=status, response_body=text)

    async def _post(
        self, url: str, target: Target, content: bytes, headers: dict[str, str]
    ) -> tuple[int, bytes]:
        """The status and the first bytes of the answer; the connection goes to the
        checked address, with the URL's host in `Host` and in TLS (SNI, certificate)."""
        import httpx

        headers = {**headers, "host": httpx.URL(url).netloc.decode("ascii")}
        extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
        client = self._client(target.host)
        request = client.build_request(
            "POST",
            connect_url(url, target),
            content=content,
            headers=headers,
            extensions=extensions,
        )
        response = await client.send(request, stream=True)
        try:
            kept = b""
            async for chunk in response.aiter_raw():
                kept += chunk
                if len(kept) >= RESPONSE_KEPT:
                    break
        finally:
            await response.aclose()
        return response.status_code, kept

    def _delay(self, attempts: int) -> timedelta:
        first = self.settings.webhook_retry_first
        delay = min(self.settings.webhook_retry_max, first * 2 ** (attempts - 1))
        # Jitter, so that deliveries failed together do not come back together.
        return timedelta(seconds=delay * random.uniform(0.8, 1.2))

    async def _record(
        self, delivery: WebhookDelivery, endpoint: WebhookEndpoint, outcome: Outcome
    ) -> None:
        error = outcome.error
        if outcome.status_code is not None and not outcome.succeeded:
            error = f"Ответ {outcome.status_code}."
        await WebhookAttempt.create(
            delivery_id=delivery.pk,
            started_at=outcome.started_at,
            duration_ms=outcome.duration_ms,
            status_code=outcome.status_code,
            response_body=outcome.response_body,
            error=outcome.error,
        )
        moment = self.clock()
        if outcome.succeeded:
            await WebhookDelivery.filter(id=delivery.pk).update(
                delivered_at=moment, last_status=outcome.status_code, last_error=None
            )
            if endpoint.consecutive_failures:
                await WebhookEndpoint.filter(id=endpoint.pk).update(consecutive_failures=0)
            return
        last = delivery.attempts >= self.settings.webhook_max_attempts
        await WebhookDelivery.filter(id=delivery.pk).update(
            last_status=outcome.status_code,
            last_error=error,
            **(
                {"failed_at": moment}
                if last
                else {"next_attempt_at": moment + self._delay(delivery.attempts)}
            ),
        )
        await WebhookEndpoint.filter(id=endpoint.pk).update(
            consecutive_failures=F("consecutive_failures") + 1
        )
        if outcome.status_code == 410:
            reason = "Получатель ответил 410 Gone: адрес больше не принимает вебхуки."
            disabled = await WebhookEndpoint.filter(id=endpoint.pk, active=True).update(
                active=False, disabled_at=moment, disabled_reason=reason
            )
        else:
            limit = self.settings.webhook_disable_after
            reason = f"{limit} неудачных попыток подряд; последняя: {error}"[:300]
            disabled = await WebhookEndpoint.filter(
                id=endpoint.pk, active=True, consecutive_failures__gte=limit
            ).update(active=False, disabled_at=moment, disabled_reason=reason)
        if disabled:
            # Nothing more goes to it: what waits for it fails now, not at its next try.
            waiting = WebhookDelivery.filter(PENDING_DELIVERIES, endpoint_id=endpoint.pk)
            await waiting.filter(id=delivery.pk).update(failed_at=moment)
            await waiting.update(failed_at=moment, last_error=ENDPOINT_OFF)
            logger.warning("webhook endpoint %d disabled: %s", endpoint.pk, reason)
        else:
            logger.info(
                "webhook %s to endpoint %d failed (attempt %d): %s",
                delivery.pk,
                endpoint.pk,
                delivery.attempts,
                error,
            )


async def prune(settings: Settings, moment: datetime) -> int:
    """Removes events older than the log's retention, with their deliveries and
    attempts, unless a delivery of theirs is still being tried."""
    cutoff = moment - timedelta(days=settings.webhook_log_retention_days)
    busy = WebhookDelivery.filter(PENDING_DELIVERIES, event__created_at__lt=cutoff)
    keep = {row for row in await busy.values_list("event_id", flat=True)}
    old = WebhookEvent.filter(created_at__lt=cutoff, dispatched_at__isnull=False)
    if keep:
        old = old.exclude(id__in=keep)
    ids = list(await old.values_list("id", flat=True))
    if not ids:
        return 0
    delivery_ids = list(await WebhookDelivery.filter(event_id__in=ids).values_list("id", flat=True))
    async with in_transaction():
        if delivery_ids:
            await WebhookAttempt.filter(delivery_id__in=delivery_ids).delete()
            await WebhookDelivery.filter(id__in=delivery_ids).delete()
        await WebhookEvent.filter(id__in=ids).delete()
    return len(ids)


__all__ = ["EventType", "Outcome", "WebhookSender", "prune"]
