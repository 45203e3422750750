"""The robustness stage as one function: grid, inference, overfitting, ledger, outputs.

:func:`run_robustness` does the work (the notebook ``40_robustness`` only narrates and
calls it); :meth:`RobustnessResult.save` writes the tables and figures and
:meth:`RobustnessResult.metrics` returns the series for ``reports/metrics/robustness.json``
(written by the notebook with :func:`alphalab.reporting.metrics.write_metrics` and
``extra_keys=EXTRA_KEYS``).

Outputs (paths from :class:`alphalab.config.Paths`):

- ``reports/robustness/grid.parquet`` and ``grid.csv`` — one row per variant × window;
- ``reports/robustness/returns.parquet`` — full-sample net long-short of every variant;
- ``reports/robustness/placebo.parquet`` — one row per permutation;
- ``reports/robustness/periods.parquet`` — sub-period and stress-period breakdowns;
- ``reports/figures/spec_curve.html`` and ``placebo_hist.html`` — self-contained (offline).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from alphalab.config import BacktestParams, Paths, RobustnessParams, SignalParams
from alphalab.io import atomic_path, atomic_write_parquet
from alphalab.ledger import Trial, TrialLedger, panel_data_hash
from alphalab.panel import Panel
from alphalab.parallel import SchedulerSpec, dask_client, map_tasks
from alphalab.robustness.figures import placebo_histogram, spec_curve_figure, write_html
from alphalab.robustness.grid import (
    SCORE,
    STAT_COLUMNS,
    EngineConfig,
    GridInputs,
    GridResult,
    assemble_grid,
    base_config,
    evaluate_config,
    grid_configs,
    grid_inputs,
    mark_base,
    resolved_spec,
    series_stats,
)
from alphalab.robustness.inference import (
    BootstrapSummary,
    PlaceboSummary,
    bootstrap_interval,
    period_breakdown,
    placebo_test,
)
from alphalab.robustness.overfitting import (
    MultipleTesting,
    SharpeReport,
    haircuts,
    multiple_testing,
    sharpe_report,
    trial_stats,
)

__all__ = ["EXTRA_KEYS", "RobustnessResult", "run_robustness"]

PERIOD_STATS = ("n_obs", "mean", "ann_return", "sharpe", "t_nw", "max_drawdown")
BEST_STATS = STAT_COLUMNS  # the grid table's statistics, in the same order

EXTRA_KEYS = frozenset(
    "sr0 n_variants n_engine_runs n_windows share_positive share_significant sharpe_median "
    "sharpe_min sharpe_max estimate ci_lower ci_upper std_error block_size reps observed "
    "observed_ann observed_t pvalue pvalue_t placebo_mean placebo_sd n_perm pbo n_splits "
    "n_combinations prob_oos_loss degradation_slope pvalue_lower pvalue_upper n_superior fwer "
    "haircut_sharpe haircut p_adjusted n_new".split()
)
"""Statistic names the robustness metrics use beyond the shared vocabulary (DESIGN.md §5)."""


@dataclass
class RobustnessResult:
    """Everything the robustness stage computed (see :func:`run_robustness`)."""

    grid: GridResult
    base: EngineConfig
    base_returns: pd.Series
    base_turnover: pd.Series
    base_stats: dict[str, Any]
    base_report: SharpeReport
    best_variant: str
    best_report: SharpeReport
    bootstrap: dict[str, BootstrapSummary]
    placebo: PlaceboSummary
    periods: pd.DataFrame
    tests: MultipleTesting
    haircuts: dict[str, dict[str, Any]]
    n_trials: int
    var_trials_sharpe: float
    n_new_trials: int
    data_hash: str
    periods_per_year: float
    conventions: dict[str, Any]
    notes: list[str] = field(default_factory=list)

    @property
    def base_variant(self) -> str | None:
        """Grid id of the study's own specification, if the grid contains it."""
        hit = self.grid.table.loc[mark_base(self.grid.table, self.base), "variant"]
        return str(hit.iloc[0]) if len(hit) else None

    def grid_table(self) -> pd.DataFrame:
        """The grid table with ``is_base`` and ``is_best`` flags."""
        table = self.grid.table.copy()
        table["is_base"] = mark_base(table, self.base)
        table["is_best"] = table["variant"] == self.best_variant
        return table

    def metrics(self) -> dict[str, dict[str, Any]]:
        """Series and analyses for ``reports/metrics/robustness.json`` (DESIGN.md §5)."""
        full = self.grid.full
        best = full.loc[full["variant"] == self.best_variant].iloc[0]
        out: dict[str, dict[str, Any]] = {
            "long_short": {**self.base_stats, **self.base_report.as_metrics()},
            "best_variant": {
                **{k: best[k] for k in BEST_STATS},
                **self.best_report.as_metrics(),
                "n_variants": self.grid.n_variants,
            },
            "grid": _grid_summary(self.grid),
            "bootstrap_sharpe": self.bootstrap["sharpe"].as_metrics(),
            "bootstrap_mean": self.bootstrap["mean"].as_metrics(),
            "placebo": self.placebo.as_metrics(self.periods_per_year),
            **self.tests.as_metrics(),
            **self.haircuts,
            "ledger": {
                "n_trials": self.n_trials,
                "var_trials_sharpe": self.var_trials_sharpe,
                "n_new": self.n_new_trials,
            },
        }
        keep = [c for c in PERIOD_STATS if c in self.periods.columns]
        for record in self.periods.to_dict("records"):
            out[f"period_{record['period']}"] = {k: record[k] for k in keep}
        return out

    def save(self, paths: Paths) -> dict[str, Path]:
        """Write the tables and figures (atomically) under ``paths``; return what was written."""
        folder = paths.reports / "robustness"
        figures = paths.reports / "figures"
        table = self.grid_table()
        written = {
            "grid": atomic_write_parquet(table, folder / "grid.parquet"),
            "grid_csv": _write_csv(table, folder / "grid.csv"),
            "returns": atomic_write_parquet(self.grid.returns, folder / "returns.parquet"),
            "placebo": atomic_write_parquet(self.placebo.to_frame(), folder / "placebo.parquet"),
            "periods": atomic_write_parquet(self.periods, folder / "periods.parquet"),
            "spec_curve": write_html(self.spec_curve(), figures / "spec_curve.html"),
            "placebo_hist": write_html(self.placebo_figure(), figures / "placebo_hist.html"),
        }
        return written

    def spec_curve(self) -> Any:
        """The specification-curve figure (plotly)."""
        return spec_curve_figure(
            self.grid.full, n_trials=self.n_trials, base_variant=self.base_variant
        )

    def placebo_figure(self) -> Any:
        """The placebo histogram (plotly)."""
        return placebo_histogram(
            self.placebo.means,
            self.placebo.observed_mean,
            pvalue=self.placebo.pvalue,
            periods_per_year=self.periods_per_year,
            alternative=self.placebo.alternative,
        )


