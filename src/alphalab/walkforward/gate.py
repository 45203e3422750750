"""The promotion gate: every criterion from params, measured, passed or failed, and a decision.

A criterion whose threshold is ``None`` is not part of the decision. An enabled criterion whose
measured value is missing (``None`` or NaN: the input was unavailable or undefined) **fails**
with the reason "not measured" — the gate never passes by default. The decision is ``PASS``
only when every enabled criterion passes.

References
----------
Bailey, D. H. and López de Prado, M. (2014), "The deflated Sharpe ratio", Journal of
Portfolio Management 40(5), 94–107 (the DSR criterion).
Bailey, D. H., Borwein, J. M., López de Prado, M. and Zhu, Q. J. (2017), "The probability of
backtest overfitting", Journal of Computational Finance 20(4), 39–69 (the PBO criterion).
Harvey, C. R., Liu, Y. and Zhu, H. (2016), "... and the cross-section of expected returns",
Review of Financial Studies 29(1), 5–68 (t-statistic hurdles).
Pardo, R. (2008), *The Evaluation and Optimization of Trading Strategies*, ch. 11–12.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Rule = Literal[">=", "<="]
Decision = Literal["PASS", "FAIL"]

#: criterion (params key) → (measured quantity, rule, description)
CRITERIA: dict[str, tuple[str, Rule, str]] = {
    "min_oos_sharpe": ("oos_sharpe", ">=", "out-of-sample Sharpe ratio (annualized, net of costs)"),
    "max_drawdown": ("max_drawdown", "<=", "out-of-sample maximum drawdown (share of the peak)"),
    "min_dsr": ("dsr", ">=", "deflated Sharpe ratio of the out-of-sample record"),
    "max_pbo": ("pbo", "<=", "probability of backtest overfitting of the grid (CSCV)"),
    "min_t_stat": ("t_stat", ">=", "Newey-West t-statistic of the mean out-of-sample return"),
    "min_oos_periods": ("oos_periods", ">=", "out-of-sample sessions with a return"),
    "min_holdout_sharpe": (
        "holdout_sharpe",
        ">=",
        "holdout Sharpe ratio (annualized, net of costs)",
    ),
}


@dataclass(frozen=True)
class Criterion:
    """One gate criterion with its measurement."""

    name: str
    quantity: str
    description: str
    rule: Rule
    threshold: float
    measured: float | None
    passed: bool
    reason: str


@dataclass(frozen=True)
class GateResult:
    """The gate's decision, criteria and reasons (``reasons`` lists failures, or why it passed)."""

    decision: Decision
    criteria: list[Criterion]
    reasons: list[str]
    context: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> list[Criterion]:
        return [c for c in self.criteria if not c.passed]

    def to_dict(self) -> dict[str, Any]:
        """The ``reports/gate.json`` document."""
        return {
            "decision": self.decision,
            "reasons": list(self.reasons),
            "criteria": {
                c.name: {k: v for k, v in asdict(c).items() if k != "name"} for c in self.criteria
            },
            "n_criteria": len(self.criteria),
            "n_failed": len(self.failed),
            "context": self.context,
        }


def _fmt(value: float | None) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    if float(value).is_integer() and abs(value) >= 1:
        return f"{int(value)}"
    return f"{value:.4g}"


def _judge(
    name: str, threshold: float, measured: float | None, why_missing: str | None
) -> Criterion:
    quantity, rule, description = CRITERIA[name]
    value = None if measured is None or not math.isfinite(float(measured)) else float(measured)
    if value is None:
        why = f": {why_missing}" if why_missing else ""
        return Criterion(
            name,
            quantity,
            description,
            rule,
            threshold,
            None,
            False,
            f"{quantity} not measured{why}",
        )
    passed = value >= threshold if rule == ">=" else value <= threshold
    word = "meets" if passed else "fails"
    bound = "minimum" if rule == ">=" else "maximum"
    reason = f"{quantity} {_fmt(value)} {word} the {bound} {_fmt(threshold)} ({quantity} {rule} {_fmt(threshold)})"
    return Criterion(name, quantity, description, rule, threshold, value, passed, reason)


