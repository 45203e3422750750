"""Validation reports: per-input results, their JSON form, and the readable ``summary.md``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from alphalab.data.files import Problem
from alphalab.validation.findings import Finding, Table
from alphalab.validation.rules import RULES
from alphalab.validation.suites import SuiteResult

Outcome = Literal["error", "quarantine", "normalise", "warn", "pass"]
_ORDER: tuple[Outcome, ...] = ("error", "quarantine", "normalise", "warn", "pass")


@dataclass
class InputReport:
    """The validation of one input: findings, counts, the clean and quarantined rows, GX result.

    ``counts`` holds ``rows_in``, ``accepted``, ``quarantined``, ``deduplicated`` and
    ``rejected`` (rows hit by an ``error`` rule); ``rows_in = accepted + quarantined +
    deduplicated + rejected`` always, and ``rejected`` is 0 on any run that writes output.
    """

    kind: str
    table: Table
    findings: list[Finding]
    counts: dict[str, int]
    clean: pd.DataFrame | None = None
    quarantine: pd.DataFrame | None = None
    suite: SuiteResult | None = None
    checked: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def source(self) -> str:
        """The file (or raw table) the input came from."""
        return self.table.source

    @property
    def outcome(self) -> Outcome:
        """``error`` > ``quarantine`` > ``normalise`` > ``warn`` > ``pass``."""
        actions = {f.action for f in self.findings}
        if self.counts.get("quarantined", 0):
            actions.add("quarantine")
        for o in _ORDER[:-1]:
            if o in actions:
                return o
        return "pass"

    @property
    def failed(self) -> bool:
        """Whether an ``error`` rule fired."""
        return any(f.action == "error" for f in self.findings)

    def problems(
        self,
        *,
        actions: tuple[str, ...] = ("error", "quarantine", "warn", "normalise"),
        limit: int | None = None,
    ) -> list[Problem]:
        """Problem lines for the findings with these actions (``limit`` rows per finding)."""
        out: list[Problem] = []
        for f in self.findings:
            if f.action in actions:
                out.extend(f.problems(self.table, limit))
        return out

    def rules_frame(self) -> pd.DataFrame:
        """One row per finding: rule, action, column, count, message."""
        rows = [
            {
                "input": self.kind,
                "rule": f.rule,
                "action": f.action,
                "column": self.table.label(f.column),
                "count": f.n,
                "message": f.headline,
            }
            for f in self.findings
        ]
        return pd.DataFrame(rows, columns=["input", "rule", "action", "column", "count", "message"])

    def to_dict(self, max_examples: int) -> dict[str, Any]:
        """The JSON report of this input."""
        return {
            "input": self.kind,
            "source": self.source,
            "outcome": self.outcome,
            "counts": self.counts,
            "checked": self.checked,
            "findings": [f.summary(self.table, max_examples) for f in self.findings],
            "great_expectations": None if self.suite is None else self.suite.to_dict(),
            "read_notes": self.table.meta.get("notes", []),
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
        }


@dataclass
class ValidationReport:
    """The validation of every input of a run."""

    inputs: dict[str, InputReport]
    params_hash: str = ""
    created_at: str = field(
        default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    )
    max_examples: int = 20

    @property
    def failed(self) -> bool:
        """Whether any input hit an ``error`` rule."""
        return any(r.failed for r in self.inputs.values())

    def problems(self, **kwargs: Any) -> list[Problem]:
        """Problem lines of every input (see :meth:`InputReport.problems`)."""
        return [p for r in self.inputs.values() for p in r.problems(**kwargs)]

    def summary_frame(self) -> pd.DataFrame:
        """One row per input: outcome, the row counts, failures and GX results."""
        rows = []
        for kind, r in self.inputs.items():
            gx = r.suite
            rows.append(
                {
                    "input": kind,
                    "source": r.source,
                    "outcome": r.outcome,
                    **r.counts,
                    "errors": sum(f.n for f in r.findings if f.action == "error"),
                    "warnings": sum(f.n for f in r.findings if f.action == "warn"),
                    "gx_expectations": None if gx is None else len(gx.results),
                    "gx_failed": None if gx is None else len(gx.failed),
                }
            )
        return pd.DataFrame(rows)

    def rules_frame(self) -> pd.DataFrame:
        """Every finding of every input."""
        frames = [r.rules_frame() for r in self.inputs.values()]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def to_markdown(self) -> str:
        """The readable ``summary.md``: what was checked, what failed, with examples."""
        lines = [
            "# Input validation",
            "",
            f"Run at {self.created_at} (params sha256 `{self.params_hash[:12]}`). "
            f"Overall: **{'FAILED' if self.failed else 'passed'}**.",
            "",
            "`rows_in = accepted + quarantined + deduplicated + rejected`; rejected rows "
            "(an `error` rule) stop the run.",
            "",
            _md_table(self.summary_frame().drop(columns=["source"])),
            "",
        ]
        for kind, r in self.inputs.items():
            lines += _md_input(kind, r, self.max_examples)
        return "\n".join(lines) + "\n"


def _md_table(df: pd.DataFrame) -> str:
    if df.empty:
        return "_none_"
    cols = list(df.columns)
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in df.itertuples(index=False):
        out.append(
            "| "
            + " | ".join(
                ""
                if v is None or (isinstance(v, float) and np.isnan(v))
                else str(v).replace("|", "\\|")
                for v in row
            )
            + " |"
        )
    return "\n".join(out)


def _md_input(kind: str, r: InputReport, n: int) -> list[str]:
    lines = [f"## {kind}", "", f"Source: `{r.source}` — outcome **{r.outcome}**.", ""]
    lines.append("Checked: " + ", ".join(f"`{c}`" for c in r.checked) + ".")
    if r.suite is not None:
        lines.append(
            f"Great Expectations: {len(r.suite.results)} expectations "
            f"({sum(x['grouped'] for x in r.suite.results)} grouped, run by alphalab), "
            f"{len(r.suite.failed)} failed."
        )
    lines.append("")
    if not r.findings:
        return [*lines, "No problems found.", ""]
    lines.append(_md_table(r.rules_frame().drop(columns=["input"])))
    lines.append("")
    for f in r.findings:
        if f.action == "normalise" and not len(f.positions):
            continue
        desc = RULES[f.rule].description if f.rule in RULES else ""
        lines.append(f"**{f.rule}** ({f.action}, {f.n}){': ' + desc if desc else ''}")
        lines.append("")
        lines.append("```")
        lines += [p.line() for p in f.problems(r.table, min(n, 5))]
        lines.append("```")
        lines.append("")
    return lines
