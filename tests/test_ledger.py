"""Tests of the trial ledger (alphalab.ledger): identity, idempotence, statistics, survival.

Tolerances: counts and keys exact; the ledger variance equals numpy's ``var(ddof=1)`` to
1e-15 relative; the deflated Sharpe ratio through the ledger reproduces Bailey & López de
Prado's (2014) worked example, DSR ≈ 0.9004 as printed (4 decimals: ±5e-5).
"""

from __future__ import annotations

import json
import math
import multiprocessing as mp
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from alphalab.ledger import LedgerError, Trial, TrialLedger, canonical_json, frame_fingerprint
from alphalab.stats.overfitting import SharpeStats, deflated_sharpe_ratio

BIN = Path(sys.executable).parent


def trial(
    i: int,
    *,
    data: str = "d1",
    source: str = "grid",
    sharpe: float | None = None,
    ppy: float = 252.0,
    params: str = "p1",
) -> Trial:
    return Trial(
        params_hash=params,
        data_hash=data,
        variant={"lag": 1, "n_groups": i, "dims": ["a", "b"]},
        source=source,  # type: ignore[arg-type]
        sharpe=0.01 * i if sharpe is None else sharpe,
        skew=-0.2,
        kurtosis=4.0,
        n_obs=1000,
        periods_per_year=ppy,
    )


# --------------------------------------------------------------------------------------------
# identity and idempotence
# --------------------------------------------------------------------------------------------
def test_record_is_idempotent_and_counts_new(tmp_path: Path) -> None:
    led = TrialLedger(tmp_path / "ledger" / "trials.jsonl")
    assert led.record([trial(1), trial(2), trial(2)]) == 2  # duplicate within the batch
    assert led.record([trial(2), trial(3)]) == 1
    assert led.record([trial(1), trial(2), trial(3)]) == 0
    assert [t.variant["n_groups"] for t in led.read()] == [1, 2, 3]
    assert led.stats()[0] == 3


def test_identity_is_data_and_resolved_variant(tmp_path: Path) -> None:
    a = trial(1)
    # provenance and source do not make a new trial; key order and tuples vs lists do not either
    same = Trial(
        "other-params",
        "d1",
        {"dims": ("a", "b"), "n_groups": 1, "lag": 1},
        "experiment",
        0.5,
        0.0,
        3.0,
        10,
    )
    assert same.key == a.key
    assert trial(1, data="d2").key != a.key
    assert trial(2).key != a.key
    led = TrialLedger(tmp_path / "t.jsonl")
    assert led.record([a, same]) == 1


def test_file_is_append_only_json_lines(tmp_path: Path) -> None:
    led = TrialLedger(tmp_path / "t.jsonl")
    led.record([trial(1)])
    before = led.path.read_bytes()
    led.record([trial(2)])
    after = led.path.read_bytes()
    assert after.startswith(before)
    lines = after.decode().splitlines()
    assert len(lines) == 2
    rec = json.loads(lines[1])
    assert list(rec) == sorted(rec)
    assert rec["key"] == trial(2).key and rec["recorded_at"]


def test_edited_or_broken_line_is_rejected_with_its_line_number(tmp_path: Path) -> None:
    led = TrialLedger(tmp_path / "t.jsonl")
    led.record([trial(1), trial(2)])
    lines = led.path.read_text().splitlines()
    rec = json.loads(lines[1])
    rec["variant"]["lag"] = 5  # an edited variant no longer matches its stored key
    led.path.write_text(lines[0] + "\n" + json.dumps(rec) + "\n")
    with pytest.raises(LedgerError, match=r"t\.jsonl:2: .*edited"):
        led.read()
    led.path.write_text(lines[0] + "\n{not json\n")
    with pytest.raises(LedgerError, match=r"t\.jsonl:2: bad ledger line"):
        led.stats()


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("source", "backtest", "trial.source"),
        ("sharpe", math.nan, "trial.sharpe"),
        ("kurtosis", math.inf, "trial.kurtosis"),
        ("n_obs", 1, "trial.n_obs"),
        ("variant", {}, "trial.variant"),
        ("data_hash", "", "trial.data_hash"),
        ("periods_per_year", 0.0, "trial.periods_per_year"),
    ],
)
def test_bad_trials_are_named(field: str, value: object, match: str) -> None:
    good = trial(1).to_record()
    good.pop("key")
    good[field] = value
    with pytest.raises(LedgerError, match=match):
        Trial.from_record(good)


