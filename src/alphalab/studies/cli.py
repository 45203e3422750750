"""``alphalab study``: list studies, show the active one, switch (``use``).

Examples::

    alphalab study list
    alphalab study use cnoi --cnoi ~/data/cnoi.csv            # online: SEC map + yfinance
    alphalab study use cnoi --cnoi cnoi.csv --tickers-map company_tickers.json \\
        --prices prices.csv --benchmark sp500.csv --offline    # no network at all
    alphalab study use default

Exit codes: 0 success, 1 a problem was found (message on stderr), 2 usage error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from alphalab.config import Paths


def _list(args: argparse.Namespace) -> int:
    from alphalab.studies.switch import available_studies, current_study

    root = Paths().root
    active = current_study(root)
    for name in available_studies(root):
        print(f"{'*' if name == active else ' '} {name}")
    return 0


def _show(args: argparse.Namespace) -> int:
    from alphalab.config import load_params

    p = load_params(Paths().params)
    print(f"study {p.study.name!r}: {p.study.description.strip()}")
    print(f"data.source {p.data.source!r}, window {p.data.start} … {p.data.end}")
    report = Paths().root / "data" / "studies" / p.study.name / "preparation.md"
    if report.is_file():
        print(f"preparation report: {report}")
    return 0


def _use(args: argparse.Namespace) -> int:
    from alphalab.data.sec import SecMapError
    from alphalab.studies.cnoi import CnoiFileError
    from alphalab.studies.prepare import prepare_cnoi
    from alphalab.studies.prices import StudyInputError
    from alphalab.studies.switch import StudyError, use_study_file

    root = Paths().root
    try:
        if args.name == "cnoi":
            if args.cnoi is None:
                print("study 'cnoi' needs --cnoi PATH (your CNOI file)", file=sys.stderr)
                return 2
            done = prepare_cnoi(
                root=root,
                cnoi=args.cnoi,
                tickers_map=args.tickers_map,
                overrides=args.overrides,
                prices=args.prices,
                benchmark=args.benchmark,
                factors=args.factors,
                benchmark_symbol=args.benchmark_symbol,
                offline=args.offline,
                refresh=args.refresh,
                timeout_s=args.timeout,
                sec_agent=args.sec_user_agent,
            )
            m = done.summary["mapping"]
            print(
                f"study 'cnoi' ready: {m['mapped_ciks']} CIKs mapped, {m['unmapped_ciks']} unmapped "
                f"({m['unmapped_rows']} filings set aside by validation); prices: "
                f"{done.summary['prices'].get('source')}, missing {done.summary['prices']['missing'] or 'none'}"
            )
            for row in done.unmapped.itertuples(index=False):
                print(
                    f"  unmapped CIK {row.cik} ({row.issuer}, {row.filings} filings) -> "
                    f"{row.placeholder}: {row.reason}"
                )
            for c in done.checks:
                if c.n:
                    print(f"  check {c.rule}: {c.n} row(s), e.g. lines {c.rows[:5]}: {c.message}")
            print(f"report: {done.report_path}")
            switched = done.switch
        else:
            extra = [a for a in ("cnoi", "tickers_map", "prices", "benchmark") if getattr(args, a)]
            if extra:
                print(
                    f"study {args.name!r} takes no --{extra[0].replace('_', '-')}", file=sys.stderr
                )
                return 2
            switched = use_study_file(root, args.name)
    except (StudyError, StudyInputError, CnoiFileError, SecMapError) as exc:
        print(str(exc), file=sys.stderr)
        return 1
    saved = (
        f"; previous params saved to {switched.saved_previous}" if switched.saved_previous else ""
    )
    print(f"params.yaml now holds study {switched.study!r} (from {switched.params_source}){saved}")
    print("next: dvc repro")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="alphalab study", description="switch study")
    sub = parser.add_subparsers(dest="action", required=True)
    sub.add_parser("list", help="list studies (* = active)").set_defaults(func=_list)
    sub.add_parser("show", help="the active study").set_defaults(func=_show)
    use = sub.add_parser("use", help="switch to a study (validated; previous params saved)")
    use.add_argument("name", help="default, cnoi, or a folder under studies/")
    use.add_argument("--cnoi", type=Path, help="the CNOI file (CSV or Parquet)")
    use.add_argument("--tickers-map", type=Path, help="SEC company_tickers.json or cik,ticker CSV")
    use.add_argument("--overrides", type=Path, help="reviewed overrides CSV (cik,ticker,reason)")
    use.add_argument("--prices", type=Path, help="your prices export (ticker, date, close)")
    use.add_argument("--benchmark", type=Path, help="benchmark file (date and close or ret)")
    use.add_argument("--factors", type=Path, help="Ken French factors file (rf, alphas)")
    use.add_argument("--benchmark-symbol", default="^GSPC", help="Yahoo symbol (default ^GSPC)")
    use.add_argument("--offline", action="store_true", help="never touch the network")
    use.add_argument("--refresh", action="store_true", help="download again despite snapshots")
    use.add_argument("--timeout", type=float, default=90.0, help="deadline per download (s)")
    use.add_argument("--sec-user-agent", help="User-Agent for sec.gov (name and e-mail)")
    use.set_defaults(func=_use)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``alphalab study`` with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as exc:
        return int(exc.code or 0)
    return int(args.func(args))
