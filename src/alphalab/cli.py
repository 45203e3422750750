"""The ``alphalab`` command.

Exit codes: 0 success, 1 a problem was found (invalid params, failed stage, hash mismatch,
invalid input), 2 usage error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from alphalab import config


def _params_check(args: argparse.Namespace) -> int:
    path = args.file or config.Paths().params
    try:
        p = config.load_params(path)
    except config.ParamsError as exc:
        for line in exc.problems:
            print(line, file=sys.stderr)
        return 1
    print(
        f"{path}: valid (study {p.study.name!r}, source {p.data.source!r}, "
        f"params hash {config.params_hash(p)[:12]})"
    )
    return 0


def _stage_run(args: argparse.Namespace) -> int:
    from alphalab.pipeline import StageError, run_stage

    try:
        out = run_stage(args.name, timeout_s=args.timeout, log_output=args.verbose)
    except config.ParamsError as exc:
        print(f"stage {args.name!r} not started: params are invalid", file=sys.stderr)
        for line in exc.problems:
            print(line, file=sys.stderr)
        return 1
    except (StageError, KeyError) as exc:
        print(str(exc).strip("'\""), file=sys.stderr)
        return 1
    print(f"stage {args.name!r} done: {out}")
    return 0


def _stage_list(args: argparse.Namespace) -> int:
    from alphalab.pipeline import STAGES

    for s in STAGES.values():
        print(f"{s.name:12s} notebooks/{s.notebook:24s} params: {', '.join(s.sections)}")
    return 0


def _manifest_verify(args: argparse.Namespace) -> int:
    from alphalab.data.manifest import ManifestError, verify_manifest

    paths = config.Paths()
    targets = (
        [args.manifest]
        if args.manifest
        else [m for m in (paths.manifest, paths.interim / "manifest.json") if m.is_file()]
        or [paths.manifest]
    )
    bad = 0
    for m in targets:
        try:
            problems = verify_manifest(m, paths.root)
        except ManifestError as exc:
            print(str(exc), file=sys.stderr)
            return 1
        for line in problems:
            print(line, file=sys.stderr)
        bad += len(problems)
        if not problems:
            print(f"{m}: all table hashes match")
    return 1 if bad else 0


def _runner(rest: list[str]) -> int:
    from alphalab.runner.cli import main as runner_main

    return runner_main(rest)


def _validate(rest: list[str]) -> int:
    from alphalab.validation.cli import main as validate_main

    return validate_main(rest)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="alphalab", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("params", help="check params.yaml against the schema")
    psub = p.add_subparsers(dest="action", required=True)
    chk = psub.add_parser("check", help="validate params.yaml; print one line per problem")
    chk.add_argument("--file", help="params file (default: the project's params.yaml)")
    chk.set_defaults(func=_params_check)

    s = sub.add_parser("stage", help="run or list pipeline stages")
    ssub = s.add_subparsers(dest="action", required=True)
    run = ssub.add_parser("run", help="validate params, then execute the stage's notebook")
    run.add_argument("name")
    run.add_argument("--timeout", type=int, default=3600, help="per-cell timeout in seconds")
    run.add_argument("--verbose", action="store_true", help="stream notebook output")
    run.set_defaults(func=_stage_run)
    lst = ssub.add_parser("list", help="list the stages")
    lst.set_defaults(func=_stage_list)

    m = sub.add_parser("manifest", help="data manifest tools")
    msub = m.add_subparsers(dest="action", required=True)
    ver = msub.add_parser("verify", help="recompute every table hash and compare")
    ver.add_argument(
        "--manifest",
        help="manifest file (default: data/manifest.json and data/interim/manifest.json)",
    )
    ver.set_defaults(func=_manifest_verify)

    sub.add_parser(
        "validate",
        help="validate your own input file: alphalab validate KIND PATH [options]",
        add_help=False,
    )
    sub.add_parser("runner", help="scheduled runner: run-once | start | status", add_help=False)
    sub.add_parser(
        "study",
        help="switch study: alphalab study use cnoi --cnoi PATH | use default",
        add_help=False,
    )
    sub.add_parser("power", help="power analysis on the study's own shape", add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "validate":
        return _validate(argv[1:])
    if argv and argv[0] == "runner":
        return _runner(argv[1:])
    if argv and argv[0] == "study":
        from alphalab.studies.cli import main as study_main

        return study_main(argv[1:])
    if argv and argv[0] == "power":
        from alphalab.power import main as power_main

        return power_main(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
