"""The reviewer dashboard: artifact loaders, page views and the ipywidgets pages Voila serves.

Pages only **read** what the pipeline wrote under the project root (:class:`alphalab.config.Paths`);
nothing is recomputed. Any artifact may be missing: a page then says which stage produces it and
the command to run (``dvc repro STAGE``), never a number from elsewhere.

======================================  =========================================================
artifact                                contents (columns / keys; extra columns are shown too)
======================================  =========================================================
``data/manifest.json``                  raw tables (path, sha256, rows, columns, dates, …),
                                        ``coverage``, ``overlap``, ``source``, ``packages``
``data/interim/manifest.json``          validated tables with ``rows_in/accepted/quarantined/
                                        deduplicated``
``reports/validation/*.json``, ``.md``  per-input validation reports and ``summary.json``/``.md``
``data/processed/panel_summary.json``   panel coverage (``summary``, ``counts``)
``reports/metrics/<stage>.json``        DESIGN.md §5 shape (:mod:`alphalab.reporting.metrics`)
``reports/backtest/returns.parquet``    dates × ``g1…gN, long_short`` (+ ``_net``)
``reports/backtest/quantile_means…``    ``horizon, group, mean, lo, hi`` (``se`` …)
``reports/backtest/ic.parquet``         ``date, horizon, ic``
``reports/backtest/alphas.parquet``     ``series, model, alpha, t_alpha``, betas, ``n_obs`` …
``reports/backtest/counts.parquet``     dates × groups: names held
``reports/events/caar.parquet``         ``group, day`` (or ``event_day``), ``caar``, band
                                        ``lower/upper`` (or ``lo/hi``), optional ``window``
``reports/events/summary.parquet``      ``group, window, n, caar`` + test statistics, p-values
``reports/events/difference.parquet``   per window: top minus bottom group
``reports/events/firms.parquet``        per firm: ``CAR_<window>``, ``SCAR_…``, ``BHAR_…``
``reports/events/calendar_time…``       calendar-time portfolio alphas; ``excluded.parquet``
``reports/regressions/coefficients…``   ``model, term, coef`` (``se, t, p, nobs, r2, cov`` …)
``reports/regressions/fm_slopes…``      ``time`` × terms: Fama–MacBeth slopes per period
``reports/regressions/horse_race…``     ``spec, variable, coef`` …
``reports/robustness/grid.parquet``     one row per variant (and ``window``): variant columns,
                                        statistics, ``is_base``/``is_best`` flags
``reports/robustness/returns.parquet``  dates × variant ids
``reports/robustness/placebo.parquet``  placebo draws (observed values in the metrics file)
``reports/robustness/periods.parquet``  sub-periods and stress windows
``ledger/trials.jsonl``                 the trial ledger (path: ``robustness.ledger``)
``reports/walkforward/*.parquet``       ``oos_returns`` (+ ``fold, segment``), ``folds``,
                                        ``stress``
``reports/gate.json``, ``gate.md``      ``decision``, ``criteria`` (list or mapping by name),
                                        ``context``
======================================  =========================================================

Three layers, each usable alone:

1. :class:`Artifacts` reads files (``None`` when missing, :class:`ArtifactError` when malformed)
   and :func:`stage_status` says whether a stage ran, failed or has not run;
2. :func:`page_view` turns the artifacts into a :class:`PageView`: sections, each with its
   :class:`Control` options (what the pipeline produced) and a ``render(selection)`` returning
   :class:`Block` objects (HTML or a plotly figure) — shared with the static reports of
   :mod:`alphalab.reporting.html`;
3. :func:`build_page` / :func:`show` turn a view into ipywidgets (a nav bar, the sections with
   their controls, and the provenance block) for the Voila notebooks in ``notebooks/dashboard/``.
"""

from __future__ import annotations

import datetime as dt
import html as _html
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import plotly.graph_objects as go

from alphalab import config
from alphalab.reporting import figures, tables
from alphalab.reporting.tables import ReportInputError, format_stat, stat_label

StageName = Literal[
    "ingest", "validate", "panel", "backtest", "events", "regressions", "robustness", "walkforward"
]
PageName = Literal[
    "overview",
    "data_quality",
    "portfolio_sorts",
    "event_study",
    "regressions",
    "robustness",
    "walkforward",
    "provenance",
]
ControlKind = Literal["dropdown", "multi", "toggle"]
PLOTLY_MIME = "application/vnd.plotly.v1+json"


class ArtifactError(ReportInputError):
    """An artifact exists but cannot be read, or lacks a column or key a page needs."""


# ------------------------------------------------------------------------------------------------
# stages and artifacts
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StageInfo:
    """A pipeline stage as the dashboard sees it: its notebook and its key artifact."""

    name: str
    title: str
    notebook: str
    artifact: str

    @property
    def command(self) -> str:
        """The command that (re)produces the stage's outputs."""
        return f"dvc repro {self.name}"


STAGES: dict[str, StageInfo] = {
    s.name: s
    for s in (
        StageInfo("ingest", "Ingest", "01_ingest.ipynb", "data/manifest.json"),
        StageInfo("validate", "Validate", "02_validate.ipynb", "reports/validation/summary.json"),
        StageInfo("panel", "Panel", "03_panel.ipynb", "data/processed/panel_summary.json"),
        StageInfo("backtest", "Backtest", "10_backtest.ipynb", "reports/metrics/backtest.json"),
        StageInfo("events", "Event study", "20_event_study.ipynb", "reports/metrics/events.json"),
        StageInfo(
            "regressions", "Regressions", "30_regressions.ipynb", "reports/metrics/regressions.json"
        ),
        StageInfo(
            "robustness", "Robustness", "40_robustness.ipynb", "reports/metrics/robustness.json"
        ),
        StageInfo(
            "walkforward",
            "Walk-forward",
            "50_walkforward.ipynb",
            "reports/metrics/walkforward.json",
        ),
    )
}
METRIC_STAGES: tuple[str, ...] = ("backtest", "events", "regressions", "robustness", "walkforward")

RETURNS = "reports/backtest/returns.parquet"
QUANTILE_MEANS = "reports/backtest/quantile_means.parquet"
IC = "reports/backtest/ic.parquet"
ALPHAS = "reports/backtest/alphas.parquet"
CAAR = "reports/events/caar.parquet"
EVENT_SUMMARY = "reports/events/summary.parquet"
FIRMS = "reports/events/firms.parquet"
DIFFERENCE = "reports/events/difference.parquet"
CALENDAR_TIME = "reports/events/calendar_time.parquet"
EXCLUDED = "reports/events/excluded.parquet"
FM_SLOPES = "reports/regressions/fm_slopes.parquet"
HORSE_RACE = "reports/regressions/horse_race.parquet"
COEFFICIENTS = "reports/regressions/coefficients.parquet"
GRID = "reports/robustness/grid.parquet"
PLACEBO = "reports/robustness/placebo.parquet"
PERIODS = "reports/robustness/periods.parquet"
ROBUSTNESS_RETURNS = "reports/robustness/returns.parquet"
COUNTS = "reports/backtest/counts.parquet"
LEDGER = "ledger/trials.jsonl"
OOS = "reports/walkforward/oos_returns.parquet"
FOLDS = "reports/walkforward/folds.parquet"
STRESS = "reports/walkforward/stress.parquet"
GATE = "reports/gate.json"
GATE_MD = "reports/gate.md"
MANIFEST = "data/manifest.json"
INTERIM_MANIFEST = "data/interim/manifest.json"
VALIDATION = "reports/validation"
PANEL_SUMMARY = "data/processed/panel_summary.json"

_PRODUCERS: tuple[tuple[str, str], ...] = (
    ("reports/backtest/", "backtest"),
    ("reports/events/", "events"),
    ("reports/regressions/", "regressions"),
    ("reports/robustness/", "robustness"),
    ("ledger/", "robustness"),
    ("reports/walkforward/", "walkforward"),
    ("reports/gate", "walkforward"),
    ("reports/validation", "validate"),
    ("data/interim/", "validate"),
    ("data/processed/", "panel"),
    ("data/", "ingest"),
    ("reports/metrics/", ""),
)


def producer(rel: str) -> str | None:
    """The stage that writes artifact ``rel`` (``None`` when unknown)."""
    if rel.startswith("reports/metrics/"):
        stage = Path(rel).stem
        return stage if stage in STAGES else None
    return next((stage for prefix, stage in _PRODUCERS if rel.startswith(prefix)), None)


class Artifacts:
    """Read-only access to the pipeline's artifacts under one project root (cached per instance).

    Parameters
    ----------
    paths : Paths, optional
        Project locations; default :class:`alphalab.config.Paths` (``ALPHALAB_ROOT`` first).
    """

    def __init__(self, paths: config.Paths | None = None) -> None:
        self.paths = paths or config.Paths()
        self._cache: dict[tuple[str, str], Any] = {}

    @property
    def root(self) -> Path:
        """The project root every artifact path hangs off."""
        return self.paths.root

    def path(self, rel: str) -> Path:
        """Absolute path of an artifact given relative to the root."""
        return self.paths.root / rel

    def exists(self, rel: str) -> bool:
        """Whether the artifact file exists."""
        return self.path(rel).is_file()

    def _cached(self, kind: str, rel: str, load: Callable[[Path], Any]) -> Any:
        key = (kind, rel)
        if key not in self._cache:
            p = self.path(rel)
            self._cache[key] = load(p) if p.is_file() else None
        return self._cache[key]

    def json(self, rel: str) -> dict[str, Any] | None:
        """A JSON object artifact, or ``None`` if the file does not exist."""

        def load(p: Path) -> dict[str, Any]:
            try:
                doc = json.loads(p.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise ArtifactError(f"{rel}: not readable JSON ({exc})") from exc
            if not isinstance(doc, dict):
                raise ArtifactError(f"{rel}: expected a JSON object, got {type(doc).__name__}")
            return doc

        return self._cached("json", rel, load)

    def text(self, rel: str) -> str | None:
        """A text artifact (Markdown), or ``None``."""
        return self._cached("text", rel, lambda p: p.read_text(encoding="utf-8"))

    def table(self, rel: str, *, required: Sequence[str] = ()) -> pd.DataFrame | None:
        """A Parquet artifact, or ``None``; raises :class:`ArtifactError` naming missing columns."""

        def load(p: Path) -> pd.DataFrame:
            try:
                return pd.read_parquet(p)
            except Exception as exc:  # pyarrow raises several unrelated types
                raise ArtifactError(
                    f"{rel}: not readable Parquet ({type(exc).__name__}: {exc})"
                ) from exc

        df = self._cached("parquet", rel, load)
        if df is not None:
            missing = [c for c in required if c not in df.columns]
            if missing:
                raise ArtifactError(
                    f"{rel}: missing column(s) {missing}; has {list(map(str, df.columns))}"
                )
        return df

    def jsonl(self, rel: str) -> pd.DataFrame | None:
        """A JSON-lines artifact (one object per line) as a frame, or ``None``."""

        def load(p: Path) -> pd.DataFrame:
            rows = []
            for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1):
                if not line.strip():
                    continue
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise ArtifactError(f"{rel}:{i}: not a JSON object ({exc})") from exc
            return pd.json_normalize(rows) if rows else pd.DataFrame()

        return self._cached("jsonl", rel, load)

    def ledger_path(self) -> str:
        """The trial ledger, relative to the root: ``robustness.ledger`` of the current params
        (the default ``ledger/trials.jsonl`` when params are unreadable)."""
        try:
            rel = config.load_params(self.paths.params).robustness.ledger
        except (config.ParamsError, AttributeError):
            return LEDGER
        p = Path(rel)
        if p.is_absolute():
            try:
                return p.resolve().relative_to(self.root).as_posix()
            except ValueError:
                return LEDGER
        return p.as_posix()

    def ledger(self) -> pd.DataFrame | None:
        """The trial ledger as a frame (one row per line), or ``None`` if it does not exist."""
        return self.jsonl(self.ledger_path())

    def metrics(self, stage: str) -> dict[str, Any] | None:
        """``reports/metrics/<stage>.json``, or ``None`` if the stage has not run."""
        return self.json(f"reports/metrics/{stage}.json")

    def returns(self, rel: str = RETURNS) -> pd.DataFrame | None:
        """A dates × series return table (index ``date``), sorted by date."""
        df = self.table(rel)
        if df is None:
            return None
        if "date" in df.columns:
            df = df.set_index("date")
        if not isinstance(df.index, pd.DatetimeIndex):
            try:
                df.index = pd.DatetimeIndex(pd.to_datetime(df.index))
            except (TypeError, ValueError) as exc:
                raise ArtifactError(f"{rel}: index is not dates ({exc})") from exc
        return df.sort_index()

    def validation_reports(self) -> dict[str, dict[str, Any]]:
        """``{input: report}`` from ``reports/validation/<input>.json`` (summary excluded)."""
        folder = self.path(VALIDATION)
        if not folder.is_dir():
            return {}
        out = {}
        for f in sorted(folder.glob("*.json")):
            if f.stem != "summary":
                doc = self.json(f"{VALIDATION}/{f.name}")
                if doc is not None:
                    out[f.stem] = doc
        return out


