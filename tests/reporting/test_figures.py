"""Figures show stored numbers; the only transforms are the ones their titles name.

Tolerance: the growth path is checked against an independent running product in plain
Python to 1e-12 relative; everything else is compared exactly (values are copied, not computed).
"""

from __future__ import annotations

import math

import hypothesis.strategies as st
import numpy as np
import pandas as pd
import pytest
from hypothesis import given

from alphalab.reporting import figures
from alphalab.reporting.tables import ReportInputError

RTOL = 1e-12


def _returns() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    idx = pd.bdate_range("2020-01-01", periods=60, name="date")
    df = pd.DataFrame(rng.normal(0, 0.01, (60, 2)), index=idx, columns=["g1", "long_short"])
    df.iloc[:5, 0] = np.nan
    df.iloc[20, 1] = np.nan
    return df


def test_growth_of_one_matches_running_product() -> None:
    r = _returns()
    growth = figures.growth_of_one(r)
    for col in r.columns:
        wealth, seen = 1.0, False
        for t, x in zip(r.index, r[col], strict=True):
            seen = seen or not math.isnan(x)
            if not seen:
                assert math.isnan(growth.loc[t, col])
                continue
            wealth *= 1.0 + (0.0 if math.isnan(x) else x)
            assert growth.loc[t, col] == pytest.approx(wealth, rel=RTOL)


def test_cumulative_returns_one_trace_per_series() -> None:
    fig = figures.cumulative_returns(
        _returns(), columns=["long_short", "g1"], regions=[("holdout", "2020-02-03", "2020-03-20")]
    )
    assert [t.name for t in fig.data] == ["long_short", "g1"]
    assert len(fig.data[1].x) == 55  # starts at the first observed return
    assert fig.layout.shapes[0].x0 == "2020-02-03"
    with pytest.raises(ReportInputError, match=r"missing column\(s\) \['g9'\]"):
        figures.cumulative_returns(_returns(), columns=["g9"])
    with pytest.raises(ReportInputError, match="at least one"):
        figures.cumulative_returns(_returns(), columns=[])


def test_log_scale_only_when_paths_span_a_factor_above_20() -> None:
    idx = pd.bdate_range("2000-01-03", periods=400)
    steady = pd.DataFrame({"a": np.full(400, 0.001)}, index=idx)  # grows to 1.49
    boom = pd.DataFrame({"a": np.full(400, 0.01)}, index=idx)  # grows to 53.5
    assert figures.cumulative_returns(steady, columns=["a"]).layout.yaxis.type == "linear"
    fig = figures.cumulative_returns(boom, columns=["a"])
    assert fig.layout.yaxis.type == "log" and fig.layout.title.text.endswith("log scale")


def test_drawdown_is_zero_at_new_highs_and_negative_below() -> None:
    fig = figures.drawdown(_returns(), column="long_short")
    dd = np.asarray(fig.data[0].y, dtype=float)
    assert dd.max() <= 0 and dd.min() < 0


def test_quantile_means_bars_and_stored_interval() -> None:
    qm = pd.DataFrame(
        {
            "horizon": [5, 5, 5, 1],
            "group": ["g10", "g2", "g1", "g1"],
            "mean": [0.03, 0.02, 0.01, 9.0],
            "lo": [0.0, 0.01, -0.01, 0],
            "hi": [0.05, 0.04, 0.02, 0],
        }
    )
    fig = figures.quantile_means(qm, horizon="5")
    bar = fig.data[0]
    assert list(bar.x) == ["g1", "g2", "g10"]
    assert list(bar.y) == [0.01, 0.02, 0.03]
    assert list(bar.error_y.array) == pytest.approx([0.01, 0.02, 0.02])
    assert list(bar.error_y.arrayminus) == pytest.approx([0.02, 0.01, 0.03])
    with pytest.raises(ReportInputError, match="no rows for horizon 21"):
        figures.quantile_means(qm, horizon=21)


@pytest.mark.parametrize(
    ("day", "lo", "hi"), [("day", "lower", "upper"), ("event_day", "lo", "hi")]
)
def test_caar_reads_either_column_convention(day: str, lo: str, hi: str) -> None:
    t = pd.DataFrame(
        {
            "group": ["1", "1", "all", "all"],
            day: [-1, 0, -1, 0],
            "caar": [0.01, 0.02, 0.0, 0.01],
            lo: [0, 0, -0.1, -0.1],
            hi: [0.1, 0.1, 0.1, 0.1],
        }
    )
    fig = figures.caar(t, groups=["1", "all"], window=(-1, 0), window_label="m1_0")
    lines = [tr for tr in fig.data if tr.mode == "lines+markers"]
    assert [tr.name for tr in lines] == ["1", "all"]
    assert list(lines[0].y) == [0.01, 0.02]
    assert fig.layout.shapes[-1].x0 == -1.5 and fig.layout.shapes[-1].x1 == 0.5
    with pytest.raises(ReportInputError, match="needs one of the columns"):
        figures.caar(t.drop(columns=[day]), groups=["1"])


def test_coefficients_band_is_stored_se_times_1_96() -> None:
    t = pd.DataFrame(
        {
            "model": ["fm", "fm", "ols"],
            "term": ["score", "const", "score"],
            "coef": [0.1, 0.2, 9.0],
            "se": [0.05, 0.01, 1.0],
        }
    )
    fig = figures.coefficients(t, model="fm")
    assert list(fig.data[0].y) == ["score", "const"]
    assert list(fig.data[0].error_x.array) == pytest.approx([0.098, 0.0196])


def test_grid_distribution_counts_every_variant() -> None:
    g = pd.DataFrame({"n_groups": [3, 3, 5], "sharpe": [0.1, 0.2, 0.3]})
    fig = figures.grid_distribution(g, stat="sharpe", by="n_groups", mark=0.2)
    assert len(fig.data[0].y) == 3 and "across 3 variants" in fig.layout.title.text
    with pytest.raises(ReportInputError, match="not numeric"):
        figures.grid_distribution(g.assign(sharpe=["a", "b", "c"]), stat="sharpe", by="n_groups")


@given(st.lists(st.integers(min_value=1, max_value=200), min_size=1, max_size=20, unique=True))
def test_group_key_orders_groups_numerically(ns: list[int]) -> None:
    names = [f"g{n}" for n in ns] + ["long_short"]
    ordered = sorted(names, key=figures.group_key)
    assert ordered[:-1] == [f"g{n}" for n in sorted(ns)] and ordered[-1] == "long_short"
    assert sorted(map(str, ns), key=figures.group_key) == [str(n) for n in sorted(ns)]
