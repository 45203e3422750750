"""Point in time, proven by perturbation.

For random cutoffs (hypothesis), every input dated after the cutoff is garbled — later prices
rescaled, deleted and joined by new tickers; later filings (acceptance after the cutoff
session's 17:30, or a later filing date) shuffled, deleted and added, including new tickers
and after-hours filings on the cutoff day itself — and every panel value dated on or before
the cutoff must be *exactly* (bit for bit) unchanged: close, close_filled, ret, market_cap,
score, each dimension, new_signal. The same check catches a deliberately leaky dimension
(``close.shift(-1)``), so it is not vacuous. Tolerance: none (exact equality).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from alphalab.panel import Panel, build_panel, panel_from_prices
from alphalab.signals import PRICE_DIMENSIONS, normalize_file_signal
from tests.signals._synth_market import CNOI_DIMS, filings, grid, long_prices, wide_prices

N = 400
DATES = grid(N)
CUTOFF = dt.time(17, 30)
NEW_TICKERS = ["A00", "T035", "ZZZ"]  # sort before, between and after the existing names


def mismatches(a: Panel, b: Panel, cutoff: pd.Timestamp) -> list[str]:
    """Where panel ``b`` differs from ``a`` on or before ``cutoff`` (names of ``b`` new to ``a``
    must be empty there)."""
    fa, fb = a.fields(), b.fields()
    if fa.keys() != fb.keys():
        return [f"fields differ: {sorted(fa)} vs {sorted(fb)}"]
    out = []
    for name, x_all in fa.items():
        x, y = x_all.loc[:cutoff], fb[name].loc[:cutoff]
        if not x.index.equals(y.index):
            out.append(f"{name}: dates differ")
            continue
        missing = x.columns.difference(y.columns)
        if len(missing):
            out.append(f"{name}: tickers {list(missing)} vanished")
            continue
        xv, yv = x.to_numpy(), y[x.columns].to_numpy()
        floaty = xv.dtype.kind == "f"
        if not np.array_equal(xv, yv, equal_nan=floaty):
            bad = np.argwhere(~((xv == yv) | (np.isnan(xv) & np.isnan(yv)) if floaty else xv == yv))
            t, j = bad[0]
            out.append(f"{name}: {x.index[t].date()} {x.columns[j]}: {xv[t, j]!r} → {yv[t, j]!r}")
        extra = y[y.columns.difference(x.columns)].to_numpy()
        if extra.size and (np.isfinite(extra).any() if floaty else extra.any()):
            out.append(f"{name}: new tickers have values before the cutoff")
    return out


# -- garbling ---------------------------------------------------------------------------------
def garble_prices(
    prices: pd.DataFrame, cutoff: pd.Timestamp, rng: np.random.Generator
) -> pd.DataFrame:
    pre = prices[prices["date"] <= cutoff]
    post = prices[prices["date"] > cutoff].copy()
    scale = rng.uniform(0.5, 2.0, len(post))
    post["close"] *= scale
    post["market_cap"] *= rng.uniform(0.5, 2.0, len(post))
    post = post[rng.random(len(post)) > 0.15]
    later = DATES[DATES > cutoff]
    new = pd.DataFrame({
        "ticker": np.repeat(NEW_TICKERS, len(later)),
        "date": np.tile(later, len(NEW_TICKERS)),
        "close": rng.uniform(5, 500, len(later) * len(NEW_TICKERS)),
        "market_cap": rng.uniform(1e8, 1e9, len(later) * len(NEW_TICKERS)),
    })  # fmt: skip
    out = pd.concat([pre, post, new], ignore_index=True)
    return out.iloc[rng.permutation(len(out))].reset_index(drop=True)  # row order is irrelevant


def after_cutoff(raw: pd.DataFrame, cutoff: pd.Timestamp) -> np.ndarray:
    """Rows whose information arrives after the cutoff session's after-hours cutoff."""
    limit = cutoff + pd.Timedelta(hours=CUTOFF.hour, minutes=CUTOFF.minute)
    acc = raw["accepted_at"]
    return np.where(acc.notna(), acc > limit, raw["filing_date"] > cutoff)


def garble_filings(
    raw: pd.DataFrame, cutoff: pd.Timestamp, rng: np.random.Generator
) -> pd.DataFrame:
    late = after_cutoff(raw, cutoff)
    pre, post = raw[~late], raw[late].copy()
    cols = ["CNOI", *CNOI_DIMS]
    post[cols] = post[cols].to_numpy()[rng.permutation(len(post))]
    post = post[rng.random(len(post)) > 0.3]
    k = 12
    day = cutoff + pd.to_timedelta(rng.integers(0, 40, k), unit="D")
    added = pd.DataFrame({
        "cik": rng.integers(1000, 1012, k),
        "ticker": rng.choice(["T01", "T03", "T05", *NEW_TICKERS], k),
        "filing_date": day,
        "accepted_at": day + pd.Timedelta(hours=19),  # after hours: even on the cutoff day
        "CNOI": rng.uniform(0, 100, k),
    })  # fmt: skip
    for d in CNOI_DIMS:
        added[d] = rng.uniform(0, 100, k)
    post = pd.concat([post, added], ignore_index=True)
    return pd.concat([pre, post.iloc[rng.permutation(len(post))]], ignore_index=True)


