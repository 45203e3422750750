"""The validate stage: what it writes on success, and that a failed run leaves no tables behind.

Counts are exact; no numeric tolerance is involved.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from alphalab.config import FilesSource, FileTable, Paths, validate_params
from alphalab.data.files import load_files
from alphalab.io import atomic_write_parquet
from alphalab.validation import ValidationFailed, run_validation

from .conftest import EXPECTATIONS, REPO, TODAY, good_benchmark, good_factors, good_prices

WINDOW = {"data": {"start": "2020-01-01", "end": "2021-12-31"}}


@pytest.fixture
def project(tmp_path: Path) -> Paths:
    shutil.copytree(EXPECTATIONS, tmp_path / "expectations")
    paths = Paths(tmp_path)
    paths.raw.mkdir(parents=True)
    (paths.data / "manifest.json").write_text('{"tables": {}}\n')
    return paths


def write_raw(paths: Paths, **tables: pd.DataFrame) -> None:
    for name, df in tables.items():
        atomic_write_parquet(df, paths.raw / f"{name}.parquet")


def test_success_writes_tables_quarantine_reports_manifest(project: Paths) -> None:
    early = pd.DataFrame(
        {
            "ticker": pd.Series(["AAA"], dtype="str"),
            "date": pd.to_datetime(["2019-12-31"]).astype("datetime64[ns]"),
            "close": [99.8],
        }
    )
    prices = pd.concat([early, good_prices()], ignore_index=True)
    write_raw(project, prices=prices, benchmark=good_benchmark(), factors=good_factors())
    raw_manifest = (project.data / "manifest.json").read_bytes()
    report = run_validation(validate_params(WINDOW), project, today=TODAY)
    assert not report.failed
    clean = pd.read_parquet(project.interim / "prices.parquet")
    pd.testing.assert_frame_equal(clean, good_prices(), check_dtype=True)
    q = pd.read_parquet(project.interim / "quarantine" / "prices.parquet")
    assert q["reason"].tolist() == ["out_of_window(date)"] and q["source_row"].tolist() == [1]
    manifest = json.loads((project.interim / "manifest.json").read_text())
    entry = manifest["tables"]["prices"]
    assert (entry["rows_in"], entry["accepted"], entry["quarantined"], entry["deduplicated"]) == (
        21,
        20,
        1,
        0,
    )
    assert entry["rows_in"] == entry["accepted"] + entry["quarantined"] + entry["deduplicated"]
    assert set(manifest["tables"]) == {
        "prices",
        "benchmark",
        "factors",
        "quarantine/prices",
        "quarantine/benchmark",
        "quarantine/factors",
    }
    for kind in ("prices", "benchmark", "factors"):
        doc = json.loads((project.reports / "validation" / f"{kind}.json").read_text())
        assert doc["great_expectations"]["success"] is True
    md = (project.reports / "validation" / "summary.md").read_text()
    assert "Overall: **passed**" in md and "out_of_window" in md and "## factors" in md
    assert (
        project.data / "manifest.json"
    ).read_bytes() == raw_manifest  # ingest's manifest untouched


def test_failure_keeps_reports_and_removes_tables(project: Paths) -> None:
    write_raw(project, prices=good_prices(), factors=good_factors())
    run_validation(validate_params(WINDOW), project, today=TODAY)
    assert (project.interim / "prices.parquet").is_file()
    bad = good_prices()
    bad.loc[4, "close"] = -1.0
    write_raw(project, prices=bad)
    with pytest.raises(ValidationFailed) as info:
        run_validation(validate_params(WINDOW), project, today=TODAY)
    assert "data/raw/prices.parquet:5:close: '-1.0': non_positive_price: close must be > 0" in str(
        info.value
    )
    assert isinstance(info.value, ValueError)
    assert (
        not list(project.interim.rglob("*.parquet"))
        and not (project.interim / "manifest.json").exists()
    )
    doc = json.loads((project.reports / "validation" / "prices.json").read_text())
    assert doc["outcome"] == "error" and doc["counts"]["rejected"] == 1
    assert "FAILED" in (project.reports / "validation" / "summary.md").read_text()


def test_files_source_rows_name_the_users_file(project: Paths) -> None:
    (project.root / "mine.csv").write_text(
        "Symbol,Date,Close\nAAA,2020-01-02,1.0\nAAA,2020-01-03,0\n"
    )
    spec = FilesSource(
        prices=FileTable(
            path="mine.csv", columns={"ticker": "Symbol", "date": "Date", "close": "Close"}
        )
    )
    write_raw(project, **load_files(spec, project))  # as ingest does
    with pytest.raises(ValidationFailed) as info:
        run_validation(validate_params(WINDOW), project, today=TODAY)
    assert "mine.csv:3:Close: '0': non_positive_price" in str(info.value)


def test_stale_reports_of_absent_inputs_are_removed(project: Paths) -> None:
    write_raw(project, prices=good_prices(), factors=good_factors())
    run_validation(validate_params(WINDOW), project, today=TODAY)
    (project.raw / "factors.parquet").unlink()
    run_validation(validate_params(WINDOW), project, today=TODAY)
    assert not (project.reports / "validation" / "factors.json").exists()
    assert not (project.interim / "factors.parquet").exists()


def test_no_raw_tables(project: Paths) -> None:
    with pytest.raises(FileNotFoundError, match="ingest"):
        run_validation(validate_params({}), project)


def test_notebook_script_with_injected_params(
    project: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stage notebook's source runs with papermill-style params and writes the outputs."""
    write_raw(project, prices=good_prices(), benchmark=good_benchmark())
    (project.root / "params.yaml").write_text(yaml.safe_dump({"data": {"source": "sample"}}))
    monkeypatch.setenv("ALPHALAB_ROOT", str(project.root))
    source = (REPO / "tools" / "notebooks" / "02_validate.py").read_text(encoding="utf-8")
    injected = {"validate": {"stale_run": 5}, "data": WINDOW["data"], "signal": {}}
    source = source.replace("params = None", f"params = {injected!r}", 1)
    namespace: dict[str, object] = {}
    exec(compile(source, "02_validate.py", "exec"), namespace)
    summary = namespace["summary"]
    assert isinstance(summary, pd.DataFrame) and summary["input"].tolist() == [
        "prices",
        "benchmark",
    ]
    assert (project.interim / "benchmark.parquet").is_file()
