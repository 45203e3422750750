"""Readable tables from pipeline artifacts: number formats, HTML and LaTeX.

Every number shown by the dashboard and the static reports goes through :func:`format_stat`,
so a statistic looks the same everywhere and its unit is stated once (:data:`STAT_LABELS`).
Tables are built from the metrics documents of :mod:`alphalab.reporting.metrics` and from the
Parquet artifacts the stages write; nothing here computes a statistic.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from alphalab.reporting.metrics import RESERVED


class ReportInputError(ValueError):
    """An artifact handed to a table or figure lacks what it needs (names the column or key)."""


#: Display label of each statistic of the metrics vocabulary (DESIGN.md §5), with its unit.
STAT_LABELS: dict[str, str] = {
    "n_obs": "N obs.",
    "mean": "Mean / period (%)",
    "ann_return": "Ann. return (%)",
    "ann_vol": "Ann. vol. (%)",
    "sharpe": "Sharpe (ann.)",
    "sortino": "Sortino (ann.)",
    "calmar": "Calmar",
    "max_drawdown": "Max drawdown (%)",
    "max_drawdown_duration": "Max DD duration (periods)",
    "hit_rate": "Hit rate (%)",
    "skew": "Skewness",
    "kurtosis": "Kurtosis (Pearson)",
    "var_95": "VaR 95% (%)",
    "cvar_95": "CVaR 95% (%)",
    "var_95_cf": "VaR 95% Cornish–Fisher (%)",
    "cvar_95_cf": "CVaR 95% Cornish–Fisher (%)",
    "tail_ratio": "Tail ratio",
    "t_nw": "t (Newey–West)",
    "p_nw": "p (Newey–West)",
    "nw_lags": "NW lags",
    "alpha": "Alpha / period (%)",
    "alpha_ann": "Alpha ann. (%)",
    "t_alpha": "t(alpha)",
    "turnover": "Turnover (%)",
    "break_even_bps": "Break-even cost (bps)",
    "psr": "PSR",
    "dsr": "DSR",
    "n_trials": "Trials",
    "var_trials_sharpe": "Var. of trial Sharpes",
    "min_trl": "Min. track record (periods)",
    "pbo": "PBO",
    "ic": "Mean IC",
    "caar": "CAAR (%)",
    "car": "CAR (%)",
    "coef": "Coefficient",
    "se": "Std. error",
    "t": "t",
    "p": "p",
    "r2": "R²",
    "nobs": "N obs.",
    "n": "N",
    "t_cs": "t (cross-section)",
    "p_cs": "p (cross-section)",
    "patell_z": "z (Patell)",
    "p_patell": "p (Patell)",
    "bmp_t": "t (BMP)",
    "p_bmp": "p (BMP)",
    "kp_t": "t (Kolari–Pynnönen)",
    "p_kp": "p (Kolari–Pynnönen)",
    "corrado_t": "t (Corrado rank)",
    "p_corrado": "p (Corrado rank)",
    "gsign_z": "z (generalized sign)",
    "p_gsign": "p (generalized sign)",
    "median_car": "Median CAR (%)",
    "pos_frac": "Positive CAR (%)",
    "bhar_mean": "Mean BHAR (%)",
    "scar_mean": "Mean SCAR",
    "r_bar": "Mean cross-correlation",
    "t_bhar": "t (BHAR)",
    "p_bhar": "p (BHAR)",
    "top": "Top group",
    "bottom": "Bottom group",
    "n_top": "N top",
    "n_bottom": "N bottom",
    "car_top": "CAR top group (%)",
    "car_bottom": "CAR bottom group (%)",
    "welch_df": "Welch d.f. (CAR)",
    "scar_df": "Welch d.f. (SCAR)",
    "diff_car": "CAR top − bottom (%)",
    "diff_scar": "SCAR top − bottom",
    "welch_t": "Welch t (CAR)",
    "p_welch": "p (Welch, CAR)",
    "scar_t": "Welch t (SCAR)",
    "p_scar": "p (Welch, SCAR)",
    "total_return": "Total return (%)",
    "coverage": "Coverage (%)",
    "n_missing": "N missing",
}

_PERCENT_2 = frozenset(
    {
        "ann_return",
        "ann_vol",
        "max_drawdown",
        "hit_rate",
        "var_95",
        "cvar_95",
        "var_95_cf",
        "cvar_95_cf",
        "alpha_ann",
        "turnover",
        "total_return",
        "coverage",
        "pos_frac",
        "ann_mean",
        "oos_total_return",
        "oos_ann_mean",
        "is_ann_mean",
    }
)
_PERCENT_3 = frozenset({"mean", "alpha", "caar", "car", "aar"})
_INTEGER = frozenset({"n_obs", "nw_lags", "n_trials", "max_drawdown_duration", "nobs", "n"})
_PROB = frozenset({"psr", "dsr", "pbo", "p", "r2", "ic"})
_TWO_DP = frozenset(
    {
        "sharpe",
        "sortino",
        "calmar",
        "skew",
        "kurtosis",
        "tail_ratio",
        "t",
        "min_trl",
        "break_even_bps",
    }
)


#: Statistics shown by default in a series table, in this order (those present are kept).
CORE_STATS: tuple[str, ...] = (
    "n_obs",
    "ann_return",
    "ann_vol",
    "sharpe",
    "t_nw",
    "nw_lags",
    "max_drawdown",
    "hit_rate",
    "alpha",
    "t_alpha",
    "turnover",
    "psr",
    "dsr",
    "n_trials",
)


def is_missing(value: Any) -> bool:
    """Whether ``value`` stands for a missing number (``None``, NaN, ±inf, ``pd.NA``)."""
    if value is None or value is pd.NA:
        return True
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float | np.number):
        return not math.isfinite(float(value))
    return False


def format_stat(stat: str, value: Any) -> str:
    """Format one statistic for display, in the unit its label states.

    Parameters
    ----------
    stat : str
        A name from the metrics vocabulary (or a table column such as ``coef``, ``p``);
        unknown names get four significant digits.
    value : Any
        The number as stored in the artifact (decimals for returns). ``None``/NaN → ``"–"``.

    Returns
    -------
    str
        ``"12.34%"`` for annual returns (stored 0.1234), ``"0.81"`` for a Sharpe ratio,
        ``"0.950"`` for a probability, ``"251"`` for a count; strings and booleans unchanged.

    Examples
    --------
    >>> format_stat("ann_return", 0.1234), format_stat("sharpe", 0.8123), format_stat("n_obs", 251.0)
    ('12.34%', '0.81', '251')
    """
    if is_missing(value):
        return "–"
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        return str(value)
    return _format_number(stat.rsplit(".", 1)[-1], float(value))


def _format_number(key: str, x: float) -> str:
    low = key.lower()
    if low.startswith("var_trials"):
        return f"{x:.4g}"
    if (
        low.startswith(("p_", "pvalue"))
        or low == "p_adjusted"
        or low in _PROB
        or low.startswith(("psr", "dsr"))
    ):
        return f"{x:.3f}"
    if low.startswith("n_") or low in _INTEGER:
        return f"{x:,.0f}"
    if low.startswith("t_") or low.endswith(("_t", "_z")) or low in _TWO_DP or "sharpe" in low:
        return f"{x:.2f}"
    if "scar" in low or low.endswith("_df"):
        return f"{x:.4g}"
    if low in _PERCENT_2:
        return f"{x * 100:.2f}%"
    if low in _PERCENT_3 or "car" in low or "bhar" in low:
        return f"{x * 100:.3f}%"
    return f"{x:.4g}"


def stat_label(stat: str) -> str:
    """The display label of a statistic (its own name when it has none)."""
    return STAT_LABELS.get(stat, stat)


def require_columns(df: pd.DataFrame, columns: Iterable[str], *, what: str) -> None:
    """Raise :class:`ReportInputError` naming the columns of ``what`` that are missing."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ReportInputError(
            f"{what}: missing column(s) {missing}; has {list(map(str, df.columns))}"
        )


