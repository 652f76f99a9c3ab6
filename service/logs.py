"""How the service logs: one line per record on stderr, readable text or JSON lines.

The same configuration is handed to uvicorn (``log_config``), so its own records (startup,
errors) come out in the same shape, and each ``--workers`` process applies it too. uvicorn's
access log is off: ``service/api/telemetry.py`` writes one line per request itself, with the
request id.
"""

import json
import logging
from datetime import UTC, datetime
from typing import Any, Literal

from indexer.terminal import LIBRARY_PROBES

LogFormat = Literal["text", "json"]
TEXT_FORMAT = "%(levelname)s %(name)s: %(message)s"
# Attributes every LogRecord has: the rest were passed as ``extra`` and go into the JSON.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "color_message"}


class JsonFormatter(logging.Formatter):
    """A record as one JSON object: time, level, logger, message, the ``extra`` fields, and
    the traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class _PlainUvicornName(logging.Filter):
    """uvicorn logs its start and stop as ``uvicorn.error`` (its logger for everything but
    access lines): "INFO uvicorn.error: Started server process" reads like a failure."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "uvicorn.error":
            record.name = "uvicorn"
        return True


def logging_config(log_format: LogFormat, level: str = "INFO") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for the service and uvicorn alike."""
    formatter: dict[str, Any] = (
        {"()": JsonFormatter} if log_format == "json" else {"format": TEXT_FORMAT}
    )
    handler = {
        "class": "logging.StreamHandler",
        "formatter": "default",
        "stream": "ext://sys.stderr",
        "filters": ["plain_uvicorn_name"],
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "filters": {"plain_uvicorn_name": {"()": _PlainUvicornName}},
        "handlers": {"default": handler},
        "root": {"handlers": ["default"], "level": level},
        "loggers": {
            # uvicorn's loggers hand their records to the root's one handler.
            **{
                name: {"handlers": [], "level": level, "propagate": True}
                for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
            },
            **{name: {"level": "WARNING"} for name in LIBRARY_PROBES},
        },
    }
