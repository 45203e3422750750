"""Static reports: self-contained HTML pages and LaTeX tables from the pipeline's artifacts.

The ``report`` stage (``notebooks/90_report.ipynb``) calls :func:`build_reports`, which writes

- ``reports/html/<page>.html`` — one page per dashboard page (``summary.html`` is the
  Overview), with the same sections as the Voila dashboard (:mod:`alphalab.reporting.dashboard`)
  rendered for every option of a section's main control (every horizon, event window, model …).
  No code is shown; plotly.js is embedded in each page that has a figure, CSS is inline, and no
  page refers to anything outside itself (:func:`external_references` checks this), so the files
  open from disk with the network off;
- ``reports/tables/report/*.tex`` — booktabs tables for papers (:func:`write_latex_tables`).

Both folders are written to a temporary sibling and swapped into place at the end, so a failed
run never leaves a half-written report. Stages that have not run get their honest empty state.
"""

from __future__ import annotations

import datetime as dt
import functools
import html as _html
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from alphalab import config
from alphalab.reporting import dashboard as dash
from alphalab.reporting import tables

esc = _html.escape

_STATIC_CSS = """
body{margin:0;background:#fff}
.al-root{margin:0 auto;padding:12px 24px 40px}
h1.al-title{font-size:24px}
h4.al-variant{margin:14px 0 2px;font-size:14px;color:#08519c}
.al-footer{font-size:11px;color:#777;margin-top:24px;border-top:1px solid #eee;padding-top:6px}
.al-figure{margin:4px 0 10px}
"""

_EXTERNAL = (
    re.compile(r"<script\b[^>]*\bsrc\s*=\s*[\"']?\s*(?:https?:)?//[^\"'\s>]+", re.I),
    re.compile(r"<link\b[^>]*\bhref\s*=\s*[\"']?\s*(?:https?:)?//[^\"'\s>]+", re.I),
    re.compile(
        r"<(?:img|iframe|embed|source|audio|video)\b[^>]*\bsrc\s*=\s*[\"']?\s*(?:https?:)?//[^\"'\s>]+",
        re.I,
    ),
    re.compile(r"@import\s+(?:url\()?\s*[\"']?\s*(?:https?:)?//[^\"')\s;]+", re.I),
)


def external_references(text: str) -> list[str]:
    """Script, style, image and ``@import`` references in an HTML page that leave the file.

    Plain text and JavaScript string literals that merely mention a URL are not references;
    ``<script src>``, ``<link href>``, ``<img|iframe|… src>`` and CSS ``@import`` pointing at an
    ``http(s)://`` or protocol-relative ``//`` address are.
    """
    return [m.group(0) for pattern in _EXTERNAL for m in pattern.finditer(text)]