# ------------------------------------------------------------------------------------------------
# stage status
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StageStatus:
    """Whether a stage's outputs are there: ``ok``, ``missing`` (never ran) or ``failed``."""

    stage: str
    state: Literal["ok", "missing", "failed"]
    artifact: str
    created_at: str | None = None
    detail: str = ""

    @property
    def command(self) -> str:
        """The command that produces the stage's outputs."""
        return STAGES[self.stage].command


def _failure_message(nb: Path) -> str:
    try:
        doc = json.loads(nb.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return ""
    for cell in doc.get("cells", []):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                return f"{out.get('ename', 'Error')}: {out.get('evalue', '')}".strip()
    return ""


def stage_status(art: Artifacts, stage: str) -> StageStatus:
    """Read whether ``stage`` ran (its key artifact), failed (``reports/failed/``), or neither."""
    info = STAGES[stage]
    failed_nb = art.paths.failed / info.notebook
    if failed_nb.is_file():
        msg = _failure_message(failed_nb)
        rel = failed_nb.relative_to(art.root).as_posix()
        return StageStatus(
            stage,
            "failed",
            info.artifact,
            detail=f"{msg} (executed notebook kept at {rel})".strip(),
        )
    if not art.exists(info.artifact):
        return StageStatus(stage, "missing", info.artifact)
    doc = art.json(info.artifact) or {}
    created = (doc.get("provenance") or {}).get("created_at") or doc.get("created_at")
    if not created:
        mtime = dt.datetime.fromtimestamp(art.path(info.artifact).stat().st_mtime, dt.UTC)
        created = f"{mtime.isoformat(timespec='seconds')} (file time)"
    if stage == "validate" and doc.get("failed"):
        bad = [k for k, v in (doc.get("inputs") or {}).items() if v.get("outcome") == "error"]
        return StageStatus(
            stage,
            "failed",
            info.artifact,
            created,
            f"validation failed for {', '.join(bad) or 'an input'}; see reports/validation/summary.md",
        )
    return StageStatus(stage, "ok", info.artifact, created)


# ------------------------------------------------------------------------------------------------
# view model
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Block:
    """One piece of a page: an HTML fragment or a plotly figure; ``key`` names it for tests/CSS."""

    kind: Literal["html", "figure"]
    key: str
    html: str = ""
    figure: go.Figure | None = None


def html_block(key: str, text: str) -> Block:
    """An HTML block."""
    return Block("html", key, html=text)


def figure_block(key: str, fig: go.Figure) -> Block:
    """A figure block."""
    return Block("figure", key, figure=fig)


@dataclass(frozen=True)
class Control:
    """A widget choosing among what the pipeline produced (options come from the artifacts)."""

    name: str
    label: str
    options: tuple[str, ...]
    value: str | tuple[str, ...]
    kind: ControlKind = "dropdown"

    def __post_init__(self) -> None:
        values = self.value if isinstance(self.value, tuple) else (self.value,)
        bad = [v for v in values if v not in self.options]
        if bad or not self.options:
            raise ReportInputError(
                f"control {self.name!r}: value(s) {bad} not among {self.options}"
            )


@dataclass
class Section:
    """A titled part of a page: its controls and how to render it for a selection."""

    key: str
    title: str
    render: Callable[[Mapping[str, Any]], list[Block]]
    controls: tuple[Control, ...] = ()
    intro: str = ""
    expand: str | None = None

    def defaults(self) -> dict[str, Any]:
        """The selection every control starts at."""
        return {c.name: c.value for c in self.controls}

    def safe_render(self, selection: Mapping[str, Any]) -> list[Block]:
        """Render, turning a bad or missing artifact into an error block that names it."""
        try:
            return self.render(selection)
        except ReportInputError as exc:
            return [error_block(str(exc))]
        except Exception as exc:  # shown on the page rather than a blank section
            return [error_block(f"unexpected {type(exc).__name__}: {exc}")]


@dataclass(frozen=True)
class PageInfo:
    """A dashboard page: notebook (Voila), static report file, and the stages it shows."""

    name: str
    title: str
    notebook: str
    report: str
    stages: tuple[str, ...]


PAGES: dict[str, PageInfo] = {
    p.name: p
    for p in (
        PageInfo("overview", "Overview", "01_overview.ipynb", "summary.html", METRIC_STAGES),
        PageInfo(
            "data_quality",
            "Data quality",
            "02_data_quality.ipynb",
            "data.html",
            ("ingest", "validate", "panel"),
        ),
        PageInfo(
            "portfolio_sorts",
            "Portfolio sorts",
            "03_portfolio_sorts.ipynb",
            "backtest.html",
            ("backtest",),
        ),
        PageInfo("event_study", "Event study", "04_event_study.ipynb", "events.html", ("events",)),
        PageInfo(
            "regressions",
            "Regressions",
            "05_regressions.ipynb",
            "regressions.html",
            ("regressions",),
        ),
        PageInfo(
            "robustness", "Robustness", "06_robustness.ipynb", "robustness.html", ("robustness",)
        ),
        PageInfo(
            "walkforward",
            "Walk-forward & gate",
            "07_walkforward_gate.ipynb",
            "walkforward.html",
            ("walkforward",),
        ),
        PageInfo(
            "provenance", "Provenance", "08_provenance.ipynb", "provenance.html", METRIC_STAGES
        ),
    )
}


@dataclass
class PageView:
    """Everything a page shows: its sections, the stages' status, and the provenance block."""

    info: PageInfo
    sections: list[Section]
    status: list[StageStatus]
    provenance: str
    notes: list[str] = field(default_factory=list)


# ------------------------------------------------------------------------------------------------
# HTML fragments
# ------------------------------------------------------------------------------------------------
esc = _html.escape


def error_block(message: str) -> Block:
    """A visible error naming the artifact and what was wrong."""
    return html_block(
        "error", f'<div class="al-error"><b>Could not show this part.</b> {esc(message)}</div>'
    )


def empty_block(status: StageStatus) -> Block:
    """The honest empty state of a stage: what is missing and the command to produce it."""
    info = STAGES[status.stage]
    if status.state == "failed":
        text = (
            f"<b>The {esc(info.title.lower())} stage failed.</b> {esc(status.detail)} "
            f"Fix the cause, then run <code>{esc(status.command)}</code>."
        )
        css = "al-empty al-failed"
    else:
        text = (
            f"<b>The {esc(info.title.lower())} stage has not run:</b> "
            f"<code>{esc(status.artifact)}</code> does not exist. Run "
            f"<code>{esc(status.command)}</code> (or <code>make repro</code> for every stage)."
        )
        css = "al-empty"
    return html_block(
        f"empty-{status.stage}", f'<div class="{css}" data-stage="{esc(status.stage)}">{text}</div>'
    )


def missing_block(rel: str) -> Block:
    """An optional artifact of a stage that ran is missing."""
    stage = producer(rel)
    cmd = STAGES[stage].command if stage in STAGES else "make repro"
    return html_block(
        "missing",
        f'<div class="al-empty"><code>{esc(rel)}</code> not found; '
        f"it is written by <code>{esc(cmd)}</code>.</div>",
    )


def note(text: str) -> str:
    """A small explanatory paragraph (escaped)."""
    return f'<p class="al-note">{esc(text)}</p>'


def metrics_table_html(
    doc: Mapping[str, Any],
    *,
    source: str,
    series: Sequence[str] | None = None,
    stats: Sequence[str] | None = None,
    max_rows: int | None = None,
) -> str:
    """A metrics document's series × statistics, formatted, with its conventions underneath."""
    frame = tables.stats_frame(doc, series=series, stats=stats)
    shown = tables.format_metrics_frame(frame)
    return tables.html_table(
        shown,
        caption=f"from {source}",
        max_rows=max_rows,
        notes="Conventions — " + tables.conventions_text(doc.get("conventions")),
    )


def metrics_groups(
    doc: Mapping[str, Any], *, first: Sequence[str] = (), overlap: float = 0.6
) -> list[list[str]]:
    """Series of a metrics document grouped by alike statistics, for one table per group.

    A series joins the first group whose statistics overlap its own by at least ``overlap``
    (Jaccard share), otherwise it starts a group. Groups holding a series named in ``first``
    come first; file order is kept otherwise.
    """
    groups: list[tuple[set[str], list[str]]] = []
    for name in tables.series_names(doc):
        keys = set(doc[name])
        for union, members in groups:
            if keys and len(keys & union) / len(keys | union) >= overlap:
                union |= keys
                members.append(name)
                break
        else:
            groups.append((keys, [name]))
    ordered = sorted(groups, key=lambda g: 0 if any(n in first for n in g[1]) else 1)
    rank = {n: i for i, n in enumerate(first)}
    return [sorted(members, key=lambda n: rank.get(n, len(rank))) for _, members in ordered]


def metrics_group_blocks(
    doc: Mapping[str, Any], *, source: str, first: Sequence[str] = (), collapsed: bool = False
) -> list[Block]:
    """Every series of a metrics document, one table per group of alike series, with the
    document's conventions under the last table (``collapsed``: inside a closed <details>)."""
    groups = metrics_groups(doc, first=first)
    if not groups:
        return [html_block("metrics-empty", note(f"{source} holds no series."))]
    parts = []
    for i, names in enumerate(groups):
        frame = tables.stats_frame(doc, series=names)
        last = i == len(groups) - 1
        notes = "Conventions — " + tables.conventions_text(doc.get("conventions")) if last else None
        if len(frame.columns) > len(frame.index) + 4:
            shown = tables.transpose_stats(frame)
        else:
            shown = tables.format_metrics_frame(frame)
        caption = f"{source}: {', '.join(names[:4])}{' …' if len(names) > 4 else ''}"
        parts.append(tables.html_table(shown, caption=caption, notes=notes))
    text = "".join(parts)
    if collapsed:
        n = sum(len(g) for g in groups)
        text = f"<details><summary>{n} series in {esc(source)}</summary>{text}</details>"
    return [html_block("metrics", text)]


def markdown_html(text: str) -> str:
    """Render an artifact's Markdown (raw HTML in it is escaped)."""
    import mistune

    md = mistune.create_markdown(escape=True, plugins=["table"])
    return f'<div class="al-md">{md(text)}</div>'


def _short(sha: Any, n: int = 12) -> str:
    return str(sha)[:n] if sha else "–"


# ------------------------------------------------------------------------------------------------
# provenance
# ------------------------------------------------------------------------------------------------
def current_params_hash(paths: config.Paths) -> tuple[str | None, str]:
    """Hash of the current ``params.yaml`` (``None`` and the reason when it cannot be read)."""
    try:
        return config.params_hash(config.load_params(paths.params)), ""
    except config.ParamsError as exc:
        return None, str(exc).splitlines()[0]


def current_data_hashes(art: Artifacts) -> dict[str, str]:
    """``{raw/<table>: sha256, interim/<table>: sha256}`` from the manifests on disk now."""
    out: dict[str, str] = {}
    for label, rel in (("raw", MANIFEST), ("interim", INTERIM_MANIFEST)):
        doc = art.json(rel) or {}
        for name, entry in (doc.get("tables") or {}).items():
            out[f"{label}/{name}"] = (entry or {}).get("sha256", "")
    return out


def trial_counts(doc: Mapping[str, Any]) -> list[int]:
    """The distinct ``n_trials`` values stated in a metrics document."""
    found = {
        int(v["n_trials"])
        for k, v in doc.items()
        if isinstance(v, Mapping)
        and k not in ("conventions", "provenance")
        and not tables.is_missing(v.get("n_trials"))
    }
    return sorted(found)


def provenance_rows(
    prov: Mapping[str, Any], *, current_hash: str | None, current_data: Mapping[str, str]
) -> list[tuple[str, str]]:
    """The provenance block as (label, text) lines, comparing with the current params and data."""
    git = prov.get("git") or {}
    commit = git.get("commit")
    dirty = git.get("dirty")
    git_text = (
        "not a git repository"
        if commit is None
        else f"{commit[:12]} ({'dirty tree: uncommitted changes' if dirty else 'clean tree'})"
    )
    phash = prov.get("params_hash")
    if phash is None:
        p_state = "not recorded"
    elif current_hash is None:
        p_state = "current params.yaml unreadable"
    else:
        p_state = (
            "matches current params.yaml"
            if phash == current_hash
            else "differs from current params.yaml — results may be stale; rerun dvc repro"
        )
    changed = prov.get("params_changed") or {}
    changed_text = ", ".join(f"{k} = {v}" for k, v in changed.items()) or "none (all defaults)"
    data = prov.get("data") or {}
    data_parts = []
    for name, sha in data.items():
        now = current_data.get(name)
        flag = "" if now is None else (" ✓" if now == sha else " ≠ current manifest")
        data_parts.append(f"{name} {_short(sha)}{flag}")
    pkgs = prov.get("packages") or {}
    return [
        ("stage", str(prov.get("stage") or "–")),
        ("run at", str(prov.get("created_at") or "–")),
        ("git commit", git_text),
        ("study", str(prov.get("study") or "–")),
        ("params hash", f"{_short(phash)} ({p_state})"),
        (f"params changed from defaults ({len(changed)})", changed_text),
        ("data (sha256)", "; ".join(data_parts) or "not recorded"),
        ("packages", ", ".join(f"{k} {v}" for k, v in pkgs.items()) or "not recorded"),
    ]


def provenance_html(art: Artifacts, stages: Sequence[str]) -> str:
    """The provenance block for ``stages``: one line set per stage that has a metrics file."""
    current_hash, _ = current_params_hash(art.paths)
    data_now = current_data_hashes(art)
    parts = ['<div class="al-prov"><div class="al-prov-title">Provenance</div>']
    shown = 0
    for stage in stages:
        doc = art.metrics(stage) if stage in METRIC_STAGES else None
        prov = (doc or {}).get("provenance")
        if not prov:
            continue
        shown += 1
        rows = provenance_rows(prov, current_hash=current_hash, current_data=data_now)
        trials = trial_counts(doc or {})
        if trials:
            rows.append(("trials behind best/deflated numbers", ", ".join(map(str, trials))))
        body = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in rows)
        parts.append(
            f'<details class="al-prov-stage" data-stage="{esc(stage)}"'
            f"{' open' if shown == 1 else ''}><summary>{esc(STAGES[stage].title)}: "
            f"{esc(rows[1][1])} · commit {esc(rows[2][1])}</summary>"
            f'<table class="al-kv">{body}</table></details>'
        )
    for label, rel in (
        ("raw data manifest", MANIFEST),
        ("validated data manifest", INTERIM_MANIFEST),
    ):
        doc = art.json(rel)
        if doc is not None:
            hashes = "; ".join(
                f"{k} {_short((v or {}).get('sha256'))}"
                for k, v in (doc.get("tables") or {}).items()
            )
            parts.append(
                f"<div>{esc(label)} <code>{esc(rel)}</code>: created "
                f"{esc(str(doc.get('created_at', '–')))}; {esc(hashes)}</div>"
            )
    if shown == 0 and len(parts) == 1:
        parts.append("<div>No provenance yet: nothing has run. Run <code>make repro</code>.</div>")
    parts.append("</div>")
    return "".join(parts)


