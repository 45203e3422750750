"""Factor-model alphas at the factors' own frequency, with Newey–West t-statistics.

Daily returns are compounded to calendar months, ``Π(1 + r) - 1`` over the sessions of each
month, labelled by the calendar month end (the factors table's dates, DESIGN.md §4).
Months with fewer than ``min_days`` returns (the partial first and last months of a sample,
say) are dropped and counted. The regression is

    r_m - rf_m = α + Σ_k β_k f_{k,m} + e_m

over the months where the returns and every factor of the model are present (the window is
reported), by OLS with Newey–West (Bartlett, no small-sample correction) standard errors:
statsmodels ``OLS(y, add_constant(F)).fit(cov_type="HAC", cov_kwds={"maxlags": L,
"use_correction": False})`` to 1e-10 (tests/reference). ``alpha_ann = 12 · alpha``
(arithmetic, per month × 12).

Models: ``capm`` (mkt_rf), ``ff3`` (mkt_rf, smb, hml), ``carhart`` (ff3 + mom).

References
----------
Jensen, M. C. (1968), "The performance of mutual funds in the period 1945–1964", Journal of
Finance 23(2), 389–416, eq. (8) (alpha). Fama, E. F. and French, K. R. (1993), Journal of
Financial Economics 33, 3–56, eq. (1). Carhart, M. M. (1997), "On persistence in mutual fund
performance", Journal of Finance 52(1), 57–82, eq. (2). Newey, W. K. and West, K. D. (1987),
Econometrica 55(3), 703–708.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from alphalab.stats.inference import ols_hac

Model = Literal["capm", "ff3", "carhart"]
MODELS: dict[str, tuple[str, ...]] = {
    "capm": ("mkt_rf",),
    "ff3": ("mkt_rf", "smb", "hml"),
    "carhart": ("mkt_rf", "smb", "hml", "mom"),
}
PERIODS_PER_YEAR = 12


class AlphaInputError(ValueError):
    """Bad input to :func:`factor_alphas` (missing factor columns, percent units, no overlap)."""


@dataclass(frozen=True)
class FactorAlphaResult:
    """Alpha and betas of one return series on a factor model.

    Attributes
    ----------
    model : str
        ``capm``, ``ff3`` or ``carhart``.
    alpha, alpha_ann : float
        Intercept per month and × 12.
    se_alpha, t_alpha, p_alpha : float
        Newey–West standard error, t-statistic and two-sided normal p-value of alpha.
    betas, t_betas : dict
        Factor loadings and their HAC t-statistics.
    r2, adj_r2 : float
        R² of the regression.
    n_obs, nw_lags : int
        Months used and the Bartlett lag.
    start, end : pandas.Timestamp
        First and last month-end of the window actually used.
    dropped_months : int
        Months dropped for having fewer than ``min_days`` daily returns.
    excess : bool
        Whether ``rf`` was subtracted from the returns.
    """

    model: str
    alpha: float
    alpha_ann: float
    se_alpha: float
    t_alpha: float
    p_alpha: float
    betas: dict[str, float]
    t_betas: dict[str, float]
    r2: float
    adj_r2: float
    n_obs: int
    nw_lags: int
    start: pd.Timestamp
    end: pd.Timestamp
    dropped_months: int
    excess: bool
    monthly: pd.Series = field(repr=False)

    def as_dict(self) -> dict[str, Any]:
        """Flat dict for a metrics file (``alpha``, ``t_alpha``, ``beta_<factor>`` ...)."""
        out: dict[str, Any] = {
            "model": self.model,
            "alpha": self.alpha,
            "alpha_ann": self.alpha_ann,
            "t_alpha": self.t_alpha,
            "p_alpha": self.p_alpha,
            "r2": self.r2,
            "n_obs": self.n_obs,
            "nw_lags": self.nw_lags,
            "start": self.start.date().isoformat(),
            "end": self.end.date().isoformat(),
            "excess": self.excess,
        }
        out.update({f"beta_{k}": v for k, v in self.betas.items()})
        out.update({f"t_beta_{k}": v for k, v in self.t_betas.items()})
        return out


def _factor_table(factors: pd.DataFrame, model: str) -> pd.DataFrame:
    if model not in MODELS:
        raise AlphaInputError(f"model: {model!r} is not one of {list(MODELS)}")
    if not isinstance(factors, pd.DataFrame):
        raise AlphaInputError(f"factors: expected a DataFrame, got {type(factors).__name__}")
    if not isinstance(factors.index, pd.DatetimeIndex) and "date" in factors.columns:
        factors = factors.set_index("date")
    if not isinstance(factors.index, pd.DatetimeIndex):
        raise AlphaInputError("factors: needs a DatetimeIndex (or a 'date' column) of month ends")
    need = (*MODELS[model], "rf")
    missing = [c for c in need if c not in factors.columns]
    if missing:
        raise AlphaInputError(
            f"factors: model {model!r} needs columns {missing} (have {list(factors.columns)})"
        )
    table = factors[list(need)].astype(np.float64)
    idx = pd.DatetimeIndex(table.index).normalize()
    not_end = ~idx.is_month_end
    if not_end.any():
        raise AlphaInputError(
            f"factors: dates must be calendar month ends, first offender {idx[not_end][0].date()}"
        )
    if not idx.is_unique:
        raise AlphaInputError(f"factors: duplicate month {idx[idx.duplicated()][0].date()}")
    big = float(np.nanmax(np.abs(table[list(MODELS[model])].to_numpy())))
    if big > 1.0:
        raise AlphaInputError(
            f"factors: a monthly factor return of {big:.3g} looks like percent; factors must be decimals"
        )
    table.index = idx
    return table.sort_index()


def compound_monthly(returns: pd.Series, *, min_days: int = 15) -> tuple[pd.Series, int]:
    """Compound simple returns to calendar months (month-end labels).

    Months with fewer than ``min_days`` non-missing returns are dropped; returns the monthly
    series and the number of months dropped.
    """
    r = returns.dropna()
    if r.empty:
        return pd.Series(dtype=np.float64), 0
    frame = pd.DataFrame({"m": r.index.to_period("M"), "g": 1.0 + r.to_numpy(dtype=np.float64)})
    agg = frame.groupby("m", sort=True)["g"].agg(["prod", "size"])
    keep = agg["size"] >= min_days
    index = agg.index[keep].to_timestamp(how="end").normalize()
    return pd.Series(agg.loc[keep, "prod"].to_numpy() - 1.0, index=index), int((~keep).sum())


def factor_alphas(
    returns: pd.Series,
    factors: pd.DataFrame,
    *,
    model: Model = "carhart",
    nw_lags: int | None = None,
    frequency: Literal["daily", "monthly"] = "daily",
    min_days: int = 15,
    excess: bool = True,
) -> FactorAlphaResult:
    """Alpha of a return series on the CAPM, Fama–French three-factor or Carhart model.

    Parameters
    ----------
    returns : pandas.Series
        Simple returns on a DatetimeIndex: daily sessions (compounded to months) or monthly.
    factors : pandas.DataFrame
        Monthly factors, columns ``mkt_rf smb hml mom rf`` in decimals, on a DatetimeIndex (or
        a ``date`` column) at calendar month ends (see :mod:`alphalab.data.factors`).
    model : {"capm", "ff3", "carhart"}
        Factor set.
    nw_lags : int, optional
        Newey–West lag; default ``floor(4 (T/100)^(2/9))`` (:mod:`alphalab.stats.inference`).
    frequency : {"daily", "monthly"}
        Frequency of ``returns``; monthly returns are relabelled to their month end.
    min_days : int
        With daily returns, months with fewer observations are dropped (and counted).
    excess : bool
        Subtract ``rf`` from the returns (set False for a zero-cost long-short).

    Returns
    -------
    FactorAlphaResult

    Raises
    ------
    AlphaInputError
        Missing factor columns, percent units, non-month-end dates, or fewer than
        ``k + 2`` overlapping months.

    References
    ----------
    Jensen (1968), eq. (8); Fama and French (1993), eq. (1); Carhart (1997), eq. (2); Newey
    and West (1987).
    """
    table = _factor_table(factors, model)
    if not isinstance(returns, pd.Series) or not isinstance(returns.index, pd.DatetimeIndex):
        raise AlphaInputError("returns: expected a pandas Series on a DatetimeIndex")
    if frequency == "daily":
        monthly, dropped = compound_monthly(returns, min_days=min_days)
    elif frequency == "monthly":
        monthly = returns.dropna()
        monthly.index = monthly.index.to_period("M").to_timestamp(how="end").normalize()
        dropped = 0
    else:
        raise AlphaInputError(f"frequency: {frequency!r} is not 'daily' or 'monthly'")
    names = list(MODELS[model])
    data = table.join(monthly.rename("ret"), how="inner").dropna()
    if len(data) < len(names) + 3:
        raise AlphaInputError(
            f"returns and factors overlap in {len(data)} complete month(s); {model!r} needs at "
            f"least {len(names) + 3}"
        )
    y = data["ret"] - data["rf"] if excess else data["ret"]
    x = np.column_stack([np.ones(len(data)), data[names].to_numpy()])
    fit = ols_hac(y.to_numpy(), x, lags=nw_lags)
    return FactorAlphaResult(
        model=model,
        alpha=float(fit.params[0]),
        alpha_ann=float(fit.params[0]) * PERIODS_PER_YEAR,
        se_alpha=float(fit.se[0]),
        t_alpha=float(fit.t[0]),
        p_alpha=float(fit.p[0]),
        betas={n: float(b) for n, b in zip(names, fit.params[1:], strict=True)},
        t_betas={n: float(t) for n, t in zip(names, fit.t[1:], strict=True)},
        r2=fit.r2,
        adj_r2=fit.adj_r2,
        n_obs=fit.n_obs,
        nw_lags=fit.lags,
        start=data.index[0],
        end=data.index[-1],
        dropped_months=dropped,
        excess=excess,
        monthly=y,
    )


def factor_alphas_table(
    returns: pd.DataFrame,
    factors: pd.DataFrame,
    *,
    model: Model = "carhart",
    nw_lags: int | None = None,
    frequency: Literal["daily", "monthly"] = "daily",
    min_days: int = 15,
    excess: bool | dict[str, bool] = True,
) -> pd.DataFrame:
    """:func:`factor_alphas` for each column (e.g. ``g1`` … ``gN``, ``long_short``).

    ``excess`` may be a dict per column (e.g. ``{"long_short": False}``; others default True).
    Returns one row per column with the fields of :meth:`FactorAlphaResult.as_dict`.
    """
    rows = {}
    for col in returns.columns:
        ex = excess.get(col, True) if isinstance(excess, dict) else excess
        res = factor_alphas(
            returns[col],
            factors,
            model=model,
            nw_lags=nw_lags,
            frequency=frequency,
            min_days=min_days,
            excess=ex,
        )
        rows[col] = res.as_dict()
    return pd.DataFrame.from_dict(rows, orient="index")


__all__ = [
    "MODELS",
    "AlphaInputError",
    "FactorAlphaResult",
    "compound_monthly",
    "factor_alphas",
    "factor_alphas_table",
]
