"""Stress tests against direct engine reruns, and the gate's decision rules.

Tolerances: stress statistics vs statistics of direct engine reruns (costs scaled in the
engine's own cost model, lag increased in the engine call): absolute 1e-12 on the return
series and relative 1e-10 on the Sharpe ratio (empyrical-reloaded); crisis-window statistics
vs a plain pandas slice of the saved record: relative 1e-12. Gate rules are exact.
"""

from __future__ import annotations

import datetime as dt
import math

import empyrical
import numpy as np
import pandas as pd
import pytest

from alphalab.backtest import CostModel, sort_portfolios
from alphalab.walkforward import evaluate_gate, render_markdown, run_study
from tests.walkforward._synth import BACKTEST, planted_panel, wf_params


@pytest.fixture(scope="module")
def study_and_panel():
    panel = planted_panel(n_sessions=2500, seed=4)
    params = wf_params(
        holdout_start=dt.date(2009, 1, 1),
        cost_shocks=[2.0, 5.0],
        delays=[1, 2],
        stress_windows={
            "2005": (dt.date(2005, 1, 1), dt.date(2005, 12, 31)),
            "2030": (dt.date(2030, 1, 1), dt.date(2030, 3, 31)),
        },
    )
    return run_study(panel, params, backtest=BACKTEST), panel


def _direct(panel, study, *, mult: float = 1.0, delay: int = 0) -> pd.Series:
    """Each piece of the record rerun through the engine with scaled costs or extra lag."""
    r = study.result
    lead = r.conventions["lead_in_sessions"] + delay
    c = BACKTEST.costs
    costs = CostModel(c.half_spread_bps * mult, c.commission_bps * mult, c.impact_bps * mult)
    parts = []
    for fr in [*r.folds, r.holdout]:
        row = r.table[r.table["fold"] == fr.fold.fold].iloc[0]
        score = panel.dimensions["z" if row["signal"] == "planted" else "noise"]
        lo, hi = fr.fold.test_start - lead, fr.fold.test_stop
        net = sort_portfolios(
            score.iloc[lo:hi],
            panel.ret.iloc[lo:hi],
            n_groups=int(row["n_groups"]),
            rebalance="monthly",
            holding=int(row["holding"]),
            lag=BACKTEST.lag + delay,
            direction=int(row["direction"]),
            costs=costs,
        ).net["long_short"]
        parts.append(net.iloc[fr.fold.test_start - lo :])
    return pd.concat(parts)


@pytest.mark.parametrize("mult", [2.0, 5.0])
def test_cost_shock_equals_engine_rerun_with_scaled_costs(study_and_panel, mult: float) -> None:
    study, panel = study_and_panel
    direct = _direct(panel, study, mult=mult)
    rec = study.result.record
    c = BACKTEST.costs
    shocked = (
        rec["gross"]
        - mult * (c.half_spread_bps + c.commission_bps + c.impact_bps) / 1e4 * rec["turnover"]
    )
    assert np.max(np.abs(shocked.to_numpy() - direct.to_numpy())) <= 1e-12
    row = study.stress.set_index("scenario").loc[f"costs x{mult:g}"]
    assert row["sharpe"] == pytest.approx(
        empyrical.sharpe_ratio(direct.dropna(), annualization=252), rel=1e-10
    )
    assert row["sharpe"] < row["base_sharpe"]  # dearer trading never helps
    assert row["delta_sharpe"] == pytest.approx(row["sharpe"] - row["base_sharpe"])


@pytest.mark.parametrize("delay", [1, 2])
def test_delay_equals_engine_rerun_with_more_lag(study_and_panel, delay: int) -> None:
    study, panel = study_and_panel
    direct = _direct(panel, study, delay=delay)
    got = study.result.delayed_record(delay)
    assert got.index.equals(direct.index)
    assert np.max(np.abs(got.to_numpy() - direct.to_numpy())) <= 1e-12
    row = study.stress.set_index("scenario").loc[f"delay +{delay}"]
    assert row["sharpe"] == pytest.approx(
        empyrical.sharpe_ratio(direct.dropna(), annualization=252), rel=1e-10
    )


def test_base_case_and_crisis_windows(study_and_panel) -> None:
    study, panel = study_and_panel
    s = study.stress.set_index("scenario")
    net = study.result.record["net"]
    assert s.loc["base", "n_obs"] == net.notna().sum()
    assert s.loc["base", "sharpe"] == pytest.approx(
        empyrical.sharpe_ratio(net.dropna(), annualization=252), rel=1e-10
    )
    inside = net.loc["2005-01-01":"2005-12-31"]
    assert s.loc["2005", "n_obs"] == len(inside) and s.loc["2005", "coverage"] == 1.0
    assert s.loc["2005", "total_return"] == pytest.approx(np.prod(1 + inside) - 1, rel=1e-12)
    assert s.loc["2005", "max_drawdown"] == pytest.approx(empyrical.max_drawdown(inside), rel=1e-12)
    uni = panel.ret.mean(axis=1).loc["2005-01-01":"2005-12-31"]
    assert s.loc["2005", "universe_total_return"] == pytest.approx(np.prod(1 + uni) - 1, rel=1e-12)
    assert (
        s.loc["2030", "n_obs"] == 0
        and s.loc["2030", "coverage"] == 0.0
        and math.isnan(s.loc["2030", "sharpe"])
    )
    assert list(s["kind"]) == ["base", "crisis", "crisis", "cost", "cost", "delay", "delay"]


