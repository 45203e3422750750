"""Row checks: exact rows, exact counts, and the policy rules.

Known answers on hand-made panels (exact: row numbers and counts are integers), a hypothesis
property for the accounting ``rows_in = accepted + quarantined + deduplicated`` with injected
faults, and the split / stale / calendar heuristics on real price shapes from the sample.
"""

from __future__ import annotations

import typing

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alphalab.config import ValidateParams, validate_params
from alphalab.validation import validate_input
from alphalab.validation.rules import RULES, configurable_rules, resolve_policy

from .conftest import SESSIONS, TODAY, good_prices


def run(df: pd.DataFrame, kind: str = "prices", **params: typing.Any):
    return validate_input(kind, df, validate_params(params), today=TODAY)  # type: ignore[arg-type]


def rules_of(report, action: str | None = None) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for p in report.problems():
        if action is None or p.action == action:
            out.setdefault(p.rule, []).append(p.row)
    return out


# ---- policy -------------------------------------------------------------------------------
def test_policy_keys_match_rule_registry() -> None:
    keys = typing.get_args(typing.get_args(ValidateParams.model_fields["policy"].annotation)[0])
    assert set(keys) == set(configurable_rules())
    assert all(RULES[k].scope in {"row", "table"} for k in keys)


def test_policy_precedence() -> None:
    vp = ValidateParams()
    assert resolve_policy("split_jump", vp) == "error"
    assert resolve_policy("out_of_window", vp) == "quarantine"
    assert resolve_policy("stale_run", vp) == "warn"
    vp = ValidateParams(default_policy="quarantine", policy={"stale_run": "error"})
    assert resolve_policy("split_jump", vp) == "quarantine"
    assert resolve_policy("stale_run", vp) == "error"
    assert resolve_policy("percent_units", vp) == "warn"  # table rule: nothing to quarantine
    assert resolve_policy("missing_column", vp) == "error"  # structural: not configurable


# ---- exact rows and counts ------------------------------------------------------------------
def test_clean_input_passes_with_contract_dtypes() -> None:
    r = run(good_prices(), data={"start": "2019-01-01", "end": "2021-12-31"})
    assert r.outcome == "pass" and r.counts["accepted"] == 20
    assert r.clean.dtypes.astype(str).tolist() == ["str", "datetime64[ns]", "float64"]


def test_duplicates_identical_vs_conflicting() -> None:
    df = good_prices()
    df = pd.concat([df, df.iloc[[3]], df.iloc[[12]].assign(close=999.0)], ignore_index=True)
    r = run(df, data={"start": "2019-01-01", "end": "2021-12-31"})
    found = rules_of(r)
    assert found["duplicate_identical"] == [21]  # parquet-style rows: position + 1
    assert sorted(found["duplicate_conflict"]) == [13, 22]
    assert r.counts == {
        "rows_in": 22,
        "deduplicated": 1,
        "quarantined": 0,
        "rejected": 2,
        "accepted": 19,
    }


def test_missing_sessions_counted_exactly() -> None:
    df = good_prices().drop(index=[2, 3, 15]).reset_index(drop=True)
    r = run(df, data={"start": "2019-01-01", "end": "2021-12-31"})
    f = next(f for f in r.findings if f.rule == "missing_session")
    assert f.action == "warn" and f.n == 3  # 2 sessions for AAA, 1 for BBB
    assert rules_of(r)["missing_session"] == [3, 14]


def test_stale_run_marks_rows_after_the_first() -> None:
    df = good_prices()
    df.loc[3:8, "close"] = 100.0  # six equal closes: rows 5..9 (1-based) repeat row 4
    r = run(df, data={"start": "2019-01-01", "end": "2021-12-31"}, validate={"stale_run": 6})
    assert rules_of(r, "warn")["stale_run"] == [5, 6, 7, 8, 9]
    r = run(df, data={"start": "2019-01-01", "end": "2021-12-31"}, validate={"stale_run": 7})
    assert "stale_run" not in rules_of(r)


@pytest.mark.parametrize(
    ("path", "flagged"),
    [
        ([100.0, 101, 102, 51, 51.5, 52, 52.2, 52.1], [4]),  # 2:1 split never applied
        ([100.0, 101, 102, 306, 305, 307, 306, 308], [4]),  # 1:3 reverse split never applied
        ([100.0, 101, 102, 48.9, 48, 47, 46.5, 46], []),  # -52% crash (AAPL 2000-09-29): not x0.5
        (
            [3.322, 3.322, 3.322, 1.107, 1.384, 1.661, 2.215, 2.4],
            [],
        ),  # 1/3 drop that recovers (RRC 1990)
    ],
)
def test_split_heuristic(path: list[float], flagged: list[int]) -> None:
    n = len(path)
    df = pd.DataFrame(
        {
            "ticker": pd.Series(["AAA"] * n, dtype="str"),
            "date": pd.DatetimeIndex(SESSIONS[:n]).astype("datetime64[ns]"),
            "close": path,
        }
    )
    r = run(df, data={"start": "2019-01-01", "end": "2021-12-31"}, validate={"split_window": 4})
    assert rules_of(r).get("split_jump", []) == flagged