def _write_csv(frame: pd.DataFrame, path: Path) -> Path:
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False)
    return path


def _grid_summary(grid: GridResult) -> dict[str, Any]:
    full = grid.full
    sharpe = full["sharpe"].to_numpy(dtype=np.float64)
    t = full["t_nw"].to_numpy(dtype=np.float64)
    ok = np.isfinite(sharpe)
    return {
        "n_variants": grid.n_variants,
        "n_engine_runs": grid.n_engine_runs,
        "n_windows": int(grid.table["window"].nunique()),
        "share_positive": float(np.mean(sharpe[ok] > 0)) if ok.any() else math.nan,
        "share_significant": float(np.mean(np.abs(t[ok]) > 1.96)) if ok.any() else math.nan,
        "sharpe_median": float(np.median(sharpe[ok])) if ok.any() else math.nan,
        "sharpe_min": float(sharpe[ok].min()) if ok.any() else math.nan,
        "sharpe_max": float(sharpe[ok].max()) if ok.any() else math.nan,
    }


# --------------------------------------------------------------------------------------------
# the stage
# --------------------------------------------------------------------------------------------
def _base_series(
    inputs: GridInputs, base: EngineConfig
) -> tuple[pd.Series, pd.Series, pd.Series, str]:
    """Net and gross long-short and turnover of the base spec (from its first trade on)."""
    one = dataclasses.replace(
        inputs, cost_multipliers=(1.0,), windows=inputs.windows[:1], keep_gross=True
    )
    res = evaluate_config(base, one)
    index = inputs.ret.index
    net = pd.Series(res.net[1.0], index=index, name="long_short")
    gross = pd.Series(res.gross, index=index, name="long_short_gross")
    turnover = pd.Series(res.turnover, index=index, name="turnover")
    first = net.first_valid_index()
    return net.loc[first:], gross.loc[first:], turnover.loc[first:], res.score_hash