def _record_many(path: str, start: int) -> None:
    TrialLedger(path).record([trial(i) for i in range(start, start + 40)])


def test_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    path = str(tmp_path / "t.jsonl")
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=_record_many, args=(path, s)) for s in (0, 20, 40)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    trials = TrialLedger(path).read()
    assert sorted(t.variant["n_groups"] for t in trials) == list(range(80))
    assert len(Path(path).read_text().splitlines()) == 80  # no duplicate line written


# --------------------------------------------------------------------------------------------
# statistics
# --------------------------------------------------------------------------------------------
def test_stats_variance_and_frequency_conversion(tmp_path: Path) -> None:
    led = TrialLedger(tmp_path / "t.jsonl")
    assert led.stats()[0] == 0 and math.isnan(led.stats()[1])
    led.record([trial(1)])
    assert led.stats() == (1, 0.0)
    rng = np.random.default_rng(3)
    srs = rng.normal(0.02, 0.01, 30)
    led.record([trial(i + 10, sharpe=float(s)) for i, s in enumerate(srs)])
    led.record([trial(99, sharpe=0.1, ppy=12.0)])  # a monthly trial
    led.record([trial(100, data="other", sharpe=5.0)])
    daily = np.r_[0.01, srs, 0.1 * math.sqrt(12 / 252)]
    n, var = led.stats(data_hash="d1")
    assert n == 32
    assert var == pytest.approx(np.var(daily, ddof=1), rel=1e-15)
    n_m, var_m = led.stats(data_hash="d1", periods_per_year=12)
    assert n_m == 32 and var_m == pytest.approx(var * 252 / 12, rel=1e-12)
    assert led.stats()[0] == 33


def test_dsr_from_the_ledger_reproduces_the_paper_example(tmp_path: Path) -> None:
    """Bailey & López de Prado (2014): SR 2.5 ann., T 1250, γ3 −3, γ4 10, N 100, V 0.5 ann."""
    z = np.random.default_rng(0).standard_normal(100)
    z = (z - z.mean()) / z.std(ddof=1)
    annual = 1.0 + z * math.sqrt(0.5)  # sample variance of annual SRs exactly 0.5
    led = TrialLedger(tmp_path / "t.jsonl")
    led.record(
        [trial(i, sharpe=float(a / math.sqrt(250)), ppy=250.0) for i, a in enumerate(annual)]
    )
    n, var = led.stats(periods_per_year=250)
    assert n == 100
    assert var == pytest.approx(0.5 / 250, rel=1e-12)
    s = SharpeStats.from_annualized(2.5, 1250, -3.0, 10.0, periods_per_year=250)
    assert deflated_sharpe_ratio(s, n_trials=n, var_trials_sharpe=var) == pytest.approx(
        0.9004, abs=5e-5
    )


def test_frame_fingerprint_is_exact() -> None:
    import pandas as pd

    idx = pd.bdate_range("2020-01-01", periods=5)
    a = pd.DataFrame(np.arange(10.0).reshape(5, 2), index=idx, columns=["A", "B"])
    b = a.copy()
    assert frame_fingerprint(a) == frame_fingerprint(b)
    b.iloc[2, 1] = np.nextafter(b.iloc[2, 1], 99)
    assert frame_fingerprint(a) != frame_fingerprint(b)
    assert frame_fingerprint(a) != frame_fingerprint(a.rename(columns={"B": "C"}))


# --------------------------------------------------------------------------------------------
# survival: git union merge, experiment refs, dvc exp run
# --------------------------------------------------------------------------------------------
def _run(cmd: list[str], cwd: Path, timeout: float = 120) -> str:
    env = {k: v for k, v in os.environ.items() if k != "ALPHALAB_ROOT"}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{cmd}: {proc.stdout}\n{proc.stderr}"
    return proc.stdout