@functools.lru_cache(maxsize=1)
def plotly_js() -> str:
    """The plotly.js bundle shipped inside the ``plotly`` wheel (embedded, never fetched)."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


# ------------------------------------------------------------------------------------------------
# rendering
# ------------------------------------------------------------------------------------------------
_CONFIG = {"displaylogo": False, "responsive": True}


def block_html(block: dash.Block, *, div_id: str) -> str:
    """One block as HTML: fragments as they are, figures as a div plus their plotting script."""
    if block.kind == "html":
        return f'<div class="al-block al-block-{esc(block.key)}">{block.html}</div>'
    assert block.figure is not None
    fig = block.figure.to_html(
        full_html=False,
        include_plotlyjs=False,
        div_id=div_id,
        config=_CONFIG,
        include_mathjax=False,
    )
    return f'<div class="al-figure al-fig-{esc(block.key)}">{fig}</div>'


def _selections(section: dash.Section) -> Iterator[tuple[str | None, dict[str, Any]]]:
    base = section.defaults()
    control = next((c for c in section.controls if c.name == section.expand), None)
    if control is None:
        yield None, base
        return
    for option in control.options:
        yield f"{control.label}: {option}", {**base, control.name: option}


def section_html(section: dash.Section, *, ids: Iterator[int]) -> str:
    """A section rendered for every option of its ``expand`` control (defaults elsewhere)."""
    parts = [f'<h2 class="al-section-title">{esc(section.title)}</h2>']
    if section.intro:
        parts.append(dash.note(section.intro))
    for label, selection in _selections(section):
        if label is not None:
            parts.append(f'<h4 class="al-variant">{esc(label)}</h4>')
        for block in section.safe_render(selection):
            parts.append(block_html(block, div_id=f"al-fig-{next(ids)}"))
    return f'<section class="al-section al-section-{esc(section.key)}">{"".join(parts)}</section>'


def render_page(view: dash.PageView, *, title: str, footer: str = "") -> str:
    """A complete, self-contained HTML document for one page view."""
    counter = iter(range(1_000_000))
    body = "".join(section_html(s, ids=counter) for s in view.sections)
    needs_plotly = "Plotly.newPlot" in body
    script = f'<script type="text/javascript">{plotly_js()}</script>' if needs_plotly else ""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(view.info.title)} · {esc(title)}</title>"
        f"<style>{dash.CSS}{_STATIC_CSS}</style>{script}</head>"
        f'<body><main class="al-root al-page-{esc(view.info.name)}">'
        f"{dash.nav_html(view.info.name, target='report')}"
        f'<h1 class="al-title">{esc(view.info.title)}</h1>'
        f'<p class="al-note">{esc(title)}</p>'
        f"{body}{view.provenance}"
        f'<p class="al-footer">{esc(footer)}</p>'
        "</main></body></html>\n"
    )


# ------------------------------------------------------------------------------------------------
# LaTeX tables
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LatexTable:
    """A paper table: file stem, caption, the formatted frame and its notes."""

    name: str
    caption: str
    frame: pd.DataFrame
    notes: str = ""
    index: bool = True

    def render(self) -> str:
        """The ``table`` environment (see :func:`alphalab.reporting.tables.latex_table`)."""
        return tables.latex_table(
            self.frame,
            caption=self.caption,
            label=f"tab:{self.name}",
            notes=self.notes or None,
            index=self.index,
        )


def _conv(doc: Mapping[str, Any]) -> str:
    return "Conventions: " + tables.conventions_text(doc.get("conventions"))


def _metrics_latex(stage: str, doc: Mapping[str, Any]) -> Iterator[LatexTable]:
    for i, names in enumerate(dash.metrics_groups(doc, first=("long_short", "oos"))):
        frame = tables.stats_frame(doc, series=names)
        wide = len(frame.columns) > len(frame.index) + 4
        shown = tables.transpose_stats(frame) if wide else tables.format_metrics_frame(frame)
        yield LatexTable(
            f"{stage}_metrics_{i + 1}",
            f"{stage}: {', '.join(names[:6])}"
            f"{' …' if len(names) > 6 else ''} (reports/metrics/{stage}.json)",
            shown,
            _conv(doc),
        )


def _backtest_latex(art: dash.Artifacts) -> Iterator[LatexTable]:
    alphas = art.table(dash.ALPHAS, required=("series", "model", "alpha", "t_alpha"))
    if alphas is not None:
        frame = alphas.set_index(["series", "model"])
        frame.index = pd.Index([f"{a} / {b}" for a, b in frame.index], name="series / model")
        yield LatexTable(
            "backtest_alphas",
            "Factor alphas of the sorted portfolios",
            tables.display_frame(frame, stats={"n_obs": "n"}),
            "Alpha per period of the factors' frequency, in percent; HAC t-statistics.",
        )


def _events_latex(art: dash.Artifacts) -> Iterator[LatexTable]:
    summary = art.table(dash.EVENT_SUMMARY, required=("window", "group"))
    if summary is None:
        return
    for w in dict.fromkeys(summary["window"].astype(str)):
        sub = dash.rows_for(summary, "window", w).set_index("group")
        sub = sub.loc[list(dash.sorted_groups(sub.index))]
        yield LatexTable(
            f"events_{re.sub(r'[^A-Za-z0-9]+', '_', w).strip('_')}",
            f"Event study, window {w}: tests by signal group",
            tables.transpose_stats(sub),
            "CAR in percent; p-values two-sided. Groups: signal quantile before the event (1 = lowest).",
        )


def _regressions_latex(art: dash.Artifacts) -> Iterator[LatexTable]:
    coefs = art.table(dash.COEFFICIENTS, required=("model", "term", "coef"))
    if coefs is not None:
        keep = [
            c for c in ("model", "term", "coef", "se", "t", "p", "nobs", "r2") if c in coefs.columns
        ]
        frame = coefs.loc[:, keep]
        frame.index = pd.Index(
            [f"{m} / {t}" for m, t in zip(frame["model"], frame["term"], strict=True)],
            name="model / term",
        )
        frame = frame.drop(columns=["model", "term"])
        note = (
            "; ".join(
                dict.fromkeys(
                    f"{m}: {c}" for m, c in zip(coefs["model"], coefs["cov"], strict=True)
                )
            )
            if "cov" in coefs.columns
            else ""
        )
        yield LatexTable(
            "regressions_coefficients",
            "Regressions of forward returns on the signal",
            tables.display_frame(frame, stats={"nobs": "n"}),
            f"Standard errors: {note}." if note else "",
        )


def _robustness_latex(art: dash.Artifacts) -> Iterator[LatexTable]:
    grid = art.table(dash.GRID)
    if grid is None:
        return
    _, stats = dash.grid_columns(grid)
    if not stats:
        return
    stat = "sharpe" if "sharpe" in stats else stats[0]
    top = grid.assign(_v=pd.to_numeric(grid[stat], errors="coerce")).sort_values(
        "_v", ascending=False
    )
    top = top.drop(columns="_v").head(10).reset_index(drop=True)
    top.index = pd.RangeIndex(1, len(top) + 1, name="rank")
    n_ledger = dash.ledger_count(art)
    trials = f"; {n_ledger} trials in the ledger" if n_ledger is not None else ""
    yield LatexTable(
        "robustness_top",
        f"Top 10 of {len(grid)} specification variants by {stat}",
        tables.display_frame(top),
        f"Best of {len(grid)} variants{trials}: read with the deflated Sharpe ratio.",
    )


def _walkforward_latex(art: dash.Artifacts) -> Iterator[LatexTable]:
    gate = art.json(dash.GATE)
    if gate is not None:
        crit = dash.gate_criteria(gate)
        if not crit.empty:
            crit = crit.drop(columns=[c for c in ("description", "reason") if c in crit.columns])
            yield LatexTable(
                "walkforward_gate",
                f"Walk-forward gate: {gate.get('decision', '–')}",
                tables.display_frame(crit, stats={"threshold": "value", "measured": "value"}),
                "PASS requires every criterion; an unmeasurable criterion fails.",
            )


_LATEX: dict[str, Callable[[dash.Artifacts], Iterator[LatexTable]]] = {
    "backtest": _backtest_latex,
    "events": _events_latex,
    "regressions": _regressions_latex,
    "robustness": _robustness_latex,
    "walkforward": _walkforward_latex,
}


def latex_tables(art: dash.Artifacts) -> list[LatexTable]:
    """Every paper table the artifacts allow (metrics of each stage that ran, plus details)."""
    out: list[LatexTable] = []
    for stage in dash.METRIC_STAGES:
        doc = art.metrics(stage)
        if doc is not None:
            out += list(_metrics_latex(stage, doc))
            out += list(_LATEX[stage](art))
    return out


def write_latex_tables(art: dash.Artifacts, folder: Path) -> list[Path]:
    """Write each table of :func:`latex_tables` to ``folder/<name>.tex``."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for t in latex_tables(art):
        path = folder / f"{t.name}.tex"
        path.write_text(t.render(), encoding="utf-8")
        written.append(path)
    return written


