"""The stage's files, the trial ledger, and the notebook run by the stage runner.

Tolerances: the DSR written to the metrics equals :func:`deflated_sharpe_ratio` recomputed
from the saved out-of-sample series and the ledger's count to relative 1e-12; everything else
is exact (file contents, counts, keys).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from alphalab import config
from alphalab.ledger import Trial, TrialLedger
from alphalab.reporting.metrics import check_metrics, write_metrics
from alphalab.stats.overfitting import deflated_sharpe_ratio
from alphalab.walkforward import run_study, write_artifacts
from alphalab.walkforward.study import EXTRA_METRIC_KEYS
from tests.conftest import copy_project, run
from tests.walkforward._synth import BACKTEST, planted_panel, wf_params

FILES = [
    "reports/walkforward/oos_returns.parquet",
    "reports/walkforward/folds.parquet",
    "reports/walkforward/folds.csv",
    "reports/walkforward/fold_variants.parquet",
    "reports/walkforward/stress.parquet",
    "reports/walkforward/trials.parquet",
    "reports/gate.json",
    "reports/gate.md",
    "reports/figures/wf_equity.html",
    "reports/figures/wf_params.html",
]


@pytest.fixture(scope="module")
def panel():
    return planted_panel(n_sessions=2000, seed=6)


def test_artifacts_and_metrics(panel, tmp_path: Path) -> None:
    paths = config.Paths(tmp_path)
    study = run_study(panel, wf_params(), backtest=BACKTEST)
    write_artifacts(
        study, paths, provenance={"study": "synthetic", "params_hash": "abc", "git": {}}
    )
    write_metrics(
        "walkforward", study.series, study.conventions, paths=paths, extra_keys=EXTRA_METRIC_KEYS
    )
    for rel in FILES:
        assert (tmp_path / rel).is_file(), rel
    doc = json.loads((paths.metrics / "walkforward.json").read_text())
    check_metrics(doc, extra_keys=EXTRA_METRIC_KEYS)
    assert {
        "oos",
        "in_sample",
        "walkforward",
        "gate",
        "stress_costs_x2",
        "stress_delay_1",
        "crisis_2003",
    } <= set(doc)
    gate = json.loads((tmp_path / "reports/gate.json").read_text())
    assert gate["decision"] == study.gate.decision and gate["provenance"]["params_hash"] == "abc"
    assert set(gate["criteria"]) == {
        "min_oos_sharpe",
        "max_drawdown",
        "min_dsr",
        "max_pbo",
        "min_t_stat",
        "min_oos_periods",
    }
    for c in gate["criteria"].values():
        assert {"threshold", "measured", "passed", "reason", "rule"} <= set(c)
    assert doc["gate"]["pass"] == int(gate["decision"] == "PASS")
    record = pd.read_parquet(tmp_path / FILES[0])
    pd.testing.assert_series_equal(record["net"], study.result.record["net"], check_freq=False)
    folds = pd.read_csv(tmp_path / FILES[2])
    assert len(folds) == len(study.result.folds) and "variant" in folds and "wf_efficiency" in folds
    html = (tmp_path / FILES[8]).read_text()
    assert (
        re.search(r"<script[^>]*\bsrc=", html) is None and len(html) > 1_000_000
    )  # plotly.js embedded, offline
    before = (tmp_path / FILES[8]).read_bytes()
    write_artifacts(study, paths)
    assert (tmp_path / FILES[8]).read_bytes() == before  # same inputs, same bytes


def test_trials_are_recorded_once_and_counted(panel, tmp_path: Path) -> None:
    ledger = tmp_path / "ledger" / "trials.jsonl"
    other = Trial(
        "p0", "data-1", {"source": "robustness grid", "id": 1}, "grid", 0.01, 0.0, 3.0, 2000
    )
    TrialLedger(ledger).record([other])
    study = run_study(
        panel, wf_params(), backtest=BACKTEST, ledger=ledger, data_hash="data-1", params_hash="p1"
    )
    trials = TrialLedger(ledger).frame(data_hash="data-1")
    assert (trials["source"] == "walkforward").sum() == 4 and len(trials) == 5
    assert (
        study.series["oos"]["n_trials"] == 5
        and "trial ledger" in study.gate.context["trials_source"]
    )
    n, var = TrialLedger(ledger).stats(data_hash="data-1")
    assert study.series["oos"]["var_trials_sharpe"] == var
    net = study.result.oos["net"].dropna().to_numpy()
    assert study.series["oos"]["dsr"] == pytest.approx(
        deflated_sharpe_ratio(net, n_trials=n, var_trials_sharpe=var), rel=1e-12
    )
    again = run_study(
        panel, wf_params(), backtest=BACKTEST, ledger=ledger, data_hash="data-1", params_hash="p2"
    )
    assert len(TrialLedger(ledger).read()) == 5  # rerun: nothing counted twice
    assert again.series["oos"]["n_trials"] == 5
    without = run_study(panel, wf_params(), backtest=BACKTEST)
    assert (
        without.series["oos"]["n_trials"] == 4
        and "no trial ledger" in without.gate.context["trials_source"]
    )


@pytest.mark.slow
def test_stage_notebook_runs_and_writes_everything(panel, tmp_path: Path) -> None:
    root = copy_project(tmp_path / "project")
    raw = yaml.safe_load((root / "params.yaml").read_text())
    raw["walkforward"] = json.loads(wf_params(scheduler="synchronous").model_dump_json())
    (root / "params.yaml").write_text(yaml.safe_dump(raw))
    panel.save(root / "data" / "processed" / "panel.parquet")
    run(
        [str(Path(sys.executable).parent / "alphalab"), "stage", "run", "walkforward"],
        root,
        timeout=600,
    )
    for rel in [
        *FILES,
        "reports/metrics/walkforward.json",
        "reports/notebooks/50_walkforward.ipynb",
    ]:
        assert (root / rel).is_file(), rel
    gate = json.loads((root / "reports/gate.json").read_text())
    assert gate["decision"] in ("PASS", "FAIL") and gate["provenance"]["stage"] == "walkforward"
    trials = TrialLedger(root / "ledger" / "trials.jsonl").frame()
    assert len(trials) == 4 and (trials["source"] == "walkforward").all()
    assert np.isfinite(
        json.loads((root / "reports/metrics/walkforward.json").read_text())["oos"]["sharpe"]
    )
