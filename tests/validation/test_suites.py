"""Every Great Expectations suite passes on a contract table and fails on one made to break it.

A gate never seen to fail is not a gate: each expectation of ``expectations/*.json`` (including
the grouped ones the runner evaluates and the per-dimension templates) has a breaking case
below, and the test asserts that exactly that check fails. No numeric tolerance is involved.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from alphalab.config import Params, validate_params
from alphalab.validation.suites import expand, load_suite, run_suite

from .conftest import EXPECTATIONS, TODAY, good_benchmark, good_factors, good_prices

DIMS = {"D": 0.5, "G": 0.3, "X": 0.2}  # the per-dimension templates are the same for any name
SIGNAL_PARAMS = {
    "data": {"start": "2019-01-01", "end": "2021-12-31"},
    "signal": {
        "kind": "file",
        "score_tolerance": 0.05,
        "dimensions": {k: {"weight": w} for k, w in DIMS.items()},
    },
}


def good_signal() -> pd.DataFrame:
    """A typed CNOI-style signal with an entity, acceptance times and consistent scores."""
    rows = []
    for b, ticker in enumerate(["AAA", "BBB"]):
        for q, day in enumerate(["2020-03-10", "2020-05-08", "2020-08-07"]):
            dims = {k: 20.0 + 5 * b + q + 3 * j for j, k in enumerate(DIMS)}
            rows.append(
                {
                    "ticker": ticker,
                    "entity": f"{1000 + b}",
                    "event_date": pd.Timestamp(day),
                    "accepted_at": pd.Timestamp(day) + pd.Timedelta(hours=16),
                    "score": sum(w * dims[k] for k, w in DIMS.items()),
                    **dims,
                }
            )
    df = pd.DataFrame(rows)
    for c in ("ticker", "entity"):
        df[c] = df[c].astype("str")
    for c in ("event_date", "accepted_at"):
        df[c] = df[c].astype("datetime64[ns]")
    return df


def good_prices_full() -> pd.DataFrame:
    df = good_prices()
    return df.assign(high=df["close"] + 1, low=df["close"] - 1, volume=1000.0)


GOOD: dict[str, Callable[[], pd.DataFrame]] = {
    "prices": good_prices_full,
    "benchmark": good_benchmark,
    "factors": good_factors,
    "signal": good_signal,
}
PARAMS = {
    "prices": {"data": {"start": "2019-01-01", "end": "2021-12-31"}},
    "benchmark": {"data": {"start": "2019-01-01", "end": "2021-12-31"}},
    "factors": {},
    "signal": SIGNAL_PARAMS,
}


def params_for(kind: str) -> Params:
    return validate_params(PARAMS[kind])


# ---- breaking mutations -------------------------------------------------------------------
def set_at(col: str, value: Any, row: int = 1) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def f(df: pd.DataFrame) -> pd.DataFrame:
        out = df.copy()
        if value is None and pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].astype("object")
        out.loc[row, col] = value
        return out

    return f


def drop(col: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    return lambda df: df.drop(columns=[col])


def as_text(col: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    return lambda df: df.assign(**{col: df[col].astype("str")})


def empty(df: pd.DataFrame) -> pd.DataFrame:
    return df.iloc[0:0]


def dup_row(df: pd.DataFrame) -> pd.DataFrame:
    return pd.concat([df, df.iloc[[1]]], ignore_index=True)


def swap_first_rows(df: pd.DataFrame) -> pd.DataFrame:
    return df.iloc[[1, 0, *range(2, len(df))]].reset_index(drop=True)


def scale(cols: list[str], k: float) -> Callable[[pd.DataFrame], pd.DataFrame]:
    return lambda df: df.assign(**{c: df[c] * k for c in cols})


def generic(kind: str, check: str) -> Callable[[pd.DataFrame], pd.DataFrame] | None:
    """Mutations that follow from the check's name."""
    name = check.split(".", 1)[1]
    if name == "non_empty":
        return empty
    if name.startswith("has_"):
        return drop(name[4:])
    if name.endswith(("_float64", "_datetime", "_str")):
        col = name.rsplit("_", 1)[0]
        if name.endswith("_str"):
            return lambda df: df.assign(**{col: np.arange(len(df))})
        return as_text(col)
    if name.endswith("_not_null"):
        return set_at(name[: -len("_not_null")], None)
    if name.endswith("_in_range"):
        return set_at(name[: -len("_in_range")], 140.0)
    return None


