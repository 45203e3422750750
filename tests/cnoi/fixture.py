"""FIXTURE generator for the CNOI study tests — synthetic data, NOT real banks or real scores.

Writes, into ``tests/fixtures/cnoi/`` (``python -m tests.cnoi.fixture``):

- ``cnoi_FIXTURE.csv``: a CNOI-format file (DESIGN.md §1) for 42 synthetic bank holding
  companies × 11 quarterly filings (FY2022 10-K … Q2-2025 10-Q): ``cik, accession, form,
  filing_date, acceptanceDateTime, issuer, ticker, CNOI, D … X, penalty_reasons,
  ixbrl_tagged``. CNOI = 0.2·(D+G+R) + 0.1·(J+T+S+X) exactly (rounded to 2 decimals from
  dimensions rounded to 1).
- ``company_tickers_FIXTURE.json``: the SEC ``company_tickers.json`` layout with the traps the
  showcase fell into: a preferred line listed *before* the common (``FXAB-PN``), a Nasdaq
  fifth-letter preferred (``FXACP``), preferred + warrant lines (``FXAD-PA``, ``FXAD-WS``), a
  bank listed only with its depositary shares (``FXAE-PB``; the reviewed override maps it to
  ``FXAE``), and two CIKs missing from the map (one whose file ticker is a preferred line).
- ``ticker_overrides_FIXTURE.csv``: the reviewed override for ``FXAE``.

Prices are not stored: :class:`FakeYahoo` is a ``yfinance.download`` stand-in that produces
them deterministically, with a **planted opacity effect**: each bank's daily return falls by
``KAPPA`` per unit of the cross-sectional z-score of its latest CNOI already public (filing
session strictly before the day), and on the SVB days (2023-03-09 … 03-13) more opaque banks
fall further. Every name, CIK (99xxxxx, outside the SEC's range) and number is synthetic.
"""

from __future__ import annotations

import datetime as dt
import json
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from alphalab.calendar import session_on_or_after, sessions
from alphalab.data.factors import french_csv_text

SEED = 20230310
N_BANKS = 42
N_MAPPED = 40
CIK0 = 9_900_001
KAPPA = 0.0004
SVB_DAYS = ("2023-03-09", "2023-03-10", "2023-03-13")
PERIOD_ENDS = pd.date_range("2022-12-31", "2025-06-30", freq="QE")
WEIGHTS = {"D": 0.2, "G": 0.2, "R": 0.2, "J": 0.1, "T": 0.1, "S": 0.1, "X": 0.1}
HERE = Path(__file__).resolve().parents[1] / "fixtures" / "cnoi"
FILES = {
    "cnoi": "cnoi_FIXTURE.csv",
    "sec": "company_tickers_FIXTURE.json",
    "overrides": "ticker_overrides_FIXTURE.csv",
    "factors": "factors_FIXTURE.CSV",
}
PENALTIES = (
    "no_rollforward_table",
    "vintage_disclosure_missing",
    "boilerplate_qualitative",
    "late_ixbrl",
)


def bank_ticker(i: int) -> str:
    """Synthetic common ticker of bank ``i`` (0-based): ``FXAA``, ``FXAB``, …"""
    return f"FX{chr(65 + i // 26)}{chr(65 + i % 26)}"


@dataclass(frozen=True)
class Fixture:
    """The FIXTURE tables: CNOI file, SEC map, overrides, and the truth behind them."""

    cnoi: pd.DataFrame
    sec: dict[str, dict[str, Any]]
    overrides: pd.DataFrame
    truth: pd.DataFrame  # cik, ticker (None = unmapped), theta, beta, vol


def _filing_date(rng: np.random.Generator, period_end: pd.Timestamp, annual: bool) -> pd.Timestamp:
    lag = int(rng.integers(40, 81)) if annual else int(rng.integers(30, 46))
    d = period_end + pd.Timedelta(days=lag)
    return d + pd.Timedelta(days={5: 2, 6: 1}.get(d.day_of_week, 0))  # weekend -> Monday


