"""Sending alerts: email, a signed JSON webhook, or any Apprise URL (Slack, Teams, SMS, …).

Channel targets may hold secrets as ${ENV_NAME} placeholders. They are filled in from the
environment of the process sending, at the moment it sends, so a secret is never stored; a
variable that is not set fails the delivery with a message naming it. Error messages are stored
with every filled-in value put back as its placeholder.

Signed webhooks, for whoever receives them
------------------------------------------
Each delivery is one POST of a JSON body (UTF-8, `Content-Type: application/json`) with:

    X-WatchPrice-Event:     alert.raised | alert.cleared | alert.digest
    X-WatchPrice-Delivery:  the delivery's id; the same id may arrive again after a retry
    X-WatchPrice-Timestamp: Unix time in seconds when this attempt was signed
    X-WatchPrice-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">

The HMAC key is the shared secret `ALERT_WEBHOOK_SECRET`, as its UTF-8 bytes. (In DEBUG without
it, the key is the hex SHA-256 of "watchprice-alert-webhook\\n" + SECRET_KEY.) To check one:

    expected = "sha256=" + hmac.new(secret, timestamp.encode() + b"." + raw_body,
                                    hashlib.sha256).hexdigest()
    valid = hmac.compare_digest(expected, signature) and abs(time.time() - int(timestamp)) <= 300

Compute it over the raw bytes received, before parsing; compare in constant time; refuse
timestamps more than five minutes away (replays); answer 2xx once stored, and de-duplicate on
the delivery id. Anything else than 2xx (redirects included) is retried with backoff.
`webhook_signature_valid` below is the reference implementation.
"""

import hashlib
import hmac
import json
import os
import re
import time
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

import apprise
import httpx
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import validate_email
from django.utils.html import format_html, format_html_join

from alerts.models import Alert, Delivery, NotificationChannel
from scraping import fetching
from scraping.fetching.transport import PinnedTransport, pinned

PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
WEBHOOK_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
SIGNATURE_TOLERANCE_SECONDS = 300
USER_AGENT = "WatchPrice-Alerts/1.0"
# Apprise schemes that post to any URL given: the same SSRF guard as webhooks applies to them.
APPRISE_GENERIC_HTTP = {
    "json": "http",
    "jsons": "https",
    "xml": "http",
    "xmls": "https",
    "form": "http",
    "forms": "https",
}


class DeliveryFailed(Exception):
    """The channel did not take the message; trying again later may work."""


class PermanentFailure(DeliveryFailed):
    """Trying again will not help until someone fixes the channel or the environment."""


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    html: str
    payload: dict = field(default_factory=dict)


# --- Placeholders ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    value: str
    secrets: dict[str, str]
    """Filled-in values by variable name, to take back out of error messages."""

    def redact(self, text: str) -> str:
        for name, secret in self.secrets.items():
            text = text.replace(secret, f"${{{name}}}")
        return text


def target_expand(target: str, environ=None) -> Target:
    environ = os.environ if environ is None else environ
    missing = [name for name in PLACEHOLDER.findall(target) if not environ.get(name)]
    if missing:
        names = ", ".join(dict.fromkeys(missing))
        raise PermanentFailure(
            f"Environment variable {names} is not set where alerts are sent (the Celery "
            "workers); set it there, then retry the delivery."
        )
    secrets = {name: environ[name] for name in PLACEHOLDER.findall(target)}
    return Target(PLACEHOLDER.sub(lambda m: environ[m.group(1)], target), secrets)


# --- Sending ---------------------------------------------------------------------------------


def channel_send(channel: NotificationChannel, message: Message) -> None:
    """Send, or raise DeliveryFailed (PermanentFailure when retrying cannot help)."""
    target = target_expand(channel.target)
    senders = {
        NotificationChannel.Kind.EMAIL: email_send,
        NotificationChannel.Kind.WEBHOOK: webhook_send,
        NotificationChannel.Kind.APPRISE: apprise_send,
    }
    sender = senders.get(channel.kind)
    if sender is None:
        raise PermanentFailure(f"Unknown channel kind {channel.kind!r}.")
    try:
        sender(target.value, message)
    except PermanentFailure as exc:
        raise PermanentFailure(target.redact(str(exc))) from None
    except DeliveryFailed as exc:
        raise DeliveryFailed(target.redact(str(exc))) from None
    except Exception as exc:
        # SMTP, network and library errors alike: recorded and retried, never lost.
        raise DeliveryFailed(target.redact(f"{type(exc).__name__}: {exc}")) from None