def evaluate_gate(
    thresholds: Mapping[str, float | None],
    measured: Mapping[str, float | None],
    *,
    missing: Mapping[str, str] | None = None,
    context: Mapping[str, Any] | None = None,
) -> GateResult:
    """Judge every enabled criterion and decide.

    Parameters
    ----------
    thresholds : mapping
        Criterion name (:data:`CRITERIA` keys, e.g. ``min_oos_sharpe``) → threshold or None
        (disabled). Unknown names raise.
    measured : mapping
        Measured quantity (``oos_sharpe``, ``max_drawdown`` as a positive share, ``dsr``,
        ``pbo``, ``t_stat``, ``oos_periods``, ``holdout_sharpe``) → value; absent, None or NaN
        means not measured.
    missing : mapping, optional
        Quantity → why it could not be measured (shown in the reason).
    context : mapping, optional
        Extra facts for the report (trial count and its source, windows ...).

    Returns
    -------
    GateResult
        ``decision`` is ``"PASS"`` only if every enabled criterion passed.

    Raises
    ------
    ValueError
        For an unknown criterion name, or when no criterion is enabled.

    Examples
    --------
    >>> g = evaluate_gate({"min_oos_sharpe": 0.5, "max_pbo": 0.5}, {"oos_sharpe": 0.8})
    >>> g.decision, g.failed[0].reason
    ('FAIL', 'pbo not measured')
    """
    unknown = sorted(set(thresholds) - set(CRITERIA))
    if unknown:
        raise ValueError(f"gate: unknown criteria {unknown}; known: {sorted(CRITERIA)}")
    missing = missing or {}
    criteria = [
        _judge(name, float(t), measured.get(CRITERIA[name][0]), missing.get(CRITERIA[name][0]))
        for name, t in thresholds.items()
        if t is not None
    ]
    if not criteria:
        raise ValueError("gate: no criterion is enabled (every threshold is None)")
    failed = [c for c in criteria if not c.passed]
    reasons = (
        [c.reason for c in failed]
        if failed
        else [f"all {len(criteria)} criteria pass: " + "; ".join(c.reason for c in criteria)]
    )
    return GateResult("FAIL" if failed else "PASS", criteria, reasons, dict(context or {}))


def render_markdown(
    gate: GateResult, *, title: str = "Promotion gate", facts: Mapping[str, Any] | None = None
) -> str:
    """``reports/gate.md``: a one-page decision a reviewer can sign.

    Parameters
    ----------
    gate : GateResult
    title : str
    facts : mapping, optional
        Label → value lines shown under "Evidence" (study, windows, trials, efficiency ...).
    """
    lines = [f"# {title}", "", f"**Decision: {gate.decision}**", ""]
    lines += [
        "## Criteria",
        "",
        "| criterion | rule | threshold | measured | result |",
        "|---|---|---|---|---|",
    ]
    for c in gate.criteria:
        result = "pass" if c.passed else "**FAIL**"
        lines.append(
            f"| {c.description} | `{c.quantity} {c.rule}` | {_fmt(c.threshold)} | {_fmt(c.measured)} | {result} |"
        )
    lines += ["", "## Reasons", ""]
    lines += [f"- {r}" for r in gate.reasons]
    if facts:
        lines += ["", "## Evidence", ""]
        lines += [f"- **{k}**: {v}" for k, v in facts.items()]
    lines += [
        "",
        "## Sign-off",
        "",
        "A criterion that could not be measured fails; PASS requires every criterion above to pass.",
        "",
        "| | |",
        "|---|---|",
        "| Reviewer | ______________________________ |",
        "| Date | ______________________________ |",
        "| Decision accepted | [ ] yes  [ ] no |",
        "| Comments | ______________________________ |",
        "",
    ]
    return "\n".join(lines)
