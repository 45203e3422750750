"""Repository paths and the ``params.yaml`` schema.

Every path the project reads or writes is resolved here, never from the current working
directory: papermill, nbval and Voila each start kernels in different folders.

The root is, in order of precedence:

1. the ``ALPHALAB_ROOT`` environment variable (set by the stage runner for its kernels and by
   tests that point outputs at a scratch copy);
2. the nearest folder at or above the current directory holding both ``params.yaml`` and
   ``dvc.yaml`` (how ``dvc repro`` invokes ``alphalab stage run``);
3. the repository this package was installed from (editable install).

The params schema is a tree of pydantic models with ``extra="forbid"``: unknown keys, wrong
types and inconsistent values are rejected with the dotted key path, the value and the rule.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

PARAMS_FILE = "params.yaml"
ROOT_ENV = "ALPHALAB_ROOT"


# --------------------------------------------------------------------------------------------
# paths
# --------------------------------------------------------------------------------------------
def _package_root() -> Path:
    return Path(__file__).resolve().parents[2]


def repo_root() -> Path:
    """Return the project root (see module docstring for the precedence)."""
    env = os.environ.get(ROOT_ENV)
    if env:
        return Path(env).resolve()
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / PARAMS_FILE).is_file() and (folder / "dvc.yaml").is_file():
            return folder
    return _package_root()


class Paths:
    """Every location the pipeline uses, relative to one root.

    Parameters
    ----------
    root : Path, optional
        Project root; defaults to :func:`repo_root`.
    """

    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root).resolve() if root is not None else repo_root()

    @property
    def params(self) -> Path:
        return self.root / PARAMS_FILE

    @property
    def notebooks(self) -> Path:
        return self.root / "notebooks"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def raw(self) -> Path:
        return self.data / "raw"

    @property
    def interim(self) -> Path:
        return self.data / "interim"

    @property
    def processed(self) -> Path:
        return self.data / "processed"

    @property
    def snapshots(self) -> Path:
        return self.data / "snapshots"

    @property
    def manifest(self) -> Path:
        return self.data / "manifest.json"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def metrics(self) -> Path:
        return self.reports / "metrics"

    @property
    def executed(self) -> Path:
        return self.reports / "notebooks"

    @property
    def failed(self) -> Path:
        return self.reports / "failed"

    @property
    def expectations(self) -> Path:
        return self.root / "expectations"

    def resolve(self, path: str | Path) -> Path:
        """Resolve a path from params: absolute paths stay, relative ones hang off the root."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else self.root / p


