"""The container, without a Docker engine: Dockerfile and compose facts, every path the image
uses, the entrypoint's dispatch and the health-check script against real HTTP servers and
real run state.

Tolerances: exact (text, exit codes); ages are set hours away from the limits.
"""

from __future__ import annotations

import datetime as dt
import http.server
import json
import os
import re
import shlex
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
DOCKERFILE = (REPO / "Dockerfile").read_text()
COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
HEALTH = REPO / "docker" / "healthcheck.py"
ENTRY = REPO / "docker" / "entrypoint.sh"
VOILA = ["voila", "notebooks/dashboard/", "--port=8866", "--no-browser", "--Voila.ip=0.0.0.0"]


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def arg(name: str) -> list[str]:
    return [rest for word, rest in instructions() if word == name]


# --------------------------------------------------------------------------------------------
# Dockerfile and compose
# --------------------------------------------------------------------------------------------
def test_dockerfile_base_install_user_health_and_command() -> None:
    assert arg("FROM") == ["python:3.11-slim"]
    runs = " ".join(arg("RUN"))
    assert "pip install --no-deps -r requirements.lock" in runs
    assert "pip install --no-deps --no-build-isolation -e ." in runs
    (user,) = arg("USER")
    assert user not in ("root", "0") and "useradd --create-home --uid 10001" in runs
    (health,) = arg("HEALTHCHECK")
    assert "/app/docker/healthcheck.py" in health and "--interval=" in health
    assert json.loads(arg("CMD")[0]) == VOILA
    assert json.loads(arg("ENTRYPOINT")[0]) == ["/usr/bin/tini", "--", "/app/docker/entrypoint.sh"]
    assert arg("EXPOSE") == ["8866"] and arg("WORKDIR") == ["/app"]


def test_every_path_the_image_copies_exists_and_is_not_git_ignored() -> None:
    sources = []
    for rest in arg("COPY"):
        parts = [p for p in shlex.split(rest) if not p.startswith("--")]
        sources += parts[:-1]
    assert "requirements.lock" in sources and "src" in sources
    for src in sources:
        assert (REPO / src).exists(), f"Dockerfile copies {src}, which is not in the repository"
        if (REPO / src).is_dir():  # git keeps no empty folder: a clean clone would lack it
            assert any(p.is_file() for p in (REPO / src).rglob("*")), f"{src} is empty"
        ignored = subprocess.run(["git", "check-ignore", "-q", src], cwd=REPO, check=False)
        assert ignored.returncode == 1, f"{src} is git-ignored: a clean clone would lack it"


def container_to_repo(path: str) -> Path:
    assert path.startswith("/app/"), path
    return REPO / path.removeprefix("/app/")


def test_paths_used_at_run_time_exist() -> None:
    used = ["/app/docker/healthcheck.py", "/app/docker/entrypoint.sh", "/app/notebooks/dashboard/"]
    used += [f"/app/{p}" for p in VOILA if "/" in p]
    for path in used:
        assert container_to_repo(path).exists(), path
    assert os.access(ENTRY, os.X_OK) and os.access(HEALTH, os.X_OK)
    # the stage notebooks dvc.yaml runs are in the image (COPY notebooks)
    doc = yaml.safe_load((REPO / "dvc.yaml").read_text())
    for stage in doc["stages"].values():
        for dep in stage.get("deps", []):
            if dep.startswith(("notebooks/", "src/")):
                assert (REPO / dep).exists(), dep


def test_compose_runs_dashboard_and_runner_on_shared_volumes() -> None:
    services = COMPOSE["services"]
    assert set(services) == {"dashboard", "runner"}
    for svc in services.values():
        mounts = {v.split(":")[1]: v.split(":")[0] for v in svc["volumes"]}
        assert (
            mounts["/app/data"] == "alphalab-data" and mounts["/app/reports"] == "alphalab-reports"
        )
        assert svc["build"] == "." and (REPO / "Dockerfile").is_file()
    assert set(COMPOSE["volumes"]) >= {"alphalab-data", "alphalab-reports"}
    assert services["dashboard"]["ports"] == ["127.0.0.1:8866:8866"]
    command = services["runner"]["command"]
    assert command[0] == "runner"
    from alphalab.runner.cli import build_parser

    args = build_parser().parse_args(command[1:])
    assert args.action == "start" and args.run_now
    assert "--no-dashboard" in services["runner"]["healthcheck"]["test"]
    for name in services["runner"]["environment"]:
        assert not re.search(r"https?://|@", str(services["runner"]["environment"][name]))


