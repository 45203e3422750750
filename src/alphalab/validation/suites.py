"""Run the Great Expectations suites of ``expectations/`` on the validated tables.

Each suite is a GX 1.x ``ExpectationSuite`` stored as JSON, one per input. Run-time values
(the study window, today, the return bound, declared signal dimensions and their range) are GX
suite parameters (``{"$PARAMETER": name}``). The suite's ``meta.alphalab`` section holds what
GX cannot express, which this runner evaluates itself:

- ``grouped_expectations``: expectations per group (per-ticker increasing dates, per-ticker
  plausible returns) — GX has no group-by;
- ``per_dimension``: templates expanded for every dimension declared in ``signal.dimensions``;
- expectation ``meta`` keys ``when_columns`` / ``unless_columns`` (run only if the columns are
  present / absent) and ``requires`` (``weights``: score consistency, via a derived
  ``_score_residual`` column; ``dimension_range``).

GX runs with an ephemeral context, analytics off, no Data Docs, no network.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from alphalab.config import Params
from alphalab.validation.findings import Checker, Finding
from alphalab.validation.rules import Action, resolve_policy

_STATE: dict[str, Any] = {}


class SuiteError(ValueError):
    """A suite file is missing or is not a valid GX suite."""


@dataclass
class SuiteResult:
    """Outcome of one suite: every expectation with its check id, success and evidence."""

    suite: str
    success: bool
    results: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failed(self) -> list[dict[str, Any]]:
        """The expectations that failed."""
        return [r for r in self.results if not r["success"]]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {
            "suite": self.suite,
            "success": self.success,
            "evaluated": len(self.results),
            "failed": len(self.failed),
            "seconds": round(self.seconds, 3),
            "expectations": self.results,
        }


def load_suite(path: Path | str) -> dict[str, Any]:
    """Read a suite JSON file (with a clear error when it is missing or malformed)."""
    p = Path(path)
    if not p.is_file():
        raise SuiteError(f"{p}: expectation suite not found")
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise SuiteError(f"{p}:{exc.lineno}: suite is not valid JSON: {exc.msg}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("expectations"), list):
        raise SuiteError(f"{p}: not a GX suite (no 'expectations' list)")
    return doc


def suite_parameters(params: Params, today: dt.date) -> dict[str, Any]:
    """Values for the suites' ``$PARAMETER`` references."""
    vp, data = params.validate_, params.data
    lo, hi = vp.dimension_range or (-np.inf, np.inf)
    return {
        "start": pd.Timestamp(data.start),
        "end": pd.Timestamp(data.end),
        "today": pd.Timestamp(today),
        "max_abs_return": vp.max_abs_return,
        "neg_max_abs_return": -vp.max_abs_return,
        "dimension_min": lo,
        "dimension_max": hi,
        "score_tolerance": params.signal.score_tolerance,
        "neg_score_tolerance": -params.signal.score_tolerance,
    }


def _declared_dimensions(params: Params, kind: str) -> list[str]:
    return (
        list(params.signal.dimensions) if kind == "signal" and params.signal.kind == "file" else []
    )


def expand(
    doc: dict[str, Any], df: pd.DataFrame, params: Params, kind: str
) -> list[dict[str, Any]]:
    """The suite's expectations that apply to ``df`` under ``params`` (templates expanded)."""
    meta = (doc.get("meta") or {}).get("alphalab") or {}
    dims = _declared_dimensions(params, kind)
    items = [copy.deepcopy(e) for e in doc["expectations"]]
    for dim in dims:
        for tpl in meta.get("per_dimension", []):
            items.append(json.loads(json.dumps(tpl).replace("{dim}", dim)))
    flags = {"weights": bool(dims), "dimension_range": params.validate_.dimension_range is not None}
    out = []
    for e in items:
        m = e.get("meta") or {}
        if any(c not in df.columns for c in m.get("when_columns", [])):
            continue
        if any(c in df.columns for c in m.get("unless_columns", [])):
            continue
        if m.get("requires") and not flags.get(m["requires"], False):
            continue
        out.append(e)
    return out


def _gx() -> tuple[Any, Any]:
    """The ephemeral GX context and pandas data source (created once per process)."""
    if "context" not in _STATE:
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        ctx = gx.get_context(mode="ephemeral")
        ctx.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        _STATE.update(
            gx=gx, context=ctx, source=ctx.data_sources.add_pandas("alphalab"), batches={}
        )
    return _STATE["gx"], _STATE


