"""The pipeline in a real temporary git + DVC repository (real papermill kernels)."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
import yaml

from tests.conftest import copy_project, init_repo, run

pytestmark = pytest.mark.slow


def set_params(root: Path, **sections: dict) -> None:
    doc = yaml.safe_load((root / "params.yaml").read_text())
    for key, value in sections.items():
        doc.setdefault(key, {}).update(value)
    (root / "params.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = copy_project(tmp_path_factory.mktemp("dvcrepo") / "repo")
    # a small window keeps every stage quick; the stages and code are the real ones
    set_params(
        root,
        data={"start": "2016-01-01", "end": "2019-12-31"},
        events={"dates": ["2018-02-05", "2018-12-24"]},
        walkforward={"train": 18, "test": 6, "holdout_start": "2019-07-01"},
    )
    init_repo(root)
    return root


def test_repro_then_noop_then_verify(repo: Path) -> None:
    first = run(["dvc", "repro"], repo)
    assert "Running stage 'ingest'" in first.stdout
    assert (repo / "data/raw/prices.parquet").is_file()
    manifest = json.loads((repo / "data/manifest.json").read_text())
    assert manifest["tables"]["prices"]["dates"]["first"] == "2016-01-04"
    run(["alphalab", "manifest", "verify"], repo)
    assert (repo / "reports/notebooks/01_ingest.ipynb").is_file()
    t0 = time.monotonic()
    second = run(["dvc", "repro"], repo)
    elapsed = time.monotonic() - t0
    assert "Running stage" not in second.stdout
    print(f"no-op dvc repro: {elapsed:.2f} s")
    lock = yaml.safe_load((repo / "dvc.lock").read_text())
    assert "ingest" in lock["stages"]


def test_unrelated_section_change_reruns_nothing_upstream(repo: Path) -> None:
    run(["dvc", "repro"], repo)
    set_params(repo, backtest={"n_groups": 4})
    out = run(["dvc", "repro"], repo)
    ran = set(re.findall(r"Running stage '(\w+)'", out.stdout))
    # backtest and what reads the backtest section rerun; nothing upstream or unrelated does
    assert {"backtest", "robustness", "walkforward", "report"} <= ran
    assert ran.isdisjoint({"ingest", "validate", "panel", "events", "regressions"}), ran
    set_params(repo, events={"n_groups": 2})
    ran = set(re.findall(r"Running stage '(\w+)'", run(["dvc", "repro"], repo).stdout))
    assert ran == {"events", "report"}, ran
    set_params(
        repo, data={"sample": {"tickers": ["AAPL", "MSFT", "KO", "JPM", "XOM", "PG", "WMT", "PFE"]}}
    )
    out = run(["dvc", "repro"], repo)
    assert "Running stage 'ingest'" in out.stdout
    m = json.loads((repo / "data/manifest.json").read_text())
    assert m["tables"]["prices"]["n_tickers"] == 8


def test_invalid_params_stop_before_any_kernel(repo: Path) -> None:
    saved = (repo / "params.yaml").read_text()
    try:
        set_params(repo, backtest={"n_groups": 1}, data={"sample": {"tickers": ["KO"]}})
        proc = run(["dvc", "repro"], repo, check=False)
        assert proc.returncode != 0
        err = proc.stdout + proc.stderr
        assert "backtest.n_groups" in err and "value 1" in err
        assert not (repo / "reports/failed/01_ingest.ipynb").exists()  # no kernel ran
    finally:
        (repo / "params.yaml").write_text(saved)


def test_failing_stage_leaves_no_outputs(repo: Path) -> None:
    saved = (repo / "params.yaml").read_text()
    try:
        set_params(repo, data={"sample": {"tickers": ["ZZZZ"]}})
        proc = run(["dvc", "repro"], repo, check=False)
        assert proc.returncode != 0
        assert "ZZZZ" in proc.stdout + proc.stderr
        assert not (repo / "data/raw").exists()
        assert not (repo / "data/manifest.json").exists()
        assert not (repo / "reports/notebooks/01_ingest.ipynb").exists()
        assert (repo / "reports/failed/01_ingest.ipynb").is_file()
        status = run(["dvc", "status"], repo, check=False)
        assert "ingest" in status.stdout
    finally:
        (repo / "params.yaml").write_text(saved)
    again = run(["dvc", "repro"], repo)
    # with the params restored, DVC brings the earlier good outputs back from its run cache
    assert "ingest" in again.stdout
    run(["alphalab", "manifest", "verify"], repo)


def test_stage_list_and_unknown_stage(repo: Path) -> None:
    out = run(["alphalab", "stage", "list"], repo)
    assert "ingest" in out.stdout and "01_ingest.ipynb" in out.stdout
    bad = run(["alphalab", "stage", "run", "nope"], repo, check=False)
    assert bad.returncode == 1 and "unknown stage" in bad.stderr
