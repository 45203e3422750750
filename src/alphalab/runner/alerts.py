"""Alert rules, cooldowns and delivery channels of the scheduled runner.

Rules live in ``params.yaml`` under ``runner.alerts`` (:class:`alphalab.config.AlertRule`,
which documents each ``kind``). After every run the runner evaluates each rule on the run's
outcome and :class:`~alphalab.runner.observe.Observations`, against the last *successful* run
(for ``gate_flip`` and ``trigger: cross``). Rules on metrics and the gate are evaluated only when
the pipeline succeeded (a failed run has no trustworthy metrics; ``run_failed`` covers it); a
rule whose input is missing is not fired but noted in the run record.

**Cooldown.** A fired rule whose alert was delivered less than ``cooldown_minutes`` ago (on at
least one channel; ``reports/runs/state.json`` → ``cooldowns``) is *suppressed*: recorded in the
run record, not sent. A delivery that failed on every channel does not start a cooldown, so the
next run tries again.

**Channels.** ``log`` (a WARNING line), ``email`` (SMTP with optional STARTTLS and login) and
``webhook`` (HTTP POST of Slack-compatible JSON ``{"text": ..., "blocks": [...]}``). Each
channel sends one digest per run listing its alerts. Secrets are read only from environment
variables named in params (``runner.email.username_env`` / ``password_env``,
``runner.webhook.url_env``), never from files.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import smtplib
import ssl
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from alphalab.config import AlertRule, EmailChannel, RunnerParams, WebhookChannel
from alphalab.logs import get_logger
from alphalab.runner.observe import Observations
from alphalab.runner.records import iso, parse_iso

log = get_logger(__name__)

NEEDS_SUCCESS = frozenset({"tstat_below", "pvalue_above", "gate_flip"})
SLACK_TEXT_LIMIT = 2900


class ChannelError(RuntimeError):
    """An alert could not be delivered on a channel (the message says why)."""


@dataclass(frozen=True)
class RunOutcome:
    """What the runner knows about the run itself when it evaluates rules."""

    pipeline_ok: bool
    today: dt.date
    failed_stage: str | None = None
    error: str | None = None


@dataclass
class Alert:
    """One fired rule: its message, and what happened to it (suppressed, delivered)."""

    rule: str
    kind: str
    message: str
    channels: list[str]
    value: float | str | None = None
    threshold: float | None = None
    suppressed: bool = False
    cooldown_until: str | None = None
    delivery: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form for the run record."""
        return asdict(self)

    @property
    def delivered(self) -> bool:
        """True when at least one channel accepted the alert."""
        return any(v == "sent" for v in self.delivery.values())


# --------------------------------------------------------------------------------------------
# rule evaluation
# --------------------------------------------------------------------------------------------
Check = tuple[Alert | None, str | None]  # (alert, note)


def _alert(rule: AlertRule, message: str, value: Any = None) -> Alert:
    return Alert(rule.name, rule.kind, message, list(rule.channels), value, rule.threshold)


def _run_failed(rule: AlertRule, out: RunOutcome, obs: Observations, prev: Mapping) -> Check:
    if out.pipeline_ok:
        return None, None
    where = f" at stage {out.failed_stage!r}" if out.failed_stage else ""
    return _alert(rule, f"pipeline run failed{where}: {out.error or 'see the run record'}"), None


def _validation_failed(rule: AlertRule, out: RunOutcome, obs: Observations, prev: Mapping) -> Check:
    failing = [name for name, s in obs.validation.items() if s.get("ok") is False]
    parts = [
        f"{name} ({obs.validation[name].get('n_errors') or 'some'} error(s))" for name in failing
    ]
    if out.failed_stage == "validate":
        parts.insert(0, "the validate stage failed")
    if not parts:
        return None, None
    return _alert(rule, "input validation failed: " + "; ".join(parts), len(failing)), None


def _coverage_below(rule: AlertRule, out: RunOutcome, obs: Observations, prev: Mapping) -> Check:
    assert rule.threshold is not None
    known = {
        name: s["coverage"]
        for name, s in obs.validation.items()
        if s.get("coverage") is not None and rule.table in (None, name)
    }
    if not known:
        return None, f"rule {rule.name!r}: no coverage figure in reports/validation/"
    low = {name: c for name, c in known.items() if c < rule.threshold}
    if not low:
        return None, None
    text = ", ".join(f"{n} {c:.1%}" for n, c in sorted(low.items()))
    msg = f"coverage below {rule.threshold:.1%}: {text} of rows accepted"
    return _alert(rule, msg, min(low.values())), None