def _trial_pool(
    trials: list[Trial], ledger: TrialLedger | None, data_hash: str, ppy: float
) -> pd.Series:
    """Per-period Sharpe ratios of every trial on these data: the ledger's plus this run's."""
    pool = (
        ledger.sharpes(data_hash=data_hash, periods_per_year=ppy)
        if ledger is not None
        else pd.Series(dtype=float)
    )
    extra = {
        t.key: t.sharpe * math.sqrt(t.periods_per_year / ppy)
        for t in trials
        if t.key not in pool.index
    }
    return pd.concat([pool, pd.Series(extra, dtype=float)]) if extra else pool


@dataclass(frozen=True)
class _ScaledOut:
    results: list[Any]
    bootstrap: dict[str, BootstrapSummary]
    placebo: PlaceboSummary


def _scaled_out(
    configs: list[EngineConfig],
    inputs: GridInputs,
    base: EngineConfig,
    base_returns: pd.Series,
    r: RobustnessParams,
    where: dict[str, Any],
) -> _ScaledOut:
    """The grid, the bootstraps and the placebo on one Dask client (or synchronously)."""
    ppy = inputs.periods_per_year
    with dask_client(where["scheduler"], n_workers=where["n_workers"]) as client:
        opts = {**where, "scheduler": client if client is not None else "synchronous"}
        results = map_tasks(evaluate_config, configs, desc="robustness grid", shared=inputs, **opts)
        boot = {
            stat: bootstrap_interval(
                base_returns,
                statistic=stat,  # type: ignore[arg-type]
                seed=r.seed,
                periods_per_year=ppy,
                reps=r.bootstrap_reps,
                method=r.bootstrap_method,
                block_size=r.bootstrap_block,
                alpha=r.alpha,
                **opts,
            )
            for stat in ("sharpe", "mean")
        }
        placebo = placebo_test(
            base,
            inputs,
            n_perm=r.placebo_n_perm,
            seed=r.seed,
            alternative=r.placebo_alternative,
            **opts,
        )
    return _ScaledOut(results, boot, placebo)


def _record(
    trials: list[Trial],
    ledger: TrialLedger | None,
    *,
    record: bool,
    repo: str | Path | None,
) -> int:
    if ledger is None:
        return 0
    if repo is not None:
        ledger.sync_from_git(repo)
    return ledger.record(trials) if record else 0


