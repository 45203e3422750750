"""The ``backtest`` stage: portfolio sorts, statistics, factor alphas, the alphalens-style view."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from alphalab import config
from alphalab.backtest import (
    CostModel,
    SortResult,
    quantile_forward_returns,
    rank_ic,
    sort_portfolios,
)
from alphalab.backtest.costs import as_cost_model
from alphalab.panel import Panel
from alphalab.reporting.metrics import write_metrics
from alphalab.reporting.provenance import provenance
from alphalab.stages.common import write_figure, write_latex_html, write_table
from alphalab.stats.alphas import AlphaInputError, factor_alphas_table
from alphalab.stats.inference import min_lags_for_horizon, newey_west
from alphalab.stats.performance import summarize

PERIODS_PER_YEAR = 252
MODELS: tuple[Literal["capm", "ff3", "carhart"], ...] = ("capm", "ff3", "carhart")


@dataclass
class BacktestRun:
    """What the backtest stage produced."""

    sort: SortResult
    returns: pd.DataFrame
    stats: pd.DataFrame
    alphas: pd.DataFrame
    quantile_means: pd.DataFrame
    ic: pd.DataFrame
    dimensions: pd.DataFrame
    dimension_corr: pd.DataFrame
    figures: dict[str, go.Figure]
    headline: str


def cost_model(params: config.BacktestParams) -> CostModel:
    """The engine's cost model for the ``backtest.costs`` params."""
    return as_cost_model(params.costs)


def run_sort(panel: Panel, params: config.BacktestParams) -> SortResult:
    """The engine call the ``backtest`` params describe (shared with robustness/walk-forward)."""
    if panel.score is None:
        raise ValueError("the panel has no score: run the panel stage with a signal")
    mask = None
    if params.rebalance == "availability":
        if panel.new_signal is None:
            raise ValueError("backtest.rebalance 'availability' needs signal availability dates")
        mask = panel.new_signal.any(axis=1)
    if params.weighting == "value" and panel.market_cap is None:
        raise ValueError("backtest.weighting 'value' needs market caps; the prices carry none")
    return sort_portfolios(
        panel.score,
        panel.ret,
        n_groups=params.n_groups,
        rebalance=params.rebalance,
        holding=params.holding,
        lag=params.lag,
        weighting=params.weighting,
        market_cap=panel.market_cap if params.weighting == "value" else None,
        direction=params.direction,
        min_names=params.min_names,
        costs=cost_model(params),
        delisting_return=params.delisting_return,
        rebalance_mask=mask,
    )


def live_window(sort: SortResult) -> pd.DataFrame:
    """Gross and net returns from the first session with holdings on (``_net`` suffix)."""
    gross = sort.returns
    live = gross.notna().any(axis=1)
    first = live.idxmax() if live.any() else gross.index[-1]
    net = sort.net.add_suffix("_net")
    return pd.concat([gross, net], axis=1).loc[first:]


def series_stats(
    returns: pd.DataFrame, sort: SortResult, rf: pd.Series
) -> dict[str, dict[str, Any]]:
    """``summarize`` per series: groups against rf, the zero-cost long-short against zero."""
    out = {}
    for col in returns.columns:
        base = col.removesuffix("_net")
        zero_cost = base == "long_short"
        turnover = sort.turnover[base].reindex(returns.index)
        out[col] = summarize(
            returns[col],
            periods_per_year=PERIODS_PER_YEAR,
            rf=None if zero_cost else rf.reindex(returns.index),
            turnover=turnover if not col.endswith("_net") else None,
        )
    return out


def _no_alpha(model: str, reason: str) -> dict[str, Any]:
    return {"series": None, "model": model, "alpha": np.nan, "t_alpha": np.nan, "reason": reason}


def alphas(returns: pd.DataFrame, factors: pd.DataFrame | None) -> pd.DataFrame:
    """Monthly factor alphas of every gross series under CAPM, FF3 and Carhart (where covered)."""
    if factors is None:
        return pd.DataFrame([_no_alpha(m, "no factors ingested") for m in MODELS])
    gross = returns[[c for c in returns.columns if not c.endswith("_net")]]
    rows = []
    for model in MODELS:
        try:
            table = factor_alphas_table(
                gross, factors.set_index("date"), model=model, excess={"long_short": False}
            )
        except AlphaInputError as exc:
            rows.append(pd.DataFrame([_no_alpha(model, f"not estimable: {exc}")]))
            continue
        rows.append(table.assign(reason="").rename_axis("series").reset_index())
    return pd.concat(rows, ignore_index=True)