def _stale_data(rule: AlertRule, out: RunOutcome, obs: Observations, prev: Mapping) -> Check:
    assert rule.threshold is not None
    table = rule.table or "prices"
    last = obs.data_last.get(table)
    if last is None:
        return None, f"rule {rule.name!r}: table {table!r} has no last date in data/manifest.json"
    age = (out.today - dt.date.fromisoformat(last[:10])).days
    if age <= rule.threshold:
        return None, None
    msg = (
        f"stale data: {table} ends {last}, {age} days before {out.today.isoformat()} "
        f"(limit {rule.threshold:g} days)"
    )
    return _alert(rule, msg, age), None


def _breach(rule: AlertRule, value: float) -> bool:
    assert rule.threshold is not None
    if rule.kind == "tstat_below":
        return (abs(value) if rule.two_sided else value) < rule.threshold
    return value > rule.threshold


def _metric_rule(rule: AlertRule, out: RunOutcome, obs: Observations, prev: Mapping) -> Check:
    key = rule.resolved_metric
    assert key is not None
    value = obs.metrics.get(key)
    if value is None:
        return None, f"rule {rule.name!r}: metric {key} not found in reports/metrics/"
    if not _breach(rule, value):
        return None, None
    before = (prev.get("metrics") or {}).get(key)
    if rule.trigger == "cross" and (before is None or _breach(rule, before)):
        return None, None
    side = "below" if rule.kind == "tstat_below" else "above"
    shown = f"|{key}|" if rule.kind == "tstat_below" and rule.two_sided else key
    msg = f"{shown} = {value:.4g} is {side} {rule.threshold:g}"
    if before is not None:
        msg += f" (last successful run: {before:.4g})"
    return _alert(rule, msg, value), None


def _gate_flip(rule: AlertRule, out: RunOutcome, obs: Observations, prev: Mapping) -> Check:
    before = prev.get("gate")
    if obs.gate is None:
        return None, f"rule {rule.name!r}: no reports/gate.json"
    if before is None or before == obs.gate:
        return None, None
    return _alert(rule, f"promotion gate flipped {before} → {obs.gate}", obs.gate), None


CHECKS: dict[str, Callable[[AlertRule, RunOutcome, Observations, Mapping], Check]] = {
    "run_failed": _run_failed,
    "validation_failed": _validation_failed,
    "coverage_below": _coverage_below,
    "stale_data": _stale_data,
    "tstat_below": _metric_rule,
    "pvalue_above": _metric_rule,
    "gate_flip": _gate_flip,
}


def evaluate_rules(
    rules: list[AlertRule],
    *,
    outcome: RunOutcome,
    observations: Observations,
    previous: Mapping[str, Any] | None = None,
) -> tuple[list[Alert], list[str]]:
    """Evaluate every rule; return the fired alerts and notes on rules that could not run.

    Parameters
    ----------
    rules : list of AlertRule
        ``runner.alerts`` from params.
    outcome : RunOutcome
        Whether the pipeline succeeded, the run date, the failed stage and error.
    observations : Observations
        Metrics, gate, validation and data freshness after the run.
    previous : mapping, optional
        The last successful run's ``metrics`` (flat) and ``gate`` (``state.json`` →
        ``last_success``).
    """
    prev = previous or {}
    fired: list[Alert] = []
    notes: list[str] = []
    for rule in rules:
        if rule.kind in NEEDS_SUCCESS and not outcome.pipeline_ok:
            notes.append(f"rule {rule.name!r}: not evaluated (the run failed)")
            continue
        alert, note = CHECKS[rule.kind](rule, outcome, observations, prev)
        if alert is not None:
            fired.append(alert)
        if note is not None:
            notes.append(note)
    return fired, notes


def apply_cooldown(
    alerts: list[Alert], rules: list[AlertRule], cooldowns: Mapping[str, str], now: dt.datetime
) -> None:
    """Mark alerts whose rule was delivered less than its ``cooldown_minutes`` ago."""
    by_name = {r.name: r for r in rules}
    for alert in alerts:
        last = cooldowns.get(alert.rule)
        if last is None:
            continue
        until = parse_iso(last) + dt.timedelta(minutes=by_name[alert.rule].cooldown_minutes)
        if now < until:
            alert.suppressed = True
            alert.cooldown_until = iso(until)


# --------------------------------------------------------------------------------------------
# channels
# --------------------------------------------------------------------------------------------
def digest(alerts: list[Alert], *, run_id: str, study: str) -> tuple[str, str]:
    """Subject line and plain-text body listing ``alerts``."""
    first = alerts[0].rule
    more = f" (+{len(alerts) - 1} more)" if len(alerts) > 1 else ""
    subject = f"{len(alerts)} alert(s) from study {study!r}: {first}{more}"
    lines = [
        f"alphalab run {run_id} (study {study!r}, host {os.uname().nodename}) raised "
        f"{len(alerts)} alert(s):",
        "",
        *[f"- [{a.rule}] {a.message}" for a in alerts],
        "",
        f"Run record: reports/runs/{run_id}.json   Status: alphalab runner status",
    ]
    return subject, "\n".join(lines)


