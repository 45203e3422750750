"""The trial ledger: every variant the project evaluates, counted once, kept in git.

The deflated Sharpe ratio and the probability of backtest overfitting need the number of
variants tried and the dispersion of their Sharpe ratios (Bailey & López de Prado 2014).
Nobody remembers those numbers; this ledger records them as a side effect of running the
pipeline: the robustness grid, the walk-forward folds and every experiment's base variant.

File
----
``ledger/trials.jsonl`` (path from ``robustness.ledger`` in params): UTF-8 JSON lines, one
trial per line, keys sorted::

    {"data_hash": ..., "key": ..., "kurtosis": 3.4, "n_obs": 8291, "params_hash": ...,
     "periods_per_year": 252.0, "recorded_at": "2026-01-01T00:00:00+00:00", "sharpe": 0.012,
     "skew": -0.1, "source": "grid", "variant": {...}}

- **Append-only.** Lines are never edited or removed; a write rewrites the old bytes
  unchanged plus the new lines, atomically (temporary file + rename, :mod:`alphalab.io`),
  under an exclusive lock (``trials.jsonl.lock`` next to it, git-ignored), so concurrent
  runs never lose or interleave lines.
- **Counted once.** A trial's identity ``key`` is the sha256 of its ``data_hash`` and its
  *fully resolved* ``variant`` (every setting that changes its return series, window
  included). Recording it again — a rerun, an unchanged ``dvc exp run``, an experiment that
  edits only unrelated params — adds nothing. ``params_hash`` (of the settings file that
  produced it) is kept as provenance but is not part of the identity: otherwise editing a
  report title would re-count every variant and inflate ``n_trials``.
- **Survives experiments.** It is a git-tracked file that stages append to, *not* a DVC
  output: DVC never deletes or caches what a stage does not declare, so ``dvc repro`` and
  ``dvc exp run`` leave it in place and it accumulates across runs (declaring it instead
  would make the stage runner delete it when the stage fails, and a second writer — the
  walk-forward stage — would mark the robustness stage as changed on every run). Its
  content never decides whether a stage reruns. ``ledger/.gitattributes`` sets git's
  ``union`` merge driver, so merging branches keeps both sides' lines; the reader drops
  duplicate keys. Experiments run in temporary copies (``dvc exp run --temp`` /
  ``--queue``) commit their ledger only to their own ``refs/exps`` commit:
  :meth:`TrialLedger.sync_from_git` imports those trials (read-only git access) before a
  run counts.

Sharpe ratios are stored **per period** (``mean / sd``, ``ddof=1``) with the series'
``periods_per_year``; :meth:`TrialLedger.stats` converts them to one frequency before taking
the variance.

References
----------
Bailey, D. H. & López de Prado, M. (2014). The deflated Sharpe ratio: correcting for selection
bias, backtest overfitting and non-normality. *Journal of Portfolio Management* 40(5), 94–107
(``N`` and ``V[SR_n]`` in the SR₀ equation).
López de Prado, M. (2018). *Advances in Financial Machine Learning*, Wiley, ch. 11–14
("the number of trials must be recorded").
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import math
import subprocess
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from alphalab.io import atomic_write_text

__all__ = [
    "LedgerError",
    "Trial",
    "TrialLedger",
    "canonical_json",
    "frame_fingerprint",
    "panel_data_hash",
    "spec_hash",
]

Source = Literal["grid", "walkforward", "experiment"]
SOURCES: tuple[str, ...] = ("grid", "walkforward", "experiment")
_FIELDS = (
    "key",
    "params_hash",
    "data_hash",
    "source",
    "variant",
    "sharpe",
    "skew",
    "kurtosis",
    "n_obs",
    "periods_per_year",
    "recorded_at",
)


class LedgerError(ValueError):
    """A trial or the ledger file breaks the ledger's rules (names the field, line, value)."""