# -- pipelines under test ---------------------------------------------------------------------
def composite_panel(
    prices: pd.DataFrame, frequency: str, registry: dict | None = None, dims: dict | None = None
) -> Panel:
    return panel_from_prices(prices, dimensions=dims, frequency=frequency, registry=registry)  # type: ignore[arg-type]


def file_panel(prices: pd.DataFrame, raw: pd.DataFrame) -> Panel:
    sig = normalize_file_signal(raw, score="CNOI", dimensions=CNOI_DIMS)
    return build_panel(prices, sig.table, dimensions=CNOI_DIMS, max_age_sessions=60)


@st.composite
def scenario(draw: st.DrawFn) -> tuple[int, pd.Timestamp]:
    seed = draw(st.integers(0, 2**16))
    cut = draw(st.integers(255, N - 5))  # once every built-in dimension can exist
    return seed, DATES[cut]


@settings(max_examples=12, deadline=None)
@given(case=scenario(), frequency=st.sampled_from(["daily", "weekly", "monthly"]))
def test_composite_panel_is_point_in_time(case: tuple[int, pd.Timestamp], frequency: str) -> None:
    seed, cutoff = case
    prices = long_prices(wide_prices(seed, n_sessions=N), seed=seed)
    garbled = garble_prices(prices, cutoff, np.random.default_rng(seed + 1))
    base = composite_panel(prices, frequency)
    assert base.score.loc[:cutoff].notna().any().any()  # the check has something to compare
    assert mismatches(base, composite_panel(garbled, frequency), cutoff) == []
    truncated = prices[prices["date"] <= cutoff]
    assert mismatches(base, composite_panel(truncated, frequency), cutoff) == []


@settings(max_examples=12, deadline=None)
@given(case=scenario())
def test_file_signal_panel_is_point_in_time(case: tuple[int, pd.Timestamp]) -> None:
    seed, cutoff = case
    prices = long_prices(wide_prices(seed, n_sessions=N), seed=seed)
    raw = filings(seed, [f"T{i:02d}" for i in range(8)], n=150, n_sessions=N)
    rng = np.random.default_rng(seed + 2)
    base = file_panel(prices, raw)
    assert base.new_signal.loc[:cutoff].any().any()
    garbled = file_panel(garble_prices(prices, cutoff, rng), garble_filings(raw, cutoff, rng))
    assert mismatches(base, garbled, cutoff) == []
    truncated = file_panel(prices[prices["date"] <= cutoff], raw[~after_cutoff(raw, cutoff)])
    assert mismatches(base, truncated, cutoff) == []


@settings(max_examples=10, deadline=None)
@given(case=scenario())
def test_after_hours_value_never_shows_before_its_session(case: tuple[int, pd.Timestamp]) -> None:
    seed, cutoff = case
    prices = long_prices(wide_prices(seed, n_sessions=N), seed=seed)
    raw = filings(seed, [f"T{i:02d}" for i in range(8)], n=80, n_sessions=N)
    sentinel = pd.DataFrame({
        "cik": [4242], "ticker": ["T03"], "filing_date": [cutoff],
        "accepted_at": [cutoff + pd.Timedelta(hours=17, minutes=31)], "CNOI": [1e6],
    })  # fmt: skip
    for d in CNOI_DIMS:
        sentinel[d] = -1e6
    nxt = DATES[DATES.get_loc(cutoff) + 1]
    rival = (raw["ticker"] == "T03") & raw["filing_date"].between(cutoff, nxt)
    panel = file_panel(prices, pd.concat([raw[~rival], sentinel], ignore_index=True))
    assert not (panel.score.loc[:cutoff] == 1e6).any().any()
    assert not (panel.dimensions["D"].loc[:cutoff] == -1e6).any().any()
    if np.isfinite(panel.close.at[nxt, "T03"]):  # shown from the next session when tradable
        assert panel.score.at[nxt, "T03"] == 1e6 and panel.new_signal.at[nxt, "T03"]


@settings(max_examples=8, deadline=None)
@given(case=scenario())
def test_the_check_detects_a_leaky_dimension(case: tuple[int, pd.Timestamp]) -> None:
    seed, cutoff = case
    registry = {**PRICE_DIMENSIONS, "leak": lambda c: c.shift(-1) / c - 1.0}
    dims = {"mom_12_1": (0.5, 1), "leak": (0.5, 1)}
    prices = long_prices(wide_prices(seed, n_sessions=N), seed=seed)
    garbled = garble_prices(prices, cutoff, np.random.default_rng(seed + 1))
    base = composite_panel(prices, "daily", registry, dims)
    found = mismatches(base, composite_panel(garbled, "daily", registry, dims), cutoff)
    assert any(m.startswith("leak") for m in found) and any(m.startswith("score") for m in found)
