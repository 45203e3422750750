"""Tests for alphalab.stats.multiple_testing: SPA/StepM wrappers, adjusted p-values, haircuts.

Tolerances
----------
- SPA / StepM against ``arch.bootstrap.SPA`` / ``StepM`` called directly on the same loss
  matrix, block size and seed: exact equality (same code path, same random stream).
- ``adjusted_pvalues`` against ``statsmodels.stats.multitest.multipletests`` (bonferroni, holm,
  fdr_by): 1e-12 absolute.
- ``sharpe_haircut``: Bonferroni against a line-by-line transcription of Harvey & Liu's
  published haircut code (the quantstrat R port of their MATLAB, monthly data, Student t with
  N − 1 df): 1e-10; Holm/BHY with the other trials given against statsmodels on the full
  p-value vector, inverted with scipy's t quantile: 1e-10.
- Sign convention: a strategy beating the benchmark by t ≈ 8 over 500 periods must be found
  superior (p < 0.01) with ``kind="returns"`` and not with the same numbers as losses.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from arch.bootstrap import SPA, StepM, optimal_block_length
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests

from alphalab.stats.multiple_testing import (
    adjusted_pvalues,
    sharpe_haircut,
    spa_test,
    stepm,
)

REPS = 300


def _returns(seed: int = 0, t: int = 500, k: int = 6) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    idx = pd.RangeIndex(t)
    models = pd.DataFrame(
        rng.normal(0.0, 0.01, size=(t, k)), index=idx, columns=[f"s{i}" for i in range(k)]
    )
    models["s2"] += 0.005  # mean excess 0.005, sd 0.014: t ≈ 8 over 500 periods
    bench = pd.Series(rng.normal(0.0, 0.01, size=t), index=idx, name="bench")
    return models, bench


# --------------------------------------------------------------------------------------------
# SPA
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bootstrap", ["stationary", "circular"])
def test_spa_returns_equal_arch_on_negated_losses(bootstrap: str) -> None:
    models, bench = _returns()
    ours = spa_test(
        models, bench, kind="returns", reps=REPS, block_size=7, seed=11, bootstrap=bootstrap
    )
    direct = SPA(
        -bench.to_numpy(), -models.to_numpy(), block_size=7, reps=REPS, bootstrap=bootstrap, seed=11
    )
    direct.compute()
    pd.testing.assert_series_equal(ours.pvalues, direct.pvalues.rename("pvalue"))
    assert ours.pvalue == direct.pvalues["consistent"]
    np.testing.assert_array_equal(
        ours.critical_values.to_numpy(), direct.critical_values(0.05).to_numpy()
    )
    assert ours.better_models == [models.columns[i] for i in direct.better_models(0.05)]


def test_spa_losses_are_passed_unchanged() -> None:
    models, bench = _returns(seed=1)
    losses, bench_loss = models**2, bench**2
    ours = spa_test(losses, bench_loss, kind="losses", reps=REPS, block_size=5, seed=3)
    direct = SPA(bench_loss.to_numpy(), losses.to_numpy(), block_size=5, reps=REPS, seed=3)
    direct.compute()
    np.testing.assert_array_equal(ours.pvalues.to_numpy(), direct.pvalues.to_numpy())


def test_spa_sign_convention_finds_the_good_strategy_only_as_returns() -> None:
    models, bench = _returns(seed=2)
    as_returns = spa_test(models, bench, kind="returns", reps=REPS, block_size=5, seed=0)
    assert as_returns.pvalue < 0.01
    assert "s2" in as_returns.better_models
    assert as_returns.mean_advantage["s2"] == pytest.approx((models["s2"] - bench).mean())
    as_losses = spa_test(models, bench, kind="losses", reps=REPS, block_size=5, seed=0)
    assert as_losses.mean_advantage["s2"] == pytest.approx(-as_returns.mean_advantage["s2"])
    assert "s2" not in as_losses.better_models
    assert as_losses.pvalue > as_returns.pvalue


def test_spa_constant_benchmark_and_default_block_size() -> None:
    models, _ = _returns(seed=3)
    result = spa_test(models, 0.0, kind="returns", reps=REPS, seed=5)
    diff = models.to_numpy()  # loss differential = 0 − (−returns)
    expected = math.ceil(float(optimal_block_length(diff).iloc[:, 0].mean()))
    assert result.block_size == max(1, expected)
    direct = SPA(
        np.zeros(len(models)), -models.to_numpy(), block_size=result.block_size, reps=REPS, seed=5
    )
    direct.compute()
    assert result.pvalue == direct.pvalues["consistent"]


def test_spa_requires_explicit_kind_and_valid_inputs() -> None:
    models, bench = _returns()
    with pytest.raises(TypeError):
        spa_test(models, bench, reps=REPS, seed=1)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="kind"):
        spa_test(models, bench, kind="profits", seed=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="observations"):
        spa_test(models, bench.iloc[:-1].to_numpy(), kind="returns", seed=1)
    bad = models.copy()
    bad.iloc[9, 3] = np.nan
    with pytest.raises(ValueError, match=r"row 10 \(1-based\), column 's3'"):
        spa_test(bad, bench, kind="returns", seed=1)
    with pytest.raises(ValueError, match="same index"):
        spa_test(models, bench.set_axis(bench.index + 1), kind="returns", seed=1)
    with pytest.raises(ValueError, match="seed"):
        spa_test(models, bench, kind="returns", seed=-1)


# --------------------------------------------------------------------------------------------
# StepM
# --------------------------------------------------------------------------------------------


def test_stepm_equals_arch_and_finds_the_good_strategy() -> None:
    models, bench = _returns(seed=4)
    models["s4"] += 0.002
    ours = stepm(models, bench, kind="returns", reps=REPS, block_size=6, seed=9, size=0.05)
    direct = StepM(
        -bench.to_numpy(), -models.to_numpy(), size=0.05, block_size=6, reps=REPS, seed=9
    )
    direct.compute()
    assert ours.superior == [models.columns[i] for i in sorted(direct.superior_models)]
    assert "s2" in ours.superior
    assert ours.is_superior.index.tolist() == list(models.columns)
    assert ours.is_superior.sum() == len(ours.superior)


def test_stepm_finds_nothing_among_noise_as_losses() -> None:
    models, bench = _returns(seed=5)
    ours = stepm(models, bench, kind="losses", reps=REPS, block_size=6, seed=2)
    assert ours.superior == []


# --------------------------------------------------------------------------------------------
# Adjusted p-values
# --------------------------------------------------------------------------------------------

_SM_METHOD = {"bonferroni": "bonferroni", "holm": "holm", "bhy": "fdr_by"}


_PVALUE_LISTS = st.lists(
    st.one_of(st.floats(0.0, 1.0), st.sampled_from([0.0, 0.01, 0.05, 1.0])),
    min_size=1,
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(pvals=_PVALUE_LISTS, method=st.sampled_from(["bonferroni", "bhy"]))
def test_adjusted_pvalues_match_statsmodels(pvals: list[float], method: str) -> None:
    p = np.array(pvals)
    expected = multipletests(p, method=_SM_METHOD[method])[1]
    ours = adjusted_pvalues(p, method=method)  # type: ignore[arg-type]
    np.testing.assert_allclose(ours, expected, atol=1e-12)


# statsmodels' holm takes ~0.15 s per call here: fewer examples.
@settings(max_examples=12, deadline=None)
@given(pvals=_PVALUE_LISTS)
def test_holm_adjusted_pvalues_match_statsmodels(pvals: list[float]) -> None:
    p = np.array(pvals)
    expected = multipletests(p, method="holm")[1]
    np.testing.assert_allclose(adjusted_pvalues(p, method="holm"), expected, atol=1e-12)


def test_adjusted_pvalues_keep_series_index() -> None:
    p = pd.Series([0.01, 0.04, 0.03], index=["a", "b", "c"], name="p")
    out = adjusted_pvalues(p, method="holm")
    assert isinstance(out, pd.Series)
    assert out.index.tolist() == ["a", "b", "c"]
    np.testing.assert_allclose(out.to_numpy(), [0.03, 0.06, 0.06])


@pytest.mark.parametrize("bad", [[0.1, np.nan], [-0.1], [1.2], []])
def test_adjusted_pvalues_reject_bad_input(bad: list[float]) -> None:
    with pytest.raises(ValueError, match="pvals"):
        adjusted_pvalues(bad, method="holm")


# --------------------------------------------------------------------------------------------
# Sharpe haircut
# --------------------------------------------------------------------------------------------


def _harvey_liu_bonferroni(
    sr_annual: float, num_obs_monthly: int, num_test: int
) -> tuple[float, float]:
    """Transcription of the Bonferroni branch of Harvey & Liu's haircut code (monthly data)."""
    n = num_obs_monthly
    sr = sr_annual / 12**0.5
    t_ratio = sr * n**0.5
    p_val = 2 * (1 - sps.t.cdf(t_ratio, n - 1))
    p_bon = min(num_test * p_val, 1)
    z_bon = sps.t.ppf(1 - p_bon / 2, n - 1)
    sr_bon = (z_bon / n**0.5) * 12**0.5
    return p_bon, sr_bon


