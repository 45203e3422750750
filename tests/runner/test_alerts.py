"""Alert rules, cooldowns and the three channels, against real local servers.

Tolerances: none needed — rules compare exact numbers written into the fixtures; times are
exact (aware datetimes).
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from alphalab.config import AlertRule, EmailChannel, RunnerParams, WebhookChannel
from alphalab.runner import alerts as al
from alphalab.runner.observe import Observations

from .conftest import Hook, Mailbox, free_port

TODAY = dt.date(2026, 1, 5)
NOW = dt.datetime(2026, 1, 5, 12, 0, tzinfo=dt.UTC)


def rule(kind: str, **kw: object) -> AlertRule:
    return AlertRule(name=kw.pop("name", kind), kind=kind, **kw)  # type: ignore[arg-type]


def obs(**kw: object) -> Observations:
    base: dict[str, object] = {
        "metrics": {"backtest.long_short.t_nw": 2.5, "backtest.long_short.p_nw": 0.01},
        "gate": "PASS",
        "validation": {"prices": {"ok": True, "n_errors": 0, "coverage": 1.0}},
        "data_last": {"prices": "2026-01-02"},
    }
    base.update(kw)
    return Observations(**base)  # type: ignore[arg-type]


def fire(r: AlertRule, o: Observations, *, ok: bool = True, prev: dict | None = None, **kw: object):
    outcome = al.RunOutcome(pipeline_ok=ok, today=TODAY, **kw)  # type: ignore[arg-type]
    return al.evaluate_rules([r], outcome=outcome, observations=o, previous=prev)


# --------------------------------------------------------------------------------------------
# each rule fires exactly on its condition
# --------------------------------------------------------------------------------------------
def test_run_failed_fires_only_on_failure() -> None:
    assert fire(rule("run_failed"), obs())[0] == []
    alerts, _ = fire(rule("run_failed"), obs(), ok=False, failed_stage="ingest", error="boom")
    assert (
        len(alerts) == 1 and "stage 'ingest'" in alerts[0].message and "boom" in alerts[0].message
    )


def test_validation_failed_reads_reports_and_failed_stage() -> None:
    bad = {"prices": {"ok": False, "n_errors": 3, "coverage": 0.9}, "signal": {"ok": True}}
    alerts, _ = fire(rule("validation_failed"), obs(validation=bad))
    assert "prices (3 error(s))" in alerts[0].message and "signal" not in alerts[0].message
    unknown = {"prices": {"ok": None, "n_errors": None, "coverage": None}}
    assert fire(rule("validation_failed"), obs(validation=unknown))[0] == []
    alerts, _ = fire(rule("validation_failed"), obs(), ok=False, failed_stage="validate")
    assert "the validate stage failed" in alerts[0].message


@pytest.mark.parametrize(("coverage", "fires"), [(0.949, True), (0.95, False), (1.0, False)])
def test_coverage_below_threshold_is_strict(coverage: float, fires: bool) -> None:
    v = {"prices": {"ok": True, "n_errors": 0, "coverage": coverage}}
    alerts, _ = fire(rule("coverage_below", threshold=0.95), obs(validation=v))
    assert bool(alerts) is fires


def test_coverage_table_filter_and_missing_figure_is_noted() -> None:
    v = {"prices": {"coverage": 0.5}, "signal": {"coverage": 0.99}}
    assert fire(rule("coverage_below", threshold=0.9, table="signal"), obs(validation=v))[0] == []
    alerts, notes = fire(rule("coverage_below", threshold=0.9), obs(validation={}))
    assert alerts == [] and "no coverage figure" in notes[0]


@pytest.mark.parametrize(("last", "fires"), [("2025-12-26", False), ("2025-12-25", True)])
def test_stale_data_counts_calendar_days(last: str, fires: bool) -> None:
    # 2026-01-05 minus 2025-12-26 = 10 days (allowed), minus 2025-12-25 = 11 days (stale)
    alerts, _ = fire(rule("stale_data", threshold=10), obs(data_last={"prices": last}))
    assert bool(alerts) is fires
    if fires:
        assert "11 days" in alerts[0].message


def test_stale_data_without_manifest_is_noted_not_fired() -> None:
    alerts, notes = fire(rule("stale_data", threshold=3), obs(data_last={}))
    assert alerts == [] and "no last date" in notes[0]


def test_tstat_and_pvalue_thresholds() -> None:
    o = obs(metrics={"backtest.long_short.t_nw": -2.4, "backtest.long_short.p_nw": 0.2})
    assert fire(rule("tstat_below", threshold=2.0), o)[0]  # -2.4 < 2
    assert fire(rule("tstat_below", threshold=2.0, two_sided=True), o)[0] == []  # |-2.4| >= 2
    assert fire(rule("pvalue_above", threshold=0.1), o)[0]
    assert fire(rule("pvalue_above", threshold=0.25), o)[0] == []
    custom = rule("tstat_below", threshold=1.0, metric="walkforward.oos.t_nw")
    alerts, notes = fire(custom, o)
    assert alerts == [] and "walkforward.oos.t_nw not found" in notes[0]


def test_cross_trigger_needs_the_previous_success_on_the_other_side() -> None:
    r = rule("tstat_below", threshold=2.0, trigger="cross")
    now_low = obs(metrics={"backtest.long_short.t_nw": 1.5})
    was_high = {"metrics": {"backtest.long_short.t_nw": 2.8}}
    was_low = {"metrics": {"backtest.long_short.t_nw": 1.9}}
    alerts, _ = fire(r, now_low, prev=was_high)
    assert "last successful run: 2.8" in alerts[0].message
    assert fire(r, now_low, prev=was_low)[0] == []
    assert fire(r, now_low, prev=None)[0] == []


def test_gate_flip_both_directions_and_metric_rules_skip_failed_runs() -> None:
    alerts, _ = fire(rule("gate_flip"), obs(gate="FAIL"), prev={"gate": "PASS"})
    assert "PASS → FAIL" in alerts[0].message
    assert fire(rule("gate_flip"), obs(gate="PASS"), prev={"gate": "FAIL"})[0]
    assert fire(rule("gate_flip"), obs(gate="PASS"), prev={"gate": "PASS"})[0] == []
    assert fire(rule("gate_flip"), obs(gate="FAIL"), prev=None)[0] == []
    alerts, notes = fire(rule("gate_flip"), obs(gate="FAIL"), ok=False, prev={"gate": "PASS"})
    assert alerts == [] and "not evaluated" in notes[0]


def test_cooldown_suppresses_within_the_window_only() -> None:
    r = rule("run_failed", cooldown_minutes=60)
    a1 = al.Alert("run_failed", "run_failed", "m", ["log"])
    a2 = al.Alert("run_failed", "run_failed", "m", ["log"])
    last = {"run_failed": (NOW - dt.timedelta(minutes=59)).isoformat()}
    al.apply_cooldown([a1], [r], last, NOW)
    assert a1.suppressed and a1.cooldown_until == "2026-01-05T12:01:00+00:00"
    al.apply_cooldown([a2], [r], {"run_failed": (NOW - dt.timedelta(minutes=60)).isoformat()}, NOW)
    assert not a2.suppressed


# --------------------------------------------------------------------------------------------
# schema
# --------------------------------------------------------------------------------------------
def test_schema_rejects_inconsistent_rules() -> None:
    with pytest.raises(ValueError, match="needs a threshold"):
        AlertRule(name="t", kind="tstat_below")
    with pytest.raises(ValueError, match="takes no threshold"):
        AlertRule(name="f", kind="run_failed", threshold=1)
    with pytest.raises(ValueError, match=r"threshold must be in \(0, 1\]"):
        AlertRule(name="p", kind="pvalue_above", threshold=5)
    with pytest.raises(ValueError, match=r"channel 'email' but runner\.email"):
        RunnerParams(alerts=[AlertRule(name="f", kind="run_failed", channels=["email"])])
    with pytest.raises(ValueError, match="unique"):
        RunnerParams(alerts=[AlertRule(name="f", kind="run_failed")] * 2)
    with pytest.raises(ValueError, match="cron"):
        RunnerParams(schedule="every day")


# --------------------------------------------------------------------------------------------
# channels, against real servers
# --------------------------------------------------------------------------------------------
def test_email_plain_smtp(smtp_server: Mailbox) -> None:
    cfg = EmailChannel(
        host="127.0.0.1", port=smtp_server.port, starttls=False, recipients=["a@x.org", "b@x.org"]
    )
    al.send_email(cfg, "subject line", "body text", env={})
    msg = smtp_server.messages[0]
    assert msg["Subject"] == "[alphalab] subject line"
    assert msg["To"] == "a@x.org, b@x.org" and msg["From"] == "alphalab@localhost"
    assert msg.get_content().strip() == "body text"
    assert sorted(smtp_server.envelopes[0].rcpt_tos) == ["a@x.org", "b@x.org"]


def test_email_starttls_and_login_from_env(tls_smtp_server: tuple[Mailbox, object]) -> None:
    box, cert = tls_smtp_server
    cfg = EmailChannel(
        host="127.0.0.1",
        port=box.port,
        starttls=True,
        recipients=["ops@x.org"],
        username_env="SMTP_USER",
        password_env="SMTP_PASS",
        cafile=str(cert),
    )
    al.send_email(cfg, "s", "b", env={"SMTP_USER": "ops", "SMTP_PASS": "s3cret"})
    assert box.logins == ["ops"] and len(box.messages) == 1
    with pytest.raises(al.ChannelError, match="SMTP_PASS is not set"):
        al.send_email(cfg, "s", "b", env={"SMTP_USER": "ops"})
    with pytest.raises(al.ChannelError, match="SMTPAuthenticationError"):
        al.send_email(cfg, "s", "b", env={"SMTP_USER": "ops", "SMTP_PASS": "wrong"})
    plain = cfg.model_copy(update={"starttls": False})
    with pytest.raises(al.ChannelError):  # the server insists on STARTTLS before anything
        al.send_email(plain, "s", "b", env={"SMTP_USER": "ops", "SMTP_PASS": "s3cret"})
    untrusted = cfg.model_copy(update={"cafile": None})
    with pytest.raises(al.ChannelError, match=r"CERTIFICATE_VERIFY_FAILED|SSLCertVerification"):
        al.send_email(untrusted, "s", "b", env={"SMTP_USER": "ops", "SMTP_PASS": "s3cret"})
    assert len(box.messages) == 1


def test_email_connection_refused_is_a_channel_error() -> None:
    cfg = EmailChannel(
        host="127.0.0.1", port=free_port(), starttls=False, recipients=["a@x.org"], timeout_s=2
    )
    with pytest.raises(al.ChannelError, match="ConnectionRefusedError"):
        al.send_email(cfg, "s", "b", env={})


def test_webhook_posts_slack_json(webhook_server: Hook) -> None:
    cfg = WebhookChannel(url_env="HOOK")
    al.send_webhook(cfg, "hello *world*", env={"HOOK": webhook_server.url})
    body = webhook_server.posts[0]
    assert body["text"] == "hello *world*"
    assert body["blocks"][0] == {
        "type": "section",
        "text": {"type": "mrkdwn", "text": "hello *world*"},
    }
    assert webhook_server.headers[0]["Content-Type"] == "application/json"


def test_webhook_errors(webhook_server: Hook) -> None:
    cfg = WebhookChannel(url_env="HOOK", timeout_s=0.3)
    with pytest.raises(al.ChannelError, match="HOOK is not set"):
        al.send_webhook(cfg, "x", env={})
    with pytest.raises(al.ChannelError, match="http"):
        al.send_webhook(cfg, "x", env={"HOOK": "file:///etc/passwd"})
    webhook_server.status = 500
    with pytest.raises(al.ChannelError, match="HTTP 500"):
        al.send_webhook(cfg, "x", env={"HOOK": webhook_server.url})
    webhook_server.status, webhook_server.delay_s = 200, 1.0
    with pytest.raises(al.ChannelError, match=r"unreachable|timed out"):
        al.send_webhook(cfg, "x", env={"HOOK": webhook_server.url})
    with pytest.raises(al.ChannelError, match="unreachable"):
        al.send_webhook(cfg, "x", env={"HOOK": f"http://127.0.0.1:{free_port()}/"})


def test_slack_payload_is_truncated_to_the_block_limit() -> None:
    body = al.slack_payload("x" * 5000)
    assert len(body["text"]) == al.SLACK_TEXT_LIMIT and body["text"].endswith("…")
    json.dumps(body)


def test_dispatch_records_per_channel_results(webhook_server: Hook) -> None:
    runner = RunnerParams(
        webhook=WebhookChannel(url_env="HOOK"),
        alerts=[AlertRule(name="f", kind="run_failed", channels=["log", "webhook"])],
    )
    live = al.Alert("f", "run_failed", "boom", ["log", "webhook"])
    quiet = al.Alert("f", "run_failed", "boom", ["log", "webhook"], suppressed=True)
    al.dispatch([live, quiet], runner, run_id="r1", study="s", env={})
    assert live.delivery["log"] == "sent"
    assert live.delivery["webhook"].startswith("error: environment variable HOOK")
    assert quiet.delivery == {} and live.delivered
    al.dispatch([live], runner, run_id="r1", study="s", env={"HOOK": webhook_server.url})
    assert live.delivery["webhook"] == "sent"
    assert "[f] boom" in webhook_server.posts[0]["text"]