def email_send(target: str, message: Message) -> None:
    recipients = [address.strip() for address in target.split(",") if address.strip()]
    if not recipients:
        raise PermanentFailure("The channel names no email address.")
    for address in recipients:
        try:
            validate_email(address)
        except ValidationError:
            raise PermanentFailure(f"{address!r} is not an email address.") from None
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients,
    )
    email.attach_alternative(message.html, "text/html")
    email.send(fail_silently=False)


def allow_list() -> frozenset[tuple[str, int]]:
    return fetching.parse_allow_list(",".join(settings.FETCH_ALLOWED_HOSTS))


def destination_check(url: str) -> fetching.Destination:
    """The SSRF guard that probes pass: public addresses only, unless allow-listed."""
    try:
        return fetching.check_destination(url, allow=allow_list())
    except fetching.Blocked as exc:
        raise PermanentFailure(f"Refused to send there: {exc}") from None
    except fetching.Unresolvable as exc:
        raise DeliveryFailed(str(exc)) from None


def webhook_send(url: str, message: Message) -> None:
    destination = destination_check(url)
    body = webhook_body(message.payload)
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-WatchPrice-Event": str(message.payload.get("event", "")),
        "X-WatchPrice-Delivery": str(message.payload.get("delivery", "")),
        "X-WatchPrice-Timestamp": timestamp,
        "X-WatchPrice-Signature": webhook_signature(webhook_secret(), timestamp, body),
    }
    # Connect only to the address the guard approved, so a name cannot re-resolve elsewhere.
    pins = {(destination.host, destination.port): destination.addresses[0]}
    transport = PinnedTransport(limits=httpx.Limits(max_connections=1))
    with (
        httpx.Client(
            transport=transport, timeout=WEBHOOK_TIMEOUT, follow_redirects=False, trust_env=False
        ) as client,
        pinned(pins),
    ):
        response = client.post(url, content=body, headers=headers)
    if not 200 <= response.status_code < 300:
        raise DeliveryFailed(
            f"The webhook at {destination.authority} answered HTTP {response.status_code}."
        )


def apprise_send(url: str, message: Message) -> None:
    scheme = url.partition("://")[0].lower()
    if scheme in APPRISE_GENERIC_HTTP:
        # Apprise connects by itself (through requests), so the address cannot be pinned; the
        # guard still refuses private and loopback hosts that are not allow-listed.
        parts = urlsplit(url)
        host = f"[{parts.hostname}]" if ":" in (parts.hostname or "") else parts.hostname
        port = f":{parts.port}" if parts.port else ""
        destination_check(f"{APPRISE_GENERIC_HTTP[scheme]}://{host}{port}/")
    notifier = apprise.Apprise(asset=apprise.AppriseAsset(storage_mode="memory"))
    if not notifier.add(url):
        raise PermanentFailure(f"Apprise does not understand this {scheme}:// URL.")
    result = notifier.notify(title=message.subject, body=message.text)
    if not result:
        said = [entry.message for entry in result.logs() if entry.level in ("WARNING", "ERROR")]
        raise DeliveryFailed(" ".join(said) or f"Apprise could not send to {scheme}://.")


# --- Webhook signatures ----------------------------------------------------------------------


def webhook_secret() -> bytes:
    secret = getattr(settings, "ALERT_WEBHOOK_SECRET", "")
    if not secret:
        # DEBUG only (settings refuse production without one): a stable derived secret.
        secret = hashlib.sha256(
            b"watchprice-alert-webhook\n" + settings.SECRET_KEY.encode()
        ).hexdigest()
    return secret.encode()


