"""Number formats, metrics tables, HTML and LaTeX rendering.

Tolerances: formatted numbers are compared as exact strings worked out by hand; parsing a
formatted percentage back must agree with the stored value to half a unit of its last shown
digit (0.005 percentage points for 2 decimals).
"""

from __future__ import annotations

import math

import hypothesis.strategies as st
import pandas as pd
import pytest
from hypothesis import given

from alphalab.reporting import tables
from alphalab.reporting.tables import ReportInputError, format_stat


@pytest.mark.parametrize(
    ("stat", "value", "text"),
    [
        ("ann_return", 0.1234, "12.34%"),
        ("ann_return", -0.005, "-0.50%"),
        ("max_drawdown", -0.30846, "-30.85%"),
        ("mean", 0.00041, "0.041%"),
        ("sharpe", 0.8123, "0.81"),
        ("t_nw", -1.284, "-1.28"),
        ("kp_t", 2.1224, "2.12"),
        ("psr", 0.95, "0.950"),
        ("p_kp", 0.0523, "0.052"),
        ("n_obs", 8291.0, "8,291"),
        ("n_trials", 24, "24"),
        ("diff_car", 0.0334, "3.340%"),
        ("coef", -0.00275, "-0.00275"),
        ("var_trials_sharpe", 3.28e-06, "3.28e-06"),
        ("sharpe", None, "–"),
        ("sharpe", float("nan"), "–"),
        ("sharpe", float("inf"), "–"),
        ("decision", "PASS", "PASS"),
    ],
)
def test_format_stat_by_hand(stat: str, value: object, text: str) -> None:
    assert format_stat(stat, value) == text


@given(st.floats(min_value=-10, max_value=10, allow_nan=False))
def test_percent_round_trips_to_shown_precision(x: float) -> None:
    text = format_stat("ann_return", x)
    assert text.endswith("%")
    assert abs(float(text[:-1]) / 100 - x) <= 0.5e-4 + 1e-12


@given(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.none(), st.integers()))
def test_format_stat_never_raises(x: object) -> None:
    text = format_stat("sharpe", x)
    assert isinstance(text, str) and text
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        assert text == "–"


DOC = {
    "long_short": {"n_obs": 100, "sharpe": 0.5, "ann_return": 0.1},
    "g1": {"n_obs": 100, "sharpe": -0.2, "ann_return": -0.03, "turnover": 0.4},
    "ic_h1": {"n_obs": 90, "mean": 0.021},
    "conventions": {"periods_per_year": 252, "costs": {"bps": 10}, "windows": [[0, 1], [-1, 1]]},
    "provenance": {"git": {"commit": None}},
}


def test_stats_frame_keeps_stored_values_and_core_order() -> None:
    frame = tables.stats_frame(DOC)
    assert list(frame.index) == ["long_short", "g1", "ic_h1"]
    assert list(frame.columns) == ["n_obs", "ann_return", "sharpe", "turnover", "mean"]
    assert frame.loc["g1", "sharpe"] == -0.2
    assert frame.loc["long_short", "turnover"] is None
    with pytest.raises(ReportInputError, match=r"series \['nope'\] not found"):
        tables.stats_frame(DOC, series=["nope"])


def test_ic_mean_is_formatted_as_ic_not_as_return() -> None:
    shown = tables.format_metrics_frame(tables.stats_frame(DOC, series=["ic_h1", "g1"]))
    assert shown.loc["ic_h1", "mean"] == "0.021"
    assert shown.loc["g1", "ann_return"] == "-3.00%"


def test_transpose_stats_rows_are_statistics() -> None:
    frame = tables.stats_frame(DOC, series=["long_short", "g1"])
    out = tables.transpose_stats(frame)
    assert list(out.columns) == ["long_short", "g1"]
    assert out.loc["Sharpe (ann.)", "g1"] == "-0.20"
    assert out.index.name == "statistic"


def test_conventions_text_flattens_nested_and_lists() -> None:
    text = tables.conventions_text(DOC["conventions"])
    assert "costs.bps: 10" in text and "periods_per_year: 252" in text
    assert "windows: 0, 1, -1, 1" in text
    assert tables.conventions_text(None).startswith("conventions: not stated")


def test_html_table_escapes_labels_and_cells_and_truncates() -> None:
    df = pd.DataFrame(
        {"name": ["<b>x</b>", "y", "z"], "sharpe": ["1.00", "2.00", "–"]},
        index=pd.Index(["a&b", "c", "d"], name="series"),
    )
    out = tables.html_table(df, caption="cap <i>", max_rows=2, notes="n & m")
    assert "&lt;b&gt;x&lt;/b&gt;" in out and "a&amp;b" in out and "cap &lt;i&gt;" in out
    assert "<b>x</b>" not in out
    assert "1 more row(s) not shown (first 2 of 3)" in out and "n &amp; m" in out
    assert '<th class="al-num">Sharpe (ann.)</th>' in out
    assert '<td class="al-text">y</td>' in out


def test_display_frame_formats_numeric_columns_by_name() -> None:
    df = pd.DataFrame({"sharpe": [0.123], "label": ["x"], "n": [5], "flag": [True]})
    out = tables.display_frame(df, stats={"n": "n_obs"})
    assert out.iloc[0].tolist() == ["0.12", "x", "5", "True"]


def test_latex_table_booktabs_escaped_with_math_minus() -> None:
    df = pd.DataFrame(
        {"ann_return": ["-3.00%", "1.50%"], "label": ["a_b", "c & d"]},
        index=pd.Index(["g1", "long_short"], name="series"),
    )
    tex = tables.latex_table(df, caption="Sorts: 10% costs", label="tab:sorts", notes="x_y")
    lines = tex.splitlines()
    assert lines[0] == r"\begin{table}[htbp]" and lines[-1] == r"\end{table}"
    assert r"\begin{tabular}{lrl}" in tex and r"\toprule" in tex and r"\bottomrule" in tex
    assert r"series & Ann. return (\%) & label \\" in tex
    assert r"g1 & $-$3.00\% & a\_b \\" in tex
    assert r"long\_short & 1.50\% & c \& d \\" in tex
    assert r"\caption{Sorts: 10\% costs}" in tex and r"x\_y" in tex
    with pytest.raises(ReportInputError, match="LaTeX label"):
        tables.latex_table(df, caption="c", label="bad label")
