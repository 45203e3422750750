"""Trading costs charged on turnover.

Turnover at a trade is ``sum_i |w_new_i - w_drifted_i|`` (each traded dollar counted once, buys
and sells alike), so building a long-only book from cash has turnover 1 and replacing it
entirely has turnover 2. Every traded dollar pays the half spread, the commission and a
(linear) impact charge: ``cost = turnover × (half_spread_bps + commission_bps + impact_bps)
/ 10_000``, deducted from the return of the session whose close the trade happens at.

References
----------
Novy-Marx, R. and Velikov, M. (2016), "A taxonomy of anomalies and their trading costs",
Review of Financial Studies 29(1), 104–147: costs as turnover × effective half spread (their
eq. 1) and break-even costs.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from alphalab.backtest._inputs import BacktestInputError


@dataclass(frozen=True)
class CostModel:
    """One-way cost per unit of turnover, in basis points of traded value.

    Parameters
    ----------
    half_spread_bps : float
        Half the quoted (or effective) bid–ask spread.
    commission_bps : float
        Commissions and fees.
    impact_bps : float
        Market impact, here a fixed charge per traded dollar (a linear cost model).

    Examples
    --------
    >>> CostModel(half_spread_bps=5, commission_bps=1).rate
    0.0006
    """

    half_spread_bps: float = 0.0
    commission_bps: float = 0.0
    impact_bps: float = 0.0

    def __post_init__(self) -> None:
        for name in ("half_spread_bps", "commission_bps", "impact_bps"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise BacktestInputError(f"costs.{name}: expected a number, got {value!r}")
            if not math.isfinite(value) or value < 0:
                raise BacktestInputError(f"costs.{name}: {value!r} must be finite and >= 0")

    @property
    def total_bps(self) -> float:
        """All-in cost per unit of turnover, in basis points."""
        return float(self.half_spread_bps + self.commission_bps + self.impact_bps)

    @property
    def rate(self) -> float:
        """All-in cost per unit of turnover, as a decimal."""
        return self.total_bps / 10_000.0

    def describe(self) -> dict[str, Any]:
        """The cost model as a plain dict (for the ``conventions`` block of a report)."""
        return {**asdict(self), "total_bps": self.total_bps, "charged_on": "turnover"}


def as_cost_model(costs: CostModel | float | int | Any | None) -> CostModel:
    """Accept a :class:`CostModel`, a flat all-in cost in bps, ``None`` (free), or any object
    with ``half_spread_bps`` / ``commission_bps`` / ``impact_bps`` attributes (such as
    :class:`alphalab.config.CostParams`)."""
    if costs is None:
        return CostModel()
    if isinstance(costs, CostModel):
        return costs
    if isinstance(costs, int | float) and not isinstance(costs, bool):
        return CostModel(commission_bps=float(costs))
    fields = ("half_spread_bps", "commission_bps", "impact_bps")
    if all(hasattr(costs, f) for f in fields):
        return CostModel(**{f: float(getattr(costs, f)) for f in fields})
    raise BacktestInputError(
        f"costs: expected a CostModel, a number of bps or None, got {type(costs).__name__}"
    )