# ------------------------------------------------------------------------------------------------
# the report stage
# ------------------------------------------------------------------------------------------------
@dataclass
class ReportResult:
    """What :func:`build_reports` wrote."""

    html: list[Path] = field(default_factory=list)
    latex: list[Path] = field(default_factory=list)

    def frame(self, root: Path | None = None) -> pd.DataFrame:
        """One row per file: path, kind, size, and external references found (must be 0)."""
        rows = []
        for kind, files in (("html", self.html), ("latex", self.latex)):
            for f in files:
                text = f.read_text(encoding="utf-8")
                rows.append(
                    {
                        "file": f.relative_to(root).as_posix() if root else str(f),
                        "kind": kind,
                        "kB": round(f.stat().st_size / 1024, 1),
                        "external references": len(external_references(text))
                        if kind == "html"
                        else 0,
                    }
                )
        return pd.DataFrame(rows)


class OfflineError(ValueError):
    """A rendered page refers to something outside itself (it would not work offline)."""


@dataclass(frozen=True)
class ReportDirs:
    """Where the report stage writes (defaults under ``reports/``)."""

    html: Path
    latex: Path

    @classmethod
    def default(cls, paths: config.Paths) -> ReportDirs:
        """``reports/html`` and ``reports/tables/report``."""
        return cls(paths.reports / "html", paths.reports / "tables" / "report")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _swap_in(tmp: Path, final: Path) -> None:
    old = final.with_name(f".{final.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        final.rename(old)
    tmp.rename(final)
    shutil.rmtree(old, ignore_errors=True)


def build_reports(
    paths: config.Paths | None = None,
    *,
    title: str = "alphalab study report",
    dirs: ReportDirs | None = None,
    now: dt.datetime | None = None,
) -> ReportResult:
    """Render every page to self-contained HTML and every paper table to LaTeX.

    Raises
    ------
    OfflineError
        A page refers to an external script, style sheet or image (nothing is written).
    """
    paths = paths or config.Paths()
    dirs = dirs or ReportDirs.default(paths)
    art = dash.Artifacts(paths)
    stamp = (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")
    footer = (
        f"Generated {stamp} by the alphalab report stage from the artifacts under the project "
        "root; figures use the embedded plotly.js and work offline."
    )
    tmp_dirs = []
    try:
        for final in (dirs.html, dirs.latex):
            final.parent.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
            tmp.chmod(0o777 & ~_umask())  # mkdtemp makes 0700; reports are for readers
            tmp_dirs.append(tmp)
        html_tmp, tex_tmp = tmp_dirs
        pages = []
        for name, info in dash.PAGES.items():
            text = render_page(dash.page_view(name, art), title=title, footer=footer)
            bad = external_references(text)
            if bad:
                raise OfflineError(f"{info.report}: external references {bad[:3]}")
            (html_tmp / info.report).write_text(text, encoding="utf-8")
            pages.append(info.report)
        latex = [p.name for p in write_latex_tables(art, tex_tmp)]
        _swap_in(html_tmp, dirs.html)
        _swap_in(tex_tmp, dirs.latex)
    finally:
        for t in tmp_dirs:
            shutil.rmtree(t, ignore_errors=True)
    return ReportResult([dirs.html / p for p in pages], [dirs.latex / p for p in latex])


def summary_lines(result: ReportResult, *, root: Path) -> Sequence[str]:
    """Short Markdown lines describing what was written (for the stage notebook)."""
    kb = sum(f.stat().st_size for f in result.html) / 1024
    return [
        f"Wrote **{len(result.html)} HTML pages** ({kb:,.0f} kB) to "
        f"`{result.html[0].parent.relative_to(root)}` and **{len(result.latex)} LaTeX tables**"
        + (f" to `{result.latex[0].parent.relative_to(root)}`." if result.latex else ".")
    ]