def canonical_json(obj: Any) -> str:
    """Stable JSON text: sorted keys, no spaces, dates as ISO strings, tuples as lists."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=_json_default)


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "isoformat"):
        return obj.isoformat()
    if hasattr(obj, "item"):
        return obj.item()
    raise TypeError(f"not JSON serializable: {type(obj).__name__}")


def spec_hash(obj: Any) -> str:
    """sha256 (hex) of :func:`canonical_json` of ``obj`` — e.g. a params section or a variant."""
    return hashlib.sha256(canonical_json(obj).encode()).hexdigest()


def frame_fingerprint(frame: pd.DataFrame) -> str:
    """sha256 of a float matrix's labels and values (bit-exact; NaN patterns included).

    Used as ``data_hash`` (of the returns matrix) and to identify a variant's score matrix:
    two runs on identical numbers get the same fingerprint whatever file they came from.
    """
    h = hashlib.sha256()
    index = pd.Index(frame.index)
    if isinstance(index, pd.DatetimeIndex):
        h.update(index.as_unit("ns").asi8.tobytes())
    else:
        h.update(canonical_json([str(x) for x in index]).encode())
    h.update(canonical_json([str(c) for c in frame.columns]).encode())
    h.update(np.ascontiguousarray(frame.to_numpy(dtype=np.float64)).tobytes())
    return h.hexdigest()


def panel_data_hash(panel: Any) -> str:
    """The ledger's data identity of a panel: :func:`frame_fingerprint` of its returns matrix.

    It identifies the *market data* (sessions, tickers, returns), not the signal: a change of
    signal weights on the same prices is another trial on the same data, and must be counted
    with the others (the score enters each trial's ``variant`` instead).
    """
    return frame_fingerprint(panel.ret)


def _trial_key(data_hash: str, variant: Mapping[str, Any]) -> str:
    return spec_hash({"data_hash": data_hash, "variant": variant})


@dataclass(frozen=True)
class Trial:
    """One evaluated variant.

    Parameters
    ----------
    params_hash : str
        Hash of the settings that produced the trial (provenance; not part of the identity).
    data_hash : str
        Hash of the data it ran on (e.g. the panel's content fingerprint).
    variant : mapping
        The fully resolved specification: every setting that changes the return series.
    source : {"grid", "walkforward", "experiment"}
    sharpe : float
        Per-period Sharpe ratio ``mean / sd`` (``ddof=1``) of the trial's returns.
    skew, kurtosis : float
        Skewness and Pearson kurtosis (normal = 3) of the returns.
    n_obs : int
        Number of return observations.
    periods_per_year : float, default 252
        Frequency of the returns (for converting Sharpe ratios between frequencies).
    recorded_at : str, optional
        UTC ISO timestamp; set when recorded.
    """

    params_hash: str
    data_hash: str
    variant: Mapping[str, Any]
    source: Source
    sharpe: float
    skew: float
    kurtosis: float
    n_obs: int
    periods_per_year: float = 252.0
    recorded_at: str | None = None
    key: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        for name in ("params_hash", "data_hash"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise LedgerError(f"trial.{name}: expected a non-empty string, got {value!r}")
        if self.source not in SOURCES:
            raise LedgerError(f"trial.source: {self.source!r} is not one of {list(SOURCES)}")
        if not isinstance(self.variant, Mapping) or not self.variant:
            raise LedgerError(f"trial.variant: expected a non-empty mapping, got {self.variant!r}")
        for name in ("sharpe", "skew", "kurtosis", "periods_per_year"):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
            ):
                raise LedgerError(f"trial.{name}: expected a finite number, got {value!r}")
        if self.periods_per_year <= 0:
            raise LedgerError(f"trial.periods_per_year: {self.periods_per_year!r} must be > 0")
        if (
            isinstance(self.n_obs, bool)
            or not isinstance(self.n_obs, int | np.integer)
            or self.n_obs < 2
        ):
            raise LedgerError(f"trial.n_obs: expected an integer >= 2, got {self.n_obs!r}")
        variant = json.loads(canonical_json(dict(self.variant)))
        object.__setattr__(self, "variant", variant)
        object.__setattr__(self, "n_obs", int(self.n_obs))
        object.__setattr__(self, "key", _trial_key(self.data_hash, variant))

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Trial:
        """Build from a ledger line's mapping (its stored ``key`` is checked, not trusted)."""
        missing = [f for f in _FIELDS if f not in record and f not in ("key", "recorded_at")]
        if missing:
            raise LedgerError(f"trial record lacks field(s) {missing}")
        extra = sorted(set(record) - set(_FIELDS))
        if extra:
            raise LedgerError(f"trial record has unknown field(s) {extra}")
        kwargs = {k: v for k, v in record.items() if k != "key"}
        trial = cls(**kwargs)
        stored = record.get("key")
        if stored and stored != trial.key:
            raise LedgerError(
                f"trial record key {stored!r} does not match its data_hash and variant "
                f"(expected {trial.key!r}); the line was edited"
            )
        return trial

    def to_record(self) -> dict[str, Any]:
        """The ledger line's mapping."""
        out = asdict(self)
        out["variant"] = dict(self.variant)
        return out


def _as_trial(item: Trial | Mapping[str, Any]) -> Trial:
    if isinstance(item, Trial):
        return item
    if isinstance(item, Mapping):
        return Trial.from_record(item)
    raise LedgerError(f"trials: expected Trial objects or mappings, got {type(item).__name__}")


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class TrialLedger:
    """The append-only trial ledger at ``path`` (see the module docstring).

    Parameters
    ----------
    path : str or Path
        The JSON-lines file (created on the first :meth:`record`).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> led = TrialLedger(pathlib.Path(tempfile.mkdtemp()) / "trials.jsonl")
    >>> t = Trial("p", "d", {"lag": 1}, "grid", sharpe=0.05, skew=0.0, kurtosis=3.0, n_obs=500)
    >>> led.record([t]), led.record([t]), led.stats()
    (1, 0, (1, 0.0))
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    @property
    def lock_path(self) -> Path:
        return self.path.with_name(self.path.name + ".lock")

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.lock_path, "a+") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    def _read_text(self) -> str:
        return self.path.read_text(encoding="utf-8") if self.path.is_file() else ""

    def _parse(self, text: str) -> list[Trial]:
        out: list[Trial] = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                if not isinstance(record, dict):
                    raise LedgerError(f"expected a JSON object, got {type(record).__name__}")
                out.append(Trial.from_record(record))
            except (json.JSONDecodeError, LedgerError, TypeError) as exc:
                raise LedgerError(f"{self.path}:{number}: bad ledger line: {exc}") from exc
        return out

    def read(self) -> list[Trial]:
        """Every trial in file order, duplicates (same key, e.g. after a union merge) dropped."""
        seen: set[str] = set()
        out = []
        for trial in self._parse(self._read_text()):
            if trial.key not in seen:
                seen.add(trial.key)
                out.append(trial)
        return out

    def record(self, trials: Iterable[Trial | Mapping[str, Any]]) -> int:
        """Append the trials not yet in the ledger; return how many were new.

        A trial whose key (data hash + resolved variant) is already present — in the file or
        earlier in ``trials`` — is skipped, so reruns never double count.
        """
        items = [_as_trial(t) for t in trials]
        with self._locked():
            text = self._read_text()
            seen = {t.key for t in self._parse(text)}
            lines = []
            stamp = _now()
            for trial in items:
                if trial.key in seen:
                    continue
                seen.add(trial.key)
                record = trial.to_record()
                record["recorded_at"] = record["recorded_at"] or stamp
                lines.append(json.dumps(record, sort_keys=True, default=_json_default))
            if lines:
                prefix = text if not text or text.endswith("\n") else text + "\n"
                atomic_write_text(prefix + "\n".join(lines) + "\n", self.path)
        return len(lines)

    def frame(self, *, data_hash: str | None = None, source: Source | None = None) -> pd.DataFrame:
        """The trials as a table (one row each; ``variant`` as canonical JSON text)."""
        rows = [
            {**t.to_record(), "variant": canonical_json(t.variant)}
            for t in self.read()
            if (data_hash is None or t.data_hash == data_hash)
            and (source is None or t.source == source)
        ]
        columns = list(_FIELDS)
        return pd.DataFrame(rows, columns=columns)

    def sharpes(
        self, *, data_hash: str | None = None, periods_per_year: float = 252.0
    ) -> pd.Series:
        """Per-period Sharpe ratios at ``periods_per_year``, indexed by trial key.

        A trial at frequency ``P`` with per-period Sharpe ``s`` has annual Sharpe
        ``s·sqrt(P)``, hence ``s·sqrt(P / periods_per_year)`` per period at the target.
        """
        if not (math.isfinite(periods_per_year) and periods_per_year > 0):
            raise LedgerError(f"periods_per_year: {periods_per_year!r} must be > 0")
        trials = [t for t in self.read() if data_hash is None or t.data_hash == data_hash]
        values = [t.sharpe * math.sqrt(t.periods_per_year / periods_per_year) for t in trials]
        return pd.Series(values, index=pd.Index([t.key for t in trials], name="key"), name="sharpe")

    def stats(
        self, *, data_hash: str | None = None, periods_per_year: float = 252.0
    ) -> tuple[int, float]:
        """``(n_trials, var_trials_sharpe)`` for the deflated Sharpe ratio.

        ``var_trials_sharpe`` is the sample variance (``ddof=1``) of the trials' per-period
        Sharpe ratios at ``periods_per_year``; ``0.0`` with one trial (no selection), NaN with
        none. ``data_hash`` restricts the count to trials on that data.

        References
        ----------
        Bailey & López de Prado (2014), JPM 40(5): ``N`` and ``V[SR_n]`` of the SR₀ equation.
        """
        s = self.sharpes(data_hash=data_hash, periods_per_year=periods_per_year).to_numpy()
        if s.size == 0:
            return 0, math.nan
        if s.size == 1:
            return 1, 0.0
        return int(s.size), float(np.var(s, ddof=1))

    def sync_from_git(self, repo: str | Path, *, ref_prefix: str = "refs/exps") -> int:
        """Import trials from the ledger files committed under ``ref_prefix`` (DVC experiments).

        Reads (never writes) git: for every ref under ``ref_prefix`` it reads this ledger's
        path at that commit with ``git show`` and records the trials not yet here. Outside
        a git repository, or without such refs, nothing happens. Returns the number imported.
        """
        root = Path(repo).resolve()
        top = _git(root, "rev-parse", "--show-toplevel")
        if not top:
            return 0
        try:
            rel = self.path.resolve().relative_to(Path(top.strip()).resolve()).as_posix()
        except ValueError:
            return 0
        refs = _git(root, "for-each-ref", "--format=%(objectname)", ref_prefix)
        if not refs:
            return 0
        found: list[Trial] = []
        for sha in sorted(set(refs.split())):
            text = _git(root, "show", f"{sha}:{rel}")
            if text:
                found.extend(self._parse(text))
        return self.record(found) if found else 0


def _git(root: Path, *args: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout if out.returncode == 0 else None
