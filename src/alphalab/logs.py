"""Structured logging for the pipeline and the runner.

Two formats for the ``alphalab`` logger tree:

- ``console`` (default): one human-readable line,
  ``2026-01-05 06:30:02 INFO  [run 20260105T113000Z-3f2a · ingest] message``;
- ``json``: one JSON object per line with the keys ``timestamp`` (ISO 8601, UTC), ``level``,
  ``logger``, ``stage``, ``run_id`` and ``message`` (plus any ``extra`` fields given to the log
  call, and ``exc_info`` text when an exception is logged), for log shippers.

``run_id`` and ``stage`` come from :func:`log_context` (context variables, so they follow the
code that set them) unless a log call passes them in ``extra``. The runner passes its run id to
the pipeline's processes in ``ALPHALAB_RUN_ID`` and the chosen format in ``ALPHALAB_LOG_FORMAT``.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import json
import logging
import os
import sys
from collections.abc import Iterator
from typing import IO, Any, Literal

LOGGER_NAME = "alphalab"
LOG_FORMAT_ENV = "ALPHALAB_LOG_FORMAT"
RUN_ID_ENV = "ALPHALAB_RUN_ID"

LogFormat = Literal["console", "json"]

_run_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "alphalab_run_id", default=None
)
_stage: contextvars.ContextVar[str | None] = contextvars.ContextVar("alphalab_stage", default=None)

# attributes every LogRecord has; anything else on a record came from ``extra``
_STANDARD = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__.keys()
    | {"message", "asctime", "stage", "run_id", "taskName"}
)


@contextlib.contextmanager
def log_context(*, run_id: str | None = None, stage: str | None = None) -> Iterator[None]:
    """Attach ``run_id`` and/or ``stage`` to every record logged inside the block.

    Parameters
    ----------
    run_id : str, optional
        Identifier of the current run; unchanged when ``None``.
    stage : str, optional
        Pipeline stage being run; unchanged when ``None``.
    """
    tokens = []
    if run_id is not None:
        tokens.append((_run_id, _run_id.set(run_id)))
    if stage is not None:
        tokens.append((_stage, _stage.set(stage)))
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


class ContextFilter(logging.Filter):
    """Fill ``record.run_id`` / ``record.stage`` from :func:`log_context` when not given."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "run_id", None) is None:
            record.run_id = _run_id.get() or os.environ.get(RUN_ID_ENV)
        if getattr(record, "stage", None) is None:
            record.stage = _stage.get()
        return True


def _utc_iso(created: float) -> str:
    stamp = dt.datetime.fromtimestamp(created, tz=dt.UTC)
    return stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: timestamp, level, logger, stage, run_id, message (+ extras)."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "timestamp": _utc_iso(record.created),
            "level": record.levelname,
            "logger": record.name,
            "stage": getattr(record, "stage", None),
            "run_id": getattr(record, "run_id", None),
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                doc[key] = value
        if record.exc_info:
            doc["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(doc, default=str, ensure_ascii=False)


class ConsoleFormatter(logging.Formatter):
    """Human-readable lines: local time, level, ``[run · stage]`` and the message."""

    def format(self, record: logging.LogRecord) -> str:
        when = dt.datetime.fromtimestamp(record.created).strftime("%Y-%m-%d %H:%M:%S")
        tags = [t for t in (getattr(record, "run_id", None), getattr(record, "stage", None)) if t]
        where = f" [{' · '.join(tags)}]" if tags else ""
        line = f"{when} {record.levelname:<7s}{where} {record.getMessage()}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def make_formatter(fmt: LogFormat) -> logging.Formatter:
    """Return the formatter for ``fmt`` (``console`` or ``json``)."""
    if fmt == "json":
        return JsonFormatter()
    if fmt == "console":
        return ConsoleFormatter()
    raise ValueError(f"log format must be 'console' or 'json', got {fmt!r}")


def configure_logging(
    fmt: LogFormat | None = None,
    *,
    level: str | int = "INFO",
    stream: IO[str] | None = None,
) -> logging.Logger:
    """Send the ``alphalab`` logger tree to ``stream`` in format ``fmt``.

    Calling it again replaces the handler it installed before (never duplicates lines).

    Parameters
    ----------
    fmt : {'console', 'json'}, optional
        Output format; default from ``ALPHALAB_LOG_FORMAT``, else ``console``.
    level : str or int
        Lowest level emitted.
    stream : file-like, optional
        Where lines go; default ``sys.stderr``.

    Returns
    -------
    logging.Logger
        The configured ``alphalab`` logger.
    """
    chosen = fmt or os.environ.get(LOG_FORMAT_ENV) or "console"
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(make_formatter(chosen))  # type: ignore[arg-type]
    handler.addFilter(ContextFilter())
    handler._alphalab = True  # type: ignore[attr-defined]
    logger = logging.getLogger(LOGGER_NAME)
    for old in [h for h in logger.handlers if getattr(h, "_alphalab", False)]:
        logger.removeHandler(old)  # the stream belongs to the caller: not closed
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    return logger


def get_logger(name: str) -> logging.Logger:
    """A logger under the ``alphalab`` tree (``name`` is usually ``__name__``)."""
    return logging.getLogger(name if name.startswith(LOGGER_NAME) else f"{LOGGER_NAME}.{name}")
