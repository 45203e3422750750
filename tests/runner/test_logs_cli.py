"""Structured logging, ``alphalab runner status`` and the runner's command line.

Tolerances: exact (parsed JSON and text).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import sys
from pathlib import Path

import pytest

from alphalab.config import Paths, load_params
from alphalab.logs import configure_logging, get_logger, log_context
from alphalab.runner import ExitCode, run_once
from alphalab.runner.cli import build_parser, main
from alphalab.runner.repro import CommandRepro
from alphalab.runner.status import runner_status

from .conftest import fake_repro, write_params

T0 = dt.datetime(2026, 1, 6, 11, 30, tzinfo=dt.UTC)


@pytest.fixture
def capture() -> io.StringIO:
    stream = io.StringIO()
    yield stream
    configure_logging("console", stream=sys.stderr)


def test_json_lines_carry_timestamp_level_stage_run_id_message(capture: io.StringIO) -> None:
    configure_logging("json", stream=capture)
    configure_logging("json", stream=capture)  # reconfiguring never duplicates lines
    log = get_logger("alphalab.test")
    with log_context(run_id="r-1"):
        with log_context(stage="panel"):
            log.info("hello %s", "world", extra={"rows": 3})
        log.warning("outside the stage")
    log.error("no context")
    lines = [json.loads(line) for line in capture.getvalue().splitlines()]
    assert len(lines) == 3
    first = lines[0]
    assert set(first) == {"timestamp", "level", "logger", "stage", "run_id", "message", "rows"}
    assert (first["level"], first["stage"], first["run_id"]) == ("INFO", "panel", "r-1")
    assert first["message"] == "hello world" and first["rows"] == 3
    assert first["timestamp"].endswith("Z") and dt.datetime.fromisoformat(first["timestamp"])
    assert (lines[1]["stage"], lines[1]["run_id"]) == (None, "r-1")
    assert (lines[2]["stage"], lines[2]["run_id"]) == (None, None)


def test_console_format_is_one_readable_line(capture: io.StringIO) -> None:
    configure_logging("console", stream=capture)
    with log_context(run_id="r-2", stage="ingest"):
        get_logger("x").info("done")
    line = capture.getvalue().strip()
    assert line.endswith("INFO    [r-2 · ingest] done")
    with pytest.raises(ValueError, match="log format"):
        configure_logging("xml", stream=capture)  # type: ignore[arg-type]


def test_pipeline_output_is_relayed_with_its_stage(capture: io.StringIO, tmp_path: Path) -> None:
    write_params(tmp_path / "p")
    paths = Paths(tmp_path / "p")
    configure_logging("json", stream=capture)
    code = "print(\"Running stage 'ingest':\"); print('ingest says hi'); print(\"Running stage 'panel':\")"
    report = run_once(
        load_params(paths.params), paths, now=T0, repro=CommandRepro((sys.executable, "-c", code))
    )
    assert report.exit_code == ExitCode.OK and report.record is not None
    lines = [json.loads(line) for line in capture.getvalue().splitlines()]
    said = next(x for x in lines if x["message"] == "ingest says hi")
    assert said["stage"] == "ingest" and said["run_id"] == report.record["run_id"]
    assert said["logger"] == "alphalab.runner.pipeline"
    finished = next(x for x in lines if x["message"].startswith("run finished"))
    assert finished["run_id"] == report.record["run_id"] and finished["stage"] is None
    assert logging.getLogger("alphalab").propagate is False


def test_status_reflects_the_last_success_and_its_age(tmp_path: Path) -> None:
    write_params(tmp_path / "p", runner={"max_run_age_hours": 24})
    paths = Paths(tmp_path / "p")
    params = load_params(paths.params)
    empty = runner_status(params, paths, now=T0)
    assert not empty["healthy"] and empty["problems"] == [
        "no successful run recorded under reports/runs/"
    ]
    run_once(params, paths, now=T0, repro=fake_repro())
    fresh = runner_status(params, paths, now=T0 + dt.timedelta(hours=23))
    assert fresh["healthy"] and fresh["last_success_age_hours"] == pytest.approx(23, abs=0.01)
    old = runner_status(params, paths, now=T0 + dt.timedelta(hours=25))
    assert not old["healthy"] and "limit 24 h" in old["problems"][0]
    run_once(
        params, paths, now=T0 + dt.timedelta(hours=1), repro=fake_repro(1, failed_stage="ingest")
    )
    failed = runner_status(params, paths, now=T0 + dt.timedelta(hours=2))
    assert not failed["healthy"] and "failed" in failed["problems"][0]
    assert failed["next_fire"] == "2026-01-07T11:30:00+00:00"  # 06:30 New York, weekdays


def test_cli_status_and_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_params(tmp_path / "p")
    root = str(tmp_path / "p")
    assert main(["status", "--root", root]) == 1
    assert "UNHEALTHY" in capsys.readouterr().out
    assert main(["status", "--root", root, "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["healthy"] is False and doc["run_lock"] == {"held": False, "holder": {}}
    assert main(["run-once", "--root", root, "--set", "no-equals-sign"]) == ExitCode.USAGE
    assert "key.path=value" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["sometimes"])
    assert exc.value.code == 2


def test_cli_run_once_with_a_repro_command_and_invalid_params(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_params(tmp_path / "p")
    root = str(tmp_path / "p")
    ok = main(
        [
            "run-once",
            "--root",
            root,
            "--repro-cmd",
            f"{sys.executable} -c pass",
            "--log-format",
            "json",
        ]
    )
    assert ok == ExitCode.OK and "run 20" in capsys.readouterr().out
    (tmp_path / "p" / "params.yaml").write_text("runner:\n  schedule: every day\n")
    assert main(["run-once", "--root", root]) == ExitCode.FAILED
    err = capsys.readouterr().err
    assert "params are invalid" in err and "runner.schedule" in err


def test_parser_accepts_the_documented_options() -> None:
    args = build_parser().parse_args(
        ["start", "--run-now", "--max-runs", "2", "--set", "data.end=2026-01-02"]
    )
    assert args.run_now and args.max_runs == 2 and args.overrides == ["data.end=2026-01-02"]
