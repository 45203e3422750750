"""Artifact loaders and stage status: missing → None/empty state, malformed → a named error."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from alphalab import config
from alphalab.reporting import dashboard as dash


def test_missing_artifacts_are_none(empty_root: Path) -> None:
    art = dash.Artifacts(config.Paths(empty_root))
    assert art.metrics("backtest") is None
    assert art.table(dash.RETURNS) is None
    assert art.returns() is None
    assert art.jsonl(dash.LEDGER) is None
    assert art.validation_reports() == {}
    for stage in dash.STAGES:
        status = dash.stage_status(art, stage)
        assert status.state == "missing" and status.command == f"dvc repro {stage}"


def test_malformed_json_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "reports" / "metrics").mkdir(parents=True)
    (tmp_path / "reports" / "metrics" / "backtest.json").write_text("{not json")
    art = dash.Artifacts(config.Paths(tmp_path))
    with pytest.raises(
        dash.ArtifactError, match=r"reports/metrics/backtest\.json: not readable JSON"
    ):
        art.metrics("backtest")
    (tmp_path / "reports" / "gate.json").write_text("[1, 2]")
    with pytest.raises(
        dash.ArtifactError, match=r"reports/gate\.json: expected a JSON object, got list"
    ):
        art.json(dash.GATE)


def test_table_missing_column_is_named(tmp_path: Path) -> None:
    f = tmp_path / dash.IC
    f.parent.mkdir(parents=True)
    pd.DataFrame({"date": pd.to_datetime(["2020-01-02"]), "horizon": [1]}).to_parquet(f)
    art = dash.Artifacts(config.Paths(tmp_path))
    with pytest.raises(dash.ArtifactError, match=r"ic\.parquet: missing column\(s\) \['ic'\]"):
        art.table(dash.IC, required=("date", "horizon", "ic"))


def test_returns_index_from_date_column(tmp_path: Path) -> None:
    f = tmp_path / dash.RETURNS
    f.parent.mkdir(parents=True)
    pd.DataFrame(
        {"date": pd.to_datetime(["2020-01-03", "2020-01-02"]), "g1": [0.1, 0.2]}
    ).to_parquet(f)
    r = dash.Artifacts(config.Paths(tmp_path)).returns()
    assert isinstance(r.index, pd.DatetimeIndex) and list(r["g1"]) == [0.2, 0.1]


def test_ledger_lines_counted_with_bad_line_named(tmp_path: Path) -> None:
    f = tmp_path / dash.LEDGER
    f.parent.mkdir(parents=True)
    f.write_text('{"key": "a", "source": "grid"}\n\n{"key": "b", "source": "walkforward"}\n')
    art = dash.Artifacts(config.Paths(tmp_path))
    assert dash.ledger_count(art) == 2
    f.write_text('{"key": "a"}\nnot json\n')
    with pytest.raises(dash.ArtifactError, match=r"trials\.jsonl:2"):
        dash.Artifacts(config.Paths(tmp_path)).jsonl(dash.LEDGER)


def test_failed_stage_reports_the_error_and_where(fixture_root: Path, tmp_path: Path) -> None:
    failed = tmp_path / "reports" / "failed" / "10_backtest.ipynb"
    failed.parent.mkdir(parents=True)
    nb = {
        "cells": [
            {
                "cell_type": "code",
                "outputs": [
                    {
                        "output_type": "error",
                        "ename": "BacktestInputError",
                        "evalue": "score: all NaN",
                    }
                ],
            }
        ]
    }
    failed.write_text(json.dumps(nb))
    status = dash.stage_status(dash.Artifacts(config.Paths(tmp_path)), "backtest")
    assert status.state == "failed"
    assert "BacktestInputError: score: all NaN" in status.detail
    assert "reports/failed/10_backtest.ipynb" in status.detail


def test_failed_validation_summary_is_a_failed_stage(tmp_path: Path) -> None:
    f = tmp_path / "reports" / "validation" / "summary.json"
    f.parent.mkdir(parents=True)
    f.write_text(json.dumps({"failed": True, "inputs": {"prices": {"outcome": "error"}}}))
    status = dash.stage_status(dash.Artifacts(config.Paths(tmp_path)), "validate")
    assert status.state == "failed" and "prices" in status.detail


def test_fixture_root_all_stages_ok(fixture_root: Path) -> None:
    art = dash.Artifacts(config.Paths(fixture_root))
    assert {dash.stage_status(art, s).state for s in dash.STAGES} == {"ok"}


@pytest.mark.parametrize(
    ("label", "window"),
    [
        ("m1_p1", (-1, 1)),
        ("0_0", (0, 0)),
        ("0_p20", (0, 20)),
        ("m5_m1", (-5, -1)),
        ("[-5,+10]", (-5, 10)),
        ("[-1,+1]", (-1, 1)),
        ("pre", None),
        ("x_y", None),
    ],
)
def test_parse_window(label: str, window: tuple[int, int] | None) -> None:
    assert dash.parse_window(label) == window


def test_producer_maps_artifacts_to_stages() -> None:
    assert dash.producer(dash.CAAR) == "events"
    assert dash.producer(dash.LEDGER) == "robustness"
    assert dash.producer("reports/metrics/walkforward.json") == "walkforward"
    assert dash.producer(dash.PANEL_SUMMARY) == "panel"
    assert dash.producer("elsewhere/x.json") is None


def test_ledger_path_comes_from_params(empty_root: Path) -> None:
    text = (empty_root / "params.yaml").read_text()
    (empty_root / "params.yaml").write_text(text + "\nrobustness:\n  ledger: custom/t.jsonl\n")
    f = empty_root / "custom" / "t.jsonl"
    f.parent.mkdir()
    f.write_text('{"key": "a"}\n{"key": "a"}\n{"key": "b"}\n')
    art = dash.Artifacts(config.Paths(empty_root))
    assert art.ledger_path() == "custom/t.jsonl"
    assert dash.ledger_count(art) == 2  # duplicate keys count once


def test_metrics_groups_join_alike_series_and_put_first_first() -> None:
    full = dict.fromkeys(("n_obs", "sharpe", "t_nw", "ann_return", "max_drawdown"), 0.0)
    doc = {
        "crisis_a": {"sharpe": 0.1, "n_obs": 5},
        "holdout": dict(full),
        "oos": {**full, "dsr": 0.2},
        "crisis_b": {"sharpe": 0.2, "n_obs": 6},
        "conventions": {},
    }
    assert dash.metrics_groups(doc, first=("oos", "holdout")) == [
        ["oos", "holdout"],
        ["crisis_a", "crisis_b"],
    ]
    assert dash.metrics_groups(doc) == [["crisis_a", "crisis_b"], ["holdout", "oos"]]
