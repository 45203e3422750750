#!/usr/bin/env python3
"""Container health check: the dashboard answers, and the last successful run is recent.

Exit 0 when healthy, 1 when not; one line on stdout says why (Docker shows it in
``docker inspect``). Standard library only, so it works even if the package is broken.

Checks, each can be turned off:

1. **dashboard**: ``GET`` the URL (``--url``, env ``ALPHALAB_HEALTH_URL``, default
   ``http://127.0.0.1:8866/``) answers HTTP 2xx within ``--timeout`` seconds
   (``--no-dashboard`` skips it, e.g. for the runner service);
2. **last successful run**: ``reports/runs/state.json`` → ``last_success.finished_at`` is at most
   ``--max-age-hours`` old. The limit comes from ``--max-age-hours``, else env
   ``ALPHALAB_MAX_RUN_AGE_HOURS``, else ``runner.max_run_age_hours`` in ``params.yaml``, else
   36; ``0`` turns the check off (a dashboard without a runner).

The project root is ``--root``, else env ``ALPHALAB_ROOT``, else the current directory.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path

DEFAULT_URL = "http://127.0.0.1:8866/"
DEFAULT_MAX_AGE_HOURS = 36.0


def check_dashboard(url: str, timeout: float) -> str | None:
    """``None`` when ``url`` answers 2xx, else the reason."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            status = resp.status
    except urllib.error.HTTPError as exc:
        return f"dashboard {url} answered HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        return f"dashboard {url} unreachable: {getattr(exc, 'reason', exc)}"
    return None if 200 <= status < 300 else f"dashboard {url} answered HTTP {status}"


def params_max_age(root: Path) -> float | None:
    """``runner.max_run_age_hours`` from ``params.yaml`` when PyYAML can read it."""
    try:
        import yaml

        doc = yaml.safe_load((root / "params.yaml").read_text(encoding="utf-8")) or {}
        value = (doc.get("runner") or {}).get("max_run_age_hours")
    except Exception:  # no yaml, no file, bad file: fall back to the default
        return None
    return float(value) if isinstance(value, int | float) else None


def max_age_hours(arg: float | None, root: Path) -> float:
    """The age limit by the precedence in the module docstring."""
    if arg is not None:
        return arg
    env = os.environ.get("ALPHALAB_MAX_RUN_AGE_HOURS")
    if env:
        return float(env)
    from_params = params_max_age(root)
    return DEFAULT_MAX_AGE_HOURS if from_params is None else from_params


def check_last_run(root: Path, limit_h: float, now: dt.datetime) -> str | None:
    """``None`` when the last successful run finished within ``limit_h`` hours."""
    state = root / "reports" / "runs" / "state.json"
    try:
        doc = json.loads(state.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return f"no successful run recorded ({state} missing)"
    except (OSError, ValueError) as exc:
        return f"{state} unreadable: {exc}"
    finished = ((doc.get("last_success") or {}) if isinstance(doc, dict) else {}).get("finished_at")
    if not isinstance(finished, str):
        return f"no successful run recorded in {state}"
    when = dt.datetime.fromisoformat(finished.replace("Z", "+00:00"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    age_h = (now - when).total_seconds() / 3600
    if age_h > limit_h:
        return f"last successful run finished {age_h:.1f} h ago (limit {limit_h:g} h)"
    return None


def main(argv: list[str] | None = None) -> int:
    """Run the checks; print the verdict; return 0 (healthy) or 1."""
    parser = argparse.ArgumentParser(description="alphalab container health check")
    parser.add_argument("--url", default=os.environ.get("ALPHALAB_HEALTH_URL", DEFAULT_URL))
    parser.add_argument("--root", default=os.environ.get("ALPHALAB_ROOT", "."))
    parser.add_argument("--max-age-hours", type=float)
    parser.add_argument("--timeout", type=float, default=5.0)
    parser.add_argument("--no-dashboard", action="store_true", help="skip the dashboard check")
    args = parser.parse_args(argv)
    root = Path(args.root)
    limit = max_age_hours(args.max_age_hours, root)
    problems = []
    if not args.no_dashboard:
        problems.append(check_dashboard(args.url, args.timeout))
    if limit > 0:
        problems.append(check_last_run(root, limit, dt.datetime.now(dt.UTC)))
    found = [p for p in problems if p]
    print("unhealthy: " + "; ".join(found) if found else "healthy")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