# --------------------------------------------------------------------------------------------
# the gate
# --------------------------------------------------------------------------------------------
THRESHOLDS = {
    "min_oos_sharpe": 0.5,
    "max_drawdown": 0.3,
    "min_dsr": 0.95,
    "max_pbo": 0.5,
    "min_t_stat": 2.0,
    "min_oos_periods": 756,
    "min_holdout_sharpe": None,
}
GOOD = {
    "oos_sharpe": 1.2,
    "max_drawdown": 0.12,
    "dsr": 0.99,
    "pbo": 0.1,
    "t_stat": 3.1,
    "oos_periods": 2000,
}


def test_gate_passes_only_when_every_criterion_passes() -> None:
    g = evaluate_gate(THRESHOLDS, GOOD)
    assert (
        g.decision == "PASS"
        and len(g.criteria) == 6
        and g.reasons[0].startswith("all 6 criteria pass")
    )
    assert "min_holdout_sharpe" not in {
        c.name for c in g.criteria
    }  # disabled: not part of the decision
    for key, bad in [
        ("oos_sharpe", 0.49),
        ("max_drawdown", 0.31),
        ("dsr", 0.5),
        ("pbo", 0.7),
        ("t_stat", 1.9),
        ("oos_periods", 700),
    ]:
        g = evaluate_gate(THRESHOLDS, {**GOOD, key: bad})
        assert g.decision == "FAIL"
        assert [c.quantity for c in g.failed] == [key]
        assert (
            g.reasons == [g.failed[0].reason]
            and g.reasons[0].startswith(key)
            and "fails" in g.reasons[0]
        )


def test_gate_thresholds_are_inclusive() -> None:
    edge = {
        "oos_sharpe": 0.5,
        "max_drawdown": 0.3,
        "dsr": 0.95,
        "pbo": 0.5,
        "t_stat": 2.0,
        "oos_periods": 756,
    }
    assert evaluate_gate(THRESHOLDS, edge).decision == "PASS"


@pytest.mark.parametrize("value", [None, float("nan")])
def test_unmeasured_criterion_fails(value) -> None:
    g = evaluate_gate(
        THRESHOLDS, {**GOOD, "pbo": value}, missing={"pbo": "the grid has a single variant"}
    )
    assert g.decision == "FAIL"
    (c,) = g.failed
    assert c.name == "max_pbo" and c.measured is None
    assert c.reason == "pbo not measured: the grid has a single variant"
    g = evaluate_gate({"min_holdout_sharpe": 0.0}, {})
    assert g.decision == "FAIL" and g.failed[0].reason.startswith("holdout_sharpe not measured")


def test_gate_rejects_unknown_or_empty_criteria() -> None:
    with pytest.raises(ValueError, match="unknown criteria"):
        evaluate_gate({"min_sortino": 1.0}, GOOD)
    with pytest.raises(ValueError, match="no criterion"):
        evaluate_gate({"min_oos_sharpe": None}, GOOD)


def test_gate_markdown_is_a_signable_page() -> None:
    g = evaluate_gate(THRESHOLDS, {**GOOD, "dsr": 0.4}, context={"n_trials": 7})
    md = render_markdown(g, facts={"Trials": 7})
    assert "**Decision: FAIL**" in md and "| Reviewer |" in md and "Decision accepted" in md
    assert "dsr 0.4 fails the minimum 0.95" in md and "- **Trials**: 7" in md
    doc = g.to_dict()
    assert doc["decision"] == "FAIL" and doc["n_failed"] == 1
    assert doc["criteria"]["min_dsr"] == {
        "quantity": "dsr",
        "description": g.failed[0].description,
        "rule": ">=",
        "threshold": 0.95,
        "measured": 0.4,
        "passed": False,
        "reason": "dsr 0.4 fails the minimum 0.95 (dsr >= 0.95)",
    }


def test_single_variant_grid_fails_pbo_as_not_measured() -> None:
    panel = planted_panel(n_sessions=1800, seed=0)
    params = wf_params(grid={"n_groups": [5], "holding": [1], "signals": {"planted": {"z": 1.0}}})
    study = run_study(panel, params, backtest=BACKTEST)
    pbo = next(c for c in study.gate.criteria if c.name == "max_pbo")
    assert not pbo.passed and pbo.reason.startswith(
        "pbo not measured: the grid has a single variant"
    )
    assert study.gate.decision == "FAIL"
