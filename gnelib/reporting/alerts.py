"""Alerts after a batch: the digest's findings by SMTP e-mail (multipart HTML + text) and by a Slack-compatible
chat webhook, as configured in the project config's optional `alerts:` section (`gnelib.config.Alerts`).

Routing: the channel's own recipients (`email.to`, `webhook.url`) get every alerting finding; a route adds the
findings of one pillar or owner of the catalog for its addresses / webhook. Each destination gets at most one
message per run (all the batch's weeks in it). No message goes out in quiet hours. A failed delivery is retried
(`retries`, `retry_delay_s`) and logged; it never fails the batch.
"""

import dataclasses
import datetime as dt
import json
import logging
import os
import smtplib
import sys
import time
import urllib.request
import zoneinfo
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.message import EmailMessage

from gnelib.config import AlertRoute, Alerts
from gnelib.reporting.digest import Digest, Entry, render_html, render_text

log = logging.getLogger("gnelib.reporting.alerts")
MAX_CHAT_LINES = 10
ALERTS_ENV_VAR = "GNE_ALERTS"  # `off`: no alerts from this process


@dataclass(frozen=True)
class Delivery:
    """What happened to one destination: `sent`, `failed` (after all attempts) or `held` (quiet hours)."""

    channel: str  # email / webhook
    destination: str
    status: str
    attempts: int
    entries: int
    error: str = ""


def send_alerts(digests: Sequence[Digest], settings: Alerts | None, now: dt.datetime | None = None) -> list[Delivery]:
    """Send this run's alerts; returns one `Delivery` per destination that had something to say. Never raises."""
    if settings is None or not digests:
        return []
    try:
        plan = destinations(digests, settings)
    except Exception as error:  # noqa: BLE001 — alerts never fail the batch
        _report(f"alerts: not sent ({type(error).__name__}: {error})")
        return []
    if not plan:
        return []
    now = now or dt.datetime.now(dt.UTC)
    if settings.quiet_hours is not None and in_quiet_hours(now, settings.quiet_hours):
        quiet = settings.quiet_hours
        _report(f"alerts: quiet hours ({quiet.start}–{quiet.end} {quiet.time_zone}): {len(plan)} message(s) held")
        return [Delivery(channel, where, "held", 0, _count(chosen)) for (channel, where), chosen in plan.items()]
    deliveries = []
    for (channel, where), chosen in plan.items():
        if channel == "email":
            send = lambda chosen=chosen, where=where: send_email(chosen, settings, where)  # noqa: E731
        else:
            send = lambda chosen=chosen, where=where: post_webhook(chosen, settings, where)  # noqa: E731
        deliveries.append(_deliver(channel, where, send, settings, _count(chosen)))
    return deliveries


def destinations(digests: Sequence[Digest], settings: Alerts) -> dict[tuple[str, str], list[Digest]]:
    """{(channel, address or URL): the digests restricted to what that destination receives}, only destinations
    with at least one alerting finding (`only: bad` → worse-than-usual findings; `all` → every finding)."""
    alerting = (lambda entry: entry.verdict == "bad") if settings.only == "bad" else (lambda entry: True)
    wanted: dict[tuple[str, str], list[Callable[[Entry], bool]]] = {}
    if settings.email is not None:
        for address in settings.email.to:
            wanted.setdefault(("email", address), []).append(lambda entry: True)
    if settings.webhook is not None:
        url = settings.webhook.url or os.environ.get(settings.webhook.url_env or "", "")
        if not url:
            raise ValueError(f"the webhook URL variable ${settings.webhook.url_env} is not set")
        wanted.setdefault(("webhook", url), []).append(lambda entry: True)
    for route in settings.routes:
        for address in route.email:
            wanted.setdefault(("email", address), []).append(_route_filter(route))
        if route.webhook:
            wanted.setdefault(("webhook", route.webhook), []).append(_route_filter(route))
    plan = {}
    for key, filters in wanted.items():
        chosen = [digest.only(lambda e, f=filters: any(test(e) for test in f)) for digest in digests]
        chosen = [digest.only(lambda e: alerting(e) or e.status == "resolved") for digest in chosen]
        if any(any(alerting(entry) for entry in digest.entries) for digest in chosen):
            plan[key] = chosen
    return plan


def in_quiet_hours(now: dt.datetime, quiet) -> bool:
    """Whether `now` (aware) falls in [start, end) in the quiet hours' time zone; the span may wrap midnight."""
    local = now.astimezone(zoneinfo.ZoneInfo(quiet.time_zone)).time()
    start, end = dt.time.fromisoformat(quiet.start), dt.time.fromisoformat(quiet.end)
    return start <= local < end if start <= end else local >= start or local < end


def email_message(digests: Sequence[Digest], settings: Alerts, recipient: str) -> EmailMessage:
    """The multipart/alternative e-mail: the digests as text (Markdown) and as HTML, links absolute via base_url."""
    message = EmailMessage()
    message["Subject"] = _subject(digests)
    message["From"] = settings.email.sender
    message["To"] = recipient
    if not settings.base_url:  # relative links mean nothing in a mailbox
        digests = [_unlinked(digest) for digest in digests]
    message.set_content("\n\n".join(render_text(digest, settings.base_url) for digest in digests))
    message.add_alternative("\n".join(render_html(digest, settings.base_url, page=False) for digest in digests),
                            subtype="html")
    return message


