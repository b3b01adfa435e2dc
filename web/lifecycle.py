"""The server process's life: stopping well, and announcing scheduled publications.

Stopping well: /readyz says "draining" from the moment the process is told to stop.

uvicorn handles SIGTERM (and SIGINT): it stops accepting connections, lets the
requests in flight finish for up to CMS_SHUTDOWN_TIMEOUT seconds, then runs the
lifespan's shutdown (background tasks stop and give back their outbox claims,
then database and Redis connections close: web/app.py). `watch_signals` chains a
handler before uvicorn's that marks the process as draining, so a load balancer
polling /readyz on open connections takes it out of rotation at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from types import FrameType
from typing import Any

from cms.services.live_events import WENT_LIVE, Inbox, LocalBroker, went_live
from web.response_cache import next_go_live

logger = logging.getLogger("cms.server")

_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Draining:
    """Whether this process has been told to stop."""

    def __init__(self) -> None:
        self.active = False

    def begin(self) -> None:
        if not self.active:
            self.active = True
            logger.info("stopping: finishing requests in flight, /readyz answers 503")


def watch_signals(draining: Draining) -> Callable[[], None]:
    """Chains `draining.begin` before the current SIGTERM and SIGINT handlers (the
    server's); returns what puts the previous handlers back. Signals reach only the
    main thread: elsewhere (a test's thread) nothing is changed."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous: dict[int, Any] = {}
    for number in _SIGNALS:
        before = signal.getsignal(number)
        previous[number] = before

        def handler(sig: int, frame: FrameType | None, before: Any = before) -> None:
            draining.begin()
            if callable(before):
                before(sig, frame)
            elif before == signal.SIG_DFL:
                signal.signal(sig, signal.SIG_DFL)
                signal.raise_signal(sig)

        signal.signal(number, handler)

    def restore() -> None:
        for number, before in previous.items():
            signal.signal(number, before)

    return restore


# ---------------------------------------------------------------- scheduled publication

# The longest the scheduler sleeps without looking again: a change written outside
# any server (a script) is no event here, and clocks may be adjusted.
RECHECK_SECONDS = 60.0
# After a failure (the database away), the pause before the next try.
RETRY_SECONDS = 5.0


async def announce_go_lives(broker: LocalBroker, recheck: float = RECHECK_SECONDS) -> None:
    """Announces to this process's subscribers each item whose scheduled publication
    time passes, at that time. It sleeps until the earliest future `published_at`
    (what the response cache's Schedule reads) and wakes early on any content event,
    which may have scheduled something sooner. Every process runs its own and delivers
    to its own subscribers only: each subscriber hears of it once."""
    since = datetime.now(UTC)
    async with broker.listen() as wake:
        while True:
            try:
                # After `since`, not now: what passed since the last look is announced
                # at once, however long that look took.
                moment = await next_go_live(after=since)
            except Exception:
                logger.exception("scheduled publications: reading the next one failed")
                moment = None
            await _sleep_until(moment, recheck, wake)
            until = datetime.now(UTC)
            try:
                found = await went_live(since, until)
            except Exception:
                logger.exception("scheduled publications: reading what went live failed")
                await asyncio.sleep(RETRY_SECONDS)
                continue
            since = until
            for event in found:
                logger.info("went live: %s %s", event.kind, ",".join(map(str, event.ids)))
                broker.deliver_here(event)


async def _sleep_until(moment: datetime | None, recheck: float, wake: Inbox) -> None:
    """Until `moment` has passed (timers may fire a little early), `recheck` seconds at
    most, or until a content event (other than our own announcements) comes."""
    deadline = asyncio.get_running_loop().time() + recheck
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout_at(deadline):
            while True:
                if moment is not None:
                    left = (moment - datetime.now(UTC)).total_seconds()
                    if left < 0:
                        break
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(left + 0.001):
                            if await _woken(wake):
                                break
                elif await _woken(wake):
                    break
    while not wake.queue.empty():
        wake.queue.get_nowait()
    wake.overflowed = False


async def _woken(wake: Inbox) -> bool:
    """Whether the next event is a change (not one of our own announcements)."""
    return (await wake.queue.get()).action != WENT_LIVE


@contextlib.asynccontextmanager
async def scheduled_publications(broker: LocalBroker) -> AsyncIterator[None]:
    """Runs `announce_go_lives` while the block runs (the server's lifespan)."""
    task = asyncio.create_task(announce_go_lives(broker), name="scheduled-publications")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