# ------------------------------------------------------------------------------------------------
# overview
# ------------------------------------------------------------------------------------------------
#: Headline cards per stage: (series pattern, statistics). The first series of the metrics file
#: whose name fully matches a pattern is shown with those of the statistics it holds. A stage
#: whose patterns match nothing gets its first series with any of :data:`HEADLINE_STATS`.
HEADLINES: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "backtest": (
        ("long_short", ("ann_return", "sharpe", "t_nw", "max_drawdown")),
        ("long_short_net", ("ann_return", "sharpe", "t_nw", "max_drawdown")),
        ("alpha_ff3_long_short", ("alpha", "t_alpha")),
    ),
    "events": (
        ("car_all_.*", ("mean", "kp_t", "p_kp")),
        ("car_diff_.*", ("diff_car", "welch_t", "p_welch")),
    ),
    "regressions": (("fama_macbeth_.*", ("coef", "t", "p")), ("panel_ols_.*", ("coef", "t", "p"))),
    "robustness": (
        ("best_variant", ("sharpe", "psr", "dsr")),
        ("pbo", ("pbo",)),
        ("long_short", ("sharpe", "dsr")),
    ),
    "walkforward": (
        ("oos", ("sharpe", "t_nw", "dsr", "max_drawdown")),
        ("holdout", ("sharpe", "max_drawdown")),
        ("walkforward", ("pbo",)),
    ),
}
HEADLINE_STATS: tuple[str, ...] = (
    "ann_return",
    "sharpe",
    "t_nw",
    "max_drawdown",
    "alpha",
    "t_alpha",
    "mean",
    "psr",
    "dsr",
    "pbo",
)
#: Statistics whose meaning depends on how many variants were tried: shown with the trial count.
TRIAL_DEPENDENT = frozenset({"dsr", "pbo", "psr", "var_trials_sharpe"})
_MAX_CARDS_PER_SERIES = 4


def _headline_picks(stage: str, doc: Mapping[str, Any]) -> list[tuple[str, list[str]]]:
    names = tables.series_names(doc)
    picks = []
    for pattern, stats in HEADLINES.get(stage, ()):
        match = next((n for n in names if re.fullmatch(pattern, n)), None)
        if match is not None:
            present = [k for k in stats if k in doc[match]]
            if present:
                picks.append((match, present))
    if not picks:
        first = next((n for n in names if any(k in doc[n] for k in HEADLINE_STATS)), None)
        if first is not None:
            picks.append(
                (first, [k for k in HEADLINE_STATS if k in doc[first]][:_MAX_CARDS_PER_SERIES])
            )
    return picks


def headline_numbers(art: Artifacts) -> pd.DataFrame:
    """The Overview's headline numbers, read straight from ``reports/metrics/*.json``.

    Returns
    -------
    DataFrame
        One row per number: ``stage, series, stat, value`` (as stored), ``text`` (as shown),
        ``label``, ``n_obs``, ``n_trials`` (the series' own count, or for a trial-dependent
        statistic such as DSR the largest count the file states; ``None`` otherwise) and
        ``conventions`` (the stage's conventions line).
    """
    rows = []
    for stage in METRIC_STAGES:
        doc = art.metrics(stage)
        if doc is None:
            continue
        conv = tables.conventions_text(doc.get("conventions"))
        doc_trials = trial_counts(doc)
        for s, picked in _headline_picks(stage, doc):
            stats = doc[s]
            for k in picked:
                kind = tables.stat_kind(s, k)
                trials = stats.get("n_trials")
                if (
                    tables.is_missing(trials)
                    and (k in TRIAL_DEPENDENT or "best" in s)
                    and doc_trials
                ):
                    trials = max(doc_trials)
                rows.append(
                    {
                        "stage": stage,
                        "series": s,
                        "stat": k,
                        "value": stats[k],
                        "text": format_stat(kind, stats[k]),
                        "label": stat_label(kind),
                        "n_obs": stats.get("n_obs"),
                        "n_trials": trials,
                        "conventions": conv,
                    }
                )
    cols = ["stage", "series", "stat", "value", "text", "label", "n_obs", "n_trials", "conventions"]
    return pd.DataFrame(rows, columns=cols)


def _card(
    label: str,
    text: str,
    sub: str,
    *,
    attrs: Mapping[str, Any] | None = None,
    title: str = "",
    css: str = "",
) -> str:
    data = "".join(f' data-{k}="{esc(str(v))}"' for k, v in (attrs or {}).items())
    return (
        f'<div class="al-card {css}"{data} title="{esc(title)}"><div class="al-label">{esc(label)}</div>'
        f'<div class="al-value">{esc(text)}</div><div class="al-sub">{esc(sub)}</div></div>'
    )


def headline_cards_html(headlines: pd.DataFrame) -> str:
    """Headline cards grouped by stage, each group followed by that stage's conventions."""
    parts = []
    for stage, grp in headlines.groupby("stage", sort=False):
        cards = []
        for r in grp.itertuples(index=False):
            sub = f"{r.series}"
            if not tables.is_missing(r.n_obs):
                sub += f" · N = {format_stat('n_obs', r.n_obs)}"
            if not tables.is_missing(r.n_trials):
                sub += f" · {format_stat('n_trials', r.n_trials)} trials"
            cards.append(
                _card(
                    r.label,
                    r.text,
                    sub,
                    title=r.conventions,
                    attrs={
                        "stage": r.stage,
                        "series": r.series,
                        "stat": r.stat,
                        "value": repr(r.value),
                    },
                )
            )
        conv = grp["conventions"].iloc[0]
        parts.append(
            f'<div class="al-card-group"><h4>{esc(STAGES[str(stage)].title)} '
            f'<span class="al-src">reports/metrics/{esc(str(stage))}.json</span></h4>'
            f'<div class="al-cards">{"".join(cards)}</div>'
            f'<p class="al-note">Conventions — {esc(conv)}</p></div>'
        )
    return "".join(parts)


def gate_card_html(gate: Mapping[str, Any]) -> str:
    """The walk-forward gate decision as a badge with its criteria count."""
    decision = str(gate.get("decision", "–"))
    crit = criteria_rows(gate)
    passed = sum(1 for c in crit if c.get("passed") is True)
    css = "al-pass" if decision == "PASS" else "al-fail"
    return _card(
        "Walk-forward gate",
        decision,
        f"{passed}/{len(crit)} criteria passed · reports/gate.json",
        attrs={"stage": "walkforward", "stat": "decision", "value": decision},
        css=css,
    )


