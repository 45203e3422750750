"""The robustness stage end to end: metrics shape, outputs, ledger idempotence, notebook.

Tolerances: the metrics file passes the shared vocabulary check; the stage's long-short
statistics equal ``summarize`` of the base series to 1e-12; rerunning records no new trial
and leaves n_trials unchanged (exact).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest

from alphalab.config import BacktestParams, Paths, RobustnessParams
from alphalab.ledger import TrialLedger, panel_data_hash
from alphalab.reporting.metrics import write_metrics
from alphalab.robustness import EXTRA_KEYS, run_robustness
from alphalab.stats.performance import summarize
from tests.robustness._market import planted_panel, signal_params

REPO = Path(__file__).resolve().parents[2]
BT = BacktestParams()
SMALL = RobustnessParams(
    scheduler="synchronous",
    progress=False,
    n_groups=[3, 5],
    lag=[1],
    holding=[1, 3],
    universes=["all", "ex_volatile:0.2"],
    dimension_sets=["all", "each"],
    cost_multipliers=[1.0, 2.0],
    n_subperiods=2,
    bootstrap_reps=200,
    placebo_n_perm=19,
    spa_reps=100,
    pbo_splits=6,
    stress_periods={"2011": ("2011-01-01", "2011-12-31"), "2030": ("2030-01-01", "2030-12-31")},
)


@pytest.fixture(scope="module")
def panel():
    return planted_panel(3, n_stocks=30, n_sessions=504)


def _run(panel, ledger):
    return run_robustness(
        panel,
        robustness=SMALL,
        backtest=BT,
        signal=signal_params(),
        params_hash="params-1",
        ledger=ledger,
    )


def test_stage_outputs_metrics_and_idempotent_ledger(panel, tmp_path: Path) -> None:
    paths = Paths(tmp_path)
    ledger = TrialLedger(tmp_path / "ledger" / "trials.jsonl")
    res = _run(panel, ledger)
    n_variants = 2 * 2 * 2 * 3 * 2
    assert res.grid.n_variants == n_variants
    assert res.n_new_trials == n_variants  # the base spec is one of the grid's variants
    assert res.n_trials == n_variants and res.base_variant is not None
    assert ledger.stats(data_hash=panel_data_hash(panel))[0] == n_variants

    written = res.save(paths)
    out = write_metrics(
        "robustness", res.metrics(), res.conventions, paths=paths, extra_keys=EXTRA_KEYS
    )
    doc = json.loads(out.read_text())
    for key in (
        "long_short",
        "best_variant",
        "grid",
        "pbo",
        "spa",
        "stepm",
        "placebo",
        "bootstrap_sharpe",
        "haircut_bhy",
        "period_stress_2030",
        "conventions",
    ):
        assert key in doc, key
    ls = doc["long_short"]
    assert ls["n_trials"] == n_variants and 0 <= ls["dsr"] <= ls["psr"] <= 1
    assert doc["best_variant"]["n_trials"] == n_variants  # never a best without the count
    assert doc["period_stress_2030"]["n_obs"] == 0
    ref = summarize(res.base_returns, periods_per_year=252, turnover=res.base_turnover)
    for key in ("n_obs", "mean", "sharpe", "t_nw", "max_drawdown", "skew", "kurtosis"):
        assert ls[key] == pytest.approx(ref[key], rel=1e-12), key

    grid = pd.read_parquet(written["grid"])
    assert len(grid) == n_variants * 3 and grid["is_base"].sum() == 3
    best = grid.loc[grid["is_best"] & (grid["window"] == "full")].iloc[0]
    costed = grid[(grid["window"] == "full") & (grid["cost_multiplier"] >= 1.0)]
    assert best["sharpe"] == costed["sharpe"].max()  # best among variants that pay costs
    assert len(pd.read_parquet(written["placebo"])) == SMALL.placebo_n_perm
    html = written["spec_curve"].read_text()
    assert "<script src=" not in html and len(html) > 1_000_000  # plotly.js embedded: offline

    again = _run(panel, ledger)
    assert again.n_new_trials == 0 and again.n_trials == res.n_trials
    assert again.metrics()["long_short"]["dsr"] == res.metrics()["long_short"]["dsr"]


def test_without_a_ledger_the_count_is_the_run(panel) -> None:
    res = _run(panel, None)
    assert res.n_new_trials == 0 and res.n_trials == res.grid.n_variants
    assert not math.isnan(res.base_report.dsr)


@pytest.mark.slow
def test_stage_notebook_runs_in_a_scratch_project(panel, tmp_path: Path) -> None:
    """The 40_robustness notebook through the stage runner, on a small panel and grid."""
    from tests.conftest import run

    root = tmp_path / "project"
    (root / "notebooks").mkdir(parents=True)
    shutil.copy2(REPO / "notebooks" / "40_robustness.ipynb", root / "notebooks")
    shutil.copy2(REPO / "dvc.yaml", root / "dvc.yaml")
    panel.save(root / "data" / "processed" / "panel.parquet")
    section = json.loads(SMALL.model_copy(update={"n_subperiods": 0}).model_dump_json())
    signal = {
        "dimensions": {"alpha": {"weight": 1.0, "sign": 1}, "noise": {"weight": 1.0, "sign": 1}}
    }
    import yaml

    (root / "params.yaml").write_text(yaml.safe_dump({"robustness": section, "signal": signal}))
    run(
        [sys.executable, "-m", "alphalab", "stage", "run", "robustness"],
        root,
        env={"ALPHALAB_ROOT": str(root), "PYTHONHASHSEED": "0"},
        timeout=600,
    )
    doc = json.loads((root / "reports" / "metrics" / "robustness.json").read_text())
    assert doc["ledger"]["n_trials"] == 48 and doc["ledger"]["n_new"] == 48
    assert doc["provenance"]["stage"] == "robustness"
    assert len(TrialLedger(root / "ledger" / "trials.jsonl").read()) == 48
    for name in ("spec_curve.html", "placebo_hist.html"):
        assert (root / "reports" / "figures" / name).stat().st_size > 1_000_000
    assert os.path.exists(root / "reports" / "robustness" / "grid.csv")
