"""Figures of the robustness stage (plotly): specification curve and placebo histogram.

Both are written as self-contained HTML with plotly.js embedded, so they open offline.

References
----------
Simonsohn, U., Simmons, J. P. & Nelson, L. D. (2020). Specification curve analysis. *Nature
Human Behaviour* 4, 1208–1214 (Figure 2: sorted estimates above, choices marked below).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots
from scipy import stats as sps

from alphalab.io import atomic_write_text

__all__ = ["placebo_histogram", "spec_curve_figure", "write_html"]

CHOICE_COLUMNS: tuple[str, ...] = (
    "n_groups",
    "weighting",
    "lag",
    "holding",
    "rebalance",
    "universe",
    "dimensions",
    "cost_multiplier",
)


def spec_curve_data(full: pd.DataFrame, *, alpha: float = 0.05) -> pd.DataFrame:
    """Variants sorted by Sharpe ratio with a Newey–West interval, and their rank.

    The interval is ``SR·(1 ± z/|t_nw|)``, ``z = Φ⁻¹(1 − alpha/2)``: the HAC standard error
    of the mean divided by the sample sd (the sd treated as known), so it excludes zero
    exactly when ``|t_nw| > z``.

    References
    ----------
    Newey & West (1987), Econometrica 55(3) (HAC standard error of the mean).
    """
    df = full.copy()
    z = float(sps.norm.ppf(1.0 - alpha / 2.0))
    value = df["sharpe"].to_numpy(dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        half = np.abs(value / df["t_nw"].to_numpy(dtype=np.float64)) * z
    df["estimate"], df["ci_low"], df["ci_high"] = value, value - half, value + half
    df = df.sort_values("estimate", kind="stable").reset_index(drop=True)
    df["rank"] = np.arange(1, len(df) + 1)
    return df


def spec_curve_figure(
    full: pd.DataFrame,
    *,
    n_trials: int,
    alpha: float = 0.05,
    base_variant: str | None = None,
    choices: Sequence[str] = CHOICE_COLUMNS,
    title: str = "Specification curve: long-short Sharpe ratio (annualized, net of costs)",
) -> go.Figure:
    """Sorted variant Sharpe ratios with intervals (top) and each variant's choices (bottom).

    Parameters
    ----------
    full : DataFrame
        The grid's full-sample rows (:attr:`alphalab.robustness.grid.GridResult.full`).
    n_trials : int
        Trials in the ledger — shown in the title next to the number of variants.
    alpha : float
        Interval level (Newey–West based, see :func:`spec_curve_data`).
    base_variant : str, optional
        Variant id of the study's own specification, highlighted.
    choices : sequence of str
        Grid columns marked below (columns with a single value are left out).
    """
    df = spec_curve_data(full, alpha=alpha)
    shown = [c for c in choices if c in df.columns and df[c].nunique() > 1]
    fig = make_subplots(
        rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.03, row_heights=[0.5, 0.5]
    )
    significant = (df["ci_low"] > 0) | (df["ci_high"] < 0)
    for flag, color, name in (
        (True, "#1f77b4", "interval excludes 0"),
        (False, "#aaaaaa", "interval covers 0"),
    ):
        part = df[significant == flag]
        fig.add_trace(
            go.Scatter(
                x=part["rank"],
                y=part["estimate"],
                mode="markers",
                marker={"color": color, "size": 5},
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": part["ci_high"] - part["estimate"],
                    "arrayminus": part["estimate"] - part["ci_low"],
                    "color": color,
                    "thickness": 1,
                    "width": 0,
                },
                name=name,
                text=part["variant"],
                hovertemplate="%{text}<br>Sharpe %{y:.3f}<extra></extra>",
            ),
            row=1,
            col=1,
        )
    if base_variant is not None and (df["variant"] == base_variant).any():
        b = df[df["variant"] == base_variant]
        fig.add_trace(
            go.Scatter(
                x=b["rank"],
                y=b["estimate"],
                mode="markers",
                name="study specification",
                marker={"color": "#d62728", "size": 11, "symbol": "diamond"},
            ),
            row=1,
            col=1,
        )
    fig.add_hline(y=0.0, line={"color": "black", "width": 1}, row=1, col=1)
    for trace in _choice_traces(df, shown):
        fig.add_trace(trace, row=2, col=1)
    n = len(df)
    fig.update_layout(
        title=f"{title}<br><sub>{n} variants in this grid; {n_trials} trials in the ledger "
        f"(the count behind every 'best' number); {100 * (1 - alpha):.0f}% Newey–West intervals</sub>",
        height=420 + 18 * sum(df[c].nunique() for c in shown),
        showlegend=True,
        template="plotly_white",
    )
    fig.update_yaxes(title_text="Sharpe (ann.)", row=1, col=1)
    fig.update_xaxes(title_text="variant rank", row=2, col=1)
    return fig


def _choice_traces(df: pd.DataFrame, columns: Sequence[str]) -> list[go.Scatter]:
    traces = []
    for column in columns:
        values = sorted(df[column].unique(), key=str)
        for value in values:
            hit = df[df[column] == value]
            label = f"{column} = {value}"
            traces.append(
                go.Scatter(
                    x=hit["rank"],
                    y=[label] * len(hit),
                    mode="markers",
                    marker={"symbol": "line-ns-open", "size": 8, "color": "#333333"},
                    showlegend=False,
                    hoverinfo="skip",
                )
            )
    return traces


def placebo_histogram(
    placebo_means: np.ndarray,
    observed: float,
    *,
    pvalue: float,
    periods_per_year: float,
    alternative: str,
) -> go.Figure:
    """Histogram of the placebo long-short mean returns (annualized) with the real one marked."""
    x = np.asarray(placebo_means, dtype=np.float64) * periods_per_year
    obs = observed * periods_per_year
    fig = go.Figure(
        go.Histogram(
            x=x,
            nbinsx=min(60, max(10, int(math.sqrt(x.size)) * 2)),
            name="placebo (scores shuffled within dates)",
            marker={"color": "#aaaaaa"},
        )
    )
    fig.add_vline(x=obs, line={"color": "#d62728", "width": 2})
    fig.add_annotation(
        x=obs,
        y=1,
        yref="paper",
        text=f"signal: {obs:.2%}",
        showarrow=False,
        xanchor="left",
        font={"color": "#d62728"},
    )
    fig.update_layout(
        title=f"Within-date permutation placebo: gross long-short mean return (annualized)<br>"
        f"<sub>{x.size} permutations; p-value ({alternative}) = {pvalue:.4f}</sub>",
        xaxis_title="annualized mean long-short return",
        yaxis_title="permutations",
        template="plotly_white",
        bargap=0.02,
    )
    return fig


def write_html(fig: go.Figure, path: str | Path) -> Path:
    """Write a figure as one self-contained HTML file (plotly.js embedded: works offline)."""
    return atomic_write_text(fig.to_html(include_plotlyjs=True, full_html=True), path)