def status_table_html(statuses: Sequence[StageStatus]) -> str:
    """One row per stage: state, run time, artifact, and the command when it has not run."""
    rows = []
    for s in statuses:
        label = {"ok": "✓ ran", "missing": "not run", "failed": "✗ failed"}[s.state]
        action = "" if s.state == "ok" else f"run <code>{esc(s.command)}</code>"
        if s.state == "failed":
            action = f"{esc(s.detail)} — {action}"
        rows.append(
            f'<tr class="al-state-{s.state}"><th>{esc(STAGES[s.stage].title)}</th>'
            f"<td>{label}</td><td>{esc(s.created_at or '–')}</td>"
            f"<td><code>{esc(s.artifact)}</code></td><td>{action}</td></tr>"
        )
    return (
        '<table class="al-table al-status"><thead><tr><th>stage</th><th>state</th>'
        "<th>run at</th><th>artifact</th><th></th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )


def _study_html(art: Artifacts) -> str:
    man = art.json(MANIFEST)
    study = None
    for stage in METRIC_STAGES:
        prov = (art.metrics(stage) or {}).get("provenance") or {}
        study = study or prov.get("study")
    if man is None:
        return note(f"Study: {study or '–'}. No data manifest yet (run `dvc repro ingest`).")
    study = study or man.get("study")
    prices = (man.get("tables") or {}).get("prices") or {}
    dates = prices.get("dates") or {}
    src = man.get("source") or {}
    source = src.get("source") if isinstance(src, Mapping) else src
    text = (
        f"Study <b>{esc(str(study or '–'))}</b> · source <b>{esc(str(source or '–'))}</b> · "
        f"prices {esc(str(dates.get('first', '–')))} … {esc(str(dates.get('last', '–')))}, "
        f"{esc(format_stat('n', prices.get('n_tickers')))} tickers, "
        f"{esc(format_stat('n', prices.get('rows')))} rows (data/manifest.json)."
    )
    return f'<p class="al-study">{text}</p>'


def _overview(art: Artifacts) -> list[Section]:
    statuses = [stage_status(art, s) for s in STAGES]

    def status(_: Mapping[str, Any]) -> list[Block]:
        return [
            html_block("study", _study_html(art)),
            html_block("status", status_table_html(statuses)),
        ]

    def headlines(_: Mapping[str, Any]) -> list[Block]:
        h = headline_numbers(art)
        blocks = []
        if h.empty:
            blocks.append(
                html_block(
                    "headlines",
                    '<div class="al-empty">No results yet: no '
                    "<code>reports/metrics/*.json</code>. Run <code>dvc repro backtest"
                    "</code> (or <code>make repro</code>).</div>",
                )
            )
        else:
            blocks.append(html_block("headlines", headline_cards_html(h)))
        gate = art.json(GATE)
        if gate is not None:
            blocks.append(html_block("gate", f'<div class="al-cards">{gate_card_html(gate)}</div>'))
        return blocks

    sections = [
        Section(
            "status",
            "Pipeline status",
            status,
            intro="Which stages have produced results, when, and how to run the others.",
        ),
        Section(
            "headlines",
            "Headline numbers",
            headlines,
            intro="Read from reports/metrics/*.json as written by each stage; the conventions "
            "under each group say how the numbers are defined.",
        ),
    ]
    ran = [s for s in METRIC_STAGES if art.exists(STAGES[s].artifact)]
    if ran:

        def full(sel: Mapping[str, Any]) -> list[Block]:
            doc = art.metrics(sel["stage"]) or {}
            return [
                html_block(
                    "stage-metrics",
                    metrics_table_html(doc, source=f"reports/metrics/{sel['stage']}.json"),
                )
            ]

        sections.append(
            Section(
                "all-metrics",
                "All statistics of a stage",
                full,
                (Control("stage", "Stage", tuple(ran), ran[0]),),
                expand="stage",
            )
        )
    return sections


# ------------------------------------------------------------------------------------------------
# data quality
# ------------------------------------------------------------------------------------------------
def _manifest_frame(doc: Mapping[str, Any]) -> pd.DataFrame:
    rows = []
    for name, e in (doc.get("tables") or {}).items():
        e = e or {}
        dates = e.get("dates") or {}
        rows.append(
            {
                "table": name,
                "rows": e.get("rows"),
                "tickers": e.get("n_tickers"),
                "first": dates.get("first"),
                "last": dates.get("last"),
                "source": e.get("source"),
                "sha256": _short(e.get("sha256")),
            }
        )
    return pd.DataFrame(rows).set_index("table") if rows else pd.DataFrame()


def _validation_summary(art: Artifacts) -> pd.DataFrame:
    summary = art.json(f"{VALIDATION}/summary.json")
    if summary is not None and summary.get("inputs"):
        rows = [
            {
                "input": k,
                **{
                    c: v.get(c)
                    for c in (
                        "outcome",
                        "rows_in",
                        "accepted",
                        "quarantined",
                        "deduplicated",
                        "rejected",
                        "great_expectations",
                    )
                },
            }
            for k, v in summary["inputs"].items()
        ]
    else:
        rows = [
            {"input": k, "outcome": r.get("outcome"), **(r.get("counts") or {})}
            for k, r in art.validation_reports().items()
        ]
    return pd.DataFrame(rows)


def _data_quality(art: Artifacts) -> list[Section]:
    def raw(_: Mapping[str, Any]) -> list[Block]:
        man = art.json(MANIFEST)
        if man is None:
            return [empty_block(stage_status(art, "ingest"))]
        blocks = [
            html_block(
                "raw-tables",
                tables.html_table(
                    tables.display_frame(_manifest_frame(man), stats={"rows": "n", "tickers": "n"}),
                    caption="raw tables (data/manifest.json)",
                    notes="sha256: first 12 hex digits of the file hash.",
                ),
            )
        ]
        cov = man.get("coverage")
        if isinstance(cov, list) and cov:
            frame = pd.DataFrame(cov).dropna(axis=1, how="all")
            if "table" in frame.columns:
                frame = frame.set_index("table")
            blocks.append(
                html_block(
                    "coverage",
                    tables.html_table(
                        tables.display_frame(frame, stats={"rows": "n", "tickers": "n"}),
                        caption="coverage per table; *_last: last date each factor column is available",
                    ),
                )
            )
        overlap = man.get("overlap")
        if isinstance(overlap, Mapping) and overlap:
            frame = pd.DataFrame(overlap).T.rename_axis("factor model")
            blocks.append(
                html_block(
                    "overlap",
                    tables.html_table(
                        frame,
                        caption="months where prices and factors overlap (factor alphas use these)",
                    ),
                )
            )
        return blocks

    def validation(sel: Mapping[str, Any]) -> list[Block]:
        summary = _validation_summary(art)
        if summary.empty:
            return [empty_block(stage_status(art, "validate"))]
        blocks = [
            html_block(
                "validation-summary",
                tables.html_table(
                    tables.display_frame(
                        summary.set_index("input"),
                        stats=dict.fromkeys(
                            ("rows_in", "accepted", "quarantined", "deduplicated", "rejected"), "n"
                        ),
                    ),
                    caption="reports/validation/summary.json",
                    notes="rows_in = accepted + quarantined + deduplicated + rejected; rejected rows stop the run.",
                ),
            ),
            figure_block("validation-counts", figures.validation_counts(summary)),
        ]
        report = art.validation_reports().get(sel.get("input", ""))
        if report is not None:
            blocks.append(html_block("findings", _findings_html(report)))
        return blocks

    def interim(_: Mapping[str, Any]) -> list[Block]:
        man = art.json(INTERIM_MANIFEST)
        if man is None:
            return [empty_block(stage_status(art, "validate"))]
        rows = []
        for name, e in (man.get("tables") or {}).items():
            if "rows_in" in (e or {}):
                rows.append(
                    {
                        "table": name,
                        **{
                            c: e.get(c)
                            for c in ("rows_in", "accepted", "quarantined", "deduplicated")
                        },
                        "quarantine reasons": ", ".join(
                            f"{k}: {v}" for k, v in (e.get("quarantine_reasons") or {}).items()
                        )
                        or "–",
                        "sha256": _short(e.get("sha256")),
                    }
                )
        frame = pd.DataFrame(rows).set_index("table") if rows else pd.DataFrame()
        return [
            html_block(
                "interim",
                tables.html_table(
                    tables.display_frame(
                        frame,
                        stats=dict.fromkeys(
                            ("rows_in", "accepted", "quarantined", "deduplicated"), "n"
                        ),
                    ),
                    caption="validated tables (data/interim/manifest.json)",
                ),
            )
        ]

    def panel(_: Mapping[str, Any]) -> list[Block]:
        doc = art.json(PANEL_SUMMARY)
        if doc is None:
            return [empty_block(stage_status(art, "panel"))]
        frame = pd.DataFrame(doc.get("summary") or [])
        if "field" in frame.columns:
            frame = frame.set_index("field")
        for c in ("first", "last"):
            if c in frame.columns:
                frame[c] = frame[c].astype(str).str.slice(0, 10)
        blocks = [
            html_block(
                "panel-summary",
                tables.html_table(
                    tables.display_frame(
                        frame,
                        stats={
                            "cells": "n",
                            "dates_with_any": "n",
                            "names_per_date": "sharpe",
                            "share": "psr",
                        },
                    ),
                    caption=f"panel {doc.get('first', '–')} … {doc.get('last', '–')} "
                    "(data/processed/panel_summary.json)",
                    notes="share: filled cells / (sessions × tickers); names_per_date: mean names with a value.",
                ),
            )
        ]
        counts = doc.get("counts") or {}
        if counts:
            frame = pd.DataFrame(
                {"count": list(counts.values())}, index=pd.Index(list(counts), name="build step")
            )
            blocks.append(
                html_block(
                    "panel-counts",
                    tables.html_table(
                        tables.display_frame(frame, stats={"count": "n"}),
                        caption="panel build accounting",
                    ),
                )
            )
        return blocks

    inputs = tuple(art.validation_reports())
    val_controls = (Control("input", "Input", inputs, inputs[0]),) if inputs else ()
    return [
        Section(
            "raw", "Raw inputs", raw, intro="What ingest read: rows, tickers, dates and hashes."
        ),
        Section(
            "validation",
            "Validation",
            validation,
            val_controls,
            expand="input" if inputs else None,
            intro="Every rule checked per input; choose an input to see its findings.",
        ),
        Section("interim", "Validated tables", interim),
        Section("panel", "Point-in-time panel", panel),
    ]


def _findings_html(report: Mapping[str, Any]) -> str:
    findings = report.get("findings") or []
    head = (
        f"<h4>{esc(str(report.get('input')))}: outcome <b>{esc(str(report.get('outcome')))}</b> · "
        f"source <code>{esc(str(report.get('source')))}</code></h4>"
    )
    gx = report.get("great_expectations")
    if isinstance(gx, Mapping):
        head += note(
            f"Great Expectations suite {gx.get('suite', '')}: success = {gx.get('success')}, "
            f"{len(gx.get('failed') or [])} failed expectation(s)."
        )
    if not findings:
        return head + note(f"No problems found ({len(report.get('checked') or [])} rules checked).")
    frame = pd.DataFrame(
        [{k: f.get(k) for k in ("rule", "action", "column", "count", "message")} for f in findings]
    ).set_index("rule")
    body = tables.html_table(tables.display_frame(frame, stats={"count": "n"}), caption="findings")
    examples = [line for f in findings for line in (f.get("examples") or [])[:3]]
    if examples:
        body += (
            "<details><summary>examples (first 3 per rule)</summary><pre>"
            + esc("\n".join(examples))
            + "</pre></details>"
        )
    return head + body


# ------------------------------------------------------------------------------------------------
# portfolio sorts
# ------------------------------------------------------------------------------------------------
def _gross_net(names: Sequence[str]) -> tuple[list[str], list[str]]:
    gross = sorted(
        (
            n
            for n in names
            if not n.endswith("_net") and (re.fullmatch(r"g\d+", n) or n == "long_short")
        ),
        key=figures.group_key,
    )
    net = [f"{n}_net" for n in gross if f"{n}_net" in names]
    return gross, net


def _portfolio_sorts(art: Artifacts) -> list[Section]:
    doc = art.metrics("backtest") or {}
    names = tables.series_names(doc)
    gross, net = _gross_net(names)
    sections: list[Section] = []

    def perf(sel: Mapping[str, Any]) -> list[Block]:
        rows = gross if sel.get("costs", "gross") == "gross" else net
        rows = rows or [n for n in names if not n.startswith("ic")]
        return [
            html_block(
                "perf-table",
                metrics_table_html(doc, series=rows, source="reports/metrics/backtest.json"),
            )
        ]

    costs = ("gross", "net") if net else ("gross",)
    sections.append(
        Section(
            "performance",
            "Performance by group",
            perf,
            (Control("costs", "Returns", costs, "gross", "toggle"),),
            expand="costs",
            intro="g1 = lowest score … gN = highest; long_short = gN − g1.",
        )
    )
    ret = art.returns()
    if ret is None:
        sections.append(
            Section("cumulative", "Cumulative returns", lambda _: [missing_block(RETURNS)])
        )
    else:
        cols = [c for c in ret.columns if pd.api.types.is_numeric_dtype(ret[c])]
        g_cols, n_cols = _gross_net(cols)
        series = tuple(str(c) for c in (g_cols or cols))
        wanted = [series[0], series[-2] if len(series) > 2 else series[-1], "long_short"]
        default = tuple(dict.fromkeys(s for s in wanted if s in series)) or series[:1]

        def cumulative(sel: Mapping[str, Any]) -> list[Block]:
            chosen = list(sel["series"])
            if sel.get("costs") == "net":
                chosen = [f"{c}_net" for c in chosen if f"{c}_net" in ret.columns]
            if not chosen:
                return [
                    html_block(
                        "cumulative-empty", note("No series with net returns among the selection.")
                    )
                ]
            blocks = [figure_block("cumulative", figures.cumulative_returns(ret, columns=chosen))]
            ls = "long_short_net" if sel.get("costs") == "net" else "long_short"
            if ls in ret.columns:
                blocks.append(figure_block("drawdown", figures.drawdown(ret, column=ls)))
            return blocks

        ctl = [Control("series", "Series", series, default, "multi")]
        if n_cols:
            ctl.append(Control("costs", "Returns", ("gross", "net"), "gross", "toggle"))
        sections.append(
            Section(
                "cumulative",
                "Cumulative returns",
                cumulative,
                tuple(ctl),
                intro="From reports/backtest/returns.parquet (per-period simple returns).",
            )
        )
    sections.append(_horizon_section(art, doc))
    sections.append(_alphas_section(art))
    counts = art.returns(COUNTS)
    if counts is not None:
        sections.append(Section("counts", "Names per group", _counts_renderer(counts)))
    return sections


def _horizon_section(art: Artifacts, doc: Mapping[str, Any]) -> Section:
    qm = art.table(QUANTILE_MEANS, required=("horizon", "group", "mean", "lo", "hi"))
    ic = art.table(IC, required=("date", "horizon", "ic"))
    if qm is None and ic is None:
        return Section(
            "horizon",
            "Forward returns and IC by horizon",
            lambda _: [missing_block(QUANTILE_MEANS), missing_block(IC)],
        )
    found: list[str] = []
    for t in (qm, ic):
        if t is not None:
            found += [str(h) for h in t["horizon"].unique() if str(h) not in found]
    horizons = tuple(sorted(found, key=_horizon_key))

    def render(sel: Mapping[str, Any]) -> list[Block]:
        h = sel["horizon"]
        blocks: list[Block] = []
        if qm is not None and (qm["horizon"].astype(str) == h).any():
            blocks.append(figure_block("quantile-means", figures.quantile_means(qm, horizon=h)))
            sub = qm.loc[qm["horizon"].astype(str) == h].drop(columns=["horizon"])
            sub = sub.assign(_k=sub["group"].astype(str).map(figures.group_key)).sort_values("_k")
            sub = sub.drop(columns="_k").set_index("group")
            blocks.append(
                html_block(
                    "quantile-table",
                    tables.html_table(
                        tables.display_frame(
                            sub, stats=dict.fromkeys(("mean", "se", "lo", "hi"), "mean")
                        ),
                        caption=f"mean forward return by group, horizon {h} (reports/backtest/quantile_means.parquet)",
                    ),
                )
            )
        if ic is not None and (ic["horizon"].astype(str) == h).any():
            blocks.append(figure_block("ic", figures.ic_series(ic, horizon=h)))
        key = next((k for k in (f"ic_h{h}", f"ic_{h}", "ic") if k in doc), None)
        if key is not None:
            blocks.append(
                html_block(
                    "ic-stats",
                    metrics_table_html(
                        doc, series=[key], source=f"reports/metrics/backtest.json → {key}"
                    ),
                )
            )
        return blocks or [html_block("horizon-empty", note(f"Nothing stored for horizon {h}."))]

    return Section(
        "horizon",
        "Forward returns and IC by horizon",
        render,
        (Control("horizon", "Horizon", horizons, horizons[0]),),
        expand="horizon",
        intro="Horizons in sessions, as the backtest stage stored them.",
    )


def _counts_renderer(counts: pd.DataFrame) -> Callable[[Mapping[str, Any]], list[Block]]:
    cols = [c for c in counts.columns if pd.api.types.is_numeric_dtype(counts[c])]

    def render(_: Mapping[str, Any]) -> list[Block]:
        frame = counts.rename_axis("date").reset_index()
        fig = figures.time_series(
            frame,
            x="date",
            columns=cols,
            title="Names held per group and session (reports/backtest/counts.parquet)",
        )
        return [figure_block("counts", fig)]

    return render


def _horizon_key(h: str) -> tuple[int, float, str]:
    m = re.search(r"-?\d+(\.\d+)?", h)
    return (0, float(m.group(0)), h) if m else (1, 0.0, h)


def _alphas_section(art: Artifacts) -> Section:
    alphas = art.table(ALPHAS, required=("series", "model", "alpha", "t_alpha"))
    if alphas is None:
        return Section("alphas", "Factor alphas", lambda _: [missing_block(ALPHAS)])
    models = tuple(dict.fromkeys(alphas["model"].astype(str)))

    def render(sel: Mapping[str, Any]) -> list[Block]:
        sub = alphas.loc[alphas["model"].astype(str) == sel["model"]].drop(columns=["model"])
        sub = sub.set_index("series")
        stats = {
            c: ("t" if c.startswith("t_") else "n" if c == "n_obs" else "sharpe")
            for c in sub.columns
            if c.startswith(("beta", "b_", "t_")) or c in ("n_obs",)
        }
        stats |= {"alpha": "alpha", "t_alpha": "t_alpha"}
        return [
            html_block(
                "alphas-table",
                tables.html_table(
                    tables.display_frame(sub, stats=stats),
                    caption=f"factor model {sel['model']} (reports/backtest/alphas.parquet)",
                    notes="alpha per period of the factors' own frequency, in %; t-statistics use HAC "
                    "(Newey–West) standard errors as stored by the backtest stage.",
                ),
            )
        ]

    return Section(
        "alphas",
        "Factor alphas",
        render,
        (Control("model", "Model", models, models[0]),),
        expand="model",
    )


# ------------------------------------------------------------------------------------------------
# event study
# ------------------------------------------------------------------------------------------------
_WINDOW_TOKEN = re.compile(r"(m|p)?(\d+)")


def parse_window(label: str) -> tuple[int, int] | None:
    """Event days of a window label: ``"m1_p1"`` → ``(-1, 1)``, ``"[-5,+10]"`` → ``(-5, 10)``."""
    text = str(label)
    m = re.fullmatch(r"\[?\s*([-+]?\d+)\s*[,;]\s*([-+]?\d+)\s*\]?", text)
    if m:
        return int(m.group(1)), int(m.group(2))
    parts = text.split("_")
    if len(parts) != 2:
        return None
    out = []
    for part in parts:
        t = _WINDOW_TOKEN.fullmatch(part)
        if t is None:
            return None
        out.append(-int(t.group(2)) if t.group(1) == "m" else int(t.group(2)))
    return out[0], out[1]


def sorted_groups(values: Sequence[Any]) -> tuple[str, ...]:
    return tuple(sorted(dict.fromkeys(str(v) for v in values), key=figures.group_key))


def rows_for(df: pd.DataFrame, column: str, value: str) -> pd.DataFrame:
    return df.loc[df[column].astype(str) == value].drop(columns=[column])


def _event_windows(caar: pd.DataFrame | None, summary: pd.DataFrame | None) -> tuple[str, ...]:
    for t in (summary, caar):
        if t is not None and "window" in t.columns:
            return tuple(dict.fromkeys(t["window"].astype(str)))
    return ()


def _event_study(art: Artifacts) -> list[Section]:
    doc = art.metrics("events") or {}
    caar = art.table(CAAR, required=("group", "caar"))
    summary = art.table(EVENT_SUMMARY, required=("window", "group"))
    windows = _event_windows(caar, summary)
    sections: list[Section] = []
    if caar is None and summary is None:
        sections.append(
            Section(
                "window",
                "By event window",
                lambda _: [missing_block(CAAR), missing_block(EVENT_SUMMARY)],
            )
        )
    else:
        sections.append(_event_window_section(art, caar, summary, windows))
    sections.append(
        Section(
            "event-metrics",
            "All statistics (reports/metrics/events.json)",
            lambda _: metrics_group_blocks(
                doc, source="reports/metrics/events.json", collapsed=True
            ),
            intro="The same numbers as above, as the stage wrote them to its metrics file.",
        )
    )
    sections.append(
        Section(
            "calendar-time",
            "Calendar-time portfolio alphas",
            _table_renderer(art, CALENDAR_TIME, "calendar-time"),
        )
    )
    sections.append(
        Section(
            "excluded",
            "Excluded events",
            _table_renderer(art, EXCLUDED, "excluded", empty="No event was excluded."),
        )
    )
    return sections


def _event_window_section(
    art: Artifacts,
    caar: pd.DataFrame | None,
    summary: pd.DataFrame | None,
    windows: tuple[str, ...],
) -> Section:
    groups = sorted_groups(caar["group"]) if caar is not None else ()
    ranked = [g for g in groups if figures.group_key(g)[0] == 0]
    default = tuple(dict.fromkeys([*ranked[:1], *ranked[-1:], *(g for g in groups if g == "all")]))
    default = default or groups
    difference = art.table(DIFFERENCE)
    firms = art.table(FIRMS)

    def render(sel: Mapping[str, Any]) -> list[Block]:
        w = sel.get("window")
        blocks: list[Block] = []
        if caar is not None:
            span = parse_window(w) if w is not None else None
            label = w if (w is not None and "window" in caar.columns) else None
            fig = figures.caar(caar, groups=list(sel["groups"]), window=span, window_label=label)
            if label is None and w is not None:
                fig.update_layout(title_text=f"CAAR by event day; window {w} shaded")
            blocks.append(figure_block("caar", fig))
        else:
            blocks.append(missing_block(CAAR))
        if summary is not None and w is not None:
            sub = rows_for(summary, "window", w).set_index("group")
            sub = sub.loc[list(sorted_groups(sub.index))]
            blocks.append(
                html_block(
                    "event-tests",
                    tables.html_table(
                        tables.transpose_stats(sub),
                        caption=f"tests by group, window {w} (reports/events/summary.parquet)",
                        notes="Columns: signal groups (1 = lowest score) and all firms. t (cross-section): "
                        "Brown & Warner (1985); z (Patell 1976); t (BMP: Boehmer, Musumeci & Poulsen 1991); "
                        "t (Kolari & Pynnönen 2010, for event dates shared across firms); t (Corrado 1989 rank); "
                        "z (generalized sign, Cowan 1992); p: two-sided p-values.",
                    ),
                )
            )
        if difference is not None and w is not None and "window" in difference.columns:
            d = rows_for(difference, "window", w)
            if len(d):
                d.index = pd.Index([f"window {w}"])
                blocks.append(
                    html_block(
                        "event-difference",
                        tables.html_table(
                            tables.transpose_stats(d),
                            caption="top minus bottom group (reports/events/difference.parquet)",
                        ),
                    )
                )
        if firms is not None:
            blocks.append(html_block("event-firms", _firms_html(firms, w)))
        return blocks

    controls = []
    if windows:
        controls.append(Control("window", "Window", windows, windows[0]))
    if groups:
        controls.append(Control("groups", "Groups", groups, default, "multi"))
    return Section(
        "window",
        "By event window",
        render,
        tuple(controls),
        expand="window" if windows else None,
        intro="Event day 0 = the event session; choose a window (in sessions) and the groups to draw.",
    )


def _firms_html(firms: pd.DataFrame, window: str | None) -> str:
    per_window = [c for c in firms.columns if re.fullmatch(r"(S?CAR|BHAR)_.+", str(c))]
    keep = [c for c in firms.columns if c not in per_window]
    if window is not None and per_window:
        keep += [c for c in per_window if str(c).endswith(f"_{window}")]
    shown = firms.loc[:, keep]
    stats = {
        c: ("car" if str(c).startswith(("CAR", "BHAR")) else "scar_mean")
        for c in shown.columns
        if c in per_window
    }
    table = tables.html_table(
        tables.display_frame(shown, stats=stats | {"sigma": "sigma"}),
        index=False,
        max_rows=60,
        caption=f"per firm{', window ' + window if window else ''} (reports/events/firms.parquet)",
        notes="CAR / BHAR in %; SCAR standardized by the estimation-window prediction error.",
    )
    return f"<details><summary>per-firm results ({len(firms)} events)</summary>{table}</details>"


# ------------------------------------------------------------------------------------------------
# regressions
# ------------------------------------------------------------------------------------------------
def _regressions(art: Artifacts) -> list[Section]:
    doc = art.metrics("regressions") or {}
    sections = [
        Section(
            "regression-metrics",
            "Headline coefficients (reports/metrics/regressions.json)",
            lambda _: metrics_group_blocks(doc, source="reports/metrics/regressions.json"),
        )
    ]
    coefs = art.table(COEFFICIENTS, required=("model", "term", "coef"))
    if coefs is None:
        sections.append(
            Section("coefficients", "Coefficients", lambda _: [missing_block(COEFFICIENTS)])
        )
    else:
        sections.append(_coefficients_section(coefs))
    slopes = art.table(FM_SLOPES)
    if slopes is not None:
        sections.append(_slopes_section(slopes))
    race = art.table(HORSE_RACE)
    if race is not None and "spec" in race.columns:
        specs = tuple(dict.fromkeys(race["spec"].astype(str)))

        def horse(sel: Mapping[str, Any]) -> list[Block]:
            sub = rows_for(race, "spec", sel["spec"])
            sub = sub.set_index(sub.columns[0])
            return [
                html_block(
                    "horse-race",
                    tables.html_table(
                        tables.display_frame(sub, stats={"nobs": "n", "periods": "n"}),
                        caption=f"specification {sel['spec']} (reports/regressions/horse_race.parquet)",
                    ),
                )
            ]

        sections.append(
            Section(
                "horse-race",
                "Horse race of the signal's dimensions",
                horse,
                (Control("spec", "Specification", specs, specs[0]),),
                expand="spec",
            )
        )
    return sections


def _coefficients_section(coefs: pd.DataFrame) -> Section:
    models = tuple(dict.fromkeys(coefs["model"].astype(str)))

    def render(sel: Mapping[str, Any]) -> list[Block]:
        sub = rows_for(coefs, "model", sel["model"]).set_index("term")
        return [
            html_block(
                "coef-table",
                tables.html_table(
                    tables.display_frame(sub, stats={"nobs": "n", "periods": "n", "entities": "n"}),
                    caption=f"model {sel['model']} (reports/regressions/coefficients.parquet)",
                    notes="cov: the covariance estimator the stage used.",
                ),
            ),
            figure_block("coefficients", figures.coefficients(coefs, model=sel["model"])),
        ]

    return Section(
        "coefficients",
        "Coefficients by model",
        render,
        (Control("model", "Model", models, models[0]),),
        expand="model",
    )


def _slopes_section(slopes: pd.DataFrame) -> Section:
    x = next((c for c in ("time", "date") if c in slopes.columns), None)
    terms = tuple(
        c
        for c in slopes.columns
        if c not in (x, "n", "r2", "nobs") and pd.api.types.is_numeric_dtype(slopes[c])
    )
    if x is None or not terms:
        return Section(
            "slopes", "Fama–MacBeth slopes", _frame_renderer(slopes, FM_SLOPES, "slopes")
        )
    default = "score" if "score" in terms else terms[0]

    def render(sel: Mapping[str, Any]) -> list[Block]:
        fig = figures.time_series(
            slopes,
            x=x,
            columns=[sel["term"]],
            window=12,
            title=f"Fama–MacBeth cross-sectional slope of {sel['term']} per period "
            "(reports/regressions/fm_slopes.parquet)",
        )
        return [figure_block("fm-slopes", fig)]

    return Section(
        "slopes",
        "Fama–MacBeth slopes over time",
        render,
        (Control("term", "Term", terms, default),),
        expand="term",
        intro="The per-period slopes whose mean (with Newey–West s.e.) is the Fama–MacBeth coefficient.",
    )


# ------------------------------------------------------------------------------------------------
# robustness
# ------------------------------------------------------------------------------------------------
_GRID_STATS_FIRST = ("sharpe", "t_nw", "ann_return", "alpha", "t_alpha", "dsr", "psr")


def grid_columns(grid: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Split a robustness grid into (variant columns, statistic columns)."""
    known = tables.STAT_LABELS.keys() | {"p", "pbo"}
    stats = [c for c in grid.columns if c in known and pd.api.types.is_numeric_dtype(grid[c])]
    variants = [c for c in grid.columns if c not in stats]
    return variants, stats


def best_variant(grid: pd.DataFrame, *, stat: str) -> tuple[pd.Series, int]:
    """The variant with the highest ``stat`` (as stored) and the number of variants compared."""
    values = pd.to_numeric(grid[stat], errors="coerce")
    if values.notna().sum() == 0:
        raise ReportInputError(f"robustness grid: column {stat!r} has no finite values")
    return grid.loc[values.idxmax()], int(values.notna().sum())


def ledger_count(art: Artifacts) -> int | None:
    """Distinct trials in the ledger (duplicate ``key`` lines counted once), ``None`` if absent."""
    ledger = art.ledger()
    if ledger is None:
        return None
    return int(ledger["key"].nunique()) if "key" in ledger.columns else len(ledger)


def _robustness(art: Artifacts) -> list[Section]:
    doc = art.metrics("robustness") or {}
    sections = [
        Section(
            "robustness-metrics",
            "Overfitting-aware statistics (reports/metrics/robustness.json)",
            lambda _: [
                *metrics_group_blocks(
                    doc, source="reports/metrics/robustness.json", first=("best_variant", "pbo")
                ),
                html_block(
                    "trials-note",
                    note(
                        "PSR: probabilistic Sharpe ratio (Bailey & López de Prado 2012); DSR: "
                        "deflated Sharpe ratio for the number of trials (Bailey & López de Prado "
                        "2014); PBO: probability of backtest overfitting (Bailey, Borwein, López de "
                        "Prado & Zhu 2017); SPA: Hansen (2005); StepM: Romano & Wolf (2005); "
                        "haircuts: Harvey, Liu & Zhu (2016)."
                    ),
                ),
            ],
        )
    ]
    grid = art.table(GRID)
    if grid is None:
        sections.append(Section("grid", "Specification grid", lambda _: [missing_block(GRID)]))
    else:
        sections.append(_grid_section(art, grid))
        if "variant" in grid.columns:
            sections.append(_variant_section(art, grid))
    sections.append(_placebo_section(art, doc))
    periods = art.table(PERIODS)
    if periods is not None:
        sections.append(
            Section("periods", "Sub-periods and stress windows", _periods_renderer(periods))
        )
    sections.append(_ledger_section(art))
    return sections


def _grid_section(art: Artifacts, grid: pd.DataFrame) -> Section:
    variants, stats = grid_columns(grid)
    if not stats:
        raise ArtifactError(f"{GRID}: no statistic columns (expected some of {_GRID_STATS_FIRST})")
    stats = sorted(
        stats, key=lambda s: (_GRID_STATS_FIRST.index(s) if s in _GRID_STATS_FIRST else 99, s)
    )
    splits = [
        v
        for v in variants
        if v not in ("variant", "window")
        and 1 < grid[v].astype(str).nunique() <= 50
        and not pd.api.types.is_bool_dtype(grid[v])
        and not pd.api.types.is_datetime64_any_dtype(grid[v])
    ]
    by_opts = tuple(splits) or ("row",)
    windows = tuple(dict.fromkeys(grid["window"].astype(str))) if "window" in grid.columns else ()
    n_ledger = ledger_count(art)

    def render(sel: Mapping[str, Any]) -> list[Block]:
        stat, by = sel["stat"], sel["by"]
        g = grid if not windows else grid.loc[grid["window"].astype(str) == sel["window"]]
        if by not in g.columns:
            g = g.assign(row=[f"r{i}" for i in range(len(g))])
        best, n = best_variant(g, stat=stat)
        trials = (
            f"{n_ledger:,} trials in the ledger"
            if n_ledger is not None
            else "trial ledger not found"
        )
        spec = (
            ", ".join(f"{v} = {tables.cell_text(best[v])}" for v in variants if v in best.index)
            or f"row {best.name}"
        )
        where = f" in window {sel['window']}" if windows else ""
        card = _card(
            f"Best {stat_label(stat)}{where}",
            format_stat(stat, best[stat]),
            f"best of {n} variants · {trials}",
            attrs={"stat": stat, "value": repr(float(best[stat])), "variants": n},
            title="selected after the fact: read it with the DSR/PBO above",
        )
        base = None
        if "is_base" in g.columns and g["is_base"].astype(bool).any():
            base = float(
                pd.to_numeric(g.loc[g["is_base"].astype(bool), stat], errors="coerce").iloc[0]
            )
        top = g.assign(_v=pd.to_numeric(g[stat], errors="coerce")).sort_values(
            "_v", ascending=False
        )
        top = top.drop(columns="_v").head(10).reset_index(drop=True)
        top.index = pd.RangeIndex(1, len(top) + 1, name="rank")
        return [
            html_block(
                "best", f'<div class="al-cards">{card}</div>' + note(f"Best variant: {spec}.")
            ),
            figure_block("grid", figures.grid_distribution(g, stat=stat, by=by, mark=base)),
            html_block(
                "grid-top",
                tables.html_table(
                    tables.display_frame(top),
                    caption=f"top 10 of {len(g)} variants{where} by {stat} (reports/robustness/grid.parquet)",
                ),
            ),
        ]

    controls = [
        Control("stat", "Statistic", tuple(stats), stats[0]),
        Control("by", "Split by", by_opts, by_opts[0]),
    ]
    if windows:
        controls.append(
            Control("window", "Window", windows, "full" if "full" in windows else windows[0])
        )
    return Section(
        "grid",
        "Specification grid",
        render,
        tuple(controls),
        intro="Every variant the grid evaluated; none is hidden. The dotted line marks the "
        "base specification.",
    )


def _variant_section(art: Artifacts, grid: pd.DataFrame) -> Section:
    ids = tuple(dict.fromkeys(grid["variant"].astype(str)))
    flagged = {
        flag: str(grid.loc[grid[flag].astype(bool), "variant"].iloc[0])
        for flag in ("is_best", "is_base")
        if flag in grid.columns and grid[flag].astype(bool).any()
    }
    default = flagged.get("is_best", ids[0])
    returns = art.returns(ROBUSTNESS_RETURNS)

    def render(sel: Mapping[str, Any]) -> list[Block]:
        v = sel["variant"]
        rows = grid.loc[grid["variant"].astype(str) == v]
        label = rows["window"].astype(str) if "window" in rows.columns else rows.index.astype(str)
        variants, stats = grid_columns(rows)
        frame = rows.loc[:, stats].set_axis(pd.Index(list(label), name="window"))
        marks = [k.removeprefix("is_") for k, val in flagged.items() if val == v]
        spec = ", ".join(
            f"{c} = {tables.cell_text(rows[c].iloc[0])}"
            for c in variants
            if c not in ("variant", "window") and rows[c].astype(str).nunique() == 1
        )
        blocks = [
            html_block(
                "variant-table",
                note(f"Specification: {spec}.")
                + tables.html_table(
                    tables.transpose_stats(frame),
                    caption=f"variant {v}{' (' + ', '.join(marks) + ')' if marks else ''} "
                    "(reports/robustness/grid.parquet)",
                ),
            )
        ]
        if returns is not None and v in returns.columns:
            cols = list(
                dict.fromkeys([v, *(c for c in (flagged.get("is_base"),) if c in returns.columns)])
            )
            blocks.append(
                figure_block(
                    "variant-returns",
                    figures.cumulative_returns(
                        returns,
                        columns=cols,
                        title=f"Growth of 1: variant {v} vs the base specification (reports/robustness/returns.parquet)",
                    ),
                )
            )
        return blocks

    return Section(
        "variant",
        "One variant",
        render,
        (Control("variant", "Variant", ids, default),),
        intro="Any variant of the grid, with its statistics in every window; it starts at "
        "the stage's best variant.",
    )


def _periods_renderer(periods: pd.DataFrame) -> Callable[[Mapping[str, Any]], list[Block]]:
    def render(_: Mapping[str, Any]) -> list[Block]:
        blocks: list[Block] = []
        label = next((c for c in ("period", "scenario", "name") if c in periods.columns), None)
        if label is not None and "sharpe" in periods.columns:
            blocks.append(
                figure_block(
                    "periods",
                    figures.bars(
                        periods,
                        x=label,
                        columns=["sharpe"],
                        title="Sharpe ratio of the base specification by period",
                    ),
                )
            )
        blocks.append(
            html_block(
                "periods-table",
                tables.html_table(
                    tables.display_frame(periods), index=False, max_rows=60, caption=PERIODS
                ),
            )
        )
        return blocks

    return render


#: Where the robustness metrics store the observed value (and p-value) behind a placebo column.
_PLACEBO_OBSERVED = {"mean": ("observed", "pvalue"), "t_nw": ("observed_t", "pvalue_t")}


def placebo_actual(
    placebo: pd.DataFrame, stored: Mapping[str, Any], stat: str
) -> tuple[float | None, float | None]:
    """The observed value a placebo column is compared with, and its p-value, as stored."""
    for col in (f"actual_{stat}", "actual"):
        if col in placebo.columns and placebo[col].notna().any():
            return float(pd.to_numeric(placebo[col], errors="coerce").dropna().iloc[0]), None
    key, p_key = _PLACEBO_OBSERVED.get(stat, (f"observed_{stat}", f"pvalue_{stat}"))
    value = stored.get(key)
    if value is None or tables.is_missing(value):
        return None, None
    p = stored.get(p_key)
    return float(value), None if p is None or tables.is_missing(p) else float(p)


def _placebo_section(art: Artifacts, doc: Mapping[str, Any]) -> Section:
    placebo = art.table(PLACEBO)
    if placebo is None:
        return Section("placebo", "Placebo tests", lambda _: [missing_block(PLACEBO)])
    numeric = tuple(
        c
        for c in placebo.columns
        if pd.api.types.is_numeric_dtype(placebo[c])
        and c not in ("draw", "seed", "actual")
        and not c.startswith("actual_")
    )
    if not numeric:
        return Section(
            "placebo",
            "Placebo tests",
            lambda _: [
                html_block(
                    "placebo",
                    tables.html_table(
                        tables.display_frame(placebo), index=False, max_rows=50, caption=PLACEBO
                    ),
                )
            ],
        )

    found = doc.get("placebo")
    stored: Mapping[str, Any] = found if isinstance(found, Mapping) else {}

    def render(sel: Mapping[str, Any]) -> list[Block]:
        stat = sel["stat"]
        actual, p_value = placebo_actual(placebo, stored, stat)
        blocks = [
            figure_block(
                "placebo", figures.placebo_histogram(placebo[stat], stat=stat, actual=actual)
            )
        ]
        if p_value is not None:
            blocks.append(
                html_block(
                    "placebo-p",
                    note(
                        f"Observed {stat} {format_stat(stat, actual)}; placebo p-value "
                        f"{format_stat('p', p_value)} ({len(placebo)} draws; reports/metrics/robustness.json → placebo)."
                    ),
                )
            )
        if actual is None:
            blocks.append(
                html_block(
                    "placebo-note", note("The placebo file stores no actual value to compare.")
                )
            )
        return blocks

    return Section(
        "placebo",
        "Placebo tests",
        render,
        (Control("stat", "Statistic", numeric, numeric[0]),),
        expand="stat",
    )


def _ledger_section(art: Artifacts) -> Section:
    def render(_: Mapping[str, Any]) -> list[Block]:
        ledger = art.ledger()
        if ledger is None:
            return [missing_block(art.ledger_path())]
        if "key" in ledger.columns:
            ledger = ledger.drop_duplicates("key")
        rel = art.ledger_path()
        blocks = [
            html_block("ledger-count", note(f"{len(ledger):,} distinct trials recorded in {rel}."))
        ]
        by = next((c for c in ("stage", "source", "kind") if c in ledger.columns), None)
        if by is not None:
            counts = ledger.groupby(by).size().rename("trials").to_frame()
            blocks.append(
                html_block(
                    "ledger-by",
                    tables.html_table(
                        tables.display_frame(counts, stats={"trials": "n"}),
                        caption=f"trials by {by}",
                    ),
                )
            )
        return blocks

    return Section(
        "ledger",
        "Trial ledger",
        render,
        intro="Every variant evaluated anywhere in the project is counted here; DSR uses this count.",
    )


# ------------------------------------------------------------------------------------------------
# walk-forward and gate
# ------------------------------------------------------------------------------------------------
_CRITERIA_ORDER = (
    "description",
    "quantity",
    "rule",
    "threshold",
    "measured",
    "value",
    "passed",
    "reason",
)


def criteria_rows(gate: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The gate's criteria as dicts with a ``name`` (stored as a list or a mapping by name)."""
    crit = gate.get("criteria") or []
    if isinstance(crit, Mapping):
        return [
            {"name": k, **(v if isinstance(v, Mapping) else {"value": v})} for k, v in crit.items()
        ]
    if isinstance(crit, list):
        return [dict(c) for c in crit if isinstance(c, Mapping)]
    raise ArtifactError(
        f"{GATE}: 'criteria' must be a list or an object, got {type(crit).__name__}"
    )


def gate_criteria(gate: Mapping[str, Any]) -> pd.DataFrame:
    """The gate's criteria, one row each, in a readable column order."""
    rows = criteria_rows(gate)
    if not rows:
        return pd.DataFrame()
    frame = pd.DataFrame(rows)
    if "name" in frame.columns:
        frame = frame.set_index("name")
    order = [c for c in _CRITERIA_ORDER if c in frame.columns]
    frame = frame.loc[:, order + [c for c in frame.columns if c not in order]]
    if "passed" in frame.columns:
        frame["passed"] = frame["passed"].map({True: "✓ pass", False: "✗ fail"}).fillna("–")
    return frame


def gate_html(gate: Mapping[str, Any]) -> str:
    """The gate's decision and its criteria table."""
    decision = str(gate.get("decision", "–"))
    css = "al-pass" if decision == "PASS" else "al-fail"
    out = f'<div class="al-decision {css}" data-value="{esc(decision)}">Gate decision: {esc(decision)}</div>'
    crit = gate_criteria(gate)
    if not crit.empty:
        stats = {c: "value" for c in ("threshold", "measured", "value")}
        out += tables.html_table(
            tables.display_frame(crit, stats=stats),
            caption="criteria (reports/gate.json)",
            notes="A criterion that could not be measured fails; PASS needs every criterion.",
        )
    context = gate.get("context")
    if isinstance(context, Mapping) and context:
        frame = pd.DataFrame(
            {"value": [tables.format_stat(str(k), v) for k, v in context.items()]},
            index=pd.Index([str(k) for k in context], name="context"),
        )
        out += tables.html_table(frame, caption="what the gate saw")
    return out


def _walkforward(art: Artifacts) -> list[Section]:
    doc = art.metrics("walkforward") or {}

    def gate(_: Mapping[str, Any]) -> list[Block]:
        g = art.json(GATE)
        if g is None:
            return [missing_block(GATE)]
        blocks = [html_block("gate", gate_html(g))]
        md = art.text(GATE_MD)
        if md:
            blocks.append(
                html_block(
                    "gate-md",
                    "<details><summary>reports/gate.md (sign-off sheet)</summary>"
                    + markdown_html(md)
                    + "</details>",
                )
            )
        return blocks

    sections = [
        Section(
            "gate",
            "Gate",
            gate,
            intro="Whether the signal passes the pre-registered out-of-sample criteria.",
        ),
        Section(
            "walkforward-metrics",
            "Statistics (reports/metrics/walkforward.json)",
            lambda _: metrics_group_blocks(
                doc, source="reports/metrics/walkforward.json", first=("oos", "holdout")
            ),
        ),
    ]
    oos = art.returns(OOS)
    if oos is None:
        sections.append(Section("oos", "Out-of-sample returns", lambda _: [missing_block(OOS)]))
    else:
        sections.append(_oos_section(oos))
    folds = art.table(FOLDS)
    if folds is None:
        sections.append(Section("folds", "Folds", lambda _: [missing_block(FOLDS)]))
    else:
        sections.append(Section("folds", "Folds", _folds_renderer(folds)))
    stress = art.table(STRESS)
    if stress is None:
        sections.append(Section("stress", "Stress tests", lambda _: [missing_block(STRESS)]))
    else:
        sections.append(
            Section("stress", "Stress tests and crisis windows", _stress_renderer(stress))
        )
    return sections


_NOT_RETURNS = frozenset({"fold", "turnover", "n", "n_names", "segment"})


def _oos_section(oos: pd.DataFrame) -> Section:
    cols = tuple(
        c for c in oos.columns if pd.api.types.is_numeric_dtype(oos[c]) and c not in _NOT_RETURNS
    )
    regions: list[tuple[str, object, object]] = []
    if "segment" in oos.columns:
        seg = oos["segment"].astype(str)
        for name in list(dict.fromkeys(seg))[1:]:
            idx = oos.index[seg.to_numpy() == name]
            regions.append((name, idx.min(), idx.max()))

    def render(sel: Mapping[str, Any]) -> list[Block]:
        fig = figures.cumulative_returns(
            oos,
            columns=list(sel["series"]),
            regions=regions,
            title="Out-of-sample growth of 1 (test folds chained; reports/walkforward/oos_returns.parquet)",
        )
        return [figure_block("oos", fig)]

    return Section(
        "oos",
        "Out-of-sample returns",
        render,
        (Control("series", "Series", cols, cols[:2], "multi"),),
        intro="Each test window uses only parameters chosen on its own training window.",
    )


def _folds_renderer(folds: pd.DataFrame) -> Callable[[Mapping[str, Any]], list[Block]]:
    def render(_: Mapping[str, Any]) -> list[Block]:
        blocks: list[Block] = []
        bars = [c for c in ("is_sharpe", "oos_sharpe") if c in folds.columns]
        if "fold" in folds.columns and bars:
            blocks.append(
                figure_block(
                    "folds",
                    figures.bars(
                        folds,
                        x="fold",
                        columns=bars,
                        title="Sharpe ratio per fold: in-sample (chosen variant) vs out-of-sample",
                    ),
                )
            )
        blocks.append(
            html_block(
                "folds-table",
                tables.html_table(
                    tables.display_frame(folds), index=False, max_rows=60, caption=FOLDS
                ),
            )
        )
        return blocks

    return render


def _stress_renderer(stress: pd.DataFrame) -> Callable[[Mapping[str, Any]], list[Block]]:
    def render(_: Mapping[str, Any]) -> list[Block]:
        blocks: list[Block] = []
        bars = [c for c in ("sharpe", "base_sharpe") if c in stress.columns]
        if "scenario" in stress.columns and bars:
            blocks.append(
                figure_block(
                    "stress",
                    figures.bars(
                        stress,
                        x="scenario",
                        columns=bars,
                        title="Sharpe ratio per stress scenario vs the base record",
                    ),
                )
            )
        blocks.append(
            html_block(
                "stress-table",
                tables.html_table(
                    tables.display_frame(stress), index=False, max_rows=60, caption=STRESS
                ),
            )
        )
        return blocks

    return render


def _table_renderer(
    art: Artifacts, rel: str, key: str, *, empty: str = ""
) -> Callable[[Mapping[str, Any]], list[Block]]:
    def render(_: Mapping[str, Any]) -> list[Block]:
        df = art.table(rel)
        if df is None:
            return [missing_block(rel)]
        if df.empty and empty:
            return [html_block(key, note(empty))]
        return _frame_renderer(df, rel, key)(_)

    return render


def _frame_renderer(
    df: pd.DataFrame, rel: str, key: str
) -> Callable[[Mapping[str, Any]], list[Block]]:
    def render(_: Mapping[str, Any]) -> list[Block]:
        return [
            html_block(
                key,
                tables.html_table(tables.display_frame(df), index=False, max_rows=60, caption=rel),
            )
        ]

    return render


# ------------------------------------------------------------------------------------------------
# provenance page
# ------------------------------------------------------------------------------------------------
def _provenance(art: Artifacts) -> list[Section]:
    ran = tuple(s for s in METRIC_STAGES if (art.metrics(s) or {}).get("provenance"))

    def compare(_: Mapping[str, Any]) -> list[Block]:
        current, why = current_params_hash(art.paths)
        rows = []
        for s in ran:
            p = art.metrics(s)["provenance"]  # type: ignore[index]
            git = p.get("git") or {}
            rows.append(
                {
                    "stage": s,
                    "run at": p.get("created_at"),
                    "commit": _short(git.get("commit")),
                    "dirty": git.get("dirty"),
                    "params hash": _short(p.get("params_hash")),
                    "params = current": None
                    if current is None
                    else p.get("params_hash") == current,
                    "params changed": len(p.get("params_changed") or {}),
                }
            )
        blocks = [
            html_block(
                "current",
                note(
                    f"Current params.yaml hash: {_short(current) if current else 'unreadable: ' + why}."
                ),
            )
        ]
        if rows:
            blocks.append(
                html_block(
                    "compare",
                    tables.html_table(
                        tables.display_frame(
                            pd.DataFrame(rows).set_index("stage"), stats={"params changed": "n"}
                        ),
                        caption="one row per stage's reports/metrics/<stage>.json provenance",
                        notes="Results are comparable when the stages share commit, params hash and data.",
                    ),
                )
            )
        else:
            blocks.append(
                html_block(
                    "compare",
                    '<div class="al-empty">No stage has written provenance '
                    "yet. Run <code>make repro</code>.</div>",
                )
            )
        return blocks

    def detail(sel: Mapping[str, Any]) -> list[Block]:
        doc = art.metrics(sel["stage"]) or {}
        prov = doc.get("provenance") or {}
        rows = provenance_rows(
            prov,
            current_hash=current_params_hash(art.paths)[0],
            current_data=current_data_hashes(art),
        )
        kv = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in rows)
        blocks = [
            html_block(
                "prov-detail", f'<table class="al-kv" data-stage="{esc(sel["stage"])}">{kv}</table>'
            )
        ]
        changed = prov.get("params_changed") or {}
        if changed:
            frame = pd.DataFrame(
                {"value": [json.dumps(v) for v in changed.values()]},
                index=pd.Index(list(changed), name="param"),
            )
            blocks.append(
                html_block(
                    "params-changed",
                    tables.html_table(frame, caption="params that differ from defaults"),
                )
            )
        data = prov.get("data") or {}
        if data:
            now = current_data_hashes(art)
            frame = pd.DataFrame(
                {
                    "sha256 at run": list(data.values()),
                    "current manifest": [now.get(k, "–") for k in data],
                },
                index=pd.Index(list(data), name="table"),
            )
            blocks.append(
                html_block("data-hashes", tables.html_table(frame, caption="data hashes"))
            )
        pk = prov.get("packages") or {}
        if pk:
            blocks.append(
                html_block(
                    "packages",
                    tables.html_table(
                        pd.DataFrame(
                            {"version": list(pk.values())}, index=pd.Index(list(pk), name="package")
                        ),
                        caption="package versions at run time",
                    ),
                )
            )
        return blocks

    sections = [Section("compare", "Stages side by side", compare)]
    if ran:
        sections.append(
            Section(
                "detail",
                "Provenance of one stage",
                detail,
                (Control("stage", "Stage", ran, ran[0]),),
                expand="stage",
            )
        )
    return sections


# ------------------------------------------------------------------------------------------------
# page assembly
# ------------------------------------------------------------------------------------------------
_BUILDERS: dict[str, Callable[[Artifacts], list[Section]]] = {
    "overview": _overview,
    "data_quality": _data_quality,
    "portfolio_sorts": _portfolio_sorts,
    "event_study": _event_study,
    "regressions": _regressions,
    "robustness": _robustness,
    "walkforward": _walkforward,
    "provenance": _provenance,
}


def page_view(name: PageName | str, art: Artifacts | None = None) -> PageView:
    """Build a page's view from the artifacts (empty states for stages that have not run).

    Raises
    ------
    KeyError
        Unknown page name.
    """
    if name not in PAGES:
        raise KeyError(f"unknown page {name!r}; pages: {', '.join(PAGES)}")
    art = art or Artifacts()
    info = PAGES[name]
    status = [stage_status(art, s) for s in info.stages]
    prov = provenance_html(art, info.stages)
    if info.name not in ("overview", "provenance", "data_quality") and status[0].state != "ok":
        sections = [Section("empty", info.title, lambda _: [empty_block(status[0])])]
        return PageView(info, sections, status, prov)
    try:
        sections = _BUILDERS[info.name](art)
    except ReportInputError as exc:
        message = str(exc)
        sections = [Section("error", info.title, lambda _: [error_block(message)])]
    return PageView(info, sections, status, prov)


def nav_html(current: str, *, target: Literal["notebook", "report"] = "notebook") -> str:
    """The navigation bar linking every page (Voila notebooks or static report files)."""
    links = []
    for p in PAGES.values():
        href = p.notebook if target == "notebook" else p.report
        css = "al-current" if p.name == current else ""
        links.append(
            f'<a class="{css}" href="{esc(href)}" data-page="{esc(p.name)}">{esc(p.title)}</a>'
        )
    return f'<nav class="al-nav">{"".join(links)}</nav>'


CSS = """
.al-root{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#222;max-width:1200px}
.al-nav{display:flex;flex-wrap:wrap;gap:4px;padding:6px 0 8px;border-bottom:1px solid #ddd;margin-bottom:6px}
.al-nav a{padding:4px 10px;border-radius:4px;text-decoration:none;color:#08519c;font-size:14px}
.al-nav a:hover{background:#eef3fa}
.al-nav a.al-current{background:#08519c;color:#fff}
.al-title{font-size:22px;font-weight:600;margin:6px 0 2px}
.al-section-title{font-size:17px;font-weight:600;margin:16px 0 2px;border-bottom:1px solid #eee}
.al-note{font-size:12px;color:#555;margin:4px 0}
.al-study{font-size:14px}
.al-table-wrap{overflow-x:auto;max-width:100%}
.al-table{border-collapse:collapse;font-size:13px;margin:6px 0}
.al-caption{font-size:12px;color:#555;margin:8px 0 0}
.al-table th,.al-table td{padding:3px 9px;border-bottom:1px solid #eee;vertical-align:top}
.al-table thead th{border-bottom:2px solid #bbb;font-weight:600}
.al-table th{text-align:left}
.al-table th.al-num{text-align:right}
.al-num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.al-kv th{text-align:left;padding:2px 10px 2px 0;font-weight:600;vertical-align:top;white-space:nowrap}
.al-kv td{padding:2px 0;overflow-wrap:anywhere}
.al-table td.al-text{overflow-wrap:anywhere;min-width:60px}
.al-cards{display:flex;flex-wrap:wrap;gap:10px;margin:6px 0}
.al-card{border:1px solid #d5d9de;border-radius:6px;padding:8px 12px;min-width:150px;background:#fff}
.al-card .al-label{font-size:12px;color:#555}
.al-card .al-value{font-size:22px;font-weight:600}
.al-card .al-sub{font-size:11px;color:#777}
.al-card.al-pass{border-color:#31a354;background:#edf8ee}.al-card.al-fail{border-color:#de2d26;background:#fdecea}
.al-card-group h4{margin:10px 0 0;font-size:14px}.al-src{font-weight:400;color:#888;font-size:11px}
.al-decision{display:inline-block;font-size:18px;font-weight:700;padding:6px 14px;border-radius:6px;margin:6px 0}
.al-decision.al-pass{background:#31a354;color:#fff}.al-decision.al-fail{background:#de2d26;color:#fff}
.al-empty{background:#fff8e1;border-left:4px solid #f0ad4e;padding:10px 12px;margin:6px 0;font-size:14px}
.al-empty.al-failed,.al-error{background:#fdecea;border-left:4px solid #d9534f;padding:10px 12px;margin:6px 0}
.al-prov{font-size:12px;color:#333;background:#f5f6f8;padding:8px 12px;border-radius:6px;margin-top:18px}
.al-prov-title{font-weight:700;margin-bottom:4px}
.al-prov details{margin:2px 0}
.al-state-missing td{color:#8a6d3b}.al-state-failed td{color:#a94442}
.al-md table{border-collapse:collapse;font-size:12px}.al-md td,.al-md th{border:1px solid #ddd;padding:2px 6px}
pre{white-space:pre-wrap;font-size:11px}
"""


def figure_bundle(fig: go.Figure) -> dict[str, Any]:
    """The Jupyter MIME bundle of a figure (rendered offline by the jupyterlab-plotly extension)."""
    spec = json.loads(fig.to_json())
    spec["config"] = {"displaylogo": False, "responsive": True}
    title = ((spec.get("layout") or {}).get("title") or {}).get("text", "")
    return {PLOTLY_MIME: spec, "text/plain": f"<plotly figure: {title}>"}


# ------------------------------------------------------------------------------------------------
# widgets (Voila)
# ------------------------------------------------------------------------------------------------
class BlockArea:
    """A VBox of widgets showing a list of blocks; updated in place when the kinds match."""

    def __init__(self, key: str) -> None:
        import ipywidgets as w

        self.box = w.VBox()
        self.box.add_class(f"al-area-{key}")
        self.kinds: list[tuple[Literal["html", "figure"], str]] = []

    def update(self, blocks: Sequence[Block]) -> None:
        """Show ``blocks``, reusing the existing widgets where possible."""
        import ipywidgets as w

        kinds = [(b.kind, b.key) for b in blocks]
        if kinds != self.kinds:
            children = []
            for b in blocks:
                child = w.HTML() if b.kind == "html" else w.Output()
                child.add_class(f"al-{'block' if b.kind == 'html' else 'fig'}-{b.key}")
                children.append(child)
            self.box.children = tuple(children)
            self.kinds = kinds
        for child, b in zip(self.box.children, blocks, strict=True):
            if b.kind == "html":
                child.value = b.html
            else:
                assert b.figure is not None
                child.outputs = (
                    {
                        "output_type": "display_data",
                        "data": figure_bundle(b.figure),
                        "metadata": {},
                    },
                )


@dataclass
class DashboardPage:
    """A built page: its root widget and, for tests, its controls and block areas by key."""

    view: PageView
    root: Any
    controls: dict[str, Any]
    areas: dict[str, BlockArea]

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.root)


