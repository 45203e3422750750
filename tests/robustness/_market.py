"""A seeded synthetic market with a planted two-dimension signal (known answers).

Each month-end ``m`` publishes, per stock, two standardized dimensions: ``alpha`` (which
predicts the next month's returns with daily loading ``loading``) and ``noise`` (which does
not). The panel's score is their equal-weight composite. Returns of month ``m + 1`` are
``loading · alpha_m + vol · ε``. With ``loading = 0`` the market is pure noise.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from alphalab.config import DimensionSpec, SignalParams
from alphalab.panel import Panel
from alphalab.signals.price import composite_score

DIMS = ("alpha", "noise")


def signal_params(dims: tuple[str, ...] = DIMS) -> SignalParams:
    """Equal weights, positive signs for ``dims``."""
    return SignalParams(dimensions={d: DimensionSpec(weight=1.0, sign=1) for d in dims})


SIGNAL = signal_params()


def _zscore(x: np.ndarray) -> np.ndarray:
    return (x - x.mean(axis=1, keepdims=True)) / x.std(axis=1, ddof=1, keepdims=True)


def planted_panel(
    seed: int,
    *,
    n_stocks: int = 40,
    n_sessions: int = 756,
    loading: float = 0.001,
    vol: float = 0.02,
    dims: tuple[str, ...] = DIMS,
    market_cap: bool = False,
) -> Panel:
    """A :class:`~alphalab.panel.Panel` of the market above (composite signal, no market cap).

    ``dims`` names the published dimensions; only one named ``alpha`` (if any) predicts.
    ``market_cap`` adds caps = close × a fixed share count per stock.
    """
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2010-01-04", periods=n_sessions, name="date")
    tickers = pd.Index([f"S{i:03d}" for i in range(n_stocks)], dtype="str", name="ticker")
    month = dates.year * 12 + dates.month
    month_id = month - month[0]
    n_months = int(month_id[-1]) + 1
    values = {d: _zscore(rng.standard_normal((n_months, n_stocks))) for d in dims}
    prev = np.clip(month_id - 1, 0, None)
    alpha = values["alpha"][prev] if "alpha" in values else 0.0
    ret = loading * alpha + vol * rng.standard_normal((n_sessions, n_stocks))
    ret[month_id == 0] = vol * rng.standard_normal((int((month_id == 0).sum()), n_stocks))
    ret[0] = np.nan
    close = 100.0 * np.cumprod(1.0 + np.nan_to_num(ret), axis=0)
    month_end = np.r_[month[1:] != month[:-1], True]

    def carried(values: np.ndarray) -> pd.DataFrame:
        out = np.full((n_sessions, n_stocks), np.nan)
        out[month_end] = values[month_id[month_end]]
        return pd.DataFrame(out, index=dates, columns=tickers).ffill()

    frames = {d: carried(v) for d, v in values.items()}
    score = composite_score(frames, {d: 1.0 for d in dims}, {d: 1 for d in dims})
    new = pd.DataFrame(
        np.repeat(month_end[:, None], n_stocks, axis=1), index=dates, columns=tickers
    )
    wrap = lambda x: pd.DataFrame(x, index=dates, columns=tickers)  # noqa: E731
    return Panel(
        close=wrap(close),
        close_filled=wrap(np.zeros((n_sessions, n_stocks), dtype=bool)),
        ret=wrap(ret),
        score=score,
        new_signal=new,
        dimensions=frames,
        market_cap=wrap(close * rng.uniform(1e6, 1e8, n_stocks)) if market_cap else None,
        meta={"signal": "composite:monthly"},
    )
