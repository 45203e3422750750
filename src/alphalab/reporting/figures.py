"""Plotly figures of pipeline artifacts (dashboard pages and static reports).

Each function takes an artifact table as written by a stage (see the module docstring of
:mod:`alphalab.reporting.dashboard` for paths and columns) and returns a ``go.Figure``. The
figures only *display* stored numbers: returns are stored in decimals and shown with a percent
axis format; the only transforms are the ones named in a figure's title or axis (growth of 1
from per-period simple returns, drawdown from that growth path, a rolling mean of the stored
IC, a ±1.96 standard-error band around a stored coefficient).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import sample_colorscale

from alphalab.reporting.tables import ReportInputError, require_columns

_LAYOUT = {
    "template": "plotly_white",
    "height": 380,
    "margin": {"l": 60, "r": 20, "t": 50, "b": 45},
    "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0},
    "font": {"size": 12},
}
_SPREAD_NAMES = ("long_short", "diff", "all")


_GROUP = re.compile(r"g?(\d+)(\.0)?(_net)?")
_QUALITATIVE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2")


def group_key(name: str) -> tuple[int, int, str]:
    """Sort key: groups ``g1 < g2 < … < g10`` (or ``1 < 2 …``), then the rest by name."""
    m = _GROUP.fullmatch(str(name))
    return (0, int(m.group(1)), str(name)) if m else (1, 0, str(name))


def group_colors(names: Sequence[str]) -> dict[str, str]:
    """A colour per series: groups along a sequential scale (1 → N), spreads in black, others
    from a qualitative palette."""
    groups = sorted((n for n in names if _GROUP.fullmatch(str(n))), key=group_key)
    scale = sample_colorscale("Viridis", np.linspace(0.05, 0.9, max(len(groups), 2)).tolist())
    out = {g: scale[i] for i, g in enumerate(groups)}
    others = [n for n in names if n not in out]
    for i, n in enumerate(others):
        spread = str(n).startswith(_SPREAD_NAMES)
        out[n] = "#222222" if spread else _QUALITATIVE[i % len(_QUALITATIVE)]
    return out


def _finish(fig: go.Figure, title: str, **layout: object) -> go.Figure:
    settings: dict[str, object] = {**_LAYOUT, **layout}
    fig.update_layout(**settings, title={"text": title, "x": 0, "xanchor": "left"})
    return fig


def _numeric(df: pd.DataFrame, columns: Sequence[str], *, what: str) -> pd.DataFrame:
    require_columns(df, columns, what=what)
    bad = [c for c in columns if not pd.api.types.is_numeric_dtype(df[c])]
    if bad:
        raise ReportInputError(f"{what}: column(s) {bad} are not numeric")
    return df.loc[:, list(columns)].astype("float64")


def growth_of_one(returns: pd.DataFrame) -> pd.DataFrame:
    """``∏(1 + r)`` per column from its first observed return; gaps carry the last value."""
    r = returns.astype("float64")
    started = r.notna().cummax()
    growth = (1.0 + r.fillna(0.0)).cumprod()
    return growth.where(started)


def cumulative_returns(
    returns: pd.DataFrame,
    *,
    columns: Sequence[str],
    title: str = "Growth of 1 (compounded per-period simple returns)",
    log_scale: bool | None = None,
    regions: Sequence[tuple[str, object, object]] = (),
) -> go.Figure:
    """Growth of one unit invested in each series of a dates × series return table.

    Parameters
    ----------
    returns : DataFrame
        Per-period simple returns in decimals on a date index (``reports/backtest/returns.parquet``).
    columns : sequence of str
        Series to draw.
    log_scale : bool, optional
        Log y axis; default: when the paths span more than a factor of 20 (said in the title).
    regions : sequence of (label, start, end)
        Date ranges to shade and label (e.g. the walk-forward holdout).
    """
    if not columns:
        raise ReportInputError("cumulative_returns: choose at least one series")
    growth = growth_of_one(_numeric(returns, columns, what="returns"))
    if log_scale is None:
        low, high = float(growth.min().min()), float(growth.max().max())
        log_scale = bool(low > 0 and high / low > 20)
    if log_scale:
        title += " — log scale"
    colors = group_colors(list(columns))
    fig = go.Figure()
    for c in columns:
        s = growth[c].dropna()
        fig.add_trace(
            go.Scatter(
                x=s.index,
                y=s.to_numpy(),
                mode="lines",
                name=c,
                line={"color": colors[c], "width": 1.6},
            )
        )
    for label, start, end in regions:
        fig.add_vrect(
            x0=start,
            x1=end,
            fillcolor="#f0ad4e",
            opacity=0.12,
            line_width=0,
            annotation_text=label,
            annotation_position="top left",
        )
    return _finish(
        fig,
        title,
        yaxis_title="growth of 1",
        xaxis_title="date",
        yaxis_type="log" if log_scale else "linear",
    )


def drawdown(returns: pd.DataFrame, *, column: str) -> go.Figure:
    """Drawdown of the growth path of one series: ``growth / running max − 1``."""
    growth = growth_of_one(_numeric(returns, [column], what="returns"))[column].dropna()
    dd = growth / growth.cummax() - 1.0
    fig = go.Figure(
        go.Scatter(
            x=dd.index,
            y=dd.to_numpy(),
            mode="lines",
            fill="tozeroy",
            name=column,
            line={"color": "#b22222", "width": 1},
        )
    )
    return _finish(
        fig,
        f"Drawdown of {column} (growth path / running maximum − 1)",
        yaxis_tickformat=".0%",
        yaxis_title="drawdown",
        xaxis_title="date",
        height=280,
    )


def quantile_means(table: pd.DataFrame, *, horizon: object) -> go.Figure:
    """Mean forward return by signal group at one horizon, with the stored interval.

    ``table`` is ``reports/backtest/quantile_means.parquet``: ``horizon, group, mean, lo, hi``
    (``se`` optional).
    """
    require_columns(table, ["horizon", "group", "mean", "lo", "hi"], what="quantile_means")
    sub = table.loc[table["horizon"].astype(str) == str(horizon)]
    if sub.empty:
        raise ReportInputError(
            f"quantile_means: no rows for horizon {horizon!r}; "
            f"has {sorted(map(str, table['horizon'].unique()))}"
        )
    sub = sub.assign(_k=sub["group"].astype(str).map(group_key)).sort_values("_k")
    names = sub["group"].astype(str).tolist()
    colors = group_colors(names)
    mean = sub["mean"].to_numpy(float)
    fig = go.Figure(
        go.Bar(
            x=names,
            y=mean,
            marker_color=[colors[n] for n in names],
            error_y={
                "type": "data",
                "symmetric": False,
                "array": sub["hi"].to_numpy(float) - mean,
                "arrayminus": mean - sub["lo"].to_numpy(float),
            },
            hovertemplate="%{x}: %{y:.3%}<extra></extra>",
        )
    )
    return _finish(
        fig,
        f"Mean forward return by group, horizon {horizon} (bars: stored lo–hi)",
        yaxis_tickformat=".2%",
        yaxis_title="mean forward return",
        xaxis_title="group",
    )


def ic_series(table: pd.DataFrame, *, horizon: object, window: int = 21) -> go.Figure:
    """The stored rank IC per date at one horizon and its rolling mean over ``window`` dates.

    ``table`` is ``reports/backtest/ic.parquet``: ``date, horizon, ic``.
    """
    require_columns(table, ["date", "horizon", "ic"], what="ic")
    if window < 1:
        raise ReportInputError(f"ic_series: window must be >= 1, got {window}")
    sub = table.loc[table["horizon"].astype(str) == str(horizon)].sort_values("date")
    if sub.empty:
        raise ReportInputError(f"ic: no rows for horizon {horizon!r}")
    ic = pd.Series(sub["ic"].to_numpy(float), index=pd.DatetimeIndex(sub["date"]))
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=ic.index,
            y=ic.to_numpy(),
            mode="lines",
            name="IC",
            line={"color": "#9ecae1", "width": 0.8},
        )
    )
    roll = ic.rolling(window, min_periods=window).mean()
    fig.add_trace(
        go.Scatter(
            x=roll.index,
            y=roll.to_numpy(),
            mode="lines",
            name=f"rolling mean ({window} dates)",
            line={"color": "#08519c"},
        )
    )
    return _finish(
        fig, f"Rank IC per date, horizon {horizon}", yaxis_title="Spearman IC", xaxis_title="date"
    )


def _first_present(df: pd.DataFrame, names: Sequence[str], *, what: str) -> str:
    for n in names:
        if n in df.columns:
            return n
    raise ReportInputError(
        f"{what}: needs one of the columns {list(names)}; has {list(map(str, df.columns))}"
    )


def caar(
    table: pd.DataFrame,
    *,
    groups: Sequence[str],
    window: tuple[int, int] | None = None,
    window_label: str | None = None,
) -> go.Figure:
    """Cumulative average abnormal return by event day for the chosen groups, with its band.

    ``table`` is ``reports/events/caar.parquet``: ``group``, the event day (``day`` or
    ``event_day``), ``caar`` and optionally the band (``lower``/``upper`` or ``lo``/``hi``).
    When it has a ``window`` column, ``window_label`` selects the rows; otherwise the path is
    drawn whole and ``window`` (first and last event day) is shaded.
    """
    require_columns(table, ["group", "caar"], what="caar")
    day = _first_present(table, ("event_day", "day"), what="caar")
    if not groups:
        raise ReportInputError("caar: choose at least one group")
    sub = table
    if "window" in table.columns and window_label is not None:
        sub = table.loc[table["window"].astype(str) == str(window_label)]
        if sub.empty:
            raise ReportInputError(f"caar: no rows for window {window_label!r}")
    lo = next((c for c in ("lower", "lo") if c in sub.columns), None)
    hi = next((c for c in ("upper", "hi") if c in sub.columns), None)
    colors = group_colors([str(g) for g in groups])
    fig = go.Figure()
    for g in groups:
        s = sub.loc[sub["group"].astype(str) == str(g)].sort_values(day)
        if s.empty:
            continue
        x = s[day].to_numpy()
        if lo is not None and hi is not None:
            fig.add_trace(
                go.Scatter(
                    x=np.concatenate([x, x[::-1]]),
                    y=np.concatenate([s[hi].to_numpy(float), s[lo].to_numpy(float)[::-1]]),
                    fill="toself",
                    line={"width": 0},
                    fillcolor=_fade(colors[str(g)]),
                    hoverinfo="skip",
                    showlegend=False,
                    name=f"{g} band",
                )
            )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=s["caar"].to_numpy(float),
                mode="lines+markers",
                name=str(g),
                line={"color": colors[str(g)]},
                marker={"size": 4},
                hovertemplate="day %{x}: %{y:.2%}<extra>" + str(g) + "</extra>",
            )
        )
    fig.add_vline(x=0, line_dash="dot", line_color="#888")
    label = window_label or ""
    if window is not None:
        fig.add_vrect(
            x0=window[0] - 0.5,
            x1=window[1] + 0.5,
            fillcolor="#f0ad4e",
            opacity=0.15,
            line_width=0,
            annotation_text=f"window {label}".strip(),
            annotation_position="top left",
        )
    band = " (bands: stored confidence interval)" if lo is not None else ""
    title = f"CAAR by event day{', window ' + label if label else ''}{band}"
    return _finish(fig, title, yaxis_tickformat=".1%", yaxis_title="CAAR", xaxis_title="event day")


def _fade(color: str, alpha: float = 0.15) -> str:
    if color.startswith("rgb("):
        return color.replace("rgb(", "rgba(").replace(")", f", {alpha})")
    if color.startswith("#") and len(color) == 7:
        r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
        return f"rgba({r}, {g}, {b}, {alpha})"
    return color


def time_series(
    table: pd.DataFrame,
    *,
    x: str,
    columns: Sequence[str],
    title: str,
    window: int = 0,
    percent: bool = False,
) -> go.Figure:
    """Stored values over time (one line per column), optionally with a rolling mean."""
    require_columns(table, [x, *columns], what=title)
    t = table.sort_values(x)
    fig = go.Figure()
    colors = group_colors(list(columns))
    for c in columns:
        y = pd.to_numeric(t[c], errors="coerce")
        fig.add_trace(
            go.Scatter(
                x=t[x],
                y=y.to_numpy(),
                mode="lines",
                name=c,
                line={"color": colors[c], "width": 0.8 if window else 1.5},
            )
        )
        if window:
            roll = y.rolling(window, min_periods=window).mean()
            fig.add_trace(
                go.Scatter(
                    x=t[x],
                    y=roll.to_numpy(),
                    mode="lines",
                    name=f"{c}: rolling mean ({window})",
                    line={"color": "#222", "width": 1.6},
                )
            )
    return _finish(fig, title, xaxis_title=x, yaxis_tickformat=".1%" if percent else None)


def bars(
    table: pd.DataFrame, *, x: str, columns: Sequence[str], title: str, percent: bool = False
) -> go.Figure:
    """Grouped bars of stored values (e.g. Sharpe by fold or by stress scenario)."""
    require_columns(table, [x, *columns], what=title)
    fig = go.Figure()
    colors = group_colors(list(columns))
    for c in columns:
        fig.add_trace(
            go.Bar(
                x=table[x].astype(str),
                y=pd.to_numeric(table[c], errors="coerce").to_numpy(),
                name=c,
                marker_color=colors[c],
            )
        )
    return _finish(
        fig, title, xaxis_title=x, barmode="group", yaxis_tickformat=".0%" if percent else None
    )


def coefficients(table: pd.DataFrame, *, model: str) -> go.Figure:
    """Coefficients of one regression model with ±1.96 stored standard errors.

    ``table`` is ``reports/regressions/coefficients.parquet``: ``model, term, coef, se``.
    """
    require_columns(table, ["model", "term", "coef"], what="coefficients")
    sub = table.loc[table["model"].astype(str) == str(model)]
    if sub.empty:
        raise ReportInputError(f"coefficients: no rows for model {model!r}")
    terms = sub["term"].astype(str).tolist()
    coef = sub["coef"].to_numpy(float)
    err = 1.96 * sub["se"].to_numpy(float) if "se" in sub.columns else None
    fig = go.Figure(
        go.Scatter(
            x=coef,
            y=terms,
            mode="markers",
            marker={"size": 9, "color": "#08519c"},
            error_x=None if err is None else {"type": "data", "array": err},
            hovertemplate="%{y}: %{x:.4g}<extra></extra>",
        )
    )
    fig.add_vline(x=0, line_dash="dot", line_color="#888")
    note = " ± 1.96 × stored s.e." if err is not None else ""
    return _finish(
        fig,
        f"Coefficients, model {model}{note}",
        xaxis_title="coefficient",
        height=max(260, 60 + 32 * len(terms)),
        yaxis_autorange="reversed",
    )


def grid_distribution(
    table: pd.DataFrame, *, stat: str, by: str, mark: float | None = None
) -> go.Figure:
    """Distribution of one statistic over the robustness variants, split by one variant column.

    ``mark`` draws a reference line (e.g. the base specification's value).
    """
    require_columns(table, [stat, by], what="robustness grid")
    values = _numeric(table, [stat], what="robustness grid")[stat]
    fig = go.Figure(
        go.Box(
            x=table[by].astype(str),
            y=values.to_numpy(),
            boxpoints="all",
            jitter=0.4,
            pointpos=0,
            marker={"size": 4, "color": "#08519c"},
            line={"color": "#555"},
            name=stat,
        )
    )
    if mark is not None:
        fig.add_hline(
            y=mark,
            line_dash="dot",
            line_color="#b22222",
            annotation_text="base",
            annotation_position="top left",
        )
    return _finish(
        fig,
        f"{stat} across {len(table)} variants, by {by}",
        xaxis_title=by,
        yaxis_title=stat,
        showlegend=False,
    )


def placebo_histogram(values: pd.Series, *, stat: str, actual: float | None) -> go.Figure:
    """Histogram of a placebo statistic with the actual value marked."""
    v = pd.to_numeric(values, errors="coerce").dropna()
    if v.empty:
        raise ReportInputError(f"placebo: no finite values of {stat!r}")
    fig = go.Figure(go.Histogram(x=v.to_numpy(), nbinsx=40, marker_color="#9ecae1", name="placebo"))
    if actual is not None:
        fig.add_vline(
            x=actual,
            line_color="#b22222",
            annotation_text="actual",
            annotation_position="top right",
        )
    return _finish(
        fig,
        f"Placebo distribution of {stat} ({len(v)} draws)",
        xaxis_title=stat,
        yaxis_title="count",
        showlegend=False,
    )


def validation_counts(summary: pd.DataFrame) -> go.Figure:
    """Stacked rows accepted / quarantined / deduplicated / rejected per input."""
    require_columns(summary, ["input", "accepted"], what="validation summary")
    fig = go.Figure()
    palette = {
        "accepted": "#31a354",
        "quarantined": "#fd8d3c",
        "deduplicated": "#9ecae1",
        "rejected": "#de2d26",
    }
    for col, color in palette.items():
        if col in summary.columns:
            fig.add_trace(
                go.Bar(
                    x=summary["input"].astype(str),
                    y=summary[col].to_numpy(float),
                    name=col,
                    marker_color=color,
                )
            )
    return _finish(
        fig,
        "Rows per input (rows_in = accepted + quarantined + deduplicated + rejected)",
        barmode="stack",
        yaxis_title="rows",
        xaxis_title="input",
        height=320,
    )


def empty_figure(message: str) -> go.Figure:
    """A blank figure carrying a message (used when a selection has nothing to draw)."""
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _finish(fig, "", height=200)