SPECIFIC: dict[str, Callable[[pd.DataFrame], pd.DataFrame]] = {
    "prices.key_unique": dup_row,
    "prices.close_positive": set_at("close", -1.0),
    "prices.date_in_window": set_at("date", pd.Timestamp("2018-12-31")),
    "prices.date_not_future": set_at("date", pd.Timestamp("2030-01-02")),
    "prices.ticker_format": set_at("ticker", "aa a"),
    "prices.high_ge_low": set_at("high", 1.0),
    "prices.volume_non_negative": set_at("volume", -5.0),
    "prices.date_increasing_per_ticker": swap_first_rows,
    "prices.return_plausible_per_ticker": set_at("close", 1000.0, row=3),
    "benchmark.date_unique": dup_row,
    "benchmark.date_increasing": swap_first_rows,
    "benchmark.date_in_window": set_at("date", pd.Timestamp("2018-12-31")),
    "benchmark.date_not_future": set_at("date", pd.Timestamp("2030-01-02"), row=9),
    "benchmark.ret_plausible": set_at("ret", -1.2),
    "benchmark.ret_decimals": scale(["ret"], 100.0),
    "benchmark.rf_decimals": set_at("rf", 5.0),
    "factors.date_unique": dup_row,
    "factors.date_increasing": swap_first_rows,
    "factors.date_not_future": set_at("date", pd.Timestamp("2030-01-31"), row=11),
    "factors.mkt_rf_decimals": set_at("mkt_rf", 8.4),
    "factors.smb_decimals": set_at("smb", -1.5),
    "factors.hml_decimals": set_at("hml", 1.2),
    "factors.mom_decimals": set_at("mom", -2.0),
    "factors.mkt_rf_mean_decimals": scale(["mkt_rf"], 100.0),
    "factors.rf_decimals": set_at("rf", 0.19),
    "signal.key_unique_entity": dup_row,
    "signal.key_unique_ticker": lambda df: dup_row(df.drop(columns=["entity"])),
    "signal.event_date_in_window": set_at("event_date", pd.Timestamp("2018-06-01")),
    "signal.event_date_not_future": set_at("event_date", pd.Timestamp("2030-06-03")),
    "signal.ticker_format": set_at("ticker", "B B"),
    "signal.score_consistent": set_at("score", 99.0),
    "signal.event_date_increasing_per_ticker": swap_first_rows,
}


def all_checks() -> list[tuple[str, str]]:
    """(kind, check id) of every expectation the runner evaluates for the good tables."""
    out = []
    for kind, make in GOOD.items():
        doc = load_suite(EXPECTATIONS / f"{kind}.json")
        items = expand(doc, make(), params_for(kind), kind)
        if kind == "signal":  # the ticker key applies when there is no entity column
            items += [
                e for e in doc["expectations"] if e["meta"]["check"] == "signal.key_unique_ticker"
            ]
        grouped = doc["meta"]["alphalab"]["grouped_expectations"]
        out += [(kind, e["meta"]["check"]) for e in [*items, *grouped]]
    return out


CHECKS = all_checks()


def breaker(kind: str, check: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    f = SPECIFIC.get(check) or generic(kind, check)
    assert f is not None, f"no breaking case for {check}"
    return f


@pytest.mark.parametrize("kind", list(GOOD))
def test_suite_passes_on_contract_table(kind: str) -> None:
    result = run_suite(
        GOOD[kind](), kind, params_for(kind), suite_path=EXPECTATIONS / f"{kind}.json", today=TODAY
    )
    assert result.success, [r for r in result.results if not r["success"]]
    assert len(result.results) >= 15


@pytest.mark.parametrize(("kind", "check"), CHECKS, ids=[c for _, c in CHECKS])
def test_each_expectation_fails_on_its_breaking_fixture(kind: str, check: str) -> None:
    df = breaker(kind, check)(GOOD[kind]())
    result = run_suite(
        df, kind, params_for(kind), suite_path=EXPECTATIONS / f"{kind}.json", today=TODAY
    )
    failed = {r["check"] for r in result.failed}
    assert not result.success
    assert check in failed, f"{check} did not fail; failed: {sorted(failed)}"


def test_every_suite_file_is_a_gx_suite() -> None:
    """Suites load as GX 1.x ExpectationSuites and name a check and a rule for each expectation."""
    import great_expectations as gx

    for kind in GOOD:
        doc = json.loads((EXPECTATIONS / f"{kind}.json").read_text(encoding="utf-8"))
        suite = gx.ExpectationSuite(
            name=doc["name"],
            expectations=[
                e
                for e in doc["expectations"]
                if "$PARAMETER" not in json.dumps(e) and "{dim}" not in json.dumps(e)
            ],
        )
        assert suite.name == kind
        ids = [e["meta"]["check"] for e in doc["expectations"]]
        assert len(ids) == len(set(ids))
        assert all(e["meta"].get("rule") for e in doc["expectations"])


def test_declared_dimensions_expand_per_dimension() -> None:
    doc = load_suite(EXPECTATIONS / "signal.json")
    checks = {
        e["meta"]["check"] for e in expand(doc, good_signal(), params_for("signal"), "signal")
    }
    for dim in DIMS:
        assert {f"signal.has_{dim}", f"signal.{dim}_float64", f"signal.{dim}_in_range"} <= checks
    composite = validate_params({})  # built-in composite: no file dimensions, no score check
    plain = {e["meta"]["check"] for e in expand(doc, good_signal(), composite, "signal")}
    assert "signal.score_consistent" not in plain and "signal.has_D" not in plain