def webhook_body(payload: dict) -> bytes:
    return json.dumps(
        payload, cls=DjangoJSONEncoder, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode()


def webhook_signature(secret: bytes, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def webhook_signature_valid(
    *,
    secret: bytes,
    timestamp: str,
    body: bytes,
    signature: str,
    now: float | None = None,
    tolerance: int = SIGNATURE_TOLERANCE_SECONDS,
) -> bool:
    """What a receiver checks: the signature over the raw body, and a recent timestamp."""
    try:
        sent = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs((time.time() if now is None else now) - sent) > tolerance:
        return False
    return hmac.compare_digest(webhook_signature(secret, timestamp, body), signature)


# --- Messages --------------------------------------------------------------------------------


def alert_message(alert: Alert, *, event: str, delivery_id: int | None = None) -> Message:
    cleared = event == Delivery.Event.CLEARED
    subject = f"[WatchPrice] {'Cleared: ' if cleared else ''}{alert.title}"
    rows = alert_rows(alert)
    intro = (
        "The condition behind this alert has cleared."
        if cleared
        else f"{alert.rule.name} raised this alert."
    )
    text = "\n".join(
        [alert.title, "", intro, "", *(f"{label}: {value}" for label, value in rows), ""]
    )
    html = format_html(
        "<h2>{}</h2><p>{}</p><table>{}</table>",
        alert.title,
        intro,
        format_html_join("", "<tr><th align='left'>{}</th><td>{}</td></tr>", rows),
    )
    payload = {
        "event": f"alert.{event}",
        "delivery": delivery_id,
        "alert": alert_payload(alert),
    }
    return Message(subject=subject, text=text, html=html, payload=payload)


def digest_message(
    alerts: list[Alert], *, day: datetime, delivery_ids: list[int] | None = None
) -> Message:
    count = len(alerts)
    subject = f"[WatchPrice] {count} alert{'s' if count != 1 else ''} on {day:%Y-%m-%d}"
    lines = [
        f"- {alert.title} ({status_of(alert)}, {alert.triggered_at:%H:%M} UTC)" for alert in alerts
    ]
    text = "\n".join([subject.removeprefix("[WatchPrice] "), "", *lines, ""])
    html = format_html(
        "<h2>{}</h2><ul>{}</ul>",
        subject.removeprefix("[WatchPrice] "),
        format_html_join(
            "",
            "<li>{} <small>({}, {} UTC)</small></li>",
            ((a.title, status_of(a), f"{a.triggered_at:%H:%M}") for a in alerts),
        ),
    )
    payload = {
        "event": "alert.digest",
        "delivery": delivery_ids[0] if delivery_ids else None,
        "deliveries": delivery_ids or [],
        "alerts": [alert_payload(alert) for alert in alerts],
    }
    return Message(subject=subject, text=text, html=html, payload=payload)


def status_of(alert: Alert) -> str:
    if alert.resolved:
        return "resolved"
    if alert.cleared_at is not None:
        return "cleared"
    return "ongoing"


def alert_rows(alert: Alert) -> list[tuple[str, str]]:
    rows = [("Kind", alert.get_kind_display())]
    if alert.product is not None:
        rows.append(("Watch", str(alert.product)))
    if alert.retailer is not None:
        rows.append(("Retailer", str(alert.retailer)))
    for key, value in alert.data.items():
        rows.append((key.replace("_", " ").capitalize(), shown(value)))
    rows += [
        ("Triggered", f"{alert.triggered_at:%Y-%m-%d %H:%M} UTC"),
        ("Seen", f"{alert.occurrences} time{'s' if alert.occurrences != 1 else ''}"),
        ("Status", status_of(alert)),
        ("Alert", f"#{alert.pk} (GET /api/alerts/{alert.pk})"),
    ]
    return rows


def shown(value) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    return str(value)


def alert_payload(alert: Alert) -> dict:
    return {
        "id": alert.pk,
        "kind": alert.kind,
        "title": alert.title,
        "dedup_key": alert.dedup_key,
        "rule": {"id": alert.rule_id, "name": alert.rule.name},
        "data": alert.data,
        "product": alert.product_id,
        "listing": alert.listing_id,
        "retailer": alert.retailer.slug if alert.retailer is not None else None,
        "map_violation": alert.map_violation_id,
        "recommendation": alert.recommendation_id,
        "triggered_at": alert.triggered_at,
        "last_seen_at": alert.last_seen_at,
        "cleared_at": alert.cleared_at,
        "occurrences": alert.occurrences,
        "resolved": alert.resolved,
    }
