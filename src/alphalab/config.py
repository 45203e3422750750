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
    """The ``validate`` section: what each row rule does, and how much may be quarantined.

    ``policy`` maps a rule name (see :mod:`alphalab.validation`) to ``error`` (stop the run)
    or ``quarantine`` (move the rows to ``data/interim/quarantine/<input>.parquet``). Rules not
    listed use ``default_policy``. The run stops when the quarantined share of an input exceeds
    ``max_quarantine_frac``.
    """

    default_policy: RulePolicy = "error"
    policy: dict[str, RulePolicy] = Field(default_factory=dict)
    max_quarantine_frac: float = Field(0.05, ge=0, le=1)
    split_jump: float = Field(0.45, gt=0, le=10)
    max_abs_return: float = Field(1.0, gt=0)
    stale_run: int = Field(10, ge=2)
    calendar: str = "XNYS"
    run_great_expectations: bool = True


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


class Params(Strict):
    """The whole ``params.yaml``: one section per stage."""

    study: StudyParams = Field(default_factory=StudyParams)
    data: DataParams = Field(default_factory=DataParams)
    validate_: ValidateParams = Field(default_factory=ValidateParams, alias="validate")
    signal: SignalParams = Field(default_factory=SignalParams)
    panel: PanelParams = Field(default_factory=PanelParams)
    backtest: BacktestParams = Field(default_factory=BacktestParams)

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


def _expected(err: dict[str, Any]) -> str:
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