def _secret(env: Mapping[str, str], name: str) -> str:
    value = env.get(name)
    if not value:
        raise ChannelError(f"environment variable {name} is not set")
    return value


def send_email(
    cfg: EmailChannel, subject: str, body: str, *, env: Mapping[str, str] = os.environ
) -> None:
    """Send one message over SMTP (STARTTLS and login as configured).

    Raises
    ------
    ChannelError
        Missing credentials, connection, TLS, authentication or refusal by the server.
    """
    msg = EmailMessage()
    msg["From"] = cfg.sender
    msg["To"] = ", ".join(cfg.recipients)
    msg["Subject"] = f"{cfg.subject_prefix} {subject}".strip()
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=cfg.sender.split("@", 1)[1])
    msg.set_content(body)
    user = _secret(env, cfg.username_env) if cfg.username_env else None
    password = _secret(env, cfg.password_env) if cfg.password_env else None
    try:
        with smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout_s) as smtp:
            smtp.ehlo()
            if cfg.starttls:
                smtp.starttls(context=ssl.create_default_context(cafile=cfg.cafile))
                smtp.ehlo()
            if user is not None and password is not None:
                smtp.login(user, password)
            smtp.send_message(msg)
    except (OSError, smtplib.SMTPException, ssl.SSLError) as exc:
        raise ChannelError(f"SMTP {cfg.host}:{cfg.port}: {type(exc).__name__}: {exc}") from None


def slack_payload(text: str) -> dict[str, Any]:
    """Slack-compatible body: plain ``text`` plus one mrkdwn section block."""
    short = text if len(text) <= SLACK_TEXT_LIMIT else text[: SLACK_TEXT_LIMIT - 1] + "…"
    return {
        "text": short,
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": short}}],
    }


def send_webhook(cfg: WebhookChannel, text: str, *, env: Mapping[str, str] = os.environ) -> None:
    """POST :func:`slack_payload` as JSON to the URL in ``env[cfg.url_env]``.

    Raises
    ------
    ChannelError
        URL missing or not http(s), timeout, connection error or a non-2xx answer.
    """
    url = _secret(env, cfg.url_env)
    if not url.lower().startswith(("http://", "https://")):
        raise ChannelError(f"{cfg.url_env} must be an http(s) URL")
    data = json.dumps(slack_payload(text)).encode()
    request = urllib.request.Request(
        url, data=data, method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=cfg.timeout_s) as resp:
            status = resp.status
    except urllib.error.HTTPError as exc:
        raise ChannelError(f"webhook answered HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise ChannelError(f"webhook unreachable: {getattr(exc, 'reason', exc)}") from None
    if not 200 <= status < 300:
        raise ChannelError(f"webhook answered HTTP {status}")


def _deliver(
    channel: str,
    batch: list[Alert],
    runner: RunnerParams,
    subject: str,
    body: str,
    env: Mapping[str, str],
) -> None:
    if channel == "log":
        for a in batch:
            log.warning("ALERT [%s] %s", a.rule, a.message, extra={"alert": a.rule})
    elif channel == "email":
        assert runner.email is not None
        send_email(runner.email, subject, body, env=env)
    elif channel == "webhook":
        assert runner.webhook is not None
        send_webhook(runner.webhook, f"*alphalab* {subject}\n{body}", env=env)
    else:  # pragma: no cover - the schema allows only the three
        raise ChannelError(f"unknown channel {channel!r}")


def dispatch(
    alerts: list[Alert],
    runner: RunnerParams,
    *,
    run_id: str,
    study: str,
    env: Mapping[str, str] = os.environ,
) -> None:
    """Deliver every unsuppressed alert on its channels; record the result per channel.

    Each channel receives one digest of the alerts routed to it. Failures are logged and
    written into ``alert.delivery[channel]`` as ``"error: ..."``; they never raise.
    """
    live = [a for a in alerts if not a.suppressed]
    for channel in ("log", "email", "webhook"):
        batch = [a for a in live if channel in a.channels]
        if not batch:
            continue
        subject, body = digest(batch, run_id=run_id, study=study)
        try:
            _deliver(channel, batch, runner, subject, body, env)
            result = "sent"
        except ChannelError as exc:
            log.error("alert delivery on %s failed: %s", channel, exc)
            result = f"error: {exc}"
        for a in batch:
            a.delivery[channel] = result