def _control_widget(c: Control, section: str) -> Any:
    import ipywidgets as w

    style = {"description_width": "initial"}
    if c.kind == "multi":
        widget = w.SelectMultiple(
            options=c.options,
            value=tuple(c.value),
            description=c.label,
            rows=min(len(c.options), 6),
            style=style,
        )
    elif c.kind == "toggle":
        widget = w.ToggleButtons(options=c.options, value=c.value, description=c.label, style=style)
    else:
        widget = w.Dropdown(options=c.options, value=c.value, description=c.label, style=style)
    widget.add_class(f"al-control-{section}-{c.name}")
    return widget


def _section_widget(section: Section, controls: dict[str, Any], areas: dict[str, BlockArea]) -> Any:
    import ipywidgets as w

    head = w.HTML(
        f'<div class="al-section-title">{esc(section.title)}</div>'
        + (note(section.intro) if section.intro else "")
    )
    own = {c.name: _control_widget(c, section.key) for c in section.controls}
    area = BlockArea(section.key)

    def refresh(_: object = None) -> None:
        area.update(section.safe_render({k: v.value for k, v in own.items()}))

    for name, widget in own.items():
        widget.observe(refresh, names="value")
        controls[f"{section.key}.{name}"] = widget
    areas[section.key] = area
    refresh()
    row = [w.HBox(list(own.values()))] if own else []
    return w.VBox([head, *row, area.box])


