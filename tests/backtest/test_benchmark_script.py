"""The benchmark script imports, and its three workloads compute the same numbers.

The benchmark itself is never run from pytest (``python benchmarks/bench_engine.py``); this
checks on a tiny input that the workloads it compares agree (1e-12), so a speed ratio in
``benchmarks/results/latest.json`` is a ratio between equal answers.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_engine.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_engine", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def test_workloads_agree_on_a_tiny_input(bench) -> None:
    pytest.importorskip("alphalens")
    score, prices = bench.make_data(23, 40, seed=1)
    ours = bench.run_ours(score, prices)
    assert ours.shape == (40, 5) and np.isnan(ours[-1]).all()
    for peer in (bench.run_pandas, bench.run_alphalens):
        theirs = peer(score, prices)
        np.testing.assert_allclose(theirs[:-1], ours[:-1], rtol=0, atol=1e-12)
    assert np.isfinite(bench.run_sort(score, prices)[-1]).all()
