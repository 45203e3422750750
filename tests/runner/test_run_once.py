"""``run_once`` end to end with a stand-in pipeline, real SMTP and HTTP servers.

The pipeline is replaced by a callable that writes outputs in the shapes real stages write
(DESIGN.md §5); ``test_dvc_e2e.py`` runs the real ``dvc repro``. Tolerances: metric diffs are
differences of the numbers written, compared to 1e-12; everything else is exact.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import yaml

from alphalab.config import Paths, load_params
from alphalab.runner import ExitCode, ReproRequest, ReproResult, run_once
from alphalab.runner.lock import RunLock
from alphalab.runner.records import list_records, load_state, runs_dir
from alphalab.runner.repro import DvcRepro

from .conftest import Hook, Mailbox, fake_repro, free_port, write_outputs, write_params

T0 = dt.datetime(2026, 1, 6, 11, 30, tzinfo=dt.UTC)  # a Tuesday, 06:30 in New York
# the shape the validate stage writes (alphalab.validation.report.InputReport.to_dict)
BAD_VALIDATION = {
    "prices": {
        "input": "prices",
        "outcome": "error",
        "counts": {
            "rows_in": 1000,
            "accepted": 900,
            "quarantined": 100,
            "deduplicated": 0,
            "rejected": 0,
        },
        "findings": [
            {"rule": "non_positive_price", "action": "error", "count": 7, "message": "close <= 0"},
            {"rule": "stale_run", "action": "warn", "count": 30, "message": "unchanged close"},
        ],
    },
    "summary": {"failed": True, "inputs": {}},  # summary.json: not an input, ignored
}


def ops_params(root: Path, smtp_port: int, **runner: object) -> Paths:
    section = {
        "email": {
            "host": "127.0.0.1",
            "port": smtp_port,
            "starttls": False,
            "sender": "alphalab@test.local",
            "recipients": ["owner@test.local"],
        },
        "webhook": {"url_env": "TEST_HOOK_URL", "timeout_s": 5},
        "alerts": [
            {"name": "run failed", "kind": "run_failed", "channels": ["log", "email"]},
            {
                "name": "validation",
                "kind": "validation_failed",
                "channels": ["log", "email", "webhook"],
                "cooldown_minutes": 120,
            },
            {
                "name": "coverage",
                "kind": "coverage_below",
                "threshold": 0.95,
                "channels": ["email", "webhook"],
                "cooldown_minutes": 120,
            },
            {"name": "stale prices", "kind": "stale_data", "threshold": 7},
            {"name": "weak signal", "kind": "tstat_below", "threshold": 2.0, "channels": ["log"]},
            {"name": "gate", "kind": "gate_flip", "channels": ["webhook"]},
        ],
        **runner,
    }
    write_params(root, runner=section)
    return Paths(root)


def record_files(paths: Paths) -> list[dict]:
    return [json.loads(p.read_text()) for p in list_records(paths)]


def test_planted_problem_is_mailed_and_posted_then_cooldown_suppresses_the_repeat(
    tmp_path: Path, smtp_server: Mailbox, webhook_server: Hook
) -> None:
    paths = ops_params(tmp_path / "p", smtp_server.port)
    params = load_params(paths.params)
    env = {"TEST_HOOK_URL": webhook_server.url}

    healthy = run_once(params, paths, now=T0, repro=fake_repro(), env=env)
    assert healthy.exit_code == ExitCode.OK
    assert smtp_server.messages == [] and webhook_server.posts == []

    # the planted problem: the price file lost 10% of its rows to quarantine, 7 errors
    t1 = T0 + dt.timedelta(days=1)
    bad = run_once(params, paths, now=t1, repro=fake_repro(validation=BAD_VALIDATION), env=env)
    assert bad.exit_code == ExitCode.ALERTS
    assert bad.record is not None and sorted(bad.record["alerts_fired"]) == [
        "coverage",
        "validation",
    ]
    assert set(bad.record["validation"]) == {"prices"}  # summary.json is not an input
    assert len(smtp_server.messages) == 1  # one digest per channel and run
    mail = smtp_server.messages[0]
    assert mail["To"] == "owner@test.local" and "2 alert(s)" in mail["Subject"]
    body = mail.get_content()
    assert "prices (7 error(s))" in body and "prices 90.0%" in body and bad.record["run_id"] in body
    assert len(webhook_server.posts) == 1
    text = webhook_server.posts[0]["text"]
    assert "[validation]" in text and "[coverage]" in text
    delivered = {a["rule"]: a["delivery"] for a in bad.record["alerts"]}
    assert delivered["validation"] == {"log": "sent", "email": "sent", "webhook": "sent"}

    # same problem ten minutes later: inside the 120-minute cooldown → suppressed, not sent
    again = run_once(
        params,
        paths,
        now=t1 + dt.timedelta(minutes=10),
        repro=fake_repro(validation=BAD_VALIDATION),
        env=env,
    )
    assert again.exit_code == ExitCode.OK
    assert again.record is not None and again.record["alerts_fired"] == []
    assert sorted(again.record["alerts_suppressed"]) == ["coverage", "validation"]
    assert len(smtp_server.messages) == 1 and len(webhook_server.posts) == 1

    # after the cooldown it is sent again
    later = run_once(
        params,
        paths,
        now=t1 + dt.timedelta(minutes=121),
        repro=fake_repro(validation=BAD_VALIDATION),
        env=env,
    )
    assert later.exit_code == ExitCode.ALERTS
    assert len(smtp_server.messages) == 2 and len(webhook_server.posts) == 2

    records = record_files(paths)
    assert [r["status"] for r in records] == ["ok", "alerts", "ok", "alerts"]
    state = load_state(paths)
    assert state["cooldowns"]["validation"] == (t1 + dt.timedelta(minutes=121)).isoformat()


def test_metrics_diff_gate_flip_and_tstat_against_the_last_success(
    tmp_path: Path, smtp_server: Mailbox, webhook_server: Hook
) -> None:
    paths = ops_params(tmp_path / "p", smtp_server.port)
    params = load_params(paths.params)
    env = {"TEST_HOOK_URL": webhook_server.url}
    first = run_once(params, paths, now=T0, repro=fake_repro(t_nw=2.5, sharpe=0.6), env=env)
    assert first.record is not None
    # no earlier run and no earlier outputs: every metric is new
    assert first.record["metrics_diff"]["backtest.long_short.t_nw"] == {
        "old": None,
        "new": 2.5,
        "diff": None,
    }
    assert "backtest.conventions.lag" not in first.record["metrics"]

    failed = run_once(
        params,
        paths,
        now=T0 + dt.timedelta(hours=1),
        repro=fake_repro(1, failed_stage="backtest", t_nw=0.1),
    )
    assert failed.exit_code == ExitCode.FAILED and failed.record is not None
    assert failed.record["metrics_diff"] is None and failed.record["alerts_fired"] == ["run failed"]
    assert any("not evaluated (the run failed)" in n for n in failed.record["notes"])

    third = run_once(
        params,
        paths,
        now=T0 + dt.timedelta(hours=2),
        repro=fake_repro(t_nw=1.5, sharpe=0.6, gate="FAIL"),
        env=env,
    )
    assert third.record is not None and third.record["previous_success"] == first.record["run_id"]
    diff = third.record["metrics_diff"]
    assert set(diff) == {"backtest.long_short.t_nw"}  # unchanged statistics are not listed
    assert diff["backtest.long_short.t_nw"]["diff"] == pytest.approx(-1.0, abs=1e-12)
    assert sorted(third.record["alerts_fired"]) == ["gate", "weak signal"]
    assert third.record["gate"] == {"decision": "FAIL", "previous": "PASS"}
    assert "promotion gate flipped PASS → FAIL" in webhook_server.posts[-1]["text"]


def test_first_run_diffs_against_the_workspace_outputs(scratch: Paths) -> None:
    write_outputs(scratch.root, t_nw=3.0)
    report = run_once(load_params(scratch.params), scratch, now=T0, repro=fake_repro(t_nw=2.0))
    assert report.record is not None
    assert report.record["metrics_diff"]["backtest.long_short.t_nw"]["old"] == 3.0
    assert report.record["metrics_diff"]["backtest.long_short.t_nw"]["diff"] == pytest.approx(
        -1.0, abs=1e-12
    )


def test_stale_data_uses_the_run_date(scratch: Paths) -> None:
    write_params(
        scratch.root, runner={"alerts": [{"name": "stale", "kind": "stale_data", "threshold": 3}]}
    )
    params = load_params(scratch.params)
    ok = run_once(params, scratch, now=T0, repro=fake_repro(prices_last="2026-01-05"))
    stale = run_once(params, scratch, now=T0, repro=fake_repro(prices_last="2026-01-01"))
    assert ok.exit_code == ExitCode.OK
    assert stale.exit_code == ExitCode.ALERTS and stale.record is not None
    assert "5 days before 2026-01-06" in stale.record["alerts"][0]["message"]


def test_failed_delivery_exits_4_and_does_not_start_the_cooldown(tmp_path: Path) -> None:
    paths = ops_params(tmp_path / "p", free_port())  # nothing listens there
    params = load_params(paths.params)
    bad = fake_repro(validation=BAD_VALIDATION)
    first = run_once(params, paths, now=T0, repro=bad, env={})
    assert first.exit_code == ExitCode.DELIVERY_FAILED and first.record is not None
    coverage = next(a for a in first.record["alerts"] if a["rule"] == "coverage")
    assert coverage["delivery"]["email"].startswith("error: SMTP 127.0.0.1")
    assert coverage["delivery"]["webhook"] == "error: environment variable TEST_HOOK_URL is not set"
    state = load_state(paths)
    assert "coverage" not in state["cooldowns"]  # nothing delivered: retry next run
    assert "validation" in state["cooldowns"]  # its log channel worked
    second = run_once(params, paths, now=T0 + dt.timedelta(minutes=1), repro=bad, env={})
    assert second.record is not None and "coverage" in second.record["alerts_fired"]


def test_lock_held_means_exit_75_and_no_record(scratch: Paths) -> None:
    params = load_params(scratch.params)
    with RunLock(runs_dir(scratch) / "run.lock", info={"run_id": "other"}):
        report = run_once(params, scratch, now=T0, repro=fake_repro())
    assert report.exit_code == ExitCode.LOCKED and report.record is None
    assert list_records(scratch) == []
    assert run_once(params, scratch, now=T0, repro=fake_repro()).exit_code == ExitCode.OK


def test_a_crashing_repro_is_a_recorded_failure(scratch: Paths) -> None:
    def broken(request: ReproRequest) -> ReproResult:
        raise FileNotFoundError("dvc not found")

    report = run_once(load_params(scratch.params), scratch, now=T0, repro=broken)
    assert report.exit_code == ExitCode.FAILED and report.record is not None
    assert report.record["error"] == "FileNotFoundError: dvc not found"
    assert report.record["alerts_fired"] == ["run failed"]


def test_roll_window_is_a_params_override_that_keeps_comments(scratch: Paths) -> None:
    text = scratch.params.read_text()
    doc = yaml.safe_load(text)
    doc["runner"] = {"roll_window": True}
    scratch.params.write_text("# top comment kept\n" + yaml.safe_dump(doc, sort_keys=False))
    seen: list[str] = []

    def capture(request: ReproRequest) -> ReproResult:
        seen.append(str(load_params(request.root / "params.yaml").data.end))
        return ReproResult(0)

    report = run_once(load_params(scratch.params), scratch, now=T0, repro=capture)
    assert report.record is not None and report.record["params_overrides"] == {
        "data.end": "2026-01-06"
    }
    assert seen == ["2026-01-06"]
    assert scratch.params.read_text().startswith("# top comment kept\n")
    # New York is still on Jan 6 at 03:00 UTC on Jan 7: the run date follows the runner's zone
    late = run_once(
        load_params(scratch.params),
        scratch,
        now=dt.datetime(2026, 1, 7, 3, tzinfo=dt.UTC),
        repro=capture,
    )
    assert late.record is not None and late.record["params_overrides"] == {}


def test_invalid_override_fails_the_run_and_leaves_params_untouched(scratch: Paths) -> None:
    before = scratch.params.read_text()
    report = run_once(
        load_params(scratch.params),
        scratch,
        now=T0,
        repro=fake_repro(),
        overrides={"backtest.n_groups": 1},
    )
    assert report.exit_code == ExitCode.FAILED and report.record is not None
    assert "backtest.n_groups" in report.record["error"] and "value 1" in report.record["error"]
    assert report.record["stages_run"] == []
    assert scratch.params.read_text() == before


def test_child_environment_has_root_and_run_id_but_no_alert_secrets(tmp_path: Path) -> None:
    paths = ops_params(tmp_path / "p", 2525)
    seen: dict[str, str] = {}

    def capture(request: ReproRequest) -> ReproResult:
        seen.update(request.env)
        return ReproResult(0)

    env = {"TEST_HOOK_URL": "http://secret.invalid/x", "PATH": "/usr/bin", "KEEP": "1"}
    report = run_once(load_params(paths.params), paths, now=T0, repro=capture, env=env)
    assert report.record is not None
    assert "TEST_HOOK_URL" not in seen and seen["KEEP"] == "1"
    assert (
        seen["ALPHALAB_ROOT"] == str(paths.root)
        and seen["ALPHALAB_RUN_ID"] == report.record["run_id"]
    )
    assert seen["PATH"].endswith("/usr/bin")


def test_refresh_forces_ingest_through_real_dvc_commands(scratch: Paths, tmp_path: Path) -> None:
    log = tmp_path / "dvc-calls.txt"
    fake_dvc = tmp_path / "dvc"
    fake_dvc.write_text(
        "#!/bin/sh\n"
        f'echo "$@" >> {log}\n'
        "echo \"Running stage 'ingest':\"\n"
        "echo \"Stage 'validate' didn't change, skipping\"\n"
    )
    fake_dvc.chmod(0o755)
    write_params(
        scratch.root,
        data={"source": "yfinance", "yfinance": {"tickers": ["jpm"], "refresh": True}},
        runner={"force_stages": ["panel"], "targets": ["backtest"]},
    )
    report = run_once(
        load_params(scratch.params), scratch, now=T0, repro=DvcRepro(dvc=str(fake_dvc))
    )
    assert report.exit_code == ExitCode.OK and report.record is not None
    assert log.read_text().splitlines() == [
        "repro --force --single-item ingest panel",
        "repro backtest",
    ]
    assert report.record["forced_stages"] == ["ingest", "panel"]
    assert report.record["stages_run"] == ["ingest", "ingest"]
    assert report.record["stages_skipped"] == ["validate", "validate"]