def test_quarantine_writes_reason_and_threshold() -> None:
    df = good_prices().astype({"close": "object"})
    df.loc[[4, 15], "close"] = "n/a?"
    r = run(
        df,
        data={"start": "2019-01-01", "end": "2021-12-31"},
        validate={"policy": {"non_numeric": "quarantine"}, "max_quarantine_frac": 0.1},
    )
    assert r.outcome == "quarantine"
    assert r.quarantine["source_row"].tolist() == [5, 16]
    assert set(r.quarantine["reason"]) == {"non_numeric(close)"}
    r = run(
        df,
        data={"start": "2019-01-01", "end": "2021-12-31"},
        validate={"policy": {"non_numeric": "quarantine"}, "max_quarantine_frac": 0.05},
    )
    assert r.failed and "quarantine_threshold" in rules_of(r, "error")


def test_signal_against_prices() -> None:
    prices = run(good_prices(), data={"start": "2019-01-01", "end": "2021-12-31"}).clean
    sig = pd.DataFrame(
        {
            "ticker": pd.Series(["AAA", "ZZZ", "BBB"], dtype="str"),
            "event_date": pd.to_datetime(["2020-01-03", "2020-01-03", "2020-02-03"]),
            "score": [1.0, 2.0, 3.0],
        }
    )
    r = validate_input(
        "signal",
        sig,
        validate_params(
            {
                "data": {"start": "2019-01-01", "end": "2021-12-31"},
                "validate": {"max_quarantine_frac": 1},
            }
        ),
        prices=prices,
        today=TODAY,
    )
    assert rules_of(r, "quarantine") == {"unknown_ticker": [2], "after_last_price": [3]}
    assert r.clean["ticker"].tolist() == ["AAA"]


def test_percent_units_on_real_factors() -> None:
    from alphalab.data.factors import load_embedded_factors

    factors = load_embedded_factors()
    assert run(factors, "factors").outcome == "pass"
    percent = factors.assign(**{c: factors[c] * 100 for c in ("mkt_rf", "smb", "hml", "mom", "rf")})
    found = rules_of(run(percent, "factors"), "error")
    assert "percent_units" in found


# ---- property: every row is accounted for ---------------------------------------------------
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n_tickers=st.integers(1, 4),
    dup_idx=st.lists(st.integers(0, 39), max_size=5, unique=True),
    bad_idx=st.lists(st.integers(0, 39), max_size=5, unique=True),
    shuffle=st.integers(0, 2**31 - 1),
)
def test_rows_accounted_for(
    n_tickers: int, dup_idx: list[int], bad_idx: list[int], shuffle: int
) -> None:
    n = n_tickers * len(SESSIONS)
    base = pd.DataFrame(
        {
            "ticker": np.repeat([f"T{i}" for i in range(n_tickers)], len(SESSIONS)),
            "date": np.tile(SESSIONS.strftime("%Y-%m-%d"), n_tickers),
            "close": [f"{100 + (i % 10) * 0.3 + (i // 10):.2f}" for i in range(n)],
        }
    ).astype("str")
    dups = [i for i in dup_idx if i < n]
    bad = [i for i in bad_idx if i < n and i not in dups]
    base.loc[bad, "close"] = "oops"
    frame = pd.concat([base, base.iloc[dups]], ignore_index=True)
    frame = frame.sample(frac=1.0, random_state=shuffle % 1000).reset_index(drop=True)
    frame["source_row"] = np.arange(2, len(frame) + 2)
    r = validate_input(
        "prices",
        frame,
        validate_params(
            {
                "data": {"start": "2019-01-01", "end": "2021-12-31"},
                "validate": {"policy": {"non_numeric": "quarantine"}, "max_quarantine_frac": 1.0},
            }
        ),
        today=TODAY,
    )
    c = r.counts
    assert c["rows_in"] == len(frame) == c["accepted"] + c["quarantined"] + c["deduplicated"]
    assert c["deduplicated"] == len(dups)
    expected_q = frame.loc[frame["close"] == "oops", "source_row"].tolist()
    assert sorted(r.quarantine["source_row"].tolist()) == sorted(expected_q)
    assert not r.clean.duplicated(["ticker", "date"]).any()
    assert r.clean.equals(r.clean.sort_values(["ticker", "date"]).reset_index(drop=True))
