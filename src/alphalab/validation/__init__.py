"""Input validation: fast vectorized row checks, quarantine, and Great Expectations suites.

Every input (prices, benchmark, factors, signal; DESIGN.md §4) goes through

1. read-time checks (:mod:`alphalab.data.files`: encoding, delimiter, truncated lines ...);
2. parsing to typed columns (:mod:`.parse`): missing, non-numeric, Excel-mangled, ambiguous or
   mixed-format values, each at its exact 1-based row;
3. duplicate keys (identical rows are dropped and counted, conflicting ones named with both
   rows) and the row checks of :mod:`.checks` (prices > 0, split-like jumps, stale runs,
   sessions against the exchange calendar, study window, returns in decimals, signal dimensions
   and score, signal tickers against prices);
4. the rule's policy from ``params.validate`` (:mod:`.rules`): ``error`` stops the run,
   ``quarantine`` sets rows aside with a reason, ``warn`` reports; normalisations are reported;
5. the GX suite of ``expectations/<input>.json`` on the clean table (:mod:`.suites`).

Entry points: :func:`run_validation` (the ``validate`` stage), :func:`validate_file` (one
user file; ``alphalab validate`` in :mod:`.cli`), :func:`validate_input` /
:func:`validate_tables` (frames in memory).
"""

from __future__ import annotations

from alphalab.data.files import FileReadError, Problem
from alphalab.validation.engine import validate_file, validate_input, validate_tables
from alphalab.validation.report import InputReport, ValidationReport
from alphalab.validation.rules import RULES, Rule, configurable_rules, resolve_policy
from alphalab.validation.stage import ValidationFailed, run_validation
from alphalab.validation.suites import SuiteResult, run_suite

__all__ = [
    "RULES",
    "FileReadError",
    "InputReport",
    "Problem",
    "Rule",
    "SuiteResult",
    "ValidationFailed",
    "ValidationReport",
    "configurable_rules",
    "resolve_policy",
    "run_suite",
    "run_validation",
    "validate_file",
    "validate_input",
    "validate_tables",
]