def _batch(kind: str, df: pd.DataFrame) -> Any:
    _, state = _gx()
    if kind not in state["batches"]:
        asset = state["source"].add_dataframe_asset(kind)
        state["batches"][kind] = asset.add_batch_definition_whole_dataframe("whole")
    return state["batches"][kind].get_batch(batch_parameters={"dataframe": df})


def _jsonable(value: Any) -> Any:
    if value is None or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp | dt.date):
        return (
            value.isoformat()[:10]
            if pd.Timestamp(value) == pd.Timestamp(value).normalize()
            else value.isoformat()
        )
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def _record(
    e: dict[str, Any],
    success: bool,
    result: dict[str, Any],
    *,
    error: str | None = None,
    grouped: bool = False,
) -> dict[str, Any]:
    m = e.get("meta") or {}
    kw = e.get("kwargs") or {}
    return {
        "check": m.get("check", e["type"]),
        "type": e["type"],
        "rule": m.get("rule"),
        "column": kw.get("column") or kw.get("column_A") or kw.get("column_list"),
        "success": bool(success),
        "grouped": grouped,
        "observed": _jsonable(result.get("observed_value")),
        "unexpected_count": result.get("unexpected_count"),
        "unexpected_index": [
            int(i)
            for i in result.get("partial_unexpected_index_list") or []
            if isinstance(i, int | np.integer)
        ],
        "examples": _jsonable(list(result.get("partial_unexpected_list") or [])[:10]),
        "error": error,
    }


def _run_gx(
    df: pd.DataFrame,
    kind: str,
    expectations: list[dict[str, Any]],
    parameters: dict[str, Any],
    n_examples: int,
) -> list[dict[str, Any]]:
    gx, _ = _gx()
    suite = gx.ExpectationSuite(name=f"alphalab-{kind}", expectations=expectations)
    res = _batch(kind, df).validate(
        suite,
        expectation_parameters=parameters,
        result_format={"result_format": "SUMMARY", "partial_unexpected_count": n_examples},
    )
    by_check = {(e.get("meta") or {}).get("check"): e for e in expectations}
    out = []
    for r in res.results:
        e = by_check.get((r.expectation_config.meta or {}).get("check"))
        if e is None:
            e = {
                "type": r.expectation_config.type,
                "kwargs": r.expectation_config.kwargs,
                "meta": {},
            }
        info = r.exception_info or {}
        error = info.get("exception_message") if info.get("raised_exception") else None
        out.append(_record(e, r.success, r.result or {}, error=error))
    return out


# --------------------------------------------------------------------------------------------
# grouped expectations (evaluated here; GX has no group-by)
# --------------------------------------------------------------------------------------------
def _resolve(value: Any, parameters: dict[str, Any]) -> Any:
    if isinstance(value, dict) and "$PARAMETER" in value:
        return parameters[value["$PARAMETER"]]
    return value


def _increasing_within_group(
    df: pd.DataFrame, column: str, group: str, strictly: bool
) -> np.ndarray:
    codes = pd.factorize(df[group].to_numpy())[0]
    order = np.argsort(codes, kind="stable")
    v = df[column].to_numpy()[order]
    same = np.r_[False, codes[order][1:] == codes[order][:-1]]
    prev = np.r_[v[:1], v[:-1]]
    bad = same & ((v <= prev) if strictly else (v < prev))
    return np.sort(order[bad])


def _pct_change_within_group(
    df: pd.DataFrame, column: str, group: str, order_by: str, lo: float, hi: float
) -> np.ndarray:
    codes = pd.factorize(df[group].to_numpy())[0]
    order = np.lexsort((df[order_by].to_numpy(), codes))
    v = df[column].to_numpy(dtype="float64")[order]
    same = np.r_[False, codes[order][1:] == codes[order][:-1]]
    change = v / np.r_[np.nan, v[:-1]] - 1.0
    bad = same & np.isfinite(change) & ((change < lo) | (change > hi))
    return np.sort(order[bad])


