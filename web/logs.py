"""Log lines of a server process: text or JSON (CMS_LOG_FORMAT), each with the id of
the request it belongs to ("-" outside requests).

server.py hands `logging_config()` to uvicorn, which applies it in every worker
process. JSON lines hold time, level, logger, message and request_id, the access-log
fields of access lines (method, path, status, duration_ms, sql) and the traceback of
an error. Nothing here filters personal data: it is kept out of messages where they
are written, and SQL values out of the statement log (cms/db.py).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import orjson

from cms.observability import request_id
from cms.settings import Settings

# Fields of a record that the access log adds (web/access_log.py).
ACCESS_FIELDS = ("method", "path", "status", "duration_ms", "sql")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


class RequestIdFilter(logging.Filter):
    """Stamps every record with the current request's id."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", request_id.get()),
        }
        for name in ACCESS_FIELDS:
            value = record.__dict__.get(name)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


def formatter(settings: Settings) -> logging.Formatter:
    return JsonFormatter() if settings.log_format == "json" else logging.Formatter(TEXT_FORMAT)


def logging_config(settings: Settings) -> dict[str, Any]:
    """A logging.config.dictConfig for the server: one stream handler on the root
    logger (uvicorn's own loggers propagate to it), at CMS_LOG_LEVEL."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {"line": {"()": formatter, "settings": settings}},
        "handlers": {
            "stream": {
                "class": "logging.StreamHandler",
                "formatter": "line",
                "filters": ["request_id"],
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"level": settings.log_level, "handlers": ["stream"]},
        "loggers": {
            name: {"level": settings.log_level, "handlers": [], "propagate": True}
            for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
        },
    }
