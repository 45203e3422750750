"""The ``robustness`` params section: defaults and clear errors naming the key path."""

from __future__ import annotations

import pytest

from alphalab.config import Params, ParamsError, validate_params


def test_defaults_describe_the_default_grid() -> None:
    r = Params().robustness
    assert r.scheduler == "local" and r.n_workers == 2 and r.seed == 0
    assert len(r.n_groups) * len(r.lag) * len(r.holding) * len(r.universes) == 16
    assert r.cost_multipliers == [0.0, 1.0, 2.0] and r.pbo_splits % 2 == 0
    assert set(r.stress_periods) == {"2000-02", "2008-09", "2020", "2023"}


@pytest.mark.parametrize(
    ("section", "match"),
    [
        ({"scheduler": "tcp://somewhere"}, r"robustness\.scheduler: .*tcp://host:port"),
        ({"universes": ["all", "ex_small:0.2"]}, r"robustness\.universes: .*unknown universe"),
        ({"universes": ["ex_volatile:1.5"]}, r"robustness\.universes"),
        ({"dimension_sets": ["a b"]}, r"robustness\.dimension_sets: .*bad dimension set"),
        ({"lag": [1, -1]}, r"robustness\.lag: .*must be >= 0"),
        ({"n_groups": [1]}, r"robustness\.n_groups: .*must be >= 2"),
        ({"holding": [1, 1]}, r"robustness\.holding: .*repeat"),
        ({"cost_multipliers": [-1.0]}, r"robustness\.cost_multipliers"),
        ({"pbo_splits": 7}, r"robustness: .*pbo_splits must be even"),
        ({"stress_periods": {"x": ["2020-02-01", "2020-01-01"]}}, r"first day .* after last"),
        ({"n_workers": 0}, r"robustness\.n_workers"),
        ({"grid": {}}, r"robustness\.grid: .*unknown key"),
    ],
)
def test_bad_values_are_named(section: dict, match: str) -> None:
    with pytest.raises(ParamsError, match=match):
        validate_params({"robustness": section})


def test_accepts_a_tcp_scheduler_and_filters() -> None:
    r = validate_params(
        {
            "robustness": {
                "scheduler": "tcp://10.1.2.3:8786",
                "universes": ["all", "ex_smallest:0.3", "min_price:5", "ex_lowest_price:.1"],
                "dimension_sets": ["all", "drop_each", "D+G+R"],
            }
        }
    ).robustness
    assert r.scheduler == "tcp://10.1.2.3:8786" and r.dimension_sets[-1] == "D+G+R"