def _run_grouped(
    df: pd.DataFrame, grouped: list[dict[str, Any]], parameters: dict[str, Any], n_examples: int
) -> list[dict[str, Any]]:
    out = []
    for e in grouped:
        kw = {k: _resolve(v, parameters) for k, v in (e.get("kwargs") or {}).items()}
        missing = [
            c
            for c in (kw.get("column"), kw.get("group"), kw.get("order_by"))
            if c and c not in df.columns
        ]
        if missing:
            out.append(_record(e, False, {}, error=f"columns {missing} absent", grouped=True))
            continue
        if e["type"] == "expect_column_values_to_be_increasing_within_group":
            bad = _increasing_within_group(df, kw["column"], kw["group"], bool(kw.get("strictly")))
        elif e["type"] == "expect_column_pct_change_to_be_between_within_group":
            bad = _pct_change_within_group(
                df,
                kw["column"],
                kw["group"],
                kw["order_by"],
                kw.get("min_value", -np.inf),
                kw.get("max_value", np.inf),
            )
        else:
            raise SuiteError(f"unknown grouped expectation type {e['type']!r}")
        result = {
            "unexpected_count": len(bad),
            "partial_unexpected_index_list": list(bad[:n_examples]),
            "partial_unexpected_list": list(df[kw["column"]].to_numpy()[bad[:n_examples]]),
        }
        out.append(_record(e, len(bad) == 0, result, grouped=True))
    return out


def score_residual(df: pd.DataFrame, params: Params) -> np.ndarray:
    """``score - Σ weight·sign·dimension`` over the dimensions declared in params."""
    dims = params.signal.dimensions
    w = np.array([d.weight * d.sign for d in dims.values()])
    return df["score"].to_numpy(dtype="float64") - df[list(dims)].to_numpy(dtype="float64") @ w


def run_suite(
    df: pd.DataFrame,
    kind: str,
    params: Params,
    *,
    suite_path: Path | str,
    today: dt.date | None = None,
) -> SuiteResult:
    """Validate a typed contract table with its GX suite plus the grouped expectations.

    Parameters
    ----------
    df : DataFrame
        The clean table (contract columns and dtypes; see DESIGN.md §4).
    kind : str
        ``prices``, ``benchmark``, ``factors`` or ``signal``.
    params : Params
        Window, return bound, declared dimensions, score tolerance.
    suite_path : path-like
        ``expectations/<kind>.json``.
    today : date, optional
        Reference for "not in the future" (default: today).
    """
    t0 = time.perf_counter()
    doc = load_suite(suite_path)
    parameters = suite_parameters(params, today or dt.date.today())
    frame = df.reset_index(drop=True)
    needed = [*params.signal.dimensions, "score"]
    if _declared_dimensions(params, kind) and all(c in frame.columns for c in needed):
        frame = frame.assign(_score_residual=score_residual(frame, params))
    n = params.validate_.max_examples
    results = _run_gx(frame, kind, expand(doc, frame, params, kind), parameters, n)
    grouped = ((doc.get("meta") or {}).get("alphalab") or {}).get("grouped_expectations", [])
    results += _run_grouped(frame, grouped, parameters, n)
    return SuiteResult(
        f"{Path(suite_path).parent.name}/{Path(suite_path).name}",
        all(r["success"] for r in results),
        results,
        time.perf_counter() - t0,
    )


def suite_findings(result: SuiteResult, positions: np.ndarray, chk: Checker) -> list[Finding]:
    """Failed expectations as findings (``great_expectations``), rows mapped back to the input.

    A failure is a warning when the rule the expectation encodes has policy ``warn``; otherwise
    it stops the run (the row checks should have caught it first: GX is the last gate).
    """
    out = []
    for r in result.failed:
        rule = r.get("rule")
        action: Action = (
            "warn" if rule and resolve_policy(rule, chk.params.validate_) == "warn" else "error"
        )
        count = r.get("unexpected_count")
        what = r["error"] or (
            f"{count} unexpected" if count is not None else f"observed {r['observed']!r}"
        )
        msg = f"GX {r['check']} ({r['type']}) failed: {what}"
        column = r["column"] if isinstance(r["column"], str) else None
        if r["unexpected_index"]:
            pos = positions[np.asarray(r["unexpected_index"], dtype="int64")]
            f = chk.make("great_expectations", column, pos, msg, action=action)
            if f is not None:
                f.count = count
                out.append(f)
        else:
            out.append(
                chk.table_finding(
                    "great_expectations",
                    column,
                    None if r["observed"] is None else str(r["observed"]),
                    msg,
                    count=count,
                    action=action,
                )
            )
    return out