def series_names(doc: Mapping[str, Any]) -> list[str]:
    """The series (top-level keys holding statistics) of a metrics document, in file order."""
    return [k for k, v in doc.items() if k not in RESERVED and isinstance(v, Mapping)]


def stats_frame(
    doc: Mapping[str, Any],
    *,
    series: Sequence[str] | None = None,
    stats: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Series × statistics of a metrics document, as stored (raw numbers, no formatting).

    Parameters
    ----------
    doc : Mapping
        A ``reports/metrics/<stage>.json`` document (see :mod:`alphalab.reporting.metrics`).
    series : sequence of str, optional
        Rows to keep, in this order; default every series. Unknown names raise.
    stats : sequence of str, optional
        Columns to keep; default the :data:`CORE_STATS` present in any series, then the rest.

    Raises
    ------
    ReportInputError
        A requested series is not in the document.
    """
    names = series_names(doc)
    rows = list(series) if series is not None else names
    unknown = [s for s in rows if s not in names]
    if unknown:
        raise ReportInputError(f"metrics: series {unknown} not found; has {names}")
    present: list[str] = []
    for s in rows:
        present += [k for k in doc[s] if k not in present]
    if stats is None:
        cols = [c for c in CORE_STATS if c in present] + [c for c in present if c not in CORE_STATS]
    else:
        cols = list(stats)
    data = {c: [doc[s].get(c) for s in rows] for c in cols}
    frame = pd.DataFrame(data, index=pd.Index(rows, name="series"), dtype=object)
    return frame


def format_frame(df: pd.DataFrame, *, stats: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Format every cell with :func:`format_stat` using its column name (or ``stats[column]``)."""
    stats = stats or {}
    out = {
        c: [format_stat(stats.get(str(c), str(c)), v) for v in df[c].tolist()] for c in df.columns
    }
    return pd.DataFrame(out, index=df.index, columns=df.columns, dtype=object)


def stat_kind(series: str, stat: str) -> str:
    """How to format ``stat`` of ``series``: the mean of an IC series is an IC, not a return;
    the mean of a ``car_*`` series is a CAAR."""
    if stat == "mean" and series.startswith("ic"):
        return "ic"
    if stat == "mean" and series.startswith("car"):
        return "caar"
    return stat


def format_metrics_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Format a :func:`stats_frame` (series × statistics) cell by cell with :func:`stat_kind`.

    A column whose cells all share another kind is renamed to it (the ``mean`` of IC series
    becomes ``ic``), so its header states the right unit.
    """
    out: dict[str, list[str]] = {}
    for c in frame.columns:
        kinds = [stat_kind(str(s), str(c)) for s in frame.index]
        name = kinds[0] if kinds and len(set(kinds)) == 1 else str(c)
        out[name] = [format_stat(k, v) for k, v in zip(kinds, frame[c], strict=True)]
    return pd.DataFrame(out, index=frame.index, dtype=object)


def transpose_stats(frame: pd.DataFrame) -> pd.DataFrame:
    """Entities × statistics (raw) → statistics × entities, formatted, rows labelled by unit.

    Wide test batteries (one column per statistic) read better with one row per statistic.
    Non-numeric cells are shown as text.
    """
    rows = {}
    for stat in frame.columns:
        kinds = [stat_kind(str(e), str(stat)) for e in frame.index]
        rows[stat_label(kinds[0] if kinds else str(stat))] = [
            format_stat(k, v) for k, v in zip(kinds, frame[stat].tolist(), strict=True)
        ]
    out = pd.DataFrame.from_dict(
        rows, orient="index", columns=[str(e) for e in frame.index], dtype=object
    )
    out.index.name = "statistic"
    return out


def flatten(doc: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mapping → ``{"a.b": value}`` (lists are kept as they are)."""
    out: dict[str, Any] = {}
    for key, value in doc.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            out.update(flatten(value, name + "."))
        else:
            out[name] = value
    return out


def conventions_text(conventions: Mapping[str, Any] | None) -> str:
    """One line stating a metrics document's conventions (``key: value; …``), as stored."""
    if not conventions:
        return "conventions: not stated in the metrics file"
    parts = [f"{k}: {_plain(v)}" for k, v in flatten(conventions).items()]
    return "; ".join(parts)


def _plain(value: Any, limit: int = 160) -> str:
    if isinstance(value, list | tuple):
        if any(isinstance(v, Mapping) for v in value):
            text = "; ".join(
                "{" + ", ".join(f"{k}={v}" for k, v in m.items()) + "}"
                if isinstance(m, Mapping)
                else str(m)
                for m in value
            )
            text = f"{len(value)} entries: {text}"
        else:
            text = ", ".join(_plain(v) for v in value)
    else:
        text = "–" if value is None else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ------------------------------------------------------------------------------------------------
# HTML
# ------------------------------------------------------------------------------------------------
def html_table(
    df: pd.DataFrame,
    *,
    caption: str | None = None,
    notes: str | None = None,
    index: bool = True,
    max_rows: int | None = None,
    css_class: str = "al-table",
) -> str:
    """Render a (formatted) frame as an escaped HTML table with an optional caption and notes.

    Cells are converted with ``str`` (format them first with :func:`format_frame`); numbers
    are right-aligned. ``max_rows`` keeps the first rows and says how many were left out.
    """
    shown = df if max_rows is None or len(df) <= max_rows else df.head(max_rows)
    esc = html.escape
    numeric = [_numeric_column(shown[c]) for c in shown.columns]
    heads = ([f'<th class="al-text">{esc(str(df.index.name or ""))}</th>'] if index else []) + [
        f'<th class="{"al-num" if num else "al-text"}">{esc(stat_label(str(c)))}</th>'
        for c, num in zip(df.columns, numeric, strict=True)
    ]
    parts = ['<div class="al-table-block">']
    if caption:
        parts.append(f'<p class="al-caption">{esc(caption)}</p>')
    parts.append(f'<div class="al-table-wrap"><table class="{esc(css_class)}">')
    parts.append("<thead><tr>" + "".join(heads) + "</tr></thead>")
    parts.append("<tbody>")
    for label, row in zip(shown.index, shown.itertuples(index=False), strict=True):
        cells = [f'<th class="al-row">{esc(_cell(label))}</th>'] if index else []
        cells += [
            f'<td class="{"al-num" if num else "al-text"}">{esc(_cell(v))}</td>'
            for v, num in zip(row, numeric, strict=True)
        ]
        parts.append("<tr>" + "".join(cells) + "</tr>")
    parts.append("</tbody></table></div>")
    left = len(df) - len(shown)
    foot = []
    if left > 0:
        foot.append(f"{left:,} more row(s) not shown (first {len(shown):,} of {len(df):,}).")
    if notes:
        foot.append(esc(notes))
    if foot:
        parts.append('<p class="al-note">' + " ".join(foot) + "</p>")
    parts.append("</div>")
    return "".join(parts)


def _numeric_column(col: pd.Series) -> bool:
    cells = [_cell(v) for v in col.tolist()]
    filled = [c for c in cells if c != "–"]
    return bool(filled) and all(_NUMERIC.match(c) for c in filled)


_NUMERIC = re.compile(r"^[-+−]?[\d,.]+(%|e[-+]?\d+)?$")


def cell_text(value: Any) -> str:
    """A cell as shown: missing → ``–``, midnight timestamps as dates, else ``str``."""
    return _cell(value)


def _cell(value: Any) -> str:
    if is_missing(value):
        return "–"
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    return str(value)


def display_frame(
    df: pd.DataFrame, *, stats: Mapping[str, str] | None = None, keep: Sequence[str] = ()
) -> pd.DataFrame:
    """Format the numeric columns of an artifact table for display (others as text).

    Each numeric column is formatted as the statistic named by ``stats[column]`` or by the
    column itself; columns in ``keep`` are left untouched.
    """
    stats = stats or {}
    out: dict[str, list[str]] = {}
    for c in df.columns:
        col = df[c]
        if c in keep or not (
            pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)
        ):
            out[str(c)] = [_cell(v) for v in col.tolist()]
        else:
            out[str(c)] = [format_stat(stats.get(str(c), str(c)), v) for v in col.tolist()]
    return pd.DataFrame(out, index=df.index, dtype=object)