def build_page(name: PageName | str, *, paths: config.Paths | None = None) -> DashboardPage:
    """Build the ipywidgets page ``name`` from the artifacts under ``paths`` (or the project root).

    The root widget carries the CSS classes ``al-root``, ``al-page-<name>`` and, once every
    section has rendered, ``al-ready`` (what the browser test waits for).
    """
    import ipywidgets as w

    art = Artifacts(paths)
    view = page_view(name, art)
    controls: dict[str, Any] = {}
    areas: dict[str, BlockArea] = {}
    header = w.HTML(
        f"<style>{CSS}</style>{nav_html(view.info.name)}"
        f'<div class="al-title">{esc(view.info.title)}</div>'
    )
    header.add_class("al-header")
    body = [_section_widget(s, controls, areas) for s in view.sections]
    prov = w.HTML(view.provenance)
    prov.add_class("al-provenance")
    root = w.VBox([header, *body, prov], layout=w.Layout(padding="0 12px"))
    root.add_class("al-root")
    root.add_class(f"al-page-{view.info.name}")
    root.add_class("al-ready")
    return DashboardPage(view, root, controls, areas)


def show(name: PageName | str) -> None:
    """Build page ``name`` for the current project root and display it (what each notebook calls)."""
    from IPython.display import display

    display(build_page(name).root)
