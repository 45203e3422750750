"""Real local servers (SMTP via aiosmtpd, HTTP via http.server) and scratch projects."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import http.server
import ipaddress
import json
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from alphalab.config import Paths
from alphalab.runner.repro import ReproRequest, ReproResult

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --------------------------------------------------------------------------------------------
# SMTP
# --------------------------------------------------------------------------------------------
@dataclass
class Mailbox:
    """What the local SMTP server received."""

    messages: list[email.message.EmailMessage] = field(default_factory=list)
    envelopes: list[Any] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    port: int = 0
    event: threading.Event = field(default_factory=threading.Event)


class _Handler:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        self.box.messages.append(msg)  # type: ignore[arg-type]
        self.box.envelopes.append(envelope)
        self.box.event.set()
        return "250 Message accepted"


def _start_smtp(box: Mailbox, **kwargs: Any) -> Any:
    from aiosmtpd.controller import Controller

    box.port = free_port()
    controller = Controller(_Handler(box), hostname="127.0.0.1", port=box.port, **kwargs)
    controller.start()
    return controller


@pytest.fixture
def smtp_server() -> Iterator[Mailbox]:
    """A plain SMTP server on 127.0.0.1 (no TLS, no auth)."""
    box = Mailbox()
    controller = _start_smtp(box)
    yield box
    controller.stop()


def self_signed_cert(folder: Path) -> tuple[Path, Path]:
    """A throw-away certificate for 127.0.0.1 / localhost (cryptography)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def tls_smtp_server(tmp_path: Path) -> Iterator[tuple[Mailbox, Path]]:
    """SMTP that requires STARTTLS and then AUTH (user ``ops``, password ``s3cret``)."""
    from aiosmtpd.smtp import AuthResult, LoginPassword

    cert, key = self_signed_cert(tmp_path)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    box = Mailbox()

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            b"ops",
            b"s3cret",
        )
        if ok:
            box.logins.append(data.login.decode())
        return AuthResult(success=ok, handled=False)

    controller = _start_smtp(
        box,
        server_hostname="localhost",
        tls_context=ctx,
        require_starttls=True,
        authenticator=authenticator,
        auth_required=True,
        auth_exclude_mechanism=["LOGIN"],  # PLAIN only: a wrong password fails at once
    )
    yield box, cert
    controller.stop()


# --------------------------------------------------------------------------------------------
# HTTP webhook receiver
# --------------------------------------------------------------------------------------------
@dataclass
class Hook:
    """What the local webhook server received; ``status`` is what it answers."""

    url: str = ""
    posts: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    status: int = 200
    delay_s: float = 0.0


@pytest.fixture
def webhook_server() -> Iterator[Hook]:
    hook = Hook()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(length)
            if hook.delay_s:
                threading.Event().wait(hook.delay_s)
            hook.posts.append(json.loads(body))
            hook.headers.append(dict(self.headers))
            try:
                self.send_response(hook.status)
                self.end_headers()
                self.wfile.write(b"ok")
            except OSError:  # the client gave up (timeout test)
                pass

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    hook.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/alphalab"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield hook
    server.shutdown()
    server.server_close()


# --------------------------------------------------------------------------------------------
# scratch projects and fake pipelines
# --------------------------------------------------------------------------------------------
def write_params(root: Path, **sections: Any) -> Path:
    """Copy the repo's params.yaml to ``root`` with ``sections`` replaced."""
    doc = yaml.safe_load((REPO / "params.yaml").read_text())
    doc.update(sections)
    root.mkdir(parents=True, exist_ok=True)
    (root / "params.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    (root / "dvc.yaml").write_text("stages: {}\n")
    return root / "params.yaml"


@pytest.fixture
def scratch(tmp_path: Path) -> Paths:
    """An empty project root with the repo's params (runner defaults)."""
    write_params(tmp_path / "proj")
    return Paths(tmp_path / "proj")


CLEAN_COUNTS = {"rows_in": 100, "accepted": 100, "quarantined": 0, "deduplicated": 0, "rejected": 0}


def write_outputs(
    root: Path,
    *,
    t_nw: float | None = 2.5,
    p_nw: float | None = 0.01,
    sharpe: float = 0.6,
    gate: str | None = "PASS",
    validation: dict[str, dict[str, Any]] | None = None,
    prices_last: str | None = "2026-01-02",
) -> None:
    """Write pipeline outputs in the shapes of DESIGN.md §5 (what a real run would leave)."""
    metrics = root / "reports" / "metrics"
    metrics.mkdir(parents=True, exist_ok=True)
    ls = {"sharpe": sharpe, "n_obs": 120}
    if t_nw is not None:
        ls["t_nw"] = t_nw
    if p_nw is not None:
        ls["p_nw"] = p_nw
    doc = {
        "long_short": ls,
        "g1": {"mean": -0.001, "sharpe": 0.1},
        "conventions": {"periods_per_year": 12, "lag": 1},
        "provenance": {"git": "abc"},
    }
    (metrics / "backtest.json").write_text(json.dumps(doc))
    if gate is not None:
        (root / "reports" / "gate.json").write_text(json.dumps({"decision": gate, "criteria": []}))
    folder = root / "reports" / "validation"
    folder.mkdir(parents=True, exist_ok=True)
    clean = {"input": "prices", "outcome": "pass", "findings": [], "counts": CLEAN_COUNTS}
    for name, body in (validation or {"prices": clean}).items():
        (folder / f"{name}.json").write_text(json.dumps(body))
    if prices_last is not None:
        (root / "data").mkdir(exist_ok=True)
        manifest = {"tables": {"prices": {"dates": {"first": "2020-01-02", "last": prices_last}}}}
        (root / "data" / "manifest.json").write_text(json.dumps(manifest))


def fake_repro(
    returncode: int = 0, *, failed_stage: str | None = None, **outputs: Any
) -> Callable[[ReproRequest], ReproResult]:
    """A pipeline stand-in that writes the given outputs and reports ``returncode``."""

    def repro(request: ReproRequest) -> ReproResult:
        write_outputs(request.root, **outputs)
        stages = ["ingest", "validate", "backtest"]
        return ReproResult(
            returncode,
            stages_run=stages if returncode == 0 else stages[:2],
            failed_stage=failed_stage,
            error=None if returncode == 0 else f"stage {failed_stage!r} failed",
        )

    return repro


@pytest.fixture(autouse=True)
def _reset_logging() -> Iterator[None]:
    """Drop the handler a test's ``configure_logging`` installed (its stream may be closed)."""
    yield
    import logging

    logger = logging.getLogger("alphalab")
    for handler in [h for h in logger.handlers if getattr(h, "_alphalab", False)]:
        logger.removeHandler(handler)
