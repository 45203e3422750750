"""The bad-input catalogue: each malformed file gives its expected outcome and names the problem.

Every entry of ``tests/fixtures/bad_inputs/catalogue.yaml`` is one small file with one
malformation (prices, benchmark, factors, signal, params.yaml) and its expected outcome —
``error``, ``quarantine``, ``normalise`` (or ``pass`` for the controls) — plus fragments that one
problem line must carry: rule, 1-based row, column (the file's own name), value, action, text.
Numeric comparisons of cleaned values use a relative tolerance of 1e-12 (they are exact decimal
scalings); row counts are exact.
"""

from __future__ import annotations

import filecmp
import importlib.util
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from alphalab.config import FileTable, ParamsError, load_params, validate_params
from alphalab.data.files import Problem
from alphalab.validation import validate_file
from alphalab.validation.rules import configurable_rules

from .conftest import CATALOGUE, EXPECTATIONS, TODAY

REL_TOL = 1e-12
ENTRIES: list[dict[str, Any]] = yaml.safe_load(
    (CATALOGUE / "catalogue.yaml").read_text(encoding="utf-8")
)
INPUTS = [e for e in ENTRIES if e["input"] != "params"]
PARAMS = [e for e in ENTRIES if e["input"] == "params"]


@pytest.fixture(scope="module")
def reference_prices() -> dict[str, pd.DataFrame]:
    """Clean prices for the signal cases (validated once)."""
    cache: dict[str, pd.DataFrame] = {}
    for e in INPUTS:
        ref = e.get("prices")
        if ref and ref not in cache:
            params = validate_params({"data": e["params"]["data"]})
            report = validate_file(
                "prices",
                FileTable(path=ref),
                params,
                root=CATALOGUE,
                today=TODAY,
                expectations=EXPECTATIONS,
            )
            assert report.outcome == "pass", [p.line() for p in report.problems()]
            cache[ref] = report.clean
    return cache


def matches(p: Problem, exp: dict[str, Any], path: str) -> bool:
    """Does problem ``p`` carry every expected fragment?"""
    return (
        p.path == path
        and p.rule == exp.get("rule", p.rule)
        and ("row" not in exp or p.row == exp["row"])
        and ("column" not in exp or p.column == exp["column"])
        and ("value" not in exp or (p.value is not None and exp["value"] in p.value))
        and ("action" not in exp or p.action == exp["action"])
        and ("fragment" not in exp or exp["fragment"] in p.line())
    )


def run_case(entry: dict[str, Any], refs: dict[str, pd.DataFrame]) -> Any:
    params = validate_params(entry.get("params") or {})
    table = FileTable(path=entry["file"], **(entry.get("options") or {}))
    prices = refs[entry["prices"]] if entry.get("prices") else None
    return validate_file(
        entry["input"],
        table,
        params,
        root=CATALOGUE,
        prices=prices,
        today=TODAY,
        expectations=EXPECTATIONS,
    )


@pytest.mark.parametrize("entry", INPUTS, ids=[e["id"] for e in INPUTS])
def test_input_case(entry: dict[str, Any], reference_prices: dict[str, pd.DataFrame]) -> None:
    report = run_case(entry, reference_prices)
    problems = report.problems()
    lines = [p.line() for p in problems]
    assert report.outcome == entry["outcome"], lines
    for exp in entry["expect"]:
        hits = [p for p in problems if matches(p, exp, entry["file"])]
        assert hits, f"no problem line matches {exp}:\n" + "\n".join(lines)
        line = hits[0].line()
        if "row" in exp:  # PATH:ROW:COLUMN: VALUE: RULE: message
            assert line.startswith(
                f"{entry['file']}:{exp['row']}:{exp.get('column', hits[0].column) or '-'}: "
            )
        assert f": {hits[0].rule}: " in line
    for key, value in (entry.get("counts") or {}).items():
        assert report.counts[key] == value, report.counts
    c = report.counts
    assert c["rows_in"] == c["accepted"] + c["quarantined"] + c["deduplicated"] + c["rejected"]
    if entry["outcome"] == "error":
        assert report.failed
    else:
        assert c["rejected"] == 0 and len(report.clean) == c["accepted"]
    for col, value in (entry.get("clean") or {}).items():
        first = report.clean[col].iloc[0]
        if isinstance(value, float):
            assert first == pytest.approx(value, rel=REL_TOL)
        elif col in {"date", "event_date"}:
            assert first == pd.Timestamp(value)
        else:
            assert first == value
    if entry.get("reason"):
        assert list(report.quarantine["reason"]) == [entry["reason"]] * c["quarantined"]
        assert set(report.quarantine["source_row"]) == {
            exp["row"] for exp in entry["expect"] if "row" in exp
        }


@pytest.mark.parametrize("entry", PARAMS, ids=[e["id"] for e in PARAMS])
def test_params_case(entry: dict[str, Any]) -> None:
    with pytest.raises(ParamsError) as info:
        load_params(CATALOGUE / entry["file"])
    text = "\n".join(info.value.problems)
    for exp in entry["expect"]:
        assert exp["fragment"] in text, text


def test_catalogue_breadth() -> None:
    """At least 40 distinct malformations, over the four inputs and params.yaml."""
    bad = [e for e in ENTRIES if e["outcome"] != "pass"]
    assert len({e["id"] for e in bad}) >= 40
    assert {e["input"] for e in bad} == {"prices", "benchmark", "factors", "signal", "params"}
    assert {e["outcome"] for e in bad} == {"error", "quarantine", "normalise"}
    for e in bad:
        assert e["expect"], f"{e['id']}: no expected message fragments"


def test_every_configurable_rule_is_exercised() -> None:
    """Each rule a user can set a policy for has a fixture that triggers it."""
    fired = {x.get("rule") for e in INPUTS for x in e["expect"]}
    assert set(configurable_rules()) <= fired, set(configurable_rules()) - fired


def test_fixture_files_match_catalogue() -> None:
    """Every file is in the catalogue and every catalogue file exists."""
    listed = {e["file"] for e in ENTRIES} | {e["prices"] for e in ENTRIES if e.get("prices")}
    on_disk = {
        p.relative_to(CATALOGUE).as_posix()
        for p in CATALOGUE.rglob("*")
        if p.is_file()
        and p.name not in {"catalogue.yaml", "generate.py"}
        and "__pycache__" not in p.parts
    }
    assert listed == on_disk


def test_generator_reproduces_fixtures(tmp_path: Path) -> None:
    """The committed text fixtures and catalogue are exactly what generate.py writes."""
    spec = importlib.util.spec_from_file_location("bad_inputs_generate", CATALOGUE / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.write(tmp_path)
    for f in tmp_path.rglob("*"):
        if f.is_file() and f.suffix != ".parquet":  # Parquet bytes embed the writer's version
            assert filecmp.cmp(f, CATALOGUE / f.relative_to(tmp_path), shallow=False), f.name