def _git_repo(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    _run(["git", "init", "-q", "-b", "main"], root)
    _run(["git", "config", "user.email", "t@alphalab.local"], root)
    _run(["git", "config", "user.name", "alphalab test"], root)
    (root / "ledger").mkdir()
    repo_ledger = Path(__file__).resolve().parents[1] / "ledger"
    shutil.copy2(repo_ledger / ".gitattributes", root / "ledger" / ".gitattributes")
    shutil.copy2(repo_ledger / ".gitignore", root / "ledger" / ".gitignore")
    (root / "ledger" / "trials.jsonl").write_text("")


def test_branches_merge_by_union_and_refs_are_imported(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    _git_repo(root)
    led = TrialLedger(root / "ledger" / "trials.jsonl")
    led.record([trial(0)])
    _run(["git", "add", "-A"], root)
    _run(["git", "commit", "-qm", "base"], root)
    _run(["git", "checkout", "-qb", "other"], root)
    led.record([trial(1), trial(5)])
    _run(["git", "commit", "-qam", "other"], root)
    _run(["git", "checkout", "-q", "main"], root)
    led.record([trial(2), trial(5)])  # trial 5 on both branches
    _run(["git", "commit", "-qam", "main"], root)
    _run(["git", "merge", "-q", "--no-edit", "other"], root)  # union driver: no conflict
    assert sorted(t.variant["n_groups"] for t in led.read()) == [0, 1, 2, 5]
    assert not list((root / "ledger").glob("*.lock")) or "*.lock" in _run(
        ["git", "check-ignore", "-v", "ledger/trials.jsonl.lock"], root
    )
    # an experiment commit that only lives under refs/exps (dvc exp run --temp / --queue)
    _run(["git", "checkout", "-qb", "exp"], root)
    led.record([trial(7), trial(8)])
    _run(["git", "commit", "-qam", "exp"], root)
    sha = _run(["git", "rev-parse", "HEAD"], root).strip()
    _run(["git", "update-ref", "refs/exps/ab/cdef/exp-1", sha], root)
    _run(["git", "checkout", "-q", "main"], root)
    _run(["git", "branch", "-qD", "exp"], root)
    assert 7 not in {t.variant["n_groups"] for t in led.read()}
    assert led.sync_from_git(root) == 2
    assert led.sync_from_git(root) == 0
    assert sorted(t.variant["n_groups"] for t in led.read()) == [0, 1, 2, 5, 7, 8]


RECORD_SCRIPT = """
import yaml
from alphalab.ledger import Trial, TrialLedger
x = yaml.safe_load(open("params.yaml"))["x"]
TrialLedger("ledger/trials.jsonl").record([Trial("p", "d", {"x": x}, "experiment",
                                                 0.01 * x, 0.0, 3.0, 100)])
open("out.txt", "w").write(str(x))
"""

DVC_YAML = """
stages:
  rob:
    cmd: python record.py
    deps: [record.py]
    params: [x]
    outs: [out.txt]
"""
# the ledger is a git-tracked side effect, not a DVC output (see alphalab.ledger)


@pytest.mark.slow
def test_ledger_survives_dvc_experiments(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    _git_repo(root)
    _run(["dvc", "init", "-q"], root)
    with open(root / ".dvc" / "config", "a") as fh:
        fh.write("[core]\n    analytics = false\n")
    (root / "record.py").write_text(RECORD_SCRIPT)
    (root / "dvc.yaml").write_text(DVC_YAML)
    (root / "params.yaml").write_text("x: 0\n")
    _run(["dvc", "repro", "-q"], root)
    _run(["git", "add", "-A"], root)
    _run(["git", "commit", "-qm", "baseline"], root)
    led = TrialLedger(root / "ledger" / "trials.jsonl")
    _run(["dvc", "exp", "run", "-q", "-S", "x=1"], root)
    _run(["dvc", "exp", "run", "-q", "-S", "x=2"], root)
    assert sorted(t.variant["x"] for t in led.read()) == [0, 1, 2]
    assert "up to date" in _run(["dvc", "status"], root)  # the ledger never triggers a rerun
    _run(["dvc", "exp", "run", "-q", "--temp", "-S", "x=3"], root)  # runs in a temp copy
    assert 3 not in {t.variant["x"] for t in led.read()}
    assert led.sync_from_git(root) == 1
    assert sorted(t.variant["x"] for t in led.read()) == [0, 1, 2, 3]
    assert canonical_json(led.read()[-1].variant) == '{"x":3}'
