"""Findings: what a check found, on which rows, and how it turns into problem lines.

A :class:`Finding` is produced by a vectorized check: one rule, one column, the positions of the
rows it concerns (into the input as read), and the action params assign. Problem lines
(``PATH:ROW:COLUMN: VALUE: RULE: message``) are only rendered for the rows that are shown.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from alphalab.config import Params
from alphalab.data.files import ATTRS_KEY, SOURCE_COLUMN, SOURCE_ROW, Problem
from alphalab.validation.rules import Action, resolve_policy

EMPTY = np.empty(0, dtype="int64")


@dataclass
class Table:
    """One input as read: the raw frame, where each row came from, and how to name its cells.

    Parameters
    ----------
    kind : str
        ``prices``, ``benchmark``, ``factors`` or ``signal``.
    source : str
        The path shown in problem lines (the user's file, or the raw Parquet table).
    raw : DataFrame
        The input exactly as read, on a RangeIndex (positions are row ids everywhere).
    rows : ndarray
        1-based source row of each position (CSV line, header = 1; Parquet row).
    colmap : dict
        Contract column → the file's own column name.
    source_column : ndarray, optional
        Per-row file column of the value (wide layout: the ticker's header).
    """

    kind: str
    source: str
    raw: pd.DataFrame
    rows: np.ndarray
    colmap: dict[str, str] = field(default_factory=dict)
    source_column: np.ndarray | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_frame(cls, kind: str, raw: pd.DataFrame, *, source: str | None = None) -> Table:
        """Wrap a raw input (from ingest or :func:`alphalab.data.files.read_file_table`)."""
        meta = dict(raw.attrs.get(ATTRS_KEY) or {})
        frame = raw.reset_index(drop=True)
        if SOURCE_ROW in frame.columns:
            rows = pd.to_numeric(frame[SOURCE_ROW], errors="coerce").fillna(0).to_numpy("int64")
        else:
            rows = np.arange(1, len(frame) + 1, dtype="int64")
        scol = (
            frame[SOURCE_COLUMN].astype("str").to_numpy(dtype=object)
            if SOURCE_COLUMN in frame.columns
            else None
        )
        shown = source or meta.get("source_path") or f"{kind}.parquet"
        return cls(kind, shown, frame, rows, dict(meta.get("columns") or {}), scol, meta)

    def label(self, column: str | None, position: int | None = None) -> str | None:
        """The file's name for a contract column (the ticker header for wide values)."""
        if column is None:
            return None
        if self.source_column is not None and column == "close" and position is not None:
            return str(self.source_column[position])
        return self.colmap.get(column, column)

    def cell(self, column: str | None, position: int) -> str | None:
        """The raw cell as text (``None`` when the column is not in the input)."""
        if column is None or column not in self.raw.columns:
            return None
        value = self.raw[column].iat[position]
        if isinstance(value, float) and np.isnan(value):
            return "nan"
        if isinstance(value, pd.Timestamp | np.datetime64 | dt.date):
            ts = pd.Timestamp(value)
            return ts.date().isoformat() if ts == ts.normalize() else ts.isoformat()
        return "" if value is None or value is pd.NA else str(value)


@dataclass
class Finding:
    """What one check found.

    ``positions`` index rows of :attr:`Table.raw`; empty for table- or column-level findings
    (then ``value`` describes the evidence). ``details`` (aligned with ``positions``) adds a
    row-specific suffix to ``message``; ``values`` overrides the shown raw cell.
    """

    rule: str
    action: Action
    column: str | None
    positions: np.ndarray
    message: str
    details: np.ndarray | None = None
    values: np.ndarray | None = None
    value: str | None = None
    count: int | None = None

    @property
    def headline(self) -> str:
        """The message without the row-specific part."""
        return self.message.rstrip(" :(")

    @property
    def n(self) -> int:
        """Rows (or cells) concerned."""
        if self.count is not None:
            return self.count
        return max(len(self.positions), 1)

    def problems(self, table: Table, limit: int | None = None) -> list[Problem]:
        """Render up to ``limit`` problems (all when ``None``), in row order."""
        if len(self.positions) == 0:
            return [
                Problem(
                    table.source,
                    None,
                    table.label(self.column),
                    self.value,
                    self.rule,
                    self.message,
                    self.action,
                )
            ]
        order = np.argsort(table.rows[self.positions], kind="stable")
        if limit is not None:
            order = order[:limit]
        out = []
        for i in order:
            pos = int(self.positions[i])
            value = self.values[i] if self.values is not None else table.cell(self.column, pos)
            msg = self.message if self.details is None else f"{self.message}{self.details[i]}"
            out.append(
                Problem(
                    table.source,
                    int(table.rows[pos]),
                    table.label(self.column, pos),
                    None if value is None else str(value),
                    self.rule,
                    msg,
                    self.action,
                )
            )
        return out

    def summary(self, table: Table, limit: int) -> dict[str, Any]:
        """JSON-ready summary: rule, action, column, count and example lines."""
        return {
            "rule": self.rule,
            "action": self.action,
            "column": table.label(self.column),
            "count": self.n,
            "message": self.message,
            "examples": [p.line() for p in self.problems(table, limit)],
        }


@dataclass
class Checker:
    """Builds findings with the action params assign to each rule."""

    params: Params
    today: dt.date

    def make(
        self,
        rule: str,
        column: str | None,
        where: np.ndarray | pd.Series,
        message: str,
        *,
        details: np.ndarray | list[str] | None = None,
        values: np.ndarray | list[str] | None = None,
        action: Action | None = None,
    ) -> Finding | None:
        """A finding for the rows in ``where`` (bool mask or positions); ``None`` if there are none."""
        arr = np.asarray(where)
        positions = np.flatnonzero(arr) if arr.dtype == bool else arr.astype("int64")
        if len(positions) == 0:
            return None
        return Finding(
            rule,
            action or resolve_policy(rule, self.params.validate_),
            column,
            positions,
            message,
            None if details is None else np.asarray(details, dtype=object),
            None if values is None else np.asarray(values, dtype=object),
        )

    def table_finding(
        self,
        rule: str,
        column: str | None,
        value: str | None,
        message: str,
        *,
        count: int | None = None,
        action: Action | None = None,
    ) -> Finding:
        """A finding about a whole table or column."""
        return Finding(
            rule,
            action or resolve_policy(rule, self.params.validate_),
            column,
            EMPTY,
            message,
            value=value,
            count=count,
        )

    def note(
        self, rule: str, column: str | None, message: str, where: np.ndarray | None = None
    ) -> Finding:
        """A normalisation: applied and reported, never a failure."""
        positions = (
            EMPTY
            if where is None
            else (
                np.flatnonzero(where)
                if np.asarray(where).dtype == bool
                else np.asarray(where, dtype="int64")
            )
        )
        count = None if where is None else len(positions)
        return Finding(rule, "normalise", column, positions, message, count=count)
