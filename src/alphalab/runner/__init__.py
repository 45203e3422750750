"""Operations: the scheduled runner, its alerts, run records and status.

``alphalab runner run-once`` / ``start`` / ``status`` (:mod:`alphalab.runner.cli`). The pieces:

- :mod:`~alphalab.runner.run` — :func:`run_once`: overrides, ``dvc repro``, metrics diff,
  alerts, run record; :class:`ExitCode`;
- :mod:`~alphalab.runner.scheduler` — cron schedule in a time zone, one instance, coalesced
  missed runs, clean stop;
- :mod:`~alphalab.runner.repro` — the pipeline as a stoppable child process group;
- :mod:`~alphalab.runner.alerts` — rules, cooldowns, log / e-mail / webhook channels;
- :mod:`~alphalab.runner.observe` — metrics, gate, validation and data freshness read back;
- :mod:`~alphalab.runner.overrides` — params overrides (the rolling data window);
- :mod:`~alphalab.runner.lock`, :mod:`~alphalab.runner.records`,
  :mod:`~alphalab.runner.status` — lock files, run records and state, health.

Structured logging is :mod:`alphalab.logs`.
"""

from __future__ import annotations

from alphalab.runner.repro import CommandRepro, DvcRepro, ReproRequest, ReproResult
from alphalab.runner.run import ExitCode, RunReport, run_once
from alphalab.runner.scheduler import Schedule, serve

__all__ = [
    "CommandRepro",
    "DvcRepro",
    "ExitCode",
    "ReproRequest",
    "ReproResult",
    "RunReport",
    "Schedule",
    "run_once",
    "serve",
]