@pytest.mark.parametrize(("sr", "n_obs", "m"), [(1.0, 120, 10), (0.75, 240, 200), (1.5, 60, 50)])
def test_haircut_bonferroni_matches_harvey_liu_code(sr: float, n_obs: int, m: int) -> None:
    p_bon, sr_bon = _harvey_liu_bonferroni(sr, n_obs, m)
    result = sharpe_haircut(sr, n_obs, m, periods_per_year=12, method="bonferroni")
    assert result.adjusted_pvalue == pytest.approx(p_bon, abs=1e-10)
    assert result.haircut_sharpe == pytest.approx(sr_bon, abs=1e-10)
    assert result.haircut == pytest.approx(1 - sr_bon / sr, abs=1e-10)


@pytest.mark.parametrize("method", ["holm", "bhy"])
def test_haircut_holm_bhy_match_statsmodels_on_all_trials(method: str) -> None:
    rng = np.random.default_rng(0)
    others = rng.normal(0.2, 0.4, size=29)
    sr, n_obs, ppy = 1.1, 750, 252
    all_sr = np.concatenate([[sr], others])
    t = all_sr / math.sqrt(ppy) * math.sqrt(n_obs)
    p = 2 * sps.t.sf(np.abs(t), n_obs - 1)
    p_adj = multipletests(p, method=_SM_METHOD[method])[1][0]
    expected_sr = sps.t.isf(p_adj / 2, n_obs - 1) / math.sqrt(n_obs) * math.sqrt(ppy)
    result = sharpe_haircut(
        sr, n_obs, 30, periods_per_year=ppy, method=method, other_sharpes=others
    )
    assert result.adjusted_pvalue == pytest.approx(p_adj, abs=1e-10)
    assert result.haircut_sharpe == pytest.approx(expected_sr, abs=1e-10)


