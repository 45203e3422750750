"""FIXTURE artifacts: a small, synthetic project root shaped like the pipeline's outputs.

Nothing here is a result. The numbers are seeded random draws (the study is named
``FIXTURE``) written in the shapes the stages use (DESIGN.md §5 and the dashboard module
docstring), so the dashboard, the static reports and the browser test can be checked without
running the pipeline. Metrics documents go through the real writer
(:func:`alphalab.reporting.metrics.write_metrics`) and carry a real provenance block.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from alphalab import config
from alphalab.io import atomic_write_json, atomic_write_parquet, atomic_write_text, sha256_file
from alphalab.reporting.metrics import write_metrics
from alphalab.reporting.provenance import provenance

REPO = Path(__file__).resolve().parents[2]
ALL_STAGES = (
    "ingest",
    "validate",
    "panel",
    "backtest",
    "events",
    "regressions",
    "robustness",
    "walkforward",
)
PERIODS = 252
CONVENTIONS = {
    "periods_per_year": PERIODS,
    "sharpe": "FIXTURE: mean/sd × sqrt(252), arithmetic",
    "lag": "FIXTURE: 1 session",
    "costs": {"model": "FIXTURE", "bps": 10},
    "sample": "FIXTURE",
}


def _series_stats(r: np.ndarray) -> dict[str, float]:
    r = r[np.isfinite(r)]
    mean, sd = float(r.mean()), float(r.std(ddof=1))
    growth = np.cumprod(1 + r)
    dd = float((growth / np.maximum.accumulate(growth) - 1).min())
    return {
        "n_obs": float(len(r)),
        "mean": mean,
        "ann_return": mean * PERIODS,
        "ann_vol": sd * np.sqrt(PERIODS),
        "sharpe": mean / sd * np.sqrt(PERIODS),
        "t_nw": mean / sd * np.sqrt(len(r)),
        "nw_lags": 5.0,
        "max_drawdown": dd,
        "hit_rate": float((r > 0).mean()),
    }


def write_fixture_artifacts(
    root: Path, *, seed: int = 0, n_groups: int = 5, stages: Iterable[str] = ALL_STAGES
) -> Path:
    """Write FIXTURE artifacts of ``stages`` under ``root`` (a scratch project root)."""
    stages = set(stages)
    unknown = stages - set(ALL_STAGES)
    if unknown:
        raise ValueError(f"unknown fixture stages {sorted(unknown)}")
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy2(REPO / "params.yaml", root / "params.yaml")
    paths = config.Paths(root)
    rng = np.random.default_rng(seed)
    if "ingest" in stages:
        _ingest(paths, rng)
    if "validate" in stages:
        _validate(paths)
    if "panel" in stages:
        _panel(paths)
    writers = {
        "backtest": _backtest,
        "events": _events,
        "regressions": _regressions,
        "robustness": _robustness,
        "walkforward": _walkforward,
    }
    for stage, writer in writers.items():
        if stage in stages:
            writer(paths, rng, n_groups)
    return root


def _ingest(paths: config.Paths, rng: np.random.Generator) -> None:
    dates = pd.bdate_range("2015-01-01", periods=400)
    prices = pd.DataFrame(
        {
            "date": np.repeat(dates, 4),
            "ticker": np.tile(["AAA", "BBB", "CCC", "DDD"], 400),
            "close": 100 * np.exp(rng.normal(0, 0.01, 1600).cumsum()),
        }
    )
    f = atomic_write_parquet(prices, paths.raw / "prices.parquet")
    atomic_write_json(
        {
            "created_at": "2026-01-02T03:04:05+00:00",
            "study": "FIXTURE",
            "source": {"source": "FIXTURE"},
            "tables": {
                "prices": {
                    "path": "data/raw/prices.parquet",
                    "sha256": sha256_file(f),
                    "rows": 1600,
                    "n_tickers": 4,
                    "source": "FIXTURE",
                    "dates": {
                        "column": "date",
                        "first": "2015-01-01",
                        "last": str(dates[-1].date()),
                    },
                    "columns": {"date": "datetime64[ns]", "ticker": "str", "close": "float64"},
                }
            },
            "coverage": [
                {
                    "table": "prices",
                    "rows": 1600,
                    "tickers": 4,
                    "first": "2015-01-01",
                    "last": str(dates[-1].date()),
                }
            ],
            "overlap": {"ff3": {"first_month": "2015-01-31", "last_month": "2016-06-30"}},
            "packages": {"pandas": pd.__version__},
        },
        paths.manifest,
    )


def _validate(paths: config.Paths) -> None:
    folder = paths.reports / "validation"
    counts = {"rows_in": 1600, "accepted": 1590, "quarantined": 7, "deduplicated": 3, "rejected": 0}
    atomic_write_json(
        {
            "input": "prices",
            "source": "data/raw/prices.parquet",
            "outcome": "quarantine",
            "counts": counts,
            "checked": ["non_positive_price", "stale_run"],
            "findings": [
                {
                    "rule": "non_positive_price",
                    "action": "quarantine",
                    "column": "close",
                    "count": 7,
                    "message": "FIXTURE close <= 0",
                    "examples": ["data/raw/prices.parquet:12:close: '0': FIXTURE"],
                }
            ],
            "great_expectations": {"suite": "prices", "success": True, "failed": []},
        },
        folder / "prices.json",
    )
    atomic_write_json(
        {
            "created_at": "2026-01-02T03:05:00+00:00",
            "failed": False,
            "inputs": {
                "prices": {
                    "outcome": "quarantine",
                    "source": "data/raw/prices.parquet",
                    "great_expectations": True,
                    **counts,
                }
            },
        },
        folder / "summary.json",
    )
    atomic_write_text("# Input validation\n\nFIXTURE summary.\n", folder / "summary.md")
    atomic_write_json(
        {
            "created_at": "2026-01-02T03:05:00+00:00",
            "stage": "validate",
            "tables": {
                "prices": {
                    "sha256": "ab" * 32,
                    "rows": 1590,
                    **counts,
                    "quarantine_reasons": {"non_positive_price": 7},
                }
            },
        },
        paths.interim / "manifest.json",
    )


def _panel(paths: config.Paths) -> None:
    atomic_write_json(
        {
            "first": "2015-01-01",
            "last": "2016-07-15",
            "counts": {"price_rows": 1600, "signal_rows": 76},
            "summary": [
                {
                    "field": "close",
                    "cells": 1600,
                    "share": 1.0,
                    "names_per_date": 4.0,
                    "first": "2015-01-01T00:00:00",
                    "last": "2016-07-15T00:00:00",
                }
            ],
        },
        paths.processed / "panel_summary.json",
    )


def _metrics(paths: config.Paths, stage: str, series: dict, **extra: object) -> None:
    write_metrics(
        stage, series, CONVENTIONS, paths=paths, provenance=provenance(paths, stage=stage), **extra
    )


def _backtest(paths: config.Paths, rng: np.random.Generator, n_groups: int) -> None:
    dates = pd.bdate_range("2015-01-01", periods=400, name="date")
    groups = [f"g{i}" for i in range(1, n_groups + 1)]
    r = rng.normal(0.0003, 0.01, (400, n_groups)) + np.linspace(-0.0004, 0.0004, n_groups)
    ret = pd.DataFrame(r, index=dates, columns=groups)
    ret["long_short"] = ret[groups[-1]] - ret[groups[0]]
    for c in [*groups, "long_short"]:
        ret[f"{c}_net"] = ret[c] - 0.0001
    ret.iloc[:3] = np.nan  # before the first rebalance
    atomic_write_parquet(ret, paths.reports / "backtest" / "returns.parquet")
    series = {c: _series_stats(ret[c].to_numpy()) for c in ret.columns}
    series["ic_h1"] = {"n_obs": 400.0, "mean": 0.021, "t_nw": 1.7, "nw_lags": 0.0}
    series["ic_h21"] = {"n_obs": 380.0, "mean": 0.034, "t_nw": 2.2, "nw_lags": 20.0}
    _metrics(paths, "backtest", series)
    rows = []
    for h in (1, 21):
        for i, g in enumerate(groups):
            m = (i - n_groups / 2) * 0.0002 * h
            rows.append(
                {
                    "horizon": h,
                    "group": g,
                    "mean": m,
                    "se": 0.0003 * h,
                    "lo": m - 0.0006 * h,
                    "hi": m + 0.0006 * h,
                }
            )
    atomic_write_parquet(pd.DataFrame(rows), paths.reports / "backtest" / "quantile_means.parquet")
    ic = pd.DataFrame(
        {
            "date": np.tile(dates, 2),
            "horizon": np.repeat([1, 21], 400),
            "ic": rng.normal(0.02, 0.2, 800),
        }
    )
    atomic_write_parquet(ic, paths.reports / "backtest" / "ic.parquet")
    alphas = pd.DataFrame(
        {
            "series": ["long_short", "long_short", "g1"],
            "model": ["ff3", "carhart", "ff3"],
            "alpha": [0.004, 0.0035, -0.001],
            "t_alpha": [2.1, 1.8, -0.6],
            "beta_mkt_rf": [0.05, 0.04, 1.0],
            "n_obs": [18, 18, 18],
            "first": ["2015-01-31"] * 3,
            "last": ["2016-06-30"] * 3,
        }
    )
    atomic_write_parquet(alphas, paths.reports / "backtest" / "alphas.parquet")


EVENT_WINDOWS = ("m1_p1", "0_p5")
EVENT_TESTS = (
    "t_cs",
    "p_cs",
    "patell_z",
    "p_patell",
    "bmp_t",
    "p_bmp",
    "kp_t",
    "p_kp",
    "corrado_t",
    "p_corrado",
    "gsign_z",
    "p_gsign",
)


def _events(paths: config.Paths, rng: np.random.Generator, n_groups: int) -> None:
    """Shapes of the events stage: a CAAR path per group over event days (no window column),
    tests per window and group, top-minus-bottom differences, per-firm CARs per window."""
    groups = ["all", *[str(i) for i in range(1, n_groups + 1)]]
    rows = []
    for g in groups:
        aar = rng.normal(-0.002, 0.004, 12)
        for day, a, c in zip(range(-1, 11), aar, np.cumsum(aar), strict=True):
            rows.append(
                {
                    "group": g,
                    "day": day,
                    "n": 30,
                    "aar": a,
                    "caar": c,
                    "se": 0.005,
                    "lower": c - 0.01,
                    "upper": c + 0.01,
                }
            )
    atomic_write_parquet(pd.DataFrame(rows), paths.reports / "events" / "caar.parquet")
    summ = pd.DataFrame(
        [
            {
                "group": g,
                "window": w,
                "n": 30,
                "n_missing": 0,
                "caar": float(rng.normal(-0.01, 0.01)),
                **{
                    t: float(rng.uniform(0, 1) if t.startswith("p_") else rng.normal(-1, 1))
                    for t in EVENT_TESTS
                },
            }
            for w in EVENT_WINDOWS
            for g in groups
        ]
    )
    atomic_write_parquet(summ, paths.reports / "events" / "summary.parquet")
    diff = pd.DataFrame(
        [
            {
                "window": w,
                "top": float(n_groups),
                "bottom": 1.0,
                "n_top": 6,
                "n_bottom": 6,
                "diff_car": float(rng.normal(0, 0.02)),
                "welch_t": float(rng.normal(0, 1)),
                "p_welch": 0.3,
            }
            for w in EVENT_WINDOWS
        ]
    )
    atomic_write_parquet(diff, paths.reports / "events" / "difference.parquet")
    firms = pd.DataFrame(
        {
            "event": [0, 1, 2],
            "ticker": ["AAA", "BBB", "CCC"],
            "event_date": pd.to_datetime(["2015-08-24"] * 3),
            "group": [1.0, 3.0, 5.0],
            **{
                f"{k}_{w}": rng.normal(0, 0.02, 3)
                for w in EVENT_WINDOWS
                for k in ("CAR", "SCAR", "BHAR")
            },
        }
    )
    atomic_write_parquet(firms, paths.reports / "events" / "firms.parquet")
    atomic_write_parquet(
        pd.DataFrame(
            {
                "event": pd.Series([], dtype="int64"),
                "ticker": pd.Series([], dtype="str"),
                "reason": pd.Series([], dtype="str"),
            }
        ),
        paths.reports / "events" / "excluded.parquet",
    )
    series = {
        f"car_{r.group}_{r.window}": {
            "mean": r.caar,
            "n_obs": r.n,
            **{t: getattr(r, t) for t in EVENT_TESTS},
        }
        for r in summ.itertuples()
    }
    series |= {
        f"car_diff_{r.window}": {"diff_car": r.diff_car, "welch_t": r.welch_t, "p_welch": r.p_welch}
        for r in diff.itertuples()
    }
    extra = frozenset(k for v in series.values() for k in v)
    _metrics(paths, "events", series, extra_keys=extra)


def _regressions(paths: config.Paths, rng: np.random.Generator, n_groups: int) -> None:
    rows = []
    for model in ("panel_ols", "fama_macbeth"):
        for term in ("score", "size", "const"):
            coef = float(rng.normal(0, 0.01))
            rows.append(
                {
                    "model": model,
                    "term": term,
                    "coef": coef,
                    "se": 0.004,
                    "t": coef / 0.004,
                    "p": 0.2,
                    "nobs": 7600,
                    "r2": 0.01,
                    "cov": "clustered",
                }
            )
    atomic_write_parquet(pd.DataFrame(rows), paths.reports / "regressions" / "coefficients.parquet")
    _metrics(paths, "regressions", {"score_panel": {"n_obs": 7600.0, "mean": 0.0021, "t_nw": 1.4}})


def _robustness(paths: config.Paths, rng: np.random.Generator, n_groups: int) -> None:
    """Shapes of the robustness stage: every variant in three windows, flags for the base and
    the best specification, placebo draws with the observed values stored in the metrics."""
    rows = []
    for i, (g, h, w) in enumerate(
        (g, h, w) for g in (3, 5, 10) for h in (1, 5, 21) for w in ("equal", "value")
    ):
        for window in ("full", "sub1", "sub2"):
            rows.append(
                {
                    "variant": f"v{i:04d}",
                    "n_groups": g,
                    "holding": h,
                    "weighting": w,
                    "window": window,
                    "start": pd.Timestamp("2015-01-01"),
                    "sharpe": float(rng.normal(0.4, 0.3)),
                    "t_nw": float(rng.normal(1.5, 1)),
                    "ann_return": float(rng.normal(0.03, 0.02)),
                    "is_base": (g, h, w) == (5, 1, "equal"),
                    "is_best": False,
                }
            )
    grid = pd.DataFrame(rows)
    full = grid["window"] == "full"
    grid.loc[grid.loc[full, "sharpe"].idxmax(), "is_best"] = True
    atomic_write_parquet(grid, paths.reports / "robustness" / "grid.parquet")
    ids = list(dict.fromkeys(grid["variant"]))
    dates = pd.bdate_range("2015-01-01", periods=100, name="date")
    atomic_write_parquet(
        pd.DataFrame(rng.normal(0, 0.01, (100, len(ids))), index=dates, columns=ids),
        paths.reports / "robustness" / "returns.parquet",
    )
    atomic_write_parquet(
        pd.DataFrame(
            {"draw": range(200), "mean": rng.normal(0, 0.0002, 200), "t_nw": rng.normal(0, 1, 200)}
        ),
        paths.reports / "robustness" / "placebo.parquet",
    )
    atomic_write_parquet(
        pd.DataFrame(
            {
                "period": ["sub1", "sub2"],
                "n_obs": [200, 200],
                "sharpe": [0.3, -0.1],
                "ann_return": [0.02, -0.01],
            }
        ),
        paths.reports / "robustness" / "periods.parquet",
    )
    ledger = paths.root / "ledger" / "trials.jsonl"
    ledger.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        json.dumps({"key": f"k{i}", "source": "grid" if i < 18 else "walkforward", "sharpe": 0.01})
        for i in range(24)
    ]
    lines.append(lines[0])  # a duplicate line (e.g. after a git union merge) counts once
    ledger.write_text("\n".join(lines) + "\n")
    best = grid.loc[grid["is_best"]].iloc[0]
    _metrics(
        paths,
        "robustness",
        {
            "best_variant": {
                "sharpe": float(best["sharpe"]),
                "psr": 0.91,
                "dsr": 0.42,
                "n_trials": 24.0,
                "var_trials_sharpe": 0.09,
            },
            "pbo": {"pbo": 0.37, "n_splits": 16},
            "placebo": {"observed": 0.0003, "observed_t": 1.1, "pvalue": 0.12, "pvalue_t": 0.21},
        },
        extra_keys=frozenset({"pbo", "n_splits", "observed", "observed_t", "pvalue", "pvalue_t"}),
    )


def _walkforward(paths: config.Paths, rng: np.random.Generator, n_groups: int) -> None:
    """Shapes of the walk-forward stage: chained test-window returns with their segment, folds,
    stress scenarios, and a gate whose criteria are stored by name."""
    dates = pd.bdate_range("2016-01-01", periods=150, name="date")
    oos = pd.DataFrame(
        {
            "gross": rng.normal(0.0002, 0.01, 150),
            "net": rng.normal(0.0001, 0.01, 150),
            "turnover": rng.uniform(0, 0.5, 150),
            "fold": np.repeat([0, 1, 2], 50),
            "segment": ["walkforward"] * 100 + ["holdout"] * 50,
        },
        index=dates,
    )
    atomic_write_parquet(oos, paths.reports / "walkforward" / "oos_returns.parquet")
    atomic_write_parquet(
        pd.DataFrame(
            {
                "fold": [0, 1, 2],
                "variant": ["n5-h21", "n5-h5", "n10-h21"],
                "is_sharpe": [0.6, 0.4, 0.7],
                "oos_sharpe": [0.3, -0.2, 0.5],
            }
        ),
        paths.reports / "walkforward" / "folds.parquet",
    )
    atomic_write_parquet(
        pd.DataFrame(
            {
                "scenario": ["base", "costs x2", "delay +1"],
                "sharpe": [0.3, 0.1, 0.2],
                "base_sharpe": [0.3, 0.3, 0.3],
            }
        ),
        paths.reports / "walkforward" / "stress.parquet",
    )
    atomic_write_json(
        {
            "decision": "FAIL",
            "context": {"n_folds": 3, "n_trials": 24},
            "criteria": {
                "min_oos_sharpe": {
                    "description": "FIXTURE oos Sharpe",
                    "rule": ">=",
                    "threshold": 0.5,
                    "measured": 0.21,
                    "passed": False,
                    "reason": "FIXTURE below",
                },
                "min_dsr": {
                    "description": "FIXTURE DSR",
                    "rule": ">=",
                    "threshold": 0.95,
                    "measured": 0.42,
                    "passed": False,
                    "reason": "FIXTURE below",
                },
                "min_oos_periods": {
                    "description": "FIXTURE sessions",
                    "rule": ">=",
                    "threshold": 100,
                    "measured": 150,
                    "passed": True,
                    "reason": "FIXTURE ok",
                },
            },
        },
        paths.reports / "gate.json",
    )
    atomic_write_text("# Gate: FAIL\n\nFIXTURE.\n", paths.reports / "gate.md")
    _metrics(
        paths,
        "walkforward",
        {
            "oos": {**_series_stats(oos["net"].to_numpy()), "dsr": 0.3},
            "holdout": _series_stats(oos["net"].to_numpy()[100:]),
            "walkforward": {"n_trials": 24.0, "pbo": 0.5},
        },
        extra_keys=frozenset({"pbo"}),
    )
