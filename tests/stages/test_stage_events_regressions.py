"""Stage logic for events and regressions on a small panel: point in time, artifacts, metrics."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from alphalab import config
from alphalab.data.simulate import simulate_market
from alphalab.panel import build_panel
from alphalab.stages import events as ev
from alphalab.stages import regressions as rg


@pytest.fixture(scope="module")
def market():
    return simulate_market(
        n_stocks=40,
        n_sessions=700,
        seed=11,
        signal_loading=0.001,
        missing_rate=0.0,
        delisting_rate=0.0,
        start=pd.Timestamp("2005-01-03").date(),
    )


@pytest.fixture(scope="module")
def panel(market):
    sig = market.signal.assign(available_at=market.signal["event_date"])
    return build_panel(market.prices, sig)


def test_groups_use_only_scores_before_day_zero(panel) -> None:
    p = config.EventsParams(dates=[panel.dates[400].date()], estimation=(-250, -11))
    events = ev.build_events(panel, p)
    base = ev.groups_before(panel, events, 4)
    garbled = panel.score.copy()
    garbled.iloc[400:] = (
        np.random.default_rng(0)
        .permutation(garbled.iloc[400:].to_numpy().ravel())
        .reshape(garbled.iloc[400:].shape)
    )
    changed = type(panel)(**{**panel.__dict__, "score": garbled})
    pd.testing.assert_series_equal(base, ev.groups_before(changed, events, 4))
    assert set(base.dropna().unique()) == {1.0, 2.0, 3.0, 4.0}


def test_event_outside_panel_is_a_clear_error(panel) -> None:
    p = config.EventsParams(dates=[pd.Timestamp("1999-01-04").date()])
    with pytest.raises(ev.EventStudyError, match="outside the panel"):
        ev.build_events(panel, p)


def test_run_events_and_regressions_write_artifacts(panel, market, tmp_path: Path) -> None:
    paths = config.Paths(tmp_path)
    params = config.validate_params(
        {
            "events": {
                "dates": [str(panel.dates[450].date()), str(panel.dates[600].date())],
                "n_groups": 4,
            },
            "regressions": {"frequency": "monthly", "dimensions": False},
        }
    )
    run = ev.run_events(panel, market.benchmark, market.factors, params, paths)
    assert len(run.result.firms) == 80
    doc = json.loads((paths.metrics / "events.json").read_text())
    assert doc["car_all_0_0"]["n_obs"] == 80
    assert doc["conventions"]["n_events"] == 80
    for name in ("caar", "summary", "difference", "firms", "excluded", "calendar_time"):
        assert (paths.reports / "events" / f"{name}.parquet").is_file()
    html = (paths.reports / "figures" / "events_caar.html").read_text()
    assert '<script src="http' not in html and len(html) > 1_000_000  # plotly.js embedded

    reg = rg.run_regressions(panel, params, paths)
    doc = json.loads((paths.metrics / "regressions.json").read_text())
    fm = reg.coefficients.query("model == 'fama_macbeth' and term == 'score'").iloc[0]
    assert doc["fama_macbeth_score"]["coef"] == pytest.approx(fm["coef"], abs=0, rel=1e-12)
    # the planted signal (loading > 0) shows up with the right sign
    assert fm["coef"] > 0 and fm["t"] > 2
    assert (paths.reports / "tables" / "regressions.tex").read_text().count("score") >= 2