def quantile_view(panel: Panel, params: config.BacktestParams) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Mean forward return per group and horizon (NW bands, ≥ h−1 lags) and the rank IC."""
    assert panel.score is not None
    qfr = quantile_forward_returns(
        panel.score,
        panel.close,
        n_groups=params.n_groups,
        horizons=tuple(params.horizons),
        lag=params.lag,
    )
    rows = []
    for h, block in qfr.groupby(level="horizon"):
        lags = max(min_lags_for_horizon(int(h)), 0)
        for g in block.columns:
            x = block[g].dropna()
            if len(x) <= lags + 2:
                continue
            nw = newey_west(x.to_numpy(), lags=lags)
            rows.append(
                {
                    "horizon": int(h),
                    "group": g,
                    "mean": nw.mean,
                    "se": nw.se,
                    "lo": nw.mean - 1.96 * nw.se,
                    "hi": nw.mean + 1.96 * nw.se,
                    "t_nw": nw.t,
                    "nw_lags": nw.lags,
                    "n_obs": len(x),
                }
            )
    ic = rank_ic(panel.score, panel.close, horizons=tuple(params.horizons))
    ic_long = (
        ic.rename_axis("date")
        .reset_index()
        .melt(id_vars="date", var_name="horizon", value_name="ic")
    )
    return pd.DataFrame(rows), ic_long.dropna()


def dimension_correlation(dimensions: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Average over dates of the cross-sectional Pearson correlation between dimensions.

    Uses the dates where at least three names have every dimension; each date weighs the same.
    """
    names = list(dimensions)
    if len(names) < 2:
        return pd.DataFrame(index=names, columns=names, dtype=float)
    x = np.stack([dimensions[n].to_numpy(dtype=float) for n in names], axis=-1)  # T × N × K
    ok = np.isfinite(x).all(axis=-1)
    n = ok.sum(axis=1)
    x = np.where(ok[..., None], x, 0.0)
    mean = x.sum(axis=1) / np.maximum(n, 1)[:, None]
    xc = np.where(ok[..., None], x - mean[:, None, :], 0.0)
    cov = np.einsum("tnk,tnl->tkl", xc, xc)
    sd = np.sqrt(np.einsum("tkk->tk", cov))
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = cov / (sd[:, :, None] * sd[:, None, :])
    use = (n >= 3) & np.isfinite(corr).all(axis=(1, 2))
    avg = corr[use].mean(axis=0) if use.any() else np.full((len(names), len(names)), np.nan)
    return pd.DataFrame(avg, index=names, columns=names)


def dimension_sorts(panel: Panel, params: config.BacktestParams, rf: pd.Series) -> pd.DataFrame:
    """Each dimension's own long-short (same engine and settings as the score), gross and net."""
    rows = {}
    for name, matrix in panel.dimensions.items():
        dim_panel = Panel(
            close=panel.close,
            close_filled=panel.close_filled,
            ret=panel.ret,
            score=matrix,
            new_signal=panel.new_signal,
            market_cap=panel.market_cap,
        )
        returns = live_window(run_sort(dim_panel, params))
        for col in ("long_short", "long_short_net"):
            stats = summarize(returns[col], periods_per_year=PERIODS_PER_YEAR)
            rows[f"{name}:{col}"] = {"dimension": name, "series": col, **stats}
    return pd.DataFrame.from_dict(rows, orient="index")


def _figures(returns: pd.DataFrame, qmeans: pd.DataFrame, ic: pd.DataFrame) -> dict[str, go.Figure]:
    gross = returns[[c for c in returns.columns if not c.endswith("_net")]].fillna(0.0)
    wealth = (1 + gross).cumprod()
    cum = go.Figure([go.Scatter(x=wealth.index, y=wealth[c], name=c, mode="lines") for c in wealth])
    cum.update_layout(
        title="Growth of $1 by signal group (gross, log scale)", yaxis_type="log", height=420
    )
    ls = wealth["long_short"]
    dd = go.Figure(go.Scatter(x=ls.index, y=ls / ls.cummax() - 1, fill="tozeroy", name="drawdown"))
    dd.update_layout(title="Long-short drawdown (gross)", yaxis_tickformat=".0%", height=300)
    bars = make_subplots(
        rows=1,
        cols=max(qmeans["horizon"].nunique(), 1) if len(qmeans) else 1,
        subplot_titles=[f"{h} sessions" for h in sorted(qmeans["horizon"].unique())]
        if len(qmeans)
        else None,
    )
    for i, (h, sub) in enumerate(qmeans.groupby("horizon")):
        sub = sub[sub["group"] != "long_short"]
        bars.add_trace(
            go.Bar(
                x=sub["group"],
                y=sub["mean"],
                name=f"h={h}",
                error_y=dict(type="data", array=1.96 * sub["se"]),
            ),
            row=1,
            col=i + 1,
        )
    bars.update_layout(
        title="Mean forward return by group (95% Newey–West bands)", height=380, showlegend=False
    )
    icfig = go.Figure()
    for h, sub in ic.groupby("horizon"):
        s = sub.set_index("date")["ic"].rolling(252, min_periods=60).mean()
        icfig.add_trace(go.Scatter(x=s.index, y=s, name=f"h={h}", mode="lines"))
    icfig.update_layout(title="Rank IC, 1-year rolling mean", height=320)
    return {"cumulative": cum, "drawdown": dd, "group_means": bars, "ic": icfig}