def _truth(rng: np.random.Generator) -> pd.DataFrame:
    ciks = CIK0 + np.arange(N_BANKS)
    tickers: list[str | None] = [bank_ticker(i) for i in range(N_MAPPED)] + [None, None]
    return pd.DataFrame(
        {
            "cik": ciks,
            "ticker": tickers,
            "theta": rng.standard_normal(N_BANKS),
            "beta": rng.uniform(0.8, 1.3, N_BANKS),
            "vol": rng.uniform(0.010, 0.016, N_BANKS),
        }
    )


def _dimensions(rng: np.random.Generator, theta: float) -> np.ndarray:
    load = np.array([0.9, 0.8, 0.85, 0.6, 0.7, 0.5, 0.6])
    own = rng.standard_normal(7)
    level = 25 + 9 * (load * theta + np.sqrt(1 - load**2) * own)
    noise = 2.0 * rng.standard_normal((len(PERIOD_ENDS), 7))
    return np.round(np.clip(level + noise, 0, 100), 1)


def _file_ticker(i: int, k: int, ticker: Any) -> str:
    if i == 1:
        return f"{ticker}-PN"  # the showcase's mistake: the preferred line in the file
    if i == N_BANKS - 1:
        return "FXZZ-PA"  # unmapped CIK whose only ticker is a preferred line
    if pd.isna(ticker) or k % 4 == 3:
        return ""
    return ticker


