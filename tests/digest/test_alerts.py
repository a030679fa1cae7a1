"""Alerts against a real local SMTP server (aiosmtpd) and a real local HTTP server: multipart e-mail, Slack-style
JSON, routing by pillar and owner, one message per destination, quiet hours, retries that never fail the batch."""

import datetime as dt
import email
import json
import re
import socket
import threading
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller

from gnelib.config import Alerts, ConfigError, read_config
from gnelib.reporting.alerts import in_quiet_hours, send_alerts
from gnelib.reporting.digest import build_digest

WEEK = "2026-W47"
MONDAY_NOON = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Inbox:
    """aiosmtpd handler keeping every message it accepts."""

    def __init__(self):
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 — aiosmtpd's hook name
        self.messages.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content,
                                                                                 policy=policy.default)))
        return "250 OK"


@pytest.fixture
def smtp():
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
def webhook():
    """A local HTTP server recording JSON posts; `fail_first` answers HTTP 500 that many times first."""
    received, state = [], {"fail_first": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 — http.server's hook name
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if state["fail_first"] > 0:
                state["fail_first"] -= 1
                self.send_response(500)
            else:
                received.append((self.path, json.loads(body)))
                self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", received, state
    server.shutdown()


@pytest.fixture(scope="module")
def digest(flagged_run):
    current, previous = flagged_run.findings(WEEK), flagged_run.findings("2026-W46")
    return build_digest(current, previous, WEEK, flagged_run.runs)


def settings(**fields) -> Alerts:
    return Alerts.model_validate({"retry_delay_s": 0, **fields})


def test_email_is_multipart_and_routed_by_pillar_one_message_per_address(smtp, digest):
    inbox, port = smtp
    config = settings(email={"smtp": {"host": "127.0.0.1", "port": port}, "sender": "gne@example.com",
                             "to": ["lead@example.com"]},
                      routes=[{"pillar": "authentic_products", "email": ["auth@example.com", "lead@example.com"]}],
                      base_url="https://reports.example.com/gne/")
    deliveries = send_alerts([digest], config, now=MONDAY_NOON)
    assert sorted((d.destination, d.status) for d in deliveries) == [("auth@example.com", "sent"),
                                                                     ("lead@example.com", "sent")]
    by_recipient = {rcpt[0]: message for rcpt, message in inbox.messages}
    assert len(inbox.messages) == 2 and set(by_recipient) == {"auth@example.com", "lead@example.com"}
    bad = [entry for entry in digest.entries if entry.verdict == "bad"]
    for recipient, message in by_recipient.items():
        assert message.get_content_type() == "multipart/alternative"
        text = message.get_body(("plain",)).get_content()
        page = message.get_body(("html",)).get_content()
        assert message["Subject"].startswith(f"GNE digest {WEEK}")
        expected = bad if recipient == "lead@example.com" else [e for e in bad if e.pillar == "authentic_products"]
        assert expected and all(entry.sentence in text for entry in expected)
        others = [e for e in digest.entries if e not in expected]
        assert not any(entry.sentence in text for entry in others)  # neutral moves and other pillars left out
        assert "https://reports.example.com/gne/2026-W47/" in page and "<html" in page
        links = re.findall(r'href="([^"]+)"', page)
        assert links and all(link.startswith("https://reports.example.com/gne/2026-W47/") for link in links)
        assert "https://reports.example.com/gne/2026-W47/digest.html" in links


def test_webhook_gets_slack_json_routed_by_owner(webhook, digest):
    url, received, _ = webhook
    owner = next(entry.owner for entry in digest.entries if entry.verdict == "bad")
    config = settings(webhook={"url": f"{url}/all"}, routes=[{"owner": owner, "webhook": f"{url}/team"}],
                      only="all")
    deliveries = send_alerts([digest], config, now=MONDAY_NOON)
    assert [d.status for d in deliveries] == ["sent", "sent"]
    payloads = dict(received)
    assert set(payloads) == {"/all", "/team"}
    assert payloads["/all"]["text"] == digest.summary()
    section = payloads["/team"]["blocks"][0]
    assert section["type"] == "section" and section["text"]["type"] == "mrkdwn"
    team = [entry for entry in digest.entries if entry.owner == owner]
    assert all(entry.sentence.replace("<", "&lt;")[:80] in section["text"]["text"] for entry in team[:10])
    assert not any(e.sentence.replace("<", "&lt;")[:80] in section["text"]["text"]
                   for e in digest.entries if e.owner != owner)


def test_a_failed_delivery_is_retried_then_logged_without_raising(webhook, digest, capsys):
    url, received, state = webhook
    state["fail_first"] = 1
    sent = send_alerts([digest], settings(webhook={"url": url}, retries=2), now=MONDAY_NOON)
    assert [(d.status, d.attempts) for d in sent] == [("sent", 2)] and len(received) == 1
    closed = free_port()  # nothing listens here
    config = settings(email={"smtp": {"host": "127.0.0.1", "port": closed, "timeout_s": 2},
                             "sender": "gne@example.com", "to": ["lead@example.com"]}, retries=1)
    failed = send_alerts([digest], config, now=MONDAY_NOON)
    assert [(d.status, d.attempts) for d in failed] == [("failed", 2)]
    assert "ConnectionRefusedError" in failed[0].error
    assert "alerts: email to lead@example.com failed after 2 attempts" in capsys.readouterr().err


def test_without_a_base_url_the_email_has_no_relative_links(smtp, digest):
    inbox, port = smtp
    config = settings(email={"smtp": {"host": "127.0.0.1", "port": port}, "sender": "gne@example.com",
                             "to": ["lead@example.com"]})
    assert [d.status for d in send_alerts([digest], config, now=MONDAY_NOON)] == ["sent"]
    page = inbox.messages[0][1].get_body(("html",)).get_content()
    assert any(entry.href for entry in digest.entries) and "href=" not in page  # no link a mailbox cannot follow


def test_quiet_hours_hold_every_message(smtp, digest):
    inbox, port = smtp
    config = settings(email={"smtp": {"host": "127.0.0.1", "port": port}, "sender": "gne@example.com",
                             "to": ["lead@example.com"]},
                      quiet_hours={"start": "22:00", "end": "07:00", "time_zone": "Asia/Jakarta"})
    late = dt.datetime(2026, 11, 30, 16, 30, tzinfo=dt.UTC)  # 23:30 in Jakarta
    assert [d.status for d in send_alerts([digest], config, now=late)] == ["held"] and not inbox.messages
    assert in_quiet_hours(dt.datetime(2026, 11, 30, 23, 59, tzinfo=dt.UTC), config.quiet_hours)  # 06:59 WIB
    assert not in_quiet_hours(dt.datetime(2026, 12, 1, 0, 0, tzinfo=dt.UTC), config.quiet_hours)  # 07:00 WIB
    assert [d.status for d in send_alerts([digest], config, now=MONDAY_NOON)] == ["sent"]


def test_nothing_to_say_sends_nothing(smtp, digest):
    inbox, port = smtp
    quiet = digest.only(lambda entry: entry.verdict != "bad")
    config = settings(email={"smtp": {"host": "127.0.0.1", "port": port}, "sender": "gne@example.com",
                             "to": ["lead@example.com"]})
    assert send_alerts([quiet], config, now=MONDAY_NOON) == [] and not inbox.messages
    assert send_alerts([digest], None) == []


@pytest.mark.parametrize("section, expected", [
    ("alerts: {only: bad}", "no channel"),
    ("alerts:\n  webhook: {url: http://x}\n  routes: [{email: [a@b.c]}]", "needs `pillar:` or `owner:`"),
    ("alerts:\n  webhook: {url: http://x}\n  quiet_hours: {start: '25:00', end: '07:00'}", "quiet_hours.start"),
    ("alerts:\n  webhook: {url: http://x}\n  routes: [{pillar: make_it_right, email: [a@b.c]}]",
     "no `email:` channel"),
])
def test_alert_config_errors_name_the_field_and_the_fix(tmp_path, section, expected):
    from gnelib.config import PACKAGED_CONFIG

    config = tmp_path / "gne.yaml"
    config.write_text(PACKAGED_CONFIG.read_text() + section + "\n")
    with pytest.raises(ConfigError) as error:
        read_config(config)
    assert expected in str(error.value) and f"{config}:" in str(error.value)
