"""Stopping well: /readyz says "draining" from the moment the process is told to stop.

uvicorn handles SIGTERM (and SIGINT): it stops accepting connections, lets the
requests in flight finish for up to CMS_SHUTDOWN_TIMEOUT seconds, then runs the
lifespan's shutdown (background tasks stop and give back their outbox claims,
then database and Redis connections close: web/app.py). `watch_signals` chains a
handler before uvicorn's that marks the process as draining, so a load balancer
polling /readyz on open connections takes it out of rotation at once.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

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