# ------------------------------------------------------------------------------------------------
# LaTeX
# ------------------------------------------------------------------------------------------------
_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "−": "$-$",
    "–": "--",
    "²": r"$^2$",
    "×": r"$\times$",
    "…": r"\ldots{}",
    "≠": r"$\neq$",
    "≤": r"$\leq$",
    "≥": r"$\geq$",
    "✓": "",
    "✗": "",
}


def latex_escape(text: str) -> str:
    """Escape LaTeX's special characters in plain text (a number's leading ``-`` becomes a
    math minus)."""
    if _NUMERIC.match(text) and text.startswith("-"):
        text = "−" + text[1:]
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in text).strip()


def latex_table(
    df: pd.DataFrame,
    *,
    caption: str,
    label: str,
    notes: str | None = None,
    index: bool = True,
) -> str:
    """A booktabs ``table`` environment from a (formatted) frame, ready for ``\\input``.

    Needs ``\\usepackage{booktabs}`` in the paper's preamble. Text is escaped; numbers are
    right-aligned; ``notes`` go under the table in ``\\footnotesize``.
    """
    if not re.fullmatch(r"[A-Za-z0-9:_\-.]+", label):
        raise ReportInputError(f"LaTeX label {label!r}: use letters, digits and : _ - . only")
    cols = ([str(df.index.name or "")] if index else []) + [stat_label(str(c)) for c in df.columns]
    align = ("l" if index else "") + "".join(
        "r" if _numeric_column(df[c]) else "l" for c in df.columns
    )
    lines = [
        r"\begin{table}[htbp]",
        r"\centering",
        rf"\caption{{{latex_escape(caption)}}}",
        rf"\label{{{label}}}",
        rf"\begin{{tabular}}{{{align}}}",
        r"\toprule",
        " & ".join(latex_escape(c) for c in cols) + r" \\",
        r"\midrule",
    ]
    for lab, row in zip(df.index, df.itertuples(index=False), strict=True):
        cells = ([_cell(lab)] if index else []) + [_cell(v) for v in row]
        lines.append(" & ".join(latex_escape(c) for c in cells) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    if notes:
        lines += [r"\par\smallskip", rf"{{\footnotesize {latex_escape(notes)}\par}}"]
    lines.append(r"\end{table}")
    return "\n".join(lines) + "\n"
