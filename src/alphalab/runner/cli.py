"""``alphalab runner``: run the pipeline on a schedule, compare, alert.

Subcommands::

    alphalab runner run-once [--set KEY=VALUE ...]   one pass now (exit codes below)
    alphalab runner start [--run-now] [--max-runs N] schedule passes by runner.schedule
    alphalab runner status [--json]                   last run, health, locks, next fire time

Common options: ``--root DIR`` (project root; default: found from the current directory),
``--log-format console|json`` (default ``runner.log_format``), ``--log-level``, and
``--repro-cmd "CMD ..."`` to run a command instead of ``dvc repro`` (testing, or e.g.
``"dvc exp run"``).

Exit codes of ``run-once``: 0 ok, 1 pipeline failed or params invalid, 2 usage, 3 alerts fired,
4 an alert could not be delivered, 75 another run holds the lock, 143 stopped by SIGTERM/SIGINT.
``start``: 0 after a clean stop (SIGTERM/SIGINT), 1 params invalid, 75 another scheduler runs.
``status``: 0 healthy, 1 unhealthy (no recent successful run, or the last run failed).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import shlex
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from alphalab.config import Params, ParamsError, Paths, load_params
from alphalab.logs import configure_logging, get_logger
from alphalab.runner.overrides import OverrideError, parse_override
from alphalab.runner.repro import CommandRepro, DvcRepro, Repro, failing_repro
from alphalab.runner.run import ExitCode, Trigger, run_once
from alphalab.runner.scheduler import serve
from alphalab.runner.status import format_status, runner_status

log = get_logger("alphalab.runner")


def build_parser() -> argparse.ArgumentParser:
    """The ``alphalab runner`` argument parser."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--root", help="project root (default: found from the current folder)")
    common.add_argument("--log-format", choices=["console", "json"], help="default: params")
    common.add_argument("--log-level", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    runs = argparse.ArgumentParser(add_help=False)
    runs.add_argument(
        "--repro-cmd", help="command to run instead of 'dvc repro' (quoted, split like a shell)"
    )
    runs.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="params override written before the run, like 'dvc exp run -S' (repeatable)",
    )
    parser = argparse.ArgumentParser(
        prog="alphalab runner",
        description="Run the pipeline on a schedule, compare metrics, raise alerts.",
    )
    sub = parser.add_subparsers(dest="action", required=True)
    sub.add_parser("run-once", parents=[common, runs], help="run the pipeline once now")
    start = sub.add_parser("start", parents=[common, runs], help="run on runner.schedule")
    start.add_argument("--run-now", action="store_true", help="run once at start")
    start.add_argument("--max-runs", type=int, help="stop after this many runs")
    status = sub.add_parser("status", parents=[common], help="last run and health")
    status.add_argument("--json", action="store_true", help="print JSON")
    return parser


@contextlib.contextmanager
def _stop_on_signals(*events: threading.Event) -> Iterator[None]:
    """Set ``events`` on SIGTERM/SIGINT for the duration of the block."""

    def handler(signum: int, frame: Any) -> None:
        log.warning("%s received: stopping cleanly", signal.Signals(signum).name)
        for event in events:
            event.set()

    old = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, previous in old.items():
            signal.signal(sig, previous)


def _repro(args: argparse.Namespace) -> Repro:
    return CommandRepro(tuple(shlex.split(args.repro_cmd))) if args.repro_cmd else DvcRepro()


def _load(paths: Paths) -> Params:
    return load_params(paths.params)


def _setup(args: argparse.Namespace) -> tuple[Paths, Params]:
    paths = Paths(args.root)
    try:
        params = _load(paths)
    except ParamsError:
        configure_logging(args.log_format, level=args.log_level or "INFO")
        raise
    configure_logging(
        args.log_format or params.runner.log_format,
        level=args.log_level or params.runner.log_level,
    )
    return paths, params


def _run_once(args: argparse.Namespace) -> int:
    paths, params = _setup(args)
    overrides = dict(parse_override(text) for text in args.overrides)
    cancel = threading.Event()
    with _stop_on_signals(cancel):
        report = run_once(params, paths, repro=_repro(args), cancel=cancel, overrides=overrides)
    if report.record is not None:
        print(f"run {report.record['run_id']}: {report.record['status']} ({report.record_path})")
    return int(report.exit_code)


def _start(args: argparse.Namespace) -> int:
    paths, _ = _setup(args)
    overrides = dict(parse_override(text) for text in args.overrides)
    base = _repro(args)
    stop, cancel = threading.Event(), threading.Event()

    def one_run(
        params: Params,
        *,
        trigger: Trigger,
        scheduled_for: dt.datetime | None,
        coalesced: int,
        params_error: str | None,
    ) -> int:
        repro = failing_repro(f"params.yaml is invalid: {params_error}") if params_error else base
        report = run_once(
            params,
            paths,
            repro=repro,
            cancel=cancel,
            overrides=overrides,
            trigger=trigger,
            scheduled_for=scheduled_for,
            coalesced=coalesced,
        )
        return int(report.exit_code)

    with _stop_on_signals(stop, cancel):
        return serve(
            paths,
            load=lambda: _load(paths),
            run=one_run,
            stop=stop,
            run_now=args.run_now,
            max_runs=args.max_runs,
        )


def _status(args: argparse.Namespace) -> int:
    paths, params = _setup(args)
    status = runner_status(params, paths)
    print(json.dumps(status, indent=2, default=str) if args.json else format_status(status))
    return 0 if status["healthy"] else 1


ACTIONS = {"run-once": _run_once, "start": _start, "status": _status}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``alphalab runner``; returns the exit code (see the module docstring)."""
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    try:
        return ACTIONS[args.action](args)
    except ParamsError as exc:
        print("runner not started: params are invalid", file=sys.stderr)
        for line in exc.problems:
            print(line, file=sys.stderr)
        return int(ExitCode.FAILED)
    except OverrideError as exc:
        print(f"runner not started: {exc}", file=sys.stderr)
        return int(ExitCode.USAGE)
    except OSError as exc:  # e.g. reports/runs/ not writable: say so, no traceback
        print(f"runner error: {exc}", file=sys.stderr)
        return int(ExitCode.FAILED)
