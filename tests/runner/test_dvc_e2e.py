"""The runner on the real pipeline: ``dvc repro`` in a temporary git + DVC repository.

A planted data problem reaches a real SMTP server and a real HTTP webhook receiver: first the
data are stale (the study window ends in 2019, the run date is in 2026), then a params override
plants an unknown ticker so the real ingest stage fails. Tolerances: exact.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from alphalab.config import Paths, load_params
from alphalab.runner import ExitCode, run_once
from tests.conftest import copy_project, init_repo

from .conftest import Hook, Mailbox

pytestmark = pytest.mark.slow

NOW = dt.datetime(2026, 1, 6, 11, 30, tzinfo=dt.UTC)


def test_real_dvc_repro_alerts_by_email_and_webhook(
    tmp_path: Path, smtp_server: Mailbox, webhook_server: Hook
) -> None:
    root = copy_project(tmp_path / "repo")
    doc = yaml.safe_load((root / "params.yaml").read_text())
    doc["data"].update(
        {"start": "2016-01-01", "end": "2019-12-31", "sample": {"tickers": ["AAPL", "KO"]}}
    )
    doc["runner"] = {
        "targets": ["ingest"],  # the stages downstream are other tests' business
        "email": {
            "host": "127.0.0.1",
            "port": smtp_server.port,
            "starttls": False,
            "recipients": ["ops@test.local"],
        },
        "webhook": {"url_env": "E2E_HOOK"},
        "alerts": [
            {
                "name": "stale prices",
                "kind": "stale_data",
                "threshold": 30,
                "channels": ["log", "email"],
            },
            {"name": "run failed", "kind": "run_failed", "channels": ["log", "email", "webhook"]},
        ],
    }
    (root / "params.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    init_repo(root)
    paths = Paths(root)
    env = {"E2E_HOOK": webhook_server.url}

    first = run_once(load_params(paths.params), paths, now=NOW, env=env)
    rec = first.record
    assert rec is not None, "no record"
    assert first.exit_code == ExitCode.ALERTS, rec["output_tail"]
    assert rec["stages_run"] == ["ingest"] and rec["commands"][0][-2:] == ["repro", "ingest"]
    assert rec["data_last"]["prices"] == "2019-12-31"
    assert rec["alerts_fired"] == ["stale prices"]
    assert len(smtp_server.messages) == 1
    assert "stale data: prices ends 2019-12-31" in smtp_server.messages[0].get_content()
    assert webhook_server.posts == []  # the stale rule does not post

    planted = run_once(
        load_params(paths.params),
        paths,
        now=NOW + dt.timedelta(hours=1),
        env=env,
        overrides={"data.sample.tickers": ["ZZZZ"]},
    )
    rec = planted.record
    assert rec is not None and planted.exit_code == ExitCode.FAILED
    assert rec["failed_stage"] == "ingest" and "ZZZZ" in "\n".join(rec["output_tail"])
    assert rec["alerts_fired"] == ["run failed"]
    # the failed ingest removed its outputs, manifest included: staleness cannot be judged
    assert rec["alerts_suppressed"] == []
    assert any("'prices' has no last date" in note for note in rec["notes"])
    assert not (root / "data" / "raw").exists()  # the failed stage left no outputs
    assert (
        len(webhook_server.posts) == 1
        and "pipeline run failed at stage 'ingest'" in webhook_server.posts[0]["text"]
    )
    assert (
        len(smtp_server.messages) == 2 and "[run failed]" in smtp_server.messages[1].get_content()
    )