def run_backtest(
    panel: Panel,
    benchmark: pd.DataFrame,
    factors: pd.DataFrame | None,
    params: config.Params,
    paths: config.Paths,
) -> BacktestRun:
    """Run the sort the ``backtest`` params describe and write every artifact of the stage."""
    bp = params.backtest
    sort = run_sort(panel, bp)
    returns = live_window(sort)
    rf = benchmark.set_index("date")["rf"]
    stats = series_stats(returns, sort, rf)
    alpha_table = alphas(returns, factors)
    qmeans, ic = quantile_view(panel, bp)
    dims = dimension_sorts(panel, bp, rf)
    dim_corr = dimension_correlation(panel.dimensions)
    figs = _figures(returns, qmeans, ic)
    out = paths.reports / "backtest"
    write_table(returns.rename_axis("date"), out / "returns.parquet")
    write_table(sort.turnover.loc[returns.index].rename_axis("date"), out / "turnover.parquet")
    write_table(sort.counts.loc[returns.index].rename_axis("date"), out / "counts.parquet")
    write_table(alpha_table, out / "alphas.parquet")
    write_table(qmeans, out / "quantile_means.parquet")
    write_table(ic, out / "ic.parquet")
    write_table(dims.reset_index(drop=True), out / "dimensions.parquet")
    write_table(dim_corr.rename_axis("dimension"), out / "dimension_corr.parquet")
    for name, fig in figs.items():
        write_figure(fig, paths.reports / "figures" / f"backtest_{name}.html")
    stats_df = pd.DataFrame(stats).T
    write_latex_html(
        stats_df[["n_obs", "ann_return", "ann_vol", "sharpe", "t_nw", "max_drawdown", "turnover"]],
        paths.reports / "tables" / "backtest",
        caption="Portfolio sorts: performance by group",
    )
    series: dict[str, dict[str, Any]] = dict(stats)
    for h, sub in ic.groupby("horizon"):
        nw = newey_west(sub["ic"].to_numpy(), lags=max(min_lags_for_horizon(int(h)), 0))
        series[f"ic_h{h}"] = {"n_obs": len(sub), "mean": nw.mean, "t_nw": nw.t, "nw_lags": nw.lags}
    for row in dims.to_dict("records"):
        if row["series"] == "long_short":
            series[f"dim_{row['dimension']}"] = {
                k: v for k, v in row.items() if k not in ("dimension", "series")
            }
    for row in alpha_table.to_dict("records"):
        if row.get("reason"):
            continue
        series[f"alpha_{row['model']}_{row['series']}"] = {
            k: v
            for k, v in row.items()
            if k not in ("series", "model", "reason", "start", "end", "excess")
        }
    extra = frozenset(k for s in series.values() for k in s)
    window = [returns.index[0].date().isoformat(), returns.index[-1].date().isoformat()]
    conventions = {
        "periods_per_year": PERIODS_PER_YEAR,
        "sharpe": "arithmetic mean excess return / sd x sqrt(252); groups in excess of the daily rf "
        "(NaN where rf is unavailable is dropped), long-short (zero cost) raw",
        "timing": sort.conventions.get("timing"),
        "lag": bp.lag,
        "rebalance": bp.rebalance,
        "holding": bp.holding,
        "weighting": bp.weighting,
        "n_groups": bp.n_groups,
        "direction": bp.direction,
        "cost_model": sort.conventions.get("cost_model"),
        "delisting": sort.conventions.get("delisting_policy"),
        "sample_window": window,
        "t_nw": "Newey-West t of the mean raw return; quantile means use >= h-1 lags for horizon h",
        "alphas": "monthly, at the factors' frequency; overlap window per row in alphas.parquet",
        "skipped_rebalances": len(sort.skipped_dates),
        "delisting_events": sort.n_delisted,
    }
    write_metrics(
        "backtest",
        series,
        conventions,
        paths=paths,
        provenance=provenance(paths, params=params, stage="backtest"),
        extra_keys=extra,
    )
    ls = stats["long_short"]
    headline = (
        f"Long-short (top minus bottom of {bp.n_groups} groups, gross): annualized return "
        f"**{ls['ann_return']:.2%}**, Sharpe **{ls['sharpe']:.2f}**, Newey–West t **{ls['t_nw']:.2f}** "
        f"({ls['n_obs']} sessions, {window[0]} … {window[1]}); net of costs Sharpe "
        f"{stats['long_short_net']['sharpe']:.2f}."
    )
    return BacktestRun(
        sort, returns, stats_df, alpha_table, qmeans, ic, dims, dim_corr, figs, headline
    )
