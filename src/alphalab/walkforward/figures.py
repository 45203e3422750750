"""Plotly figures of the walk-forward: out-of-sample equity with fold boundaries, parameter paths.

Written as self-contained HTML with plotly.js embedded (offline) and fixed element ids, so a
rerun on the same inputs writes the same bytes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from alphalab.io import atomic_write_text
from alphalab.walkforward.optimize import GRID_KEYS, WalkForwardResult


def equity_figure(
    result: WalkForwardResult, *, title: str = "Out-of-sample equity (walk-forward)"
) -> go.Figure:
    """Growth of 1 of the out-of-sample record (net and gross), fold starts dashed, holdout shaded."""
    record = result.record
    fig = go.Figure()
    for col, name in (("net", "net of costs"), ("gross", "gross")):
        wealth = np.cumprod(1.0 + record[col].fillna(0.0).to_numpy())
        fig.add_trace(go.Scatter(x=record.index, y=wealth, mode="lines", name=name))
    for r in result.folds:
        fig.add_vline(
            x=result.index[r.fold.test_start], line_dash="dot", line_width=1, line_color="grey"
        )
    if result.holdout is not None:
        fig.add_vrect(
            x0=result.index[result.holdout.fold.test_start],
            x1=result.index[-1],
            fillcolor="orange",
            opacity=0.12,
            line_width=0,
            annotation_text="holdout",
            annotation_position="top left",
        )
    fig.update_layout(
        title=title,
        xaxis_title="date",
        yaxis_title="growth of 1 (long-short)",
        template="plotly_white",
        hovermode="x unified",
    )
    return fig


def _axis_values(values: pd.Series, numeric: bool) -> pd.Series:
    return values if numeric else values.astype(str)


def params_figure(table: pd.DataFrame, *, title: str = "Chosen parameters by fold") -> go.Figure:
    """Step chart of each grid parameter's chosen value at every test window start.

    Only the parameters that vary across folds are drawn (the first grid key when none
    varies, so the figure is never empty); numeric parameters on a numeric axis, the others
    as sorted categories. The holdout's choice is a star.
    """
    keys = [k for k in GRID_KEYS if k in table.columns]
    varying = [k for k in keys if table[k].nunique() > 1] or keys[:1]
    fig = make_subplots(rows=len(varying), cols=1, shared_xaxes=True, subplot_titles=varying)
    wf = table[table["kind"] == "walkforward"]
    hold = table[table["kind"] == "holdout"]
    for i, key in enumerate(varying, start=1):
        numeric = pd.api.types.is_numeric_dtype(table[key])
        fig.add_trace(
            go.Scatter(
                x=wf["test_first"],
                y=_axis_values(wf[key], numeric),
                mode="lines+markers",
                line_shape="hv",
                name=key,
            ),
            row=i,
            col=1,
        )
        if len(hold):
            fig.add_trace(
                go.Scatter(
                    x=hold["test_first"],
                    y=_axis_values(hold[key], numeric),
                    mode="markers",
                    marker_symbol="star",
                    marker_size=12,
                    name=f"{key} (holdout)",
                ),
                row=i,
                col=1,
            )
        if numeric:
            ticks = sorted(table[key].unique().tolist())
            fig.update_yaxes(tickmode="array", tickvals=ticks, row=i, col=1)
        else:
            fig.update_yaxes(type="category", categoryorder="category ascending", row=i, col=1)
    fig.update_layout(
        title=title, template="plotly_white", height=220 * len(varying) + 120, showlegend=False
    )
    return fig


def write_html(fig: go.Figure, path: str | Path, *, div_id: str) -> Path:
    """Write a figure as one offline HTML file (plotly.js embedded), atomically."""
    html = fig.to_html(full_html=True, include_plotlyjs=True, div_id=div_id)
    return atomic_write_text(html, path)
