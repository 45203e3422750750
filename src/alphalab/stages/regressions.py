"""The ``regressions`` stage: forward returns on the signal, panel OLS, Fama–MacBeth, horse race."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from alphalab import config
from alphalab.panel import Panel
from alphalab.regressions import fama_macbeth, forward_returns_panel, horse_race, panel_regression
from alphalab.reporting.metrics import write_metrics
from alphalab.reporting.provenance import provenance
from alphalab.stages.common import write_figure, write_latex_html, write_table


@dataclass
class RegressionsRun:
    """What the regressions stage produced."""

    data: pd.DataFrame
    coefficients: pd.DataFrame
    horse_race: pd.DataFrame
    figure: go.Figure
    headline: str


def periods_for(panel: Panel, frequency: str) -> Any:
    """Rebalancing dates: calendar period ends, or the sessions where new values arrived."""
    if frequency != "availability":
        return frequency
    if panel.new_signal is None:
        raise ValueError(
            "regressions.frequency 'availability' needs a signal with availability dates"
        )
    flags = panel.new_signal.any(axis=1)
    return list(panel.dates[flags.to_numpy()])


def regression_data(panel: Panel, params: config.Params) -> pd.DataFrame:
    """(ticker, date) frame of the score, its dimensions and the next period's return."""
    if panel.score is None:
        raise ValueError("the panel has no score: run the panel stage with a signal")
    scores = {"score": panel.score}
    if params.regressions.dimensions:
        scores.update(panel.dimensions)
    return forward_returns_panel(
        panel.ret,
        scores,
        periods=periods_for(panel, params.regressions.frequency),
        lag=params.backtest.lag,
    )


def _rows(model: str, table: pd.DataFrame, **info: Any) -> pd.DataFrame:
    out = table.reset_index().rename(columns={"index": "term", "variable": "term"})
    out.insert(0, "model", model)
    for k, v in info.items():
        out[k] = v
    return out


def run_regressions(panel: Panel, params: config.Params, paths: config.Paths) -> RegressionsRun:
    """Estimate every model the ``regressions`` params describe and write the artifacts."""
    rp = params.regressions
    data = regression_data(panel, params)
    controls = list(rp.controls)
    pooled = panel_regression(
        data,
        y="fwd_ret",
        x=["score"],
        controls=controls,
        entity_effects=rp.entity_effects,
        time_effects=rp.time_effects,
        cov=rp.cov,
        cluster_entity=rp.cluster_entity,
        cluster_time=rp.cluster_time,
        kernel_lags=rp.nw_lags,
    )
    fm = fama_macbeth(data, y="fwd_ret", x=["score"], controls=controls, nw_lags=rp.nw_lags)
    coefs = pd.concat(
        [
            _rows(
                "panel_ols",
                pooled.table,
                nobs=pooled.nobs,
                r2=pooled.r2,
                cov=pooled.cov,
                periods=pooled.periods,
                entities=pooled.entities,
            ),
            _rows(
                "fama_macbeth",
                fm.table,
                nobs=fm.nobs,
                r2=fm.avg_r2,
                cov=f"Newey-West, {fm.nw_lags} lags",
                periods=fm.periods,
                entities=np.nan,
            ),
        ],
        ignore_index=True,
    )
    dims = [d for d in panel.dimensions if d in data.columns] if rp.dimensions else []
    race = (
        horse_race(
            data,
            y="fwd_ret",
            dimensions=dims,
            controls=controls,
            method="fama_macbeth",
            nw_lags=rp.nw_lags,
        )
        if len(dims) >= 1
        else pd.DataFrame()
    )
    out = paths.reports / "regressions"
    write_table(data.reset_index(), out / "data.parquet")
    write_table(coefs, out / "coefficients.parquet")
    write_table(race, out / "horse_race.parquet")
    write_table(fm.slopes.reset_index(), out / "fm_slopes.parquet")
    write_latex_html(
        coefs.set_index(["model", "term"])[["coef", "se", "t", "p", "nobs", "r2"]],
        paths.reports / "tables" / "regressions",
        caption="Forward returns on the signal: panel OLS and Fama-MacBeth",
    )
    slopes = fm.slopes["score"] if "score" in fm.slopes else pd.Series(dtype=float)
    fig = go.Figure(go.Bar(x=slopes.index.astype(str), y=slopes.to_numpy(), name="slope on score"))
    fig.add_hline(
        y=float(fm.table.loc["score", "coef"]),
        line_dash="dash",
        annotation_text="Fama-MacBeth mean",
    )
    fig.update_layout(
        title="Cross-sectional slope on the signal per period",
        height=380,
        xaxis_title="period end",
        yaxis_title="slope",
    )
    write_figure(fig, paths.reports / "figures" / "regressions_fm_slopes.html")
    series = {
        "panel_ols_score": {
            "coef": pooled.table.loc["score", "coef"],
            "se": pooled.table.loc["score", "se"],
            "t": pooled.table.loc["score", "t"],
            "p": pooled.table.loc["score", "p"],
            "n_obs": pooled.nobs,
            "r2": pooled.r2,
        },
        "fama_macbeth_score": {
            "coef": fm.table.loc["score", "coef"],
            "se": fm.table.loc["score", "se"],
            "t": fm.table.loc["score", "t"],
            "p": fm.table.loc["score", "p"],
            "n_obs": fm.nobs,
            "n_periods": fm.periods,
            "r2": fm.avg_r2,
            "nw_lags": fm.nw_lags,
        },
    }
    conventions = {
        "frequency": rp.frequency,
        "y": "compounded return over the next period, starting lag sessions "
        "after the score's close",
        "lag": params.backtest.lag,
        "entity_effects": rp.entity_effects,
        "time_effects": rp.time_effects,
        "panel_cov": pooled.cov,
        "fm_se": f"Newey-West, {fm.nw_lags} lags",
        "controls": controls,
        "skipped_fm_periods": len(fm.skipped),
    }
    write_metrics(
        "regressions",
        series,
        conventions,
        paths=paths,
        provenance=provenance(paths, params=params, stage="regressions"),
        extra_keys=frozenset({"coef", "se", "t", "p", "r2", "n_periods"}),
    )
    b, t = fm.table.loc["score", "coef"], fm.table.loc["score", "t"]
    headline = (
        f"Fama–MacBeth slope on the score: **{b:.5f}** per unit (t = {t:.2f}, NW {fm.nw_lags} lags, "
        f"{fm.periods} periods); panel OLS: {pooled.table.loc['score', 'coef']:.5f} "
        f"(t = {pooled.table.loc['score', 't']:.2f}, {pooled.cov})."
    )
    return RegressionsRun(data, coefs, race, fig, headline)