def test_haircut_methods_are_ordered() -> None:
    # Holm is never harsher than Bonferroni; for a single best strategy they coincide.
    others = np.linspace(-0.5, 0.8, 19)
    kw = {"periods_per_year": 12, "other_sharpes": others}
    bon = sharpe_haircut(1.2, 180, 20, method="bonferroni", **kw)
    holm = sharpe_haircut(1.2, 180, 20, method="holm", **kw)
    assert holm.haircut_sharpe >= bon.haircut_sharpe - 1e-12


def test_haircut_needs_other_trials_for_holm_and_bhy() -> None:
    with pytest.raises(ValueError, match="other_sharpes"):
        sharpe_haircut(1.0, 120, 10, periods_per_year=12, method="holm")
    with pytest.raises(ValueError, match="n_trials - 1 = 9"):
        sharpe_haircut(1.0, 120, 10, periods_per_year=12, method="bhy", other_sharpes=[0.1, 0.2])


@settings(max_examples=60, deadline=None)
@given(
    sr=st.floats(0.05, 3.0),
    n_obs=st.integers(24, 5000),
    m=st.integers(1, 1000),
    extra=st.integers(1, 1000),
)
def test_haircut_properties(sr: float, n_obs: int, m: int, extra: int) -> None:
    few = sharpe_haircut(sr, n_obs, m, periods_per_year=252)
    many = sharpe_haircut(sr, n_obs, m + extra, periods_per_year=252)
    assert 0.0 <= few.haircut_sharpe <= sr * (1 + 1e-9)
    assert many.haircut_sharpe <= few.haircut_sharpe + 1e-9
    assert -1e-9 <= few.haircut <= 1.0 + 1e-9
    negative = sharpe_haircut(-sr, n_obs, m, periods_per_year=252)
    assert negative.haircut_sharpe == pytest.approx(-few.haircut_sharpe)


def test_single_trial_has_no_haircut() -> None:
    result = sharpe_haircut(0.9, 120, 1, periods_per_year=12)
    assert result.haircut_sharpe == pytest.approx(0.9, abs=1e-9)
    assert result.adjusted_pvalue == result.pvalue
