"""The ``events`` stage: events from params, groups known before day 0, the test battery."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from alphalab import config
from alphalab.backtest import assign_groups
from alphalab.calendar import session_on_or_after
from alphalab.events import EventStudyError, EventStudyResult, calendar_time_alpha, event_study
from alphalab.panel import Panel
from alphalab.reporting.metrics import write_metrics
from alphalab.reporting.provenance import provenance
from alphalab.stages.common import write_figure, write_table


@dataclass
class EventsRun:
    """What the events stage produced."""

    result: EventStudyResult
    event_table: pd.DataFrame
    calendar_time: pd.DataFrame
    figure: go.Figure
    headline: str


def build_events(panel: Panel, params: config.EventsParams) -> pd.DataFrame:
    """Events as ``ticker, event_date, event_session``.

    Common dates: every ticker with a return on the event session. Per-firm: every session on
    which a new signal value became available for the ticker (e.g. a filing).
    """
    dates = panel.dates
    if params.per_firm:
        if panel.new_signal is None:
            raise EventStudyError(
                "events.per_firm: the panel has no signal availability to take events from"
            )
        rows, cols = np.nonzero(panel.new_signal.to_numpy())
        return pd.DataFrame(
            {
                "ticker": panel.tickers[cols].astype(str),
                "event_date": dates[rows],
                "event_session": dates[rows],
            }
        )
    out = []
    for d in params.dates:
        session = pd.Timestamp(session_on_or_after(pd.DatetimeIndex([pd.Timestamp(d)]))[0])
        if session not in dates:
            raise EventStudyError(
                f"events.dates: {d} (session {session.date()}) is outside the panel "
                f"{dates[0].date()} … {dates[-1].date()}"
            )
        row = panel.ret.loc[session]
        for t in row.index[row.notna()]:
            out.append({"ticker": str(t), "event_date": pd.Timestamp(d), "event_session": session})
    return pd.DataFrame(out)


def groups_before(panel: Panel, events: pd.DataFrame, n_groups: int) -> pd.Series:
    """Signal quantile of each event's firm on the last session **before** day 0 (1 = lowest).

    The score on row ``s − 1`` is known at that close, strictly before the event session ``s``;
    the quantile is taken across every ticker with a score on that row.
    """
    if panel.score is None:
        return pd.Series(np.nan, index=events.index)
    labels = assign_groups(panel.score.shift(1).to_numpy(), n_groups)
    row = panel.dates.get_indexer(pd.DatetimeIndex(events["event_session"]))
    col = panel.tickers.get_indexer(events["ticker"])
    return pd.Series(labels[row, col], index=events.index, name="group")


def _figure(path: pd.DataFrame, window: str) -> go.Figure:
    fig = go.Figure()
    for g, sub in path.groupby("group", sort=False):
        name = f"group {g}" if g != "all" else "all firms"
        fig.add_trace(go.Scatter(x=sub["day"], y=sub["caar"], mode="lines+markers", name=name))
        fig.add_trace(
            go.Scatter(
                x=list(sub["day"]) + list(sub["day"])[::-1],
                y=list(sub["upper"]) + list(sub["lower"])[::-1],
                fill="toself",
                opacity=0.12,
                line=dict(width=0),
                showlegend=False,
                hoverinfo="skip",
                name=f"{name} band",
            )
        )
    fig.update_layout(
        title=f"CAAR by signal group (event window {window})",
        xaxis_title="event day",
        yaxis_title="cumulative average abnormal return",
        height=420,
    )
    fig.add_hline(y=0, line_width=1, line_color="grey")
    return fig


def _calendar_time(
    panel: Panel, events: pd.DataFrame, factors: pd.DataFrame | None, params: config.EventsParams
) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    if factors is None:
        return pd.DataFrame([{"portfolio": "all", "reason": "no factors ingested"}])
    fac = factors.set_index("date")
    for label, sub in [("all", events), *[(f"g{int(g)}", s) for g, s in events.groupby("group")]]:
        try:
            ct = calendar_time_alpha(
                panel.ret,
                sub[["ticker", "event_date"]],
                fac,
                horizon_months=params.calendar_time.horizon_months,
                model=params.calendar_time.model,
            )
        except (EventStudyError, ValueError) as exc:
            rows.append({"portfolio": label, "reason": f"not estimable: {exc}"})
            continue
        rows.append(
            {
                "portfolio": label,
                "model": ct.model,
                "alpha": ct.alpha,
                "t_alpha": ct.t_alpha,
                "p_alpha": ct.p_alpha,
                "n_months": ct.n_months,
                "empty_months": len(ct.empty_months),
                "nw_lags": ct.nw_lags,
                "reason": "",
            }
        )
    return pd.DataFrame(rows)


def run_events(
    panel: Panel,
    benchmark: pd.DataFrame,
    factors: pd.DataFrame | None,
    params: config.Params,
    paths: config.Paths,
) -> EventsRun:
    """Run the event study the ``events`` params describe and write its artifacts."""
    ep = params.events
    events = build_events(panel, ep)
    events["group"] = groups_before(panel, events, ep.n_groups).to_numpy()
    market = benchmark.set_index("date")["ret"].reindex(panel.dates)
    if ep.model == "ff3":
        raise EventStudyError(
            "events.model 'ff3' needs daily factors; the ingested factors are monthly"
        )
    result = event_study(
        panel.ret,
        events[["ticker", "event_date", "group"]],
        market=market,
        model=ep.model,
        estimation_window=ep.estimation,
        event_windows=list(ep.windows),
        min_estimation_obs=ep.min_estimation_obs,
        group_col="group",
        estimation_end=ep.estimation_end,
    )
    ct = _calendar_time(panel, events, factors, ep)
    out = paths.reports / "events"
    write_table(result.path, out / "caar.parquet")
    write_table(result.summary, out / "summary.parquet")
    write_table(result.difference, out / "difference.parquet")
    write_table(result.firms, out / "firms.parquet")
    write_table(result.excluded, out / "excluded.parquet")
    write_table(ct, out / "calendar_time.parquet")
    window = result.summary["window"].iloc[-1] if len(result.summary) else ""
    fig = _figure(result.path, window)
    write_figure(fig, paths.reports / "figures" / "events_caar.html")
    series = result.metrics()
    for row in ct.to_dict("records"):
        if row.get("reason") == "" and "alpha" in row:
            series[f"calendar_time_{row['portfolio']}"] = {
                "alpha": row["alpha"],
                "t_alpha": row["t_alpha"],
                "n_obs": row["n_months"],
                "nw_lags": row["nw_lags"],
            }
    extra = frozenset(k for stats in series.values() for k in stats)
    conventions = {
        "model": ep.model,
        "estimation_window": list(ep.estimation),
        "estimation_end": str(ep.estimation_end) if ep.estimation_end else None,
        "event_windows": [list(w) for w in ep.windows],
        "min_estimation_obs": ep.min_estimation_obs,
        "events": "per firm (signal availability)" if ep.per_firm else [str(d) for d in ep.dates],
        "grouping": f"{ep.n_groups} quantiles of the score on the last session before day 0 (1 = lowest)",
        "clustered_dates_test": "kp_t (Kolari & Pynnönen 2010) on SCARs",
        "multi_day": "SCAR = CAR / prediction-error sd (Campbell, Lo & MacKinlay ch. 4)",
        "n_events": len(events),
        "n_with_signal_before_event": int(events["group"].notna().sum()),
        "n_usable": len(result.firms),
        "n_excluded": len(result.excluded),
    }
    write_metrics(
        "events",
        series,
        conventions,
        paths=paths,
        provenance=provenance(paths, params=params, stage="events"),
        extra_keys=extra,
    )
    allrow = result.summary[result.summary["group"].astype(str) == "all"]
    first = allrow.iloc[0] if len(allrow) else None
    with_signal = int(events["group"].notna().sum())
    headline = (
        f"**{len(result.firms)} usable events** ({len(result.excluded)} excluded) over "
        f"{len(ep.dates) if not ep.per_firm else 'per-firm'} event dates; {with_signal} of {len(events)} "
        "events had a signal value available before day 0 (the others count in 'all' only); "
        + (
            f"CAAR[{first['window']}] = {first['caar']:.4f} (KP t = {first['kp_t']:.2f})."
            if first is not None
            else "no usable events."
        )
    )
    return EventsRun(result, events, ct, fig, headline)