def _acceptance(rng: np.random.Generator, filed: pd.Timestamp) -> str:
    u = rng.uniform()
    if u < 0.35:
        return ""
    minutes = int(rng.integers(8 * 60, 17 * 60 + 25)) if u < 0.9 else 17 * 60 + 45
    return (filed + pd.Timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S")


def _cnoi_rows(rng: np.random.Generator, truth: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for i, bank in truth.iterrows():
        dims = _dimensions(rng, float(bank["theta"]))
        for k, pe in enumerate(PERIOD_ENDS):
            annual = pe.month == 12
            filed = _filing_date(rng, pe, annual)
            d = dict(zip(WEIGHTS, dims[k], strict=True))
            score = round(sum(WEIGHTS[n] * v for n, v in d.items()), 2)
            pens = [p for p in PENALTIES if rng.uniform() < 0.15]
            rows.append(
                {
                    "cik": int(bank["cik"]),
                    "accession": f"{int(bank['cik']):010d}-{filed.year % 100:02d}-{k + 1:06d}",
                    "form": "10-K" if annual else "10-Q",
                    "filing_date": filed.strftime("%Y-%m-%d"),
                    "acceptanceDateTime": _acceptance(rng, filed),
                    "issuer": f"FIXTURE BANCORP {int(i) + 1:02d} (synthetic)",
                    "ticker": _file_ticker(int(i), k, bank["ticker"]),
                    "CNOI": f"{score:.2f}",
                    **{n: f"{v:.1f}" for n, v in d.items()},
                    "penalty_reasons": "|".join(pens),
                    "ixbrl_tagged": "true" if rng.uniform() < 0.8 else "false",
                }
            )
    frame = pd.DataFrame(rows)
    order = rng.permutation(len(frame))  # files come in no particular order
    return frame.iloc[order].reset_index(drop=True)


def _sec_map(truth: pd.DataFrame) -> dict[str, dict[str, Any]]:
    lines: list[tuple[int, str, str]] = []
    for i, bank in truth.iterrows():
        t, cik = bank["ticker"], int(bank["cik"])
        title = f"FIXTURE BANCORP {int(i) + 1:02d} (synthetic)"
        if pd.isna(t):
            continue
        if i == 1:
            lines += [(cik, f"{t}-PN", title), (cik, t, title)]
        elif i == 2:
            lines += [(cik, f"{t}P", title), (cik, t, title)]
        elif i == 3:
            lines += [(cik, t, title), (cik, f"{t}-PA", title), (cik, f"{t}-WS", title)]
        elif i == 4:
            lines += [(cik, f"{t}-PB", title)]
        else:
            lines += [(cik, t, title)]
    lines.append((9_899_999, "FXOT", "FIXTURE OTHER CO (synthetic, not in the CNOI file)"))
    return {
        str(n): {"cik_str": c, "ticker": t, "title": title} for n, (c, t, title) in enumerate(lines)
    }


def build_fixture(seed: int = SEED) -> Fixture:
    """Build every FIXTURE table from ``seed`` (deterministic)."""
    rng = np.random.default_rng(seed)
    truth = _truth(rng)
    overrides = pd.DataFrame(
        {
            "cik": [CIK0 + 4],
            "ticker": [bank_ticker(4)],
            "reason": [
                "FIXTURE review: the SEC map lists only the Series B depositary shares FXAE-PB; "
                "the common stock trades as FXAE"
            ],
            "reviewed_by": ["fixture"],
            "reviewed_on": ["2025-01-15"],
        }
    )
    return Fixture(_cnoi_rows(rng, truth), _sec_map(truth), overrides, truth)


def write_fixture(folder: Path = HERE, seed: int = SEED) -> dict[str, Path]:
    """Write the FIXTURE files into ``folder``; return their paths."""
    fx = build_fixture(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {k: folder / v for k, v in FILES.items()}
    fx.cnoi.to_csv(paths["cnoi"], index=False, lineterminator="\n")
    paths["sec"].write_text(json.dumps(fx.sec, indent=1) + "\n")
    with paths["overrides"].open("w") as fh:
        fh.write("# FIXTURE (synthetic): reviewed CIK -> common-stock ticker overrides\n")
        fx.overrides.to_csv(fh, index=False, lineterminator="\n")
    paths["factors"].write_text(factors_text(fx, seed))
    return paths


def factors_text(fx: Fixture, seed: int = SEED) -> str:
    """FIXTURE monthly factors in Ken French's CSV layout: the fake market, synthetic SMB/HML, RF."""
    market = FakeYahoo(fx, seed=seed).market
    monthly = (1 + market).groupby(market.index.to_period("M")).prod() - 1
    rng = np.random.default_rng([seed, 1])
    rf = np.full(len(monthly), 0.0035)
    table = pd.DataFrame(
        {
            "date": monthly.index.to_timestamp(how="end").normalize(),
            "mkt_rf": monthly.to_numpy() - rf,
            "smb": 0.02 * rng.standard_normal(len(monthly)),
            "hml": 0.02 * rng.standard_normal(len(monthly)),
            "rf": rf,
        }
    )
    return french_csv_text(
        table, title="FIXTURE (synthetic) factors in the Fama-French CSV layout: NOT real data"
    )


# --------------------------------------------------------------------------------------------
# prices: a yfinance.download stand-in with the planted effect
# --------------------------------------------------------------------------------------------
def point_in_time_z(
    cnoi: pd.DataFrame, truth: pd.DataFrame, days: pd.DatetimeIndex
) -> pd.DataFrame:
    """Sessions × tickers: cross-sectional z-score of each bank's latest CNOI public *before* the day.

    A filing counts from the session after its filing-date session (NaN before the first).
    """
    tick = dict(zip(truth["cik"], truth["ticker"], strict=True))
    f = cnoi.assign(ticker=cnoi["cik"].map(tick)).dropna(subset=["ticker"])
    f = f.assign(session=session_on_or_after(pd.to_datetime(f["filing_date"])))
    f = f.sort_values(["session", "accession"])
    wide = f.pivot_table(index="session", columns="ticker", values="CNOI", aggfunc="last")
    wide = wide.astype(float).reindex(days.union(wide.index)).ffill().reindex(days)
    known = wide.shift(1)
    mu = known.mean(axis=1)
    sd = known.std(axis=1, ddof=0).replace(0.0, np.nan)
    return known.sub(mu, axis=0).div(sd, axis=0)


class FakeYahoo:
    """``yfinance.download`` stand-in (FIXTURE): deterministic prices with the planted effect.

    Returns the ``(Price, Ticker)`` MultiIndex frame ``yf.download(..., multi_level_index=True)``
    returns; unknown symbols are absent (as yfinance leaves them empty). ``calls`` records the
    keyword arguments of every call.
    """

    first = "2021-06-01"
    last = "2025-12-31"

    def __init__(
        self, fixture: Fixture | None = None, *, kappa: float = KAPPA, seed: int = SEED
    ) -> None:
        self.fx = fixture or build_fixture(seed)
        self.kappa = kappa
        self.seed = seed
        self.calls: list[dict[str, Any]] = []
        self.days = sessions(self.first, self.last)
        mrng = np.random.default_rng([seed, 0])
        self.market = pd.Series(0.0003 + 0.011 * mrng.standard_normal(len(self.days)), self.days)
        z = point_in_time_z(self.fx.cnoi.astype({"CNOI": float}), self.fx.truth, self.days)
        self.z = z.fillna(0.0)

    def returns(self, ticker: str) -> pd.Series | None:
        """Daily simple returns of one synthetic symbol over the whole span (None if unknown)."""
        if ticker == "^GSPC":
            return self.market
        truth = self.fx.truth.set_index("ticker", drop=False)
        if ticker not in truth.index:
            return None
        bank = truth.loc[ticker]
        rng = np.random.default_rng([self.seed, zlib.crc32(ticker.encode())])
        eps = float(bank["vol"]) * rng.standard_normal(len(self.days))
        r = 0.0002 + float(bank["beta"]) * self.market.to_numpy() + eps
        r -= self.kappa * self.z[ticker].to_numpy()
        svb = self.days.isin(pd.DatetimeIndex(SVB_DAYS))
        r[svb] += -0.02 - 0.015 * float(bank["theta"])
        return pd.Series(r, self.days)

    def __call__(self, **kwargs: Any) -> pd.DataFrame:
        self.calls.append(kwargs)
        tickers = kwargs["tickers"]
        tickers = [tickers] if isinstance(tickers, str) else list(tickers)
        start = pd.Timestamp(kwargs["start"])
        end = pd.Timestamp(kwargs["end"])  # exclusive, as yfinance
        parts = {}
        for t in tickers:
            r = self.returns(t)
            if r is None:
                continue
            level = (100.0 if t != "^GSPC" else 4000.0) * np.cumprod(1 + r)
            level = level[(level.index >= start) & (level.index < end)]
            parts[t] = level
        if not parts:
            return pd.DataFrame()
        close = pd.DataFrame(parts)
        close.index.name = "Date"
        opened = close.shift(1).fillna(close)
        fields = {
            "Close": close,
            "High": np.maximum(opened, close) * 1.005,
            "Low": np.minimum(opened, close) * 0.995,
            "Open": opened,
            "Volume": close * 0 + 1e6,
        }
        out = pd.concat(fields, axis=1, names=["Price", "Ticker"])
        return out


def expected_pre_event_banks(fixture: Fixture, event: str = "2023-03-10") -> int:
    """Mapped banks with a CNOI on the last session before ``event`` (filing-date session ≤ it).

    Computed from the FIXTURE itself, independently of the pipeline: a filing is on the panel
    from its filing-date session (acceptance after 17:30 ET moves it one session later).
    """
    f = fixture.cnoi.drop(columns="ticker").merge(fixture.truth[["cik", "ticker"]], on="cik")
    f = f[f["ticker"].notna()]
    filed = session_on_or_after(pd.to_datetime(f["filing_date"]))
    acc = pd.to_datetime(f["acceptanceDateTime"].replace("", None))
    late = (acc.dt.hour * 60 + acc.dt.minute > 17 * 60 + 30).fillna(False).to_numpy()
    days = sessions("2022-01-01", "2026-12-31")
    pos = days.get_indexer(filed)
    pos = pos + late.astype(int)
    day0 = days.get_indexer(session_on_or_after(pd.DatetimeIndex([pd.Timestamp(event)])))[0]
    return int(f.loc[pos <= day0 - 1, "ticker"].nunique())


if __name__ == "__main__":
    for name, path in write_fixture().items():
        print(f"{name}: {path}")
    print(f"generated {dt.date.today()}")
