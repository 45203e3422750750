"""``alphalab validate KIND PATH``: exit codes and one ``PATH:ROW:COLUMN: VALUE: RULE: message`` line per problem."""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import pytest
import yaml

from alphalab.validation.cli import main

from .conftest import CATALOGUE, EXPECTATIONS

LINE = re.compile(
    r"^(?P<path>[^:]+):(?P<row>\d+|-):(?P<column>[^:]+): (?P<value>'.*'|-): "
    r"(?P<rule>[a-z_0-9]+): (?P<message>.+)$"
)


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Run the command from the catalogue folder, with a project root holding the suites."""
    root = tmp_path / "root"
    shutil.copytree(EXPECTATIONS, root / "expectations")
    monkeypatch.setenv("ALPHALAB_ROOT", str(root))
    monkeypatch.chdir(CATALOGUE)

    def call(*argv: str) -> tuple[int, list[str]]:
        out = io.StringIO()
        code = main(list(argv), out=out)
        return code, out.getvalue().splitlines()

    return call


def test_valid_file_exits_zero(cli) -> None:
    code, lines = cli("prices", "prices/good.csv")
    assert (code, lines) == (0, [])


def test_problems_exit_one_with_one_line_each(cli) -> None:
    code, lines = cli("prices", "prices/duplicate_conflict.csv")
    assert code == 1 and len(lines) == 2
    parsed = [LINE.match(line) for line in lines]
    assert all(parsed), lines
    assert [(m["path"], m["row"], m["column"], m["value"], m["rule"]) for m in parsed] == [
        ("prices/duplicate_conflict.csv", "4", "close", "'100.4'", "duplicate_conflict"),
        ("prices/duplicate_conflict.csv", "22", "close", "'100.9'", "duplicate_conflict"),
    ]


def test_read_time_problem(cli) -> None:
    code, lines = cli("prices", "prices/semicolon.csv")
    assert code == 1 and lines[0].startswith(
        "prices/semicolon.csv:1:-: 'ticker;date;close': delimiter:"
    )
    code, lines = cli("prices", "prices/semicolon.csv", "--delimiter", ";")
    assert (code, lines) == (0, [])


def test_mapping_options(cli, tmp_path: Path) -> None:
    code, lines = cli(
        "prices",
        "prices/mapped_column_missing.csv",
        "--map",
        "ticker=Symbol",
        "--map",
        "date=Date",
        "--map",
        "close=Close",
    )
    assert (code, lines) == (0, [])
    code, lines = cli("prices", "prices/mapped_column_missing.csv", "--map", "close=Adj Close")
    assert code == 1 and len(lines) == 2  # ticker is not found either (Date matches date)
    assert any(
        line.startswith("prices/mapped_column_missing.csv:1:Adj Close: -: missing_column:")
        for line in lines
    )


def test_percent_layout_and_quarantine_lines(cli) -> None:
    assert cli("factors", "factors/percent_units.csv")[0] == 1
    assert cli("factors", "factors/percent_units.csv", "--percent") == (0, [])
    code, lines = cli("prices", "prices/wide_bad_cell.csv", "--layout", "wide")
    assert code == 1 and lines == [
        "prices/wide_bad_cell.csv:4:BBB: 'x': non_numeric: close must be a number"
    ]
    code, lines = cli("prices", "prices/out_of_window.csv")  # rows the pipeline would set aside
    assert (
        code == 1
        and all(": out_of_window: [quarantine] " in line for line in lines)
        and len(lines) == 2
    )


def test_signal_with_params_and_prices(cli, tmp_path: Path) -> None:
    params = tmp_path / "params.yaml"
    params.write_text(
        yaml.safe_dump(
            {
                "data": {"start": "2023-01-01", "end": "2024-12-31"},
                "signal": {
                    "kind": "file",
                    "score_tolerance": 0.05,
                    "dimensions": {
                        k: {"weight": w}
                        for k, w in {
                            "D": 0.2,
                            "G": 0.2,
                            "R": 0.2,
                            "J": 0.1,
                            "T": 0.1,
                            "S": 0.1,
                            "X": 0.1,
                        }.items()
                    },
                },
                "validate": {"max_quarantine_frac": 0.2},
            }
        )
    )
    base = [
        "--params",
        str(params),
        "--map",
        "entity=cik",
        "--map",
        "event_date=filing_date",
        "--map",
        "score=CNOI",
    ]
    assert cli("signal", "signal/good.csv", *base, "--prices", "signal/prices.csv") == (0, [])
    code, lines = cli(
        "signal", "signal/ticker_without_prices.csv", *base, "--prices", "signal/prices.csv"
    )
    assert code == 1 and lines == [
        "signal/ticker_without_prices.csv:14:ticker: 'BKZ': unknown_ticker: "
        "[quarantine] no prices for this ticker"
    ]
    code, lines = cli("signal", "signal/score_mismatch.csv", *base)
    assert code == 1 and lines[0].startswith(
        "signal/score_mismatch.csv:5:CNOI: '33.20': score_mismatch: "
    )


def test_usage_and_params_errors_exit_two(cli, tmp_path: Path) -> None:
    code, lines = cli("prices", "prices/good.csv", "--map", "close")
    assert code == 2 and "CONTRACT=FILECOL" in lines[0]
    bad = tmp_path / "bad.yaml"
    bad.write_text("validate:\n  policy:\n    split_jump: ignore\n")
    code, lines = cli("prices", "prices/good.csv", "--params", str(bad))
    assert code == 2 and "validate.policy.split_jump" in lines[0]
    assert cli("stocks", "prices/good.csv")[0] == 2