def run_robustness(
    panel: Panel,
    *,
    robustness: RobustnessParams,
    backtest: BacktestParams,
    signal: SignalParams,
    params_hash: str,
    ledger: TrialLedger | None = None,
    repo: str | Path | None = None,
    scheduler: SchedulerSpec | Any = None,
    n_workers: int | None = None,
    progress: bool | None = None,
) -> RobustnessResult:
    """Run the whole robustness analysis of a panel.

    Steps: the specification grid (Dask), the base specification's series, block-bootstrap
    intervals of its Sharpe ratio and mean (Dask), the within-date permutation placebo
    (Dask), sub- and stress-period breakdowns, the trial ledger (record this run's variants
    and the base specification once; import experiments' trials from ``repo``'s
    ``refs/exps``), PSR / DSR / MinTRL of the base and of the best variant with the ledger's
    trial count, HLZ haircuts, PBO, SPA and StepM.

    Parameters
    ----------
    panel : Panel
        The study's panel (see :mod:`alphalab.panel`).
    robustness, backtest, signal : params sections
    params_hash : str
        Hash of the params that produced this run (stored with each trial as provenance).
    ledger : TrialLedger, optional
        The trial ledger. Without it (or with ``robustness.record_trials: false``) the counts
        use the ledger's existing trials (if any) plus this run's, and nothing is written.
    repo : path, optional
        Git repository whose DVC experiment refs are scanned for trials (read-only).
    scheduler, n_workers, progress
        Override ``robustness.scheduler`` / ``n_workers`` / ``progress``.

    Returns
    -------
    RobustnessResult

    References
    ----------
    See :mod:`alphalab.robustness.grid`, :mod:`~alphalab.robustness.inference` and
    :mod:`~alphalab.robustness.overfitting`.
    """
    r = robustness
    where = {
        "scheduler": r.scheduler if scheduler is None else scheduler,
        "n_workers": r.n_workers if n_workers is None else n_workers,
        "progress": r.progress if progress is None else progress,
    }
    ppy = float(backtest.ann_factor)
    configs, notes = grid_configs(r, list(panel.dimensions))
    inputs = grid_inputs(panel, robustness=r, backtest=backtest, signal=signal)
    base = base_config(backtest)
    base_ret, base_gross, base_turn, base_hash = _base_series(inputs, base)
    out = _scaled_out(configs, inputs, base, base_ret, r, where)
    grid = assemble_grid(configs, out.results, inputs, notes=notes)
    data_hash = panel_data_hash(panel)
    base_trial = _base_trial(base, inputs, base_hash, base_ret, params_hash, data_hash)
    trials = [*grid.trials(params_hash=params_hash, data_hash=data_hash), base_trial]
    n_new = _record(trials, ledger, record=r.record_trials, repo=repo)
    pool = _trial_pool(trials, ledger, data_hash, ppy)
    n_trials, var_trials = trial_stats(pool)
    best = best_variant(grid.full)
    tests = multiple_testing(
        grid.common_returns(),
        seed=r.seed,
        pbo_splits=r.pbo_splits,
        reps=r.spa_reps,
        bootstrap=r.spa_bootstrap,
        block_size=r.spa_block,
        fwer=r.fwer,
        frequency=r.spa_frequency,
    )
    base_stats = _stats(base_ret, base_gross, base_turn, ppy)
    others = pool.drop(index=[base_trial.key], errors="ignore") * math.sqrt(ppy)
    return RobustnessResult(
        grid=grid,
        base=base,
        base_returns=base_ret,
        base_turnover=base_turn,
        base_stats=base_stats,
        base_report=sharpe_report(base_ret, n_trials=n_trials, var_trials_sharpe=var_trials),
        best_variant=best,
        best_report=sharpe_report(
            grid.returns[best], n_trials=n_trials, var_trials_sharpe=var_trials
        ),
        bootstrap=out.bootstrap,
        placebo=out.placebo,
        periods=_periods(base_ret, base_turn, inputs, r, ppy),
        tests=tests,
        haircuts=haircuts(
            base_stats["sharpe"],
            base_stats["n_obs"],
            other_sharpes_annual=others.to_numpy(),
            periods_per_year=ppy,
            methods=r.haircut_methods,
        ),
        n_trials=n_trials,
        var_trials_sharpe=var_trials,
        n_new_trials=n_new,
        data_hash=data_hash,
        periods_per_year=ppy,
        conventions=_conventions(r, backtest, base_ret, ppy, tests),
        notes=notes,
    )


def best_variant(full: pd.DataFrame) -> str:
    """Id of the highest-Sharpe full-sample variant paying at least the study's costs.

    Variants at a cost multiplier below 1 (e.g. gross returns) are tried and counted, but a
    strategy that does not pay its trading costs is not a candidate for "best"; without any
    costed variant the best of all is taken.
    """
    costed = full[full["cost_multiplier"] >= 1.0]
    pool = costed if costed["sharpe"].notna().any() else full
    return str(pool.loc[pool["sharpe"].idxmax(), "variant"])