# --------------------------------------------------------------------------------------------
# entrypoint
# --------------------------------------------------------------------------------------------
@pytest.fixture
def stubs(tmp_path: Path) -> Path:
    """``voila``, ``python`` and ``dvc`` stand-ins that print how they were called."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for name in ("voila", "python", "dvc"):
        stub = folder / name
        stub.write_text(f'#!/bin/sh\necho "{name} $*"\n')
        stub.chmod(0o755)
    return folder


def entry(root: Path, *args: str, path: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": path, "ALPHALAB_ROOT": str(root), "HOME": str(root)}
    return subprocess.run(
        ["sh", str(ENTRY), *args], env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], "voila " + " ".join(VOILA[1:])),
        (VOILA, "voila " + " ".join(VOILA[1:])),
        (["runner"], "python -m alphalab.runner start --run-now"),
        (["runner", "status", "--json"], "python -m alphalab.runner status --json"),
        (["repro", "--dry"], "dvc repro --dry"),
        (["echo", "hello"], "hello"),
    ],
)
def test_entrypoint_dispatch(tmp_path: Path, stubs: Path, argv: list[str], expected: str) -> None:
    root = tmp_path / "app"
    root.mkdir()
    proc = entry(root, *argv, path=f"{stubs}:/usr/bin:/bin")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == expected
    assert (root / "data").is_dir() and (root / "reports" / "runs").is_dir()


def test_entrypoint_health_runs_the_real_script(tmp_path: Path) -> None:
    root = tmp_path / "app"
    (root / "docker").mkdir(parents=True)
    (root / "docker" / "healthcheck.py").write_text(HEALTH.read_text())
    venv = Path(sys.executable).parent
    proc = entry(
        root, "health", "--no-dashboard", "--max-age-hours", "1", path=f"{venv}:/usr/bin:/bin"
    )
    assert proc.returncode == 1 and "no successful run recorded" in proc.stdout


def test_entrypoint_refuses_a_data_path_that_is_not_a_writable_folder(
    tmp_path: Path, stubs: Path
) -> None:
    root = tmp_path / "app"
    root.mkdir()
    (root / "data").write_text("a file where the volume should be")
    proc = entry(root, path=f"{stubs}:/usr/bin:/bin")
    assert proc.returncode == 78 and "data must be a folder writable" in proc.stderr
    assert proc.stdout == ""  # the dashboard was not started


def test_entrypoint_runner_reaches_the_real_runner(tmp_path: Path) -> None:
    from tests.runner.conftest import write_params

    root = tmp_path / "app"
    write_params(root)
    venv = Path(sys.executable).parent
    proc = entry(root, "runner", "status", "--root", str(root), path=f"{venv}:/usr/bin:/bin")
    assert proc.returncode == 1, proc.stderr
    assert "UNHEALTHY" in proc.stdout and "no successful run recorded" in proc.stdout


# --------------------------------------------------------------------------------------------
# health check
# --------------------------------------------------------------------------------------------
class Server:
    status = 200


@pytest.fixture
def dashboard() -> Iterator[tuple[str, type[Server]]]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(Server.status)
            self.end_headers()
            self.wfile.write(b"<html>voila</html>")

        def log_message(self, *a: object) -> None:
            pass

    Server.status = 200
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", Server
    server.shutdown()
    server.server_close()


def health(
    root: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("ALPHALAB_")}
    full.update(env or {})
    cmd = [sys.executable, str(HEALTH), "--root", str(root), "--timeout", "2", *args]
    return subprocess.run(cmd, env=full, capture_output=True, text=True, timeout=60)


def state(root: Path, hours_ago: float | None) -> None:
    folder = root / "reports" / "runs"
    folder.mkdir(parents=True, exist_ok=True)
    doc: dict[str, object] = {"cooldowns": {}}
    if hours_ago is not None:
        when = dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours_ago)
        doc["last_success"] = {"run_id": "r", "finished_at": when.isoformat(timespec="seconds")}
    (folder / "state.json").write_text(json.dumps(doc))


def test_health_passes_only_with_dashboard_up_and_a_recent_success(
    tmp_path: Path, dashboard
) -> None:  # type: ignore[no-untyped-def]
    url, server = dashboard
    state(tmp_path, hours_ago=1)
    ok = health(tmp_path, "--url", url, "--max-age-hours", "36")
    assert ok.returncode == 0 and ok.stdout.strip() == "healthy"
    server.status = 503
    down = health(tmp_path, "--url", url, "--max-age-hours", "36")
    assert down.returncode == 1 and "answered HTTP 503" in down.stdout
    server.status = 200
    state(tmp_path, hours_ago=40)
    old = health(tmp_path, "--url", url, "--max-age-hours", "36")
    assert old.returncode == 1 and "limit 36 h" in old.stdout


def test_health_dashboard_unreachable_and_state_problems(tmp_path: Path) -> None:
    from tests.runner.conftest import free_port

    state(tmp_path, hours_ago=1)
    gone = health(tmp_path, "--url", f"http://127.0.0.1:{free_port()}/")
    assert gone.returncode == 1 and "unreachable" in gone.stdout
    assert health(tmp_path, "--no-dashboard").returncode == 0
    state(tmp_path, hours_ago=None)
    assert "no successful run recorded in" in health(tmp_path, "--no-dashboard").stdout
    (tmp_path / "reports" / "runs" / "state.json").write_text("{not json")
    bad = health(tmp_path, "--no-dashboard")
    assert bad.returncode == 1 and "unreadable" in bad.stdout


def test_health_age_limit_precedence(tmp_path: Path) -> None:
    state(tmp_path, hours_ago=10)
    (tmp_path / "params.yaml").write_text("runner:\n  max_run_age_hours: 6\n")
    assert "limit 6 h" in health(tmp_path, "--no-dashboard").stdout  # from params.yaml
    env = {"ALPHALAB_MAX_RUN_AGE_HOURS": "12"}
    assert health(tmp_path, "--no-dashboard", env=env).returncode == 0  # env beats params
    assert health(tmp_path, "--no-dashboard", "--max-age-hours", "2", env=env).returncode == 1
    off = {"ALPHALAB_MAX_RUN_AGE_HOURS": "0"}
    state(tmp_path, hours_ago=None)
    assert health(tmp_path, "--no-dashboard", env=off).returncode == 0  # run check turned off


def test_health_agrees_with_runner_status_on_a_real_run(tmp_path: Path) -> None:
    from alphalab.config import Paths, load_params
    from alphalab.runner import ExitCode, run_once
    from alphalab.runner.status import runner_status
    from tests.runner.conftest import fake_repro, write_params

    write_params(tmp_path / "p", runner={"max_run_age_hours": 5})
    paths = Paths(tmp_path / "p")
    params = load_params(paths.params)
    assert run_once(params, paths, repro=fake_repro()).exit_code == ExitCode.OK
    assert runner_status(params, paths)["healthy"]
    assert health(paths.root, "--no-dashboard").returncode == 0  # limit read from params.yaml
