"""The rules every input is checked against, and how params turn each into an action.

A rule has a *scope*: ``row`` rules point at rows, which can be quarantined; ``table`` rules
describe a whole table or column (a unit mistake, sessions that are absent), so ``quarantine``
acts as ``warn`` for them; ``file`` rules are structural (the file or a required column is
unusable) and always stop the run. Policy-configurable rules are exactly the keys accepted by
``validate.policy`` in params (:class:`alphalab.config.ValidateParams`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from alphalab.config import ValidateParams

Action = Literal["error", "quarantine", "warn", "normalise"]
Policy = Literal["error", "quarantine", "warn"]
Scope = Literal["file", "row", "table"]
ALL = ("prices", "benchmark", "factors", "signal")


@dataclass(frozen=True)
class Rule:
    """One validation rule: its name, scope, default policy, inputs and what it means."""

    name: str
    scope: Scope
    default: Policy | None
    inputs: tuple[str, ...]
    description: str


def _r(name: str, scope: Scope, default: Policy | None, inputs: tuple[str, ...], text: str) -> Rule:
    return Rule(name, scope, default, inputs, text)


_NUM = ALL
RULES: dict[str, Rule] = {
    r.name: r
    for r in (
        # structural (read time and columns): always error
        _r("missing_file", "file", None, ALL, "the input file does not exist"),
        _r("empty_file", "file", None, ALL, "the file is empty"),
        _r("header_only", "file", None, ALL, "the file has a header but no data rows"),
        _r("encoding", "file", None, ALL, "bytes that are not UTF-8 (or a NUL byte)"),
        _r("delimiter", "file", None, ALL, "the file uses another delimiter than configured"),
        _r("truncated_line", "file", None, ALL, "the last line is cut off"),
        _r("ragged_row", "file", None, ALL, "a line with more or fewer fields than the header"),
        _r("malformed_quote", "file", None, ALL, "broken CSV quoting"),
        _r("duplicate_header", "file", None, ALL, "an unnamed or repeated header column"),
        _r("unreadable_parquet", "file", None, ALL, "the Parquet file cannot be read"),
        _r(
            "unknown_mapping",
            "file",
            None,
            ALL,
            "a column mapping names a column the contract lacks",
        ),
        _r("layout", "file", None, ALL, "wide layout used for an input other than prices"),
        _r("missing_column", "file", None, ALL, "a required contract column is absent"),
        _r(
            "missing_dimension",
            "file",
            None,
            ("signal",),
            "a dimension declared in params is absent",
        ),
        _r("empty_table", "file", None, ALL, "no rows to validate"),
        _r("quarantine_threshold", "file", None, ALL, "too large a share of rows quarantined"),
        _r(
            "great_expectations", "file", None, ALL, "a Great Expectations suite expectation failed"
        ),
        # row rules: parsing
        _r("missing_value", "row", "error", ALL, "a required cell is empty or an NA marker"),
        _r("non_numeric", "row", "error", _NUM, "a numeric cell does not parse as a number"),
        _r(
            "excel_error",
            "row",
            "error",
            _NUM,
            "a cell holds an Excel error such as #N/A or #DIV/0!",
        ),
        _r("non_finite", "row", "error", _NUM, "a numeric cell is +/-inf"),
        _r(
            "sentinel_value",
            "row",
            "error",
            ("benchmark", "factors", "signal"),
            "a missing-data code (-99.99, -999) used as a value",
        ),
        _r("bad_date", "row", "error", ALL, "a date that does not parse or does not exist"),
        _r(
            "ambiguous_date",
            "row",
            "error",
            ALL,
            "day/month order cannot be told (all parts <= 12) or a two-digit year",
        ),
        _r("mixed_date_format", "row", "error", ALL, "dates written in more than one format"),
        _r("excel_serial_date", "row", "error", ALL, "a date stored as an Excel serial number"),
        _r(
            "excel_identifier",
            "row",
            "error",
            ("prices", "signal"),
            "an identifier mangled by Excel (turned into a date or scientific notation)",
        ),
        _r(
            "bad_ticker",
            "row",
            "error",
            ("prices", "signal"),
            "a ticker with characters tickers never have",
        ),
        _r(
            "share_class",
            "row",
            "error",
            ("signal",),
            "a preferred-share line (e.g. C-PN) instead of common stock",
        ),
        # row rules: content
        _r("duplicate_conflict", "row", "error", ALL, "the same key twice with different values"),
        _r("non_positive_price", "row", "error", ("prices",), "a price that is zero or negative"),
        _r("negative_volume", "row", "error", ("prices",), "a negative volume"),
        _r(
            "ohlc_inconsistent",
            "row",
            "error",
            ("prices",),
            "high below low, or close/open outside [low, high]",
        ),
        _r(
            "split_jump",
            "row",
            "error",
            ("prices",),
            "a persistent jump at a split ratio (unapplied split)",
        ),
        _r(
            "extreme_return",
            "row",
            "error",
            ("prices", "benchmark", "factors"),
            "a return larger in absolute value than validate.max_abs_return",
        ),
        _r("impossible_return", "row", "error", ("benchmark", "factors"), "a return below -100%"),
        _r(
            "stale_run",
            "row",
            "warn",
            ("prices",),
            "the close unchanged for validate.stale_run sessions or more",
        ),
        _r(
            "non_session",
            "row",
            "error",
            ("prices", "benchmark"),
            "a date that is not an exchange session",
        ),
        _r(
            "out_of_window",
            "row",
            "quarantine",
            ("prices", "benchmark", "signal"),
            "a date outside the study window data.start … data.end",
        ),
        _r("future_date", "row", "error", ALL, "a date after today"),
        _r(
            "dimension_range",
            "row",
            "error",
            ("signal",),
            "a declared dimension outside validate.dimension_range",
        ),
        _r(
            "score_mismatch",
            "row",
            "error",
            ("signal",),
            "the score differs from its weighted dimensions by more than signal.score_tolerance",
        ),
        _r("unknown_ticker", "row", "quarantine", ("signal",), "a signal ticker with no prices"),
        _r(
            "after_last_price",
            "row",
            "quarantine",
            ("signal",),
            "a signal dated after the ticker's last price",
        ),
        # table rules
        _r(
            "missing_session",
            "table",
            "warn",
            ("prices",),
            "exchange sessions absent inside a ticker's history",
        ),
        _r(
            "percent_units",
            "table",
            "error",
            ("benchmark", "factors"),
            "returns that look like percent, not decimals",
        ),
        # normalisations (always applied and reported)
        _r("bom", "file", None, ALL, "UTF-8 byte-order mark removed"),
        _r("duplicate_identical", "row", None, ALL, "an exact duplicate row, dropped and counted"),
    )
}

NORMALISE_ONLY = frozenset({"bom", "duplicate_identical"})


def configurable_rules() -> tuple[str, ...]:
    """Names accepted by ``validate.policy`` (rules with a default policy)."""
    return tuple(name for name, rule in RULES.items() if rule.default is not None)


def resolve_policy(rule: str, params: ValidateParams) -> Policy:
    """What ``rule`` does under ``params``: policy entry, else ``default_policy``, else its default.

    Structural rules always give ``error``; ``quarantine`` on a table rule gives ``warn``.
    """
    spec = RULES.get(rule)
    if spec is None or spec.default is None:
        return "error"
    chosen: Policy = params.policy.get(rule, params.default_policy or spec.default)  # type: ignore[call-overload]
    if spec.scope == "table" and chosen == "quarantine":
        return "warn"
    return chosen