def _stats(returns: pd.Series, gross: pd.Series, turnover: pd.Series, ppy: float) -> dict[str, Any]:
    ok = returns.notna().to_numpy()
    return series_stats(
        returns.to_numpy()[ok],
        turnover.to_numpy()[ok],
        periods_per_year=ppy,
        gross=gross.to_numpy()[ok],
    )


def _base_trial(
    base: EngineConfig,
    inputs: GridInputs,
    score_hash: str,
    returns: pd.Series,
    params_hash: str,
    data_hash: str,
) -> Trial:
    x = returns.dropna().to_numpy()
    from scipy import stats as sps

    return Trial(
        params_hash=params_hash,
        data_hash=data_hash,
        variant=resolved_spec(base, 1.0, inputs, score_hash),
        source="experiment",
        sharpe=float(x.mean() / x.std(ddof=1)),
        skew=float(sps.skew(x, bias=True)),
        kurtosis=float(sps.kurtosis(x, fisher=False, bias=True)),
        n_obs=int(x.size),
        periods_per_year=inputs.periods_per_year,
    )


def _periods(
    returns: pd.Series,
    turnover: pd.Series,
    inputs: GridInputs,
    r: RobustnessParams,
    ppy: float,
) -> pd.DataFrame:
    dates = inputs.ret.index
    windows = {
        w.label: (dates[w.first], dates[w.last - 1]) for w in inputs.windows if w.label != "full"
    }
    stress = {f"stress_{name}": span for name, span in r.stress_periods.items()}
    return period_breakdown(returns, {**windows, **stress}, periods_per_year=ppy, turnover=turnover)


def _conventions(
    r: RobustnessParams,
    backtest: BacktestParams,
    base_ret: pd.Series,
    ppy: float,
    tests: MultipleTesting,
) -> dict[str, Any]:
    return {
        "periods_per_year": ppy,
        "sharpe": "mean / sd (ddof=1) of per-period net long-short returns x sqrt(periods_per_year); "
        "psr/dsr/min_trl use the per-period Sharpe (Bailey & Lopez de Prado 2012, 2014)",
        "series": "long_short = direction x (top - bottom group), net of costs, base specification "
        "(backtest params, panel score, all names)",
        "lag": backtest.lag,
        "execution": "score known at close t, traded at close t+lag (alphalab.backtest engine)",
        "cost_model": {**backtest.costs.model_dump(), "grid_multipliers": r.cost_multipliers},
        "sample": [str(base_ret.index[0].date()), str(base_ret.index[-1].date())],
        "n_trials": "distinct (data, resolved variant) trials in the ledger on these returns "
        "data (grid, walk-forward and experiments); var_trials_sharpe = their per-period "
        "Sharpe variance (ddof=1)",
        "bootstrap": f"{r.bootstrap_method} block bootstrap, {r.bootstrap_reps} reps, percentile "
        f"interval at {1 - r.alpha:.0%}, seed {r.seed}",
        "placebo": f"scores shuffled across names within each date, {r.placebo_n_perm} "
        f"permutations, gross long-short mean, alternative {r.placebo_alternative}, p = "
        "(1 + hits) / (1 + n_perm)",
        "pbo": f"CSCV, {r.pbo_splits} blocks, Sharpe metric, daily rows common to all variants",
        "spa": f"Hansen SPA and Romano-Wolf StepM vs 0 on {tests.frequency} returns "
        f"({tests.n_rows} rows), {r.spa_bootstrap} bootstrap, {r.spa_reps} reps, seed {r.seed}",
        "haircuts": "Harvey-Liu-Zhu: t = SR sqrt(T), other ledger trials as competing tests",
        "t_nw": "Newey-West t of the mean, Bartlett kernel, lags floor(4 (T/100)^(2/9))",
        "dimension_sets": f"'{SCORE}' = the panel score; other sets recombine the standardized "
        "dimensions with signal weights",
    }