def send_email(digests: Sequence[Digest], settings: Alerts, recipient: str) -> None:
    """Send one e-mail through the configured SMTP server (STARTTLS / SSL / login as configured)."""
    server = settings.email.smtp
    factory = smtplib.SMTP_SSL if server.ssl else smtplib.SMTP
    with factory(server.host, server.port, timeout=server.timeout_s) as client:
        if server.starttls:
            client.starttls()
        if server.username:
            password = os.environ.get(server.password_env or "")
            if password is None:
                raise ValueError(f"SMTP login needs the password in ${server.password_env} (alerts.email.smtp."
                                 "password_env); it is not set")
            client.login(server.username, password)
        client.send_message(email_message(digests, settings, recipient))


def chat_payload(digests: Sequence[Digest], settings: Alerts) -> dict:
    """Slack-compatible JSON: `text` (the fallback) and one mrkdwn section per digest, top findings linked."""
    blocks = []
    for digest in digests:
        lines = [f"*{digest.summary()}*"]
        for entry in digest.entries[:MAX_CHAT_LINES]:
            link = _absolute(digest, entry.href, settings.base_url)
            tail = f" <{link}|{entry.link_label}>" if link else ""
            lines.append(f"• [{entry.status}] {_escape(entry.sentence)}{tail}")
        if len(digest.entries) > MAX_CHAT_LINES:
            lines.append(f"…and {len(digest.entries) - MAX_CHAT_LINES} more in the digest.")
        page = _absolute(digest, "digest.html", settings.base_url)
        if page:
            lines.append(f"<{page}|Open the digest>")
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)[:2900]}})
    return {"text": _subject(digests), "blocks": blocks}


def post_webhook(digests: Sequence[Digest], settings: Alerts, url: str) -> None:
    """POST the chat payload; any non-2xx answer is an error."""
    timeout = settings.webhook.timeout_s if settings.webhook is not None else 15
    request = urllib.request.Request(url, data=json.dumps(chat_payload(digests, settings)).encode("utf-8"),
                                     headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 — the configured URL
        if not 200 <= answer.status < 300:
            raise OSError(f"webhook answered HTTP {answer.status}")


def _deliver(channel: str, where: str, send: Callable[[], None], settings: Alerts, entries: int) -> Delivery:
    error = ""
    for attempt in range(1, settings.retries + 2):
        try:
            send()
        except Exception as failure:  # noqa: BLE001 — logged and retried; never fails the batch
            error = f"{type(failure).__name__}: {failure}"
            log.warning("alert %s to %s failed (attempt %d): %s", channel, _safe(where), attempt, error)
            if attempt <= settings.retries:
                time.sleep(settings.retry_delay_s)
            continue
        _report(f"alerts: {channel} to {_safe(where)} sent ({entries} findings, attempt {attempt})")
        return Delivery(channel, where, "sent", attempt, entries)
    _report(f"alerts: {channel} to {_safe(where)} failed after {settings.retries + 1} attempts ({error}); "
            "the reports and digest are written")
    return Delivery(channel, where, "failed", settings.retries + 1, entries, error)


def _unlinked(digest: Digest) -> Digest:
    return dataclasses.replace(digest, entries=[dataclasses.replace(e, href=None) for e in digest.entries],
                               resolved=[dataclasses.replace(e, href=None) for e in digest.resolved])


def _route_filter(route: AlertRoute) -> Callable[[Entry], bool]:
    return lambda entry: ((route.pillar is None or entry.pillar == route.pillar)
                          and (route.owner is None or entry.owner == route.owner))


def _subject(digests: Sequence[Digest]) -> str:
    return "; ".join(digest.summary() for digest in digests)


def _count(digests: Sequence[Digest]) -> int:
    return sum(len(digest.entries) for digest in digests)


def _absolute(digest: Digest, href: str | None, base_url: str) -> str:
    if not href:
        return ""
    return f"{base_url.rstrip('/')}/{digest.week}/{href}" if base_url else ""


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _safe(where: str) -> str:
    """A destination for logs: webhook URLs carry secrets in their path, so only scheme and host are shown."""
    if "://" in where:
        scheme, _, rest = where.partition("://")
        return f"{scheme}://{rest.split('/', 1)[0]}/…"
    return where


def _report(line: str) -> None:
    log.info(line)
    print(line, file=sys.stderr, flush=True)


def alert_settings(facts) -> Alerts | None:
    """The `alerts:` section of the batch's project config; None when none is configured or `$GNE_ALERTS` is `off`
    (e.g. the Airflow DAG's report tasks, which leave the alerts to its last task)."""
    from gnelib.config import PACKAGED_CONFIG, read_config

    if os.environ.get(ALERTS_ENV_VAR, "").strip().lower() == "off":
        return None
    return read_config(facts.config or PACKAGED_CONFIG).alerts