# --------------------------------------------------------------------------------------------
# schema
# --------------------------------------------------------------------------------------------
class Strict(BaseModel):
    """Base of every params model: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class StudyParams(Strict):
    """Which study this params file describes (shown in every report)."""

    name: str = Field("default", min_length=1)
    description: str = ""


class FileTable(Strict):
    """One CSV or Parquet input with its column mapping.

    ``columns`` maps the contract's column names (DESIGN.md §4) to the file's own names, for
    example ``{date: Date, ticker: Symbol, close: "Adj Close"}``. Unmapped contract columns
    are looked up by their own name. ``layout: wide`` reads a dates × tickers price matrix.
    """

    path: str = Field(min_length=1)
    format: Literal["csv", "parquet"] | None = None
    columns: dict[str, str] = Field(default_factory=dict)
    layout: Literal["long", "wide"] = "long"
    date_format: str | None = None
    delimiter: str = Field(",", min_length=1, max_length=1)
    percent: bool = False

    @property
    def resolved_format(self) -> Literal["csv", "parquet"]:
        if self.format is not None:
            return self.format
        return "parquet" if self.path.lower().endswith((".parquet", ".pq")) else "csv"


class FilesSource(Strict):
    """Local files: prices are required, the rest optional."""

    prices: FileTable
    benchmark: FileTable | None = None
    factors: FileTable | None = None
    signal: FileTable | None = None


class SampleSource(Strict):
    """The embedded offline sample (skfolio's S&P 500 constituents and index)."""

    tickers: list[str] | None = None

    @field_validator("tickers")
    @classmethod
    def _upper(cls, v: list[str] | None) -> list[str] | None:
        if v is not None and len(v) == 0:
            raise ValueError("must list at least one ticker, or be null for all 20")
        return None if v is None else [t.upper() for t in v]


class YahooSource(Strict):
    """yfinance (online, opt-in). Snapshots make reruns offline."""

    tickers: list[str] = Field(min_length=1)
    benchmark: str = "^GSPC"
    auto_adjust: bool = True
    timeout_s: float = Field(90.0, gt=0, le=3600)
    retries: int = Field(3, ge=0, le=10)
    backoff_s: float = Field(2.0, ge=0, le=120)
    refresh: bool = False

    @field_validator("tickers")
    @classmethod
    def _upper(cls, v: list[str]) -> list[str]:
        return [t.strip().upper() for t in v]


class SimulateSource(Strict):
    """A synthetic market with a planted signal (tests, power checks, benchmarks)."""

    n_stocks: int = Field(200, ge=4, le=20000)
    n_sessions: int = Field(2520, ge=30, le=50000)
    signal_loading: float = Field(0.0004, ge=-0.05, le=0.05)
    signal_persistence: float = Field(0.98, ge=0, lt=1)
    signal_freq: Literal["daily", "monthly"] = "monthly"
    idio_vol: float = Field(0.02, gt=0, le=0.2)
    market_vol: float = Field(0.01, ge=0, le=0.2)
    missing_rate: float = Field(0.001, ge=0, le=0.5)
    delisting_rate: float = Field(0.1, ge=0, le=1)
    seed: int = 0


class FactorsSource(Strict):
    """Fama–French factors: embedded (linearmodels + arch wheels), a French file, or none."""

    source: Literal["embedded", "french", "none"] = "embedded"
    path: str | None = None
    momentum_path: str | None = None

    @model_validator(mode="after")
    def _path_needed(self) -> FactorsSource:
        if self.source == "french" and not self.path:
            raise ValueError("factors.source 'french' needs factors.path (a Ken French CSV or zip)")
        return self


class DataParams(Strict):
    """The ``data`` section: which source, which window (read by the ingest stage)."""

    source: Literal["sample", "files", "yfinance", "simulate"] = "sample"
    start: dt.date = dt.date(1990, 1, 1)
    end: dt.date = dt.date(2022, 12, 31)
    sample: SampleSource = Field(default_factory=SampleSource)
    files: FilesSource | None = None
    yfinance: YahooSource | None = None
    simulate: SimulateSource = Field(default_factory=SimulateSource)
    factors: FactorsSource = Field(default_factory=FactorsSource)

    @model_validator(mode="after")
    def _consistent(self) -> DataParams:
        if self.start >= self.end:
            raise ValueError(f"data.start ({self.start}) must be before data.end ({self.end})")
        if self.source == "files" and self.files is None:
            raise ValueError("data.source is 'files' but the data.files section is missing")
        if self.source == "yfinance" and self.yfinance is None:
            raise ValueError("data.source is 'yfinance' but the data.yfinance section is missing")
        return self


RulePolicy = Literal["error", "quarantine"]


class ValidateParams(Strict):
    """The ``validate`` section: what each rule does, and how much may be quarantined.

    ``policy`` maps a rule name (the keys below; each is described in
    :data:`alphalab.validation.rules.RULES`) to ``error`` (stop the run), ``quarantine`` (move
    the rows to ``data/interim/quarantine/<input>.parquet`` with a ``reason``) or ``warn``
    (report, keep the rows). Rules not listed use ``default_policy`` when it is set, otherwise
    the rule's own default (``error`` for most; ``quarantine`` for ``out_of_window``,
    ``unknown_ticker`` and ``after_last_price``; ``warn`` for the ``stale_run`` and
    ``missing_session`` heuristics). Structural problems (unreadable file, missing column,
    missing declared dimension) always stop the run. The run also stops when an input's
    quarantined share (rows outside the study window excepted) exceeds ``max_quarantine_frac``.

    ``split_jump`` / ``split_tolerance`` / ``split_window``: a close-to-close move of at least
    ``split_jump`` (in log terms, ``log(1 + split_jump)``) whose ratio is within
    ``split_tolerance`` (log) of a common split ratio and that does not revert by half within
    ``split_window`` sessions looks like an unapplied split. ``max_abs_return``: largest
    plausible absolute simple return per period. ``stale_run``: sessions of an unchanged close
    that count as stale. ``dimension_range``: bounds of declared signal dimensions (``null``
    to skip). ``max_examples``: example rows kept per rule in the reports.
    """

    default_policy: Literal["error", "quarantine", "warn"] | None = None
    policy: dict[
        Literal[
            "missing_value",
            "non_numeric",
            "excel_error",
            "non_finite",
            "sentinel_value",
            "bad_date",
            "ambiguous_date",
            "mixed_date_format",
            "excel_serial_date",
            "excel_identifier",
            "bad_ticker",
            "share_class",
            "duplicate_conflict",
            "non_positive_price",
            "negative_volume",
            "ohlc_inconsistent",
            "split_jump",
            "extreme_return",
            "impossible_return",
            "stale_run",
            "non_session",
            "out_of_window",
            "future_date",
            "dimension_range",
            "score_mismatch",
            "unknown_ticker",
            "after_last_price",
            "missing_session",
            "percent_units",
        ],
        Literal["error", "quarantine", "warn"],
    ] = Field(default_factory=dict)
    max_quarantine_frac: float = Field(0.05, ge=0, le=1)
    split_jump: float = Field(0.45, gt=0, le=10)
    split_tolerance: float = Field(0.01, gt=0, le=0.2)
    split_window: int = Field(20, ge=1, le=260)
    max_abs_return: float = Field(1.0, gt=0)
    stale_run: int = Field(10, ge=2)
    calendar: str = "XNYS"
    run_great_expectations: bool = True
    dimension_range: tuple[float, float] | None = (0.0, 100.0)
    max_examples: int = Field(20, ge=1, le=10_000)

    @field_validator("dimension_range")
    @classmethod
    def _range_ordered(cls, v: tuple[float, float] | None) -> tuple[float, float] | None:
        if v is not None and not v[0] < v[1]:
            raise ValueError(
                f"validate.dimension_range must be [low, high] with low < high, got {list(v)}"
            )
        return v


class DimensionSpec(Strict):
    """One dimension of a composite score: its weight and the side that scores higher."""

    weight: float = Field(ge=0)
    sign: Literal[1, -1] = 1


class SignalParams(Strict):
    """The ``signal`` section: built-in composite of price anomalies, or a file signal.

    ``kind: composite`` builds the default study's score from price dimensions, each
    cross-sectionally standardized per date and combined with ``dimensions`` weights.
    ``kind: file`` uses ``data/raw/signal.parquet`` (a CNOI-style file, one row per filing).
    """

    kind: Literal["composite", "file"] = "composite"
    dimensions: dict[str, DimensionSpec] = Field(
        default_factory=lambda: {
            "mom_12_1": DimensionSpec(weight=0.4, sign=1),
            "rev_1m": DimensionSpec(weight=0.2, sign=-1),
            "vol_63d": DimensionSpec(weight=0.2, sign=-1),
            "high_52w": DimensionSpec(weight=0.2, sign=1),
        }
    )
    score_tolerance: float = Field(0.5, ge=0)
    after_hours_cutoff: dt.time = dt.time(17, 30)
    availability_lag: int = Field(0, ge=0, le=60)
    frequency: Literal["daily", "weekly", "monthly"] = "monthly"

    @model_validator(mode="after")
    def _weights(self) -> SignalParams:
        if not self.dimensions and self.kind == "composite":
            raise ValueError(
                "signal.dimensions must name at least one dimension for kind 'composite'"
            )
        if self.dimensions and sum(d.weight for d in self.dimensions.values()) <= 0:
            raise ValueError("signal.dimensions weights must sum to a positive number")
        return self


class PanelParams(Strict):
    """The ``panel`` section: how scores are carried forward on the session calendar."""

    max_age_sessions: int = Field(130, ge=1)
    min_price: float = Field(0.0, ge=0)
    ffill_limit: int = Field(5, ge=0, le=30)
    calendar: str = "XNYS"


class CostParams(Strict):
    """Trading costs in basis points of traded value, charged on turnover."""

    half_spread_bps: float = Field(5.0, ge=0)
    commission_bps: float = Field(1.0, ge=0)
    impact_bps: float = Field(0.0, ge=0)


class BacktestParams(Strict):
    """The ``backtest`` section: the portfolio sort (DESIGN.md §6)."""

    n_groups: int = Field(5, ge=2, le=100)
    rebalance: Literal["daily", "weekly", "monthly", "quarterly", "availability"] = "monthly"
    holding: int = Field(1, ge=1, le=60)
    lag: int = Field(1, ge=0, le=60)
    weighting: Literal["equal", "value"] = "equal"
    direction: Literal[1, -1] = 1
    min_names: int = Field(1, ge=1)
    horizons: list[int] = Field(default_factory=lambda: [1, 5, 21])
    costs: CostParams = Field(default_factory=CostParams)
    delisting_return: float | None = Field(None, ge=-1, le=0)
    ann_factor: int = Field(252, ge=1)

    @field_validator("horizons")
    @classmethod
    def _horizons(cls, v: list[int]) -> list[int]:
        if not v or any(h < 1 for h in v):
            raise ValueError(
                "backtest.horizons must be a non-empty list of positive session counts"
            )
        return sorted(set(v))


Window = tuple[int, int]


class CalendarTimeParams(Strict):
    """Calendar-time portfolio (Fama 1998) settings for long horizons."""

    horizon_months: int = Field(12, ge=1, le=120)
    model: Literal["capm", "ff3", "carhart"] = "ff3"


class EventsParams(Strict):
    """The ``events`` section: event dates, windows, normal-return model, grouping.

    ``dates`` lists common event dates (every firm has the event that day); with
    ``per_firm: true`` the signal file's ``event_date`` rows are the events instead. Firms are
    grouped by their signal at the last value available **before** the event.
    """

    dates: list[dt.date] = Field(
        default_factory=lambda: [dt.date(2008, 9, 15), dt.date(2011, 8, 8), dt.date(2020, 3, 16)]
    )
    per_firm: bool = False
    model: Literal["market", "market_adjusted", "constant_mean", "ff3"] = "market"
    estimation: Window = (-250, -11)
    estimation_end: dt.date | None = None
    min_estimation_obs: int = Field(120, ge=10)
    windows: list[Window] = Field(default_factory=lambda: [(0, 0), (-1, 1), (0, 5), (0, 20)])
    n_groups: int = Field(4, ge=2, le=10)
    calendar_time: CalendarTimeParams = Field(default_factory=CalendarTimeParams)

    @model_validator(mode="after")
    def _windows(self) -> EventsParams:
        a, b = self.estimation
        if a >= b:
            raise ValueError(f"events.estimation {self.estimation}: start must be before end")
        for w in self.windows:
            if w[0] > w[1]:
                raise ValueError(f"events.windows {w}: start after end")
            if w[0] <= b and self.estimation_end is None:
                raise ValueError(f"events.windows {w} overlaps the estimation window ending at {b}")
        if not self.per_firm and not self.dates:
            raise ValueError("events.dates is empty and events.per_firm is false: no events")
        return self


class RegressionsParams(Strict):
    """The ``regressions`` section: forward returns on the signal, panel OLS and Fama–MacBeth."""

    frequency: Literal["monthly", "quarterly", "availability"] = "monthly"
    controls: list[str] = Field(default_factory=list)
    dimensions: bool = True
    entity_effects: bool = True
    time_effects: bool = False
    cov: Literal["clustered", "kernel", "robust", "unadjusted"] = "clustered"
    cluster_entity: bool = True
    cluster_time: bool = True
    nw_lags: int | None = Field(None, ge=0)


AlertKind = Literal[
    "validation_failed",
    "coverage_below",
    "stale_data",
    "tstat_below",
    "pvalue_above",
    "gate_flip",
    "run_failed",
]
_NEEDS_THRESHOLD = {"coverage_below", "stale_data", "tstat_below", "pvalue_above"}
_DEFAULT_METRIC = {
    "tstat_below": "backtest.long_short.t_nw",
    "pvalue_above": "backtest.long_short.p_nw",
}


class PowerParams(Strict):
    """Power analysis on the study's own shape (:mod:`alphalab.power`)."""

    frequency: Literal["monthly", "quarterly"] = "monthly"
    effect: float | None = None
    n_sims: int = Field(4000, ge=200, le=200_000)


class RobustnessParams(Strict):
    """The ``robustness`` section: specification grid, inference, overfitting controls, Dask.

    **Grid.** Every combination of the axes ``n_groups × weighting × lag × holding ×
    rebalance × universes × dimension_sets`` is one engine run; each run is scored at every
    ``cost_multipliers`` level (× the ``backtest.costs`` model; 0 = gross) — one *variant*
    each — and each variant on the full sample plus ``n_subperiods`` equal consecutive
    sub-periods (rows of the grid table). Options not on an axis (direction, min_names,
    delisting_return, ann_factor) come from ``backtest``.

    ``universes``: ``all``; ``ex_smallest:F`` (drop the fraction F of names with the lowest
    market cap on each formation date; needs market caps); ``ex_lowest_price:F`` (lowest
    valuation close — with split-adjusted prices this peeks at later splits, use with
    unadjusted prices only); ``ex_volatile:F`` (highest trailing 63-session volatility);
    ``min_price:P`` (close below P). ``dimension_sets``: ``all`` (the panel's score), ``each``
    (every dimension alone), ``drop_each`` (all but one), or names joined by ``+`` — subsets
    recompute the composite from the standardized dimension matrices with ``signal`` weights.

    **Inference.** Block bootstrap (``bootstrap_method``, ``bootstrap_reps``, block length
    ``bootstrap_block`` or Politis–White when null) of the base variant's Sharpe ratio and
    mean; within-date permutation placebo (``placebo_n_perm``) of its gross long-short mean;
    ``stress_periods`` (name → [first, last] day) breakdowns.

    **Overfitting.** CSCV PBO with ``pbo_splits`` blocks; SPA / StepM (``spa_reps``,
    ``spa_bootstrap``, ``spa_block``, family-wise level ``fwer``) of the full-sample variants
    against a zero benchmark, on ``spa_frequency`` returns (monthly compounding by default:
    the daily bootstrap over hundreds of variants takes minutes); HLZ haircuts (``haircut_methods``); DSR from the trial ledger at
    ``ledger`` (``record_trials: false`` to evaluate without recording).

    **Dask.** ``scheduler``: ``local`` (a loopback cluster of ``n_workers`` processes),
    ``synchronous`` (in process) or ``tcp://host:port``. ``seed`` drives every random draw.
    """

    seed: int = Field(0, ge=0)
    scheduler: str = "local"
    n_workers: int = Field(2, ge=1, le=64)
    progress: bool = True
    # specification grid
    n_groups: list[int] = Field(default_factory=lambda: [3, 5], min_length=1)
    weighting: list[Literal["equal", "value"]] = Field(default=["equal"], min_length=1)
    lag: list[int] = Field(default_factory=lambda: [1, 2], min_length=1)
    holding: list[int] = Field(default_factory=lambda: [1, 3], min_length=1)
    rebalance: list[Literal["daily", "weekly", "monthly", "quarterly", "availability"]] = Field(
        default=["monthly"], min_length=1
    )
    cost_multipliers: list[float] = Field(default_factory=lambda: [0.0, 1.0, 2.0], min_length=1)
    universes: list[str] = Field(default_factory=lambda: ["all", "ex_volatile:0.2"], min_length=1)
    dimension_sets: list[str] = Field(default_factory=lambda: ["all", "each"], min_length=1)
    n_subperiods: int = Field(2, ge=0, le=20)
    # inference
    bootstrap_reps: int = Field(2000, ge=100, le=1_000_000)
    bootstrap_method: Literal["stationary", "circular"] = "stationary"
    bootstrap_block: float | None = Field(None, ge=1)
    alpha: float = Field(0.05, gt=0, lt=1)
    placebo_n_perm: int = Field(500, ge=1, le=1_000_000)
    placebo_alternative: Literal["greater", "less", "two-sided"] = "greater"
    stress_periods: dict[str, tuple[dt.date, dt.date]] = Field(
        default_factory=lambda: {
            "2000-02": (dt.date(2000, 1, 1), dt.date(2002, 12, 31)),
            "2008-09": (dt.date(2008, 1, 1), dt.date(2009, 12, 31)),
            "2020": (dt.date(2020, 1, 1), dt.date(2020, 12, 31)),
            "2023": (dt.date(2023, 1, 1), dt.date(2023, 12, 31)),
        }
    )
    # overfitting and multiple testing
    pbo_splits: int = Field(16, ge=2, le=24)
    spa_reps: int = Field(1000, ge=100, le=100_000)
    spa_bootstrap: Literal["stationary", "circular", "moving_block"] = "stationary"
    spa_block: int | None = Field(None, ge=1)
    spa_frequency: Literal["daily", "monthly"] = "monthly"
    fwer: float = Field(0.05, gt=0, lt=1)
    haircut_methods: list[Literal["bonferroni", "holm", "bhy"]] = Field(
        default=["bonferroni", "holm", "bhy"]
    )
    ledger: str = Field("ledger/trials.jsonl", min_length=1)
    record_trials: bool = True
    power: PowerParams = Field(default_factory=lambda: PowerParams())

    @field_validator("scheduler")
    @classmethod
    def _scheduler(cls, v: str) -> str:
        import re

        if v in ("local", "synchronous") or re.match(r"^tcp://[A-Za-z0-9_.\-\[\]:]+:\d{1,5}$", v):
            return v
        raise ValueError(f"must be 'local', 'synchronous' or 'tcp://host:port', got {v!r}")

    @field_validator("n_groups", "lag", "holding")
    @classmethod
    def _axis_ints(cls, v: list[int], info: Any) -> list[int]:
        low = {"n_groups": 2, "lag": 0, "holding": 1}[info.field_name]
        bad = [x for x in v if x < low]
        if bad:
            raise ValueError(f"values {bad} must be >= {low}")
        if len(set(v)) != len(v):
            raise ValueError(f"values repeat: {v}")
        return v

    @field_validator("cost_multipliers")
    @classmethod
    def _costs(cls, v: list[float]) -> list[float]:
        if any(not (c >= 0 and c == c and c != float("inf")) for c in v):
            raise ValueError(f"cost multipliers must be finite and >= 0, got {v}")
        if len(set(v)) != len(v):
            raise ValueError(f"values repeat: {v}")
        return v

    @field_validator("universes")
    @classmethod
    def _universes(cls, v: list[str]) -> list[str]:
        import re

        pattern = re.compile(
            r"^(all|(ex_smallest|ex_lowest_price|ex_volatile):(0(\.\d+)?|\.\d+)|min_price:\d+(\.\d+)?)$"
        )
        bad = [u for u in v if not pattern.match(u)]
        if bad:
            raise ValueError(
                f"unknown universe filter(s) {bad}: use 'all', 'ex_smallest:F', "
                "'ex_lowest_price:F', 'ex_volatile:F' (0 <= F < 1) or 'min_price:P'"
            )
        if len(set(v)) != len(v):
            raise ValueError(f"values repeat: {v}")
        return v

    @field_validator("dimension_sets")
    @classmethod
    def _dimension_sets(cls, v: list[str]) -> list[str]:
        import re

        pattern = re.compile(r"^(all|each|drop_each|[A-Za-z0-9_]+(\+[A-Za-z0-9_]+)*)$")
        bad = [d for d in v if not pattern.match(d)]
        if bad:
            raise ValueError(
                f"bad dimension set(s) {bad}: use 'all', 'each', 'drop_each' or names joined by '+'"
            )
        return v

    @field_validator("stress_periods")
    @classmethod
    def _periods(cls, v: dict[str, tuple[dt.date, dt.date]]) -> dict[str, tuple[dt.date, dt.date]]:
        for name, (first, last) in v.items():
            if first > last:
                raise ValueError(f"stress period {name!r}: first day {first} after last {last}")
        return v

    @model_validator(mode="after")
    def _pbo_even(self) -> RobustnessParams:
        if self.pbo_splits % 2:
            raise ValueError(f"robustness.pbo_splits must be even, got {self.pbo_splits}")
        return self


class WalkforwardParams(Strict):
    """The ``walkforward`` section: folds, parameter grid, objective, stress tests, gate.

    Folds (:mod:`alphalab.walkforward`): test windows of ``test`` units (``unit``: sessions
    or calendar months) follow each other from ``start`` (default: the first session with a
    score) + ``train`` units up to ``holdout_start``; each fold's training window is the
    ``train`` units before its test window (``mode: rolling``) or everything since ``start``
    (``anchored``), minus the last ``embargo`` sessions (purged). ``embargo`` must be at least
    the holding horizon of every grid variant (``lag`` + ``holding`` rebalance periods, in
    sessions); ``null`` uses exactly that. ``lead_in`` sessions before a window (default: the
    same horizon) let the book form before the window opens; only returns inside the window
    count. Sessions from ``holdout_start`` on are never given to any fold: they are the final
    holdout, evaluated once with parameters chosen on the data before it.

    ``grid`` lists the values tried per fold (a key left null keeps the ``backtest`` value);
    ``grid.signals`` names alternative dimension weightings of the score (``null`` = the
    panel's own score). The in-sample ``objective`` is the annualized Sharpe ratio, the
    Newey–West t-statistic or the annualized mean of net long-short returns; ties go to the
    first variant in grid order. ``optimizer`` is ``grid`` only (Optuna is not installed).

    Stress tests: ``stress_windows`` (name → [first day, last day]) slice the out-of-sample
    record; ``cost_shocks`` multiply every cost component; ``delays`` add sessions to ``lag``
    with the chosen parameters held fixed. ``gate``: a criterion set to null is not part of
    the decision; an enabled criterion that cannot be measured fails.
    """

    class Grid(Strict):
        """Values tried in each fold (cartesian product; null keeps the ``backtest`` value)."""

        n_groups: list[int] | None = Field(default_factory=lambda: [3, 4, 5])
        holding: list[int] | None = Field(default_factory=lambda: [1, 3])
        rebalance: (
            list[Literal["daily", "weekly", "monthly", "quarterly", "availability"]] | None
        ) = None
        weighting: list[Literal["equal", "value"]] | None = None
        direction: list[Literal[1, -1]] | None = None
        signals: dict[str, dict[str, float] | None] | None = None

        @model_validator(mode="after")
        def _lists(self) -> WalkforwardParams.Grid:
            for name in ("n_groups", "holding", "rebalance", "weighting", "direction"):
                values = getattr(self, name)
                if values is None:
                    continue
                if not values:
                    raise ValueError(
                        f"walkforward.grid.{name}: empty list (use null to keep the backtest value)"
                    )
                if len(set(values)) != len(values):
                    raise ValueError(f"walkforward.grid.{name}: repeated values in {values}")
            if self.n_groups is not None and any(not 2 <= g <= 100 for g in self.n_groups):
                raise ValueError(
                    f"walkforward.grid.n_groups: {self.n_groups} must each be in [2, 100]"
                )
            if self.holding is not None and any(not 1 <= h <= 60 for h in self.holding):
                raise ValueError(
                    f"walkforward.grid.holding: {self.holding} must each be in [1, 60]"
                )
            if self.signals is not None:
                if not self.signals:
                    raise ValueError(
                        "walkforward.grid.signals: empty mapping (use null for the panel score)"
                    )
                for label, weights in self.signals.items():
                    if weights is None:
                        continue
                    if not weights or any(
                        not (w >= 0 and w < float("inf")) for w in weights.values()
                    ):
                        raise ValueError(
                            f"walkforward.grid.signals.{label}: weights {weights} must be finite, >= 0, non-empty"
                        )
                    if sum(weights.values()) <= 0:
                        raise ValueError(
                            f"walkforward.grid.signals.{label}: weights must sum to a positive number"
                        )
            return self

        def max_horizon_bound(self) -> int:
            """A lower bound of the longest holding horizon, in sessions, from this section alone."""
            per_period = {
                "daily": 1,
                "weekly": 5,
                "monthly": 23,
                "quarterly": 66,
                "availability": 1,
            }
            longest = max(self.holding or [1])
            period = max(per_period[r] for r in (self.rebalance or ["daily"]))
            return longest * period

    class Gate(Strict):
        """Promotion criteria; null removes a criterion from the decision."""

        min_oos_sharpe: float | None = 0.5
        max_drawdown: float | None = Field(0.30, gt=0, le=1)
        min_dsr: float | None = Field(0.95, ge=0, le=1)
        max_pbo: float | None = Field(0.5, ge=0, le=1)
        min_t_stat: float | None = 2.0
        min_oos_periods: int | None = Field(756, ge=1)
        min_holdout_sharpe: float | None = None

        @model_validator(mode="after")
        def _some(self) -> WalkforwardParams.Gate:
            if all(v is None for v in self.model_dump().values()):
                raise ValueError(
                    "walkforward.gate: every criterion is null; the gate would decide nothing"
                )
            return self

    mode: Literal["rolling", "anchored"] = "rolling"
    unit: Literal["sessions", "months"] = "months"
    train: int = Field(60, ge=1)
    test: int = Field(12, ge=1)
    embargo: int | None = Field(None, ge=0)
    lead_in: int | None = Field(None, ge=0)
    start: dt.date | None = None
    holdout_start: dt.date | None = dt.date(2020, 1, 1)
    objective: Literal["sharpe", "t_stat", "net_return"] = "sharpe"
    optimizer: Literal["grid"] = "grid"
    min_train_obs: int = Field(126, ge=3)
    grid: Grid = Field(default_factory=Grid)
    pbo_splits: int = Field(16, ge=2, le=24)
    stress_windows: dict[str, tuple[dt.date, dt.date]] = Field(
        default_factory=lambda: {
            "2000-02": (dt.date(2000, 1, 1), dt.date(2002, 12, 31)),
            "2008-09": (dt.date(2008, 1, 1), dt.date(2009, 12, 31)),
            "2011-08": (dt.date(2011, 8, 1), dt.date(2011, 8, 31)),
            "2020-02/04": (dt.date(2020, 2, 1), dt.date(2020, 4, 30)),
            "2022": (dt.date(2022, 1, 1), dt.date(2022, 12, 31)),
            "2023-03": (dt.date(2023, 3, 1), dt.date(2023, 3, 31)),
        }
    )
    cost_shocks: list[float] = Field(default_factory=lambda: [2.0, 5.0])
    delays: list[int] = Field(default_factory=lambda: [1, 2])
    gate: Gate = Field(default_factory=Gate)
    seed: int = 0
    scheduler: str = Field("local", pattern=r"^(local|synchronous|tcp://\S+)$")
    n_workers: int = Field(2, ge=1, le=64)

    @model_validator(mode="after")
    def _consistent(self) -> WalkforwardParams:
        need = self.grid.max_horizon_bound()
        if self.embargo is not None and self.embargo < need:
            raise ValueError(
                f"walkforward.embargo: {self.embargo} sessions is shorter than the holding horizon "
                f"of the grid (at least {need} sessions: holding {max(self.grid.holding or [1])} × "
                f"rebalance period); use >= {need}, or null for the exact horizon"
            )
        if self.unit == "sessions" and self.embargo is not None and self.train <= self.embargo:
            raise ValueError(
                f"walkforward.train: {self.train} sessions leave nothing after the {self.embargo}-session embargo"
            )
        if self.pbo_splits % 2:
            raise ValueError(f"walkforward.pbo_splits: {self.pbo_splits} must be even")
        for name, (first, last) in self.stress_windows.items():
            if first > last:
                raise ValueError(f"walkforward.stress_windows.{name}: {first} is after {last}")
        if any(not (k > 0 and k < float("inf")) for k in self.cost_shocks):
            raise ValueError(
                f"walkforward.cost_shocks: {self.cost_shocks} must be positive multipliers"
            )
        if any(d < 1 for d in self.delays):
            raise ValueError(f"walkforward.delays: {self.delays} must be >= 1 session")
        if (
            self.start is not None
            and self.holdout_start is not None
            and self.start >= self.holdout_start
        ):
            raise ValueError(
                f"walkforward.start ({self.start}) must be before walkforward.holdout_start ({self.holdout_start})"
            )
        return self


class ReportParams(Strict):
    """The ``report`` section: static HTML/LaTeX reports."""

    title: str = "alphalab study report"


class AlertRule(Strict):
    """One alert rule of the scheduled runner (see :mod:`alphalab.runner.alerts`).

    ``kind`` and what ``threshold`` means for it:

    - ``run_failed``: the pipeline run failed or timed out (no threshold);
    - ``validation_failed``: a ``reports/validation/*.json`` summary reports a failure, or the
      ``validate`` stage failed (no threshold);
    - ``coverage_below``: an input's accepted share of rows (``accepted / rows_in``) is below
      ``threshold`` (0–1); ``table`` limits the rule to one input;
    - ``stale_data``: the last date of ``table`` (default ``prices``) in ``data/manifest.json`` is
      more than ``threshold`` calendar days before the run date;
    - ``tstat_below`` / ``pvalue_above``: the metric ``metric`` (a dotted key
      ``<stage>.<series>.<statistic>``; defaults ``backtest.long_short.t_nw`` and
      ``backtest.long_short.p_nw``) is below / above ``threshold``; a t-stat rule compares the
      absolute value when ``two_sided`` is true;
    - ``gate_flip``: ``reports/gate.json`` ``decision`` differs from the last successful run's.

    ``trigger: level`` fires on every run while the condition holds (``cooldown_minutes``
    suppresses repeats); ``trigger: cross`` fires only when the previous successful run was on
    the other side of the threshold.
    """

    name: str = Field(min_length=1)
    kind: AlertKind
    threshold: float | None = None
    metric: str | None = Field(None, pattern=r"^[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)+$")
    table: str | None = None
    two_sided: bool = False
    trigger: Literal["level", "cross"] = "level"
    cooldown_minutes: float = Field(360.0, ge=0)
    channels: list[Literal["log", "email", "webhook"]] = Field(default=["log"], min_length=1)

    @model_validator(mode="after")
    def _threshold(self) -> AlertRule:
        if self.kind in _NEEDS_THRESHOLD and self.threshold is None:
            raise ValueError(f"alert rule {self.name!r} of kind {self.kind!r} needs a threshold")
        if self.kind not in _NEEDS_THRESHOLD and self.threshold is not None:
            raise ValueError(f"alert rule {self.name!r} of kind {self.kind!r} takes no threshold")
        t = self.threshold
        if self.kind in ("coverage_below", "pvalue_above") and t is not None and not 0 < t <= 1:
            raise ValueError(f"alert rule {self.name!r}: threshold must be in (0, 1], got {t}")
        if self.kind == "stale_data" and t is not None and t < 0:
            raise ValueError(f"alert rule {self.name!r}: threshold (days) must be >= 0, got {t}")
        if self.metric is not None and self.kind not in _DEFAULT_METRIC:
            raise ValueError(
                f"alert rule {self.name!r}: 'metric' applies only to {sorted(_DEFAULT_METRIC)}"
            )
        if self.trigger == "cross" and self.kind not in _NEEDS_THRESHOLD:
            raise ValueError(f"alert rule {self.name!r}: trigger 'cross' needs a threshold rule")
        return self

    @property
    def resolved_metric(self) -> str | None:
        """The dotted metrics key a t-stat / p-value rule reads (``None`` for other kinds)."""
        return self.metric or _DEFAULT_METRIC.get(self.kind)


class EmailChannel(Strict):
    """SMTP settings; credentials come only from the named environment variables.

    ``cafile`` is an optional CA bundle (a path, not a secret) for servers with a private CA.
    """

    host: str = Field("localhost", min_length=1)
    port: int = Field(587, ge=1, le=65535)
    starttls: bool = True
    sender: str = Field("alphalab@localhost", pattern=r"^[^@\s]+@[^@\s]+$")
    recipients: list[str] = Field(min_length=1)
    username_env: str | None = Field(None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    password_env: str | None = Field(None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    cafile: str | None = None
    subject_prefix: str = "[alphalab]"
    timeout_s: float = Field(20.0, gt=0, le=600)

    @field_validator("recipients")
    @classmethod
    def _addresses(cls, v: list[str]) -> list[str]:
        bad = [a for a in v if "@" not in a or any(c.isspace() for c in a)]
        if bad:
            raise ValueError(f"not e-mail addresses: {bad}")
        return v

    @model_validator(mode="after")
    def _credentials(self) -> EmailChannel:
        if (self.username_env is None) != (self.password_env is None):
            raise ValueError("runner.email needs both username_env and password_env, or neither")
        return self


class WebhookChannel(Strict):
    """Slack-compatible webhook; the URL (a secret) is read from ``url_env``."""

    url_env: str = Field("ALPHALAB_WEBHOOK_URL", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    timeout_s: float = Field(10.0, gt=0, le=600)


class RunnerParams(Strict):
    """The ``runner`` section: schedule, alert rules and channels (operations).

    ``schedule`` is a five-field cron expression evaluated in ``timezone`` (an IANA name).
    ``roll_window: true`` sets ``data.end`` to the run date (in ``timezone``) before each run,
    as a params override. ``targets`` are the stages ``dvc repro`` reproduces, with everything
    upstream of them (empty: the whole pipeline). ``force_stages`` are rerun on every run even
    when DVC sees no change (``ingest`` is added automatically for
    ``data.yfinance.refresh: true``).
    ``repro_timeout_minutes`` bounds one ``dvc repro``; on timeout or SIGTERM the runner sends
    SIGINT to the pipeline's process group, then SIGTERM and SIGKILL ``grace_seconds`` apart.
    ``max_run_age_hours``: ``alphalab runner status`` and the container health check fail when
    the last successful run is older.
    """

    schedule: str = "30 6 * * 1-5"
    timezone: str = "America/New_York"
    roll_window: bool = False
    targets: list[str] = Field(default_factory=list)
    force_stages: list[str] = Field(default_factory=list)
    log_format: Literal["console", "json"] = "console"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    max_run_age_hours: float = Field(36.0, gt=0)
    repro_timeout_minutes: float = Field(240.0, gt=0)
    grace_seconds: float = Field(30.0, gt=0, le=600)
    alerts: list[AlertRule] = Field(
        default_factory=lambda: [
            AlertRule(name="run failed", kind="run_failed"),
            AlertRule(name="validation failed", kind="validation_failed"),
        ]
    )
    email: EmailChannel | None = None
    webhook: WebhookChannel | None = None

    @field_validator("schedule")
    @classmethod
    def _cron(cls, v: str) -> str:
        from croniter import croniter

        if len(v.split()) != 5 or not croniter.is_valid(v):
            raise ValueError(f"not a five-field cron expression: {v!r} (e.g. '30 6 * * 1-5')")
        return v

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        import zoneinfo

        try:
            zoneinfo.ZoneInfo(v)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {v!r} (use an IANA name such as 'America/New_York')"
            ) from None
        return v

    @model_validator(mode="after")
    def _rules(self) -> RunnerParams:
        names = [r.name for r in self.alerts]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"runner.alerts rule names must be unique; repeated: {dupes}")
        for rule in self.alerts:
            for channel in ("email", "webhook"):
                if channel in rule.channels and getattr(self, channel) is None:
                    raise ValueError(
                        f"alert rule {rule.name!r} uses channel {channel!r} but runner.{channel} "
                        "is not configured"
                    )
        return self


class Params(Strict):
    """The whole ``params.yaml``: one section per stage."""

    study: StudyParams = Field(default_factory=StudyParams)
    data: DataParams = Field(default_factory=DataParams)
    validate_: ValidateParams = Field(default_factory=ValidateParams, alias="validate")
    signal: SignalParams = Field(default_factory=SignalParams)
    panel: PanelParams = Field(default_factory=PanelParams)
    backtest: BacktestParams = Field(default_factory=BacktestParams)
    events: EventsParams = Field(default_factory=EventsParams)
    regressions: RegressionsParams = Field(default_factory=RegressionsParams)
    robustness: RobustnessParams = Field(default_factory=RobustnessParams)
    walkforward: WalkforwardParams = Field(default_factory=WalkforwardParams)
    report: ReportParams = Field(default_factory=ReportParams)
    runner: RunnerParams = Field(default_factory=RunnerParams)

    model_config = ConfigDict(
        extra="forbid", frozen=True, validate_default=True, populate_by_name=True
    )


# --------------------------------------------------------------------------------------------
# loading and error reporting
# --------------------------------------------------------------------------------------------
class ParamsError(ValueError):
    """``params.yaml`` broke the schema; ``problems`` holds one line per violation."""

    def __init__(self, path: Path | str, problems: list[str]) -> None:
        self.path = str(path)
        self.problems = problems
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"{self.path}: {len(problems)} problem(s) in params\n{lines}")


def _fmt_value(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _expected(err: Any) -> str:
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    if kind == "extra_forbidden":
        return "unknown key (not in the schema; check spelling and section)"
    if kind == "missing":
        return "required key is missing"
    if kind.startswith(("greater", "less")) or "expected" in ctx:
        return err["msg"]
    return err["msg"]


def format_validation_error(exc: ValidationError, source: str) -> list[str]:
    """Turn a pydantic error into ``key.path: value X: expected ...`` lines."""
    out = []
    for err in exc.errors(include_url=False):
        loc = ".".join(str(p) for p in err["loc"]) or "<root>"
        msg = _expected(err)
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        val = err.get("input")
        shown = (
            ""
            if err.get("type") == "missing" or isinstance(val, dict)
            else (f" value {_fmt_value(val)}:")
        )
        out.append(f"{source}: {loc}:{shown} {msg} [{err.get('type')}]")
    return out


def read_params_file(path: Path | str) -> dict[str, Any]:
    """Read a params YAML file into a dict, with a clear error for bad YAML."""
    p = Path(path)
    if not p.is_file():
        raise ParamsError(p, [f"{p}: file not found"])
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        raise ParamsError(p, [f"{p}{where}: not valid YAML: {exc}"]) from exc
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ParamsError(
            p, [f"{p}: top level must be a mapping of sections, got {type(raw).__name__}"]
        )
    return raw


def validate_params(raw: dict[str, Any], source: str = PARAMS_FILE) -> Params:
    """Validate a params mapping against the schema.

    Raises
    ------
    ParamsError
        With one line per violation: key path, offending value and the rule.
    """
    try:
        return Params.model_validate(raw)
    except ValidationError as exc:
        raise ParamsError(source, format_validation_error(exc, source)) from None


def load_params(path: Path | str | None = None) -> Params:
    """Load and validate ``params.yaml`` (default: the one at the project root)."""
    p = Path(path) if path is not None else Paths().params
    return validate_params(read_params_file(p), str(p))


def params_hash(params: Params | dict[str, Any]) -> str:
    """Stable sha256 of the validated params (key order and formatting do not matter)."""
    data = (
        params.model_dump(mode="json", by_alias=True) if isinstance(params, BaseModel) else params
    )
    blob = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def params_diff(params: Params) -> dict[str, Any]:
    """Return the dotted keys whose values differ from the schema defaults."""
    current = _flatten(params.model_dump(mode="json", by_alias=True))
    default = _flatten(Params().model_dump(mode="json", by_alias=True))
    return {k: v for k, v in current.items() if default.get(k, object()) != v}


def _flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in d.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(_flatten(value, name + "."))
        else:
            out[name] = value
    return out


def stage_settings(injected: dict[str, Any] | None = None, paths: Paths | None = None) -> Params:
    """The params a stage notebook runs with: ``params.yaml`` overlaid with the injected sections.

    The stage runner injects the stage's own sections (already validated with the whole file);
    nbval and interactive runs inject nothing and get the file as it is.
    """
    paths = paths or Paths()
    settings = load_params(paths.params)
    if injected:
        merged = {**settings.model_dump(mode="json", by_alias=True), **injected}
        settings = validate_params(merged, str(paths.params))
    return settings
