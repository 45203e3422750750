"""``alphalab validate KIND PATH``: check a file before it goes into the pipeline.

Prints one line per problem, ``PATH:ROW:COLUMN: VALUE: RULE: message`` (ROW is the 1-based
line in a CSV file, header = 1; ``-`` for a problem of the whole file or column), and exits 0
when the file would enter the pipeline as it is, 1 otherwise (an ``error`` or rows that would be
quarantined), 2 on bad usage or params. Warnings and normalisations are printed with
``[warn]`` / ``[normalise]`` tags and do not change the exit code. Column mapping options are
those of the ``files`` source (``data.files.<input>`` in ``params.yaml``).

Examples
--------
>>> main(["prices", "my_prices.csv", "--map", "close=Adj Close", "--map", "ticker=Symbol"])  # doctest: +SKIP
0
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

import pandas as pd
from pydantic import ValidationError

from alphalab.config import (
    FileTable,
    Params,
    ParamsError,
    Paths,
    format_validation_error,
    load_params,
)
from alphalab.data.files import KINDS
from alphalab.validation.engine import validate_file


class UsageError(ValueError):
    """Bad command-line options."""


def build_parser() -> argparse.ArgumentParser:
    """The ``alphalab validate`` argument parser."""
    p = argparse.ArgumentParser(
        prog="alphalab validate", description="Validate a prices/benchmark/factors/signal file."
    )
    p.add_argument("kind", choices=KINDS, help="which input the file is")
    p.add_argument("path", help="CSV or Parquet file")
    p.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="CONTRACT=FILECOL",
        help="column mapping, e.g. --map close='Adj Close' (repeatable)",
    )
    p.add_argument("--date-format", help="strftime format of the dates, e.g. %%d/%%m/%%Y")
    p.add_argument("--delimiter", default=",", help="CSV delimiter (default ',')")
    p.add_argument(
        "--layout",
        choices=("long", "wide"),
        default="long",
        help="wide: a dates × tickers price matrix",
    )
    p.add_argument("--percent", action="store_true", help="returns/factors are in percent")
    p.add_argument(
        "--format", choices=("csv", "parquet"), help="file format (default: by extension)"
    )
    p.add_argument(
        "--params",
        help="params.yaml for policies, window and signal dimensions "
        "(default: the project's, else the schema defaults)",
    )
    p.add_argument("--prices", help="prices file (contract columns) to check a signal against")
    p.add_argument("--max-lines", type=int, default=200, help="lines shown per rule (default 200)")
    p.add_argument("--all", action="store_true", help="also print [warn] and [normalise] lines")
    return p


def _mapping(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        name, sep, col = item.partition("=")
        if not sep or not name.strip() or not col.strip():
            raise UsageError(f"--map {item!r}: expected CONTRACT=FILECOL, e.g. close='Adj Close'")
        out[name.strip()] = col.strip()
    return out


def _params(path: str | None) -> Params:
    if path is not None:
        return load_params(path)
    default = Paths().params
    return load_params(default) if default.is_file() else Params()


def _table(args: argparse.Namespace) -> FileTable:
    delimiter = "\t" if args.delimiter in {"\\t", "tab"} else args.delimiter
    try:
        return FileTable(
            path=args.path,
            format=args.format,
            columns=_mapping(args.map),
            layout=args.layout,
            date_format=args.date_format,
            delimiter=delimiter,
            percent=args.percent,
        )
    except ValidationError as exc:
        raise UsageError("; ".join(format_validation_error(exc, "options"))) from None


def _reference_prices(path: str | None, params: Params) -> pd.DataFrame | None:
    if path is None:
        return None
    report = validate_file("prices", FileTable(path=path, delimiter=","), params)
    if report.clean is None:
        raise UsageError(
            f"--prices {path}: cannot be read ({len(report.findings)} problems); "
            f"validate it first with `alphalab validate prices {path}`"
        )
    return report.clean


def main(argv: list[str] | None = None, *, out: TextIO | None = None) -> int:
    """Run ``alphalab validate``; return the exit code (0 valid, 1 problems, 2 usage)."""
    out = out or sys.stdout
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        params = _params(args.params)
        table = _table(args)
        prices = _reference_prices(args.prices, params)
    except ParamsError as exc:
        print("\n".join(exc.problems), file=out)
        return 2
    except UsageError as exc:
        print(f"alphalab validate: {exc}", file=out)
        return 2
    report = validate_file(args.kind, table, params, root=Path.cwd(), prices=prices)
    shown = ("error", "quarantine", "warn", "normalise") if args.all else ("error", "quarantine")
    problems = report.problems(actions=shown, limit=args.max_lines)
    for problem in sorted(problems, key=lambda q: (q.row is not None, q.row or 0)):
        print(problem.line(), file=out)
    for f in report.findings:
        if f.action in shown and len(f.positions) > args.max_lines:
            print(
                f"{report.source}:-:-: -: {f.rule}: ... {len(f.positions) - args.max_lines} more rows "
                f"(use --max-lines)",
                file=out,
            )
    bad = report.failed or report.counts.get("quarantined", 0) > 0
    c = report.counts
    print(
        f"{report.source}: {report.outcome}: {c['rows_in']} rows, {c['accepted']} accepted, "
        f"{c['quarantined']} quarantined, {c['deduplicated']} deduplicated, {c['rejected']} rejected",
        file=sys.stderr,
    )
    return 1 if bad else 0
