"""Helpers shared by the stage functions: writing tables and figures under ``reports/``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from alphalab.io import atomic_write_parquet, atomic_write_text


def write_table(df: pd.DataFrame, path: Path) -> Path:
    """Write a frame to Parquet atomically, keeping a meaningful index.

    Object columns mixing labels and numbers (e.g. groups ``"all"``, ``1.0`` …) are written as
    strings (``"all"``, ``"1"`` …) so that Parquet gets one type per column.
    """
    df = df.copy()
    for col in [c for c, t in df.dtypes.items() if t is np.dtype(object)]:
        df[col] = df[col].map(_label)
    return atomic_write_parquet(df, path)


def _label(v: object) -> object:
    if v is None or (isinstance(v, float) and v != v):
        return None
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return v if isinstance(v, str | bytes | bool | int | pd.Timestamp) else str(v)


def write_figure(fig: object, path: Path) -> Path:
    """Write a plotly figure as a self-contained HTML file (plotly.js embedded: works offline)."""
    html = fig.to_html(include_plotlyjs=True, full_html=True)  # type: ignore[attr-defined]
    return atomic_write_text(html, path)


def write_latex_html(
    df: pd.DataFrame, stem: Path, *, caption: str, float_format: str = "{:.4f}"
) -> None:
    """Write a table as ``stem.html`` and ``stem.tex`` (booktabs-style LaTeX for papers)."""
    fmt = {c: float_format.format for c in df.select_dtypes("number").columns}
    atomic_write_text(df.to_html(formatters=fmt, na_rep="", border=0), stem.with_suffix(".html"))
    tex = df.to_latex(formatters=fmt, na_rep="", caption=caption, escape=True)
    atomic_write_text(tex, stem.with_suffix(".tex"))
