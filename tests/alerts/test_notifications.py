"""Sending alerts for real: Django's test mailbox, a webhook server on loopback that checks the
signature as the receivers' documentation says, and Apprise posting to a loopback server."""

import hashlib
import hmac
import time
from decimal import Decimal

import pytest

from alerts.models import Alert, AlertRule, Delivery, NotificationChannel
from alerts.notifications import (
    PermanentFailure,
    target_expand,
    webhook_secret,
    webhook_signature,
    webhook_signature_valid,
)
from alerts.services import alerts_evaluate_probe, delivery_attempt
from scraping.services import price_point_record
from tests.factories import BrandFactory, ListingFactory, ProductFactory, RetailerFactory

pytestmark = pytest.mark.django_db

SECRET = "whsec-test-4f8a2c"


@pytest.fixture(autouse=True)
def webhook_secret_setting(settings):
    settings.ALERT_WEBHOOK_SECRET = SECRET


def channel(kind: str, target: str, name: str | None = None) -> NotificationChannel:
    return NotificationChannel.objects.create(name=name or kind, kind=kind, target=target)


def raise_drop_alert(*channels: NotificationChannel) -> Alert:
    """A competitor drop alert, raised the way probes raise it (an integration's price points)."""
    product = ProductFactory(
        brand=BrandFactory(name="Rolex", slug="rolex"), reference="126610LN", currency="USD"
    )
    listing = ListingFactory(
        product=product, retailer=RetailerFactory(name="Chrono Plaza", slug="chrono-plaza")
    )
    rule = AlertRule.objects.create(name="Competitor cuts", kind=AlertRule.Kind.COMPETITOR_DROP)
    rule.channels.set(channels)
    for price in ("10900.00", "10200.00"):
        probe = price_point_record(listing=listing, price=Decimal(price), currency="USD")
        alerts_evaluate_probe(probe_id=probe.pk)
    return Alert.objects.get(rule=rule)


def delivery_via(alert: Alert, target: NotificationChannel) -> Delivery:
    return alert.deliveries.get(channel=target)


# --- Email -----------------------------------------------------------------------------------


def test_an_alert_email_has_a_plain_text_body_and_an_html_one(mailoutbox):
    email = channel(NotificationChannel.Kind.EMAIL, "pricing@example.com, ops@example.com")
    alert = raise_drop_alert(email)
    delivery = delivery_via(alert, email)

    delivery_attempt(delivery_id=delivery.pk)

    [message] = mailoutbox
    assert message.subject == (
        "[WatchPrice] Chrono Plaza cut Rolex 126610LN by 6.4% to USD 10,200.00 (from USD 10,900.00)"
    )
    assert message.to == ["pricing@example.com", "ops@example.com"]
    assert "Competitor cuts raised this alert." in message.body
    assert "Change percent: -6.4" in message.body
    assert "Retailer: Chrono Plaza" in message.body
    assert f"GET /api/alerts/{alert.pk}" in message.body
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    assert "<h2>Chrono Plaza cut Rolex 126610LN by 6.4%" in html
    assert "<th align='left'>Reference</th><td>10900.00</td>" in html
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Delivery.Status.SENT, 1)
    assert delivery.sent_at is not None


def test_an_email_address_can_come_from_the_environment_and_is_not_stored(mailoutbox, monkeypatch):
    monkeypatch.setenv("WATCHPRICE_ONCALL_EMAIL", "oncall@example.com")
    email = channel(NotificationChannel.Kind.EMAIL, "${WATCHPRICE_ONCALL_EMAIL}")
    alert = raise_drop_alert(email)

    delivery_attempt(delivery_id=delivery_via(alert, email).pk)

    assert mailoutbox[0].to == ["oncall@example.com"]
    email.refresh_from_db()
    assert email.target == "${WATCHPRICE_ONCALL_EMAIL}"


def test_an_alert_with_a_broken_address_fails_at_once_saying_why(mailoutbox):
    email = channel(NotificationChannel.Kind.EMAIL, "not-an-address")
    alert = raise_drop_alert(email)
    delivery = delivery_via(alert, email)

    delivery_attempt(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED
    assert delivery.last_error == "'not-an-address' is not an email address."
    assert mailoutbox == []


# --- Signed webhooks -------------------------------------------------------------------------


def signature_checked_as_documented(secret: str):
    """What a receiver does, written from the documentation rather than from our code."""

    def answer(request) -> int:
        timestamp = request.headers["X-WatchPrice-Timestamp"]
        expected = (
            "sha256="
            + hmac.new(
                secret.encode(), timestamp.encode() + b"." + request.body, hashlib.sha256
            ).hexdigest()
        )
        fresh = abs(time.time() - int(timestamp)) <= 300
        valid = hmac.compare_digest(expected, request.headers["X-WatchPrice-Signature"])
        return 204 if valid and fresh else 401

    return answer


def test_a_webhook_is_received_with_a_valid_signature_and_the_alert_as_json(receiver):
    receiver.answer = signature_checked_as_documented(SECRET)
    hook = channel(NotificationChannel.Kind.WEBHOOK, receiver.url())
    alert = raise_drop_alert(hook)
    delivery = delivery_via(alert, hook)

    delivery_attempt(delivery_id=delivery.pk)

    [request] = receiver.requests
    assert request.path == "/hooks/alerts"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["X-WatchPrice-Event"] == "alert.raised"
    assert request.headers["X-WatchPrice-Delivery"] == str(delivery.pk)
    payload = request.json()
    assert payload["event"] == "alert.raised"
    assert payload["delivery"] == delivery.pk
    assert payload["alert"]["id"] == alert.pk
    assert payload["alert"]["kind"] == "competitor_drop"
    assert payload["alert"]["retailer"] == "chrono-plaza"
    assert payload["alert"]["data"]["price"] == "10200.00"
    assert payload["alert"]["rule"] == {"id": alert.rule_id, "name": "Competitor cuts"}
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT


def test_a_receiver_holding_another_secret_refuses_it_and_the_delivery_is_retried(receiver):
    receiver.answer = signature_checked_as_documented("someone-else's-secret")
    hook = channel(NotificationChannel.Kind.WEBHOOK, receiver.url())
    delivery = delivery_via(raise_drop_alert(hook), hook)

    delivery_attempt(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.RETRYING
    assert delivery.last_error == f"The webhook at {receiver.authority} answered HTTP 401."


def test_a_webhook_to_a_host_not_allowed_is_refused_before_any_connection(receiver, settings):
    settings.FETCH_ALLOWED_HOSTS = []
    hook = channel(NotificationChannel.Kind.WEBHOOK, receiver.url())
    delivery = delivery_via(raise_drop_alert(hook), hook)

    delivery_attempt(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED
    assert delivery.last_error == (
        f"Refused to send there: port {receiver.server.server_address[1]} is not allowed "
        "for 127.0.0.1"
    )
    assert receiver.requests == []


def test_a_webhook_to_a_loopback_address_is_refused(settings):
    hook = channel(NotificationChannel.Kind.WEBHOOK, "http://127.0.0.1/hooks/alerts")
    delivery = delivery_via(raise_drop_alert(hook), hook)

    delivery_attempt(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED
    assert "not a public address: loopback" in delivery.last_error


def test_a_webhook_url_may_carry_a_token_from_the_environment(receiver, monkeypatch):
    monkeypatch.setenv("HOOK_TOKEN", "t0k3n-abc")
    hook = channel(NotificationChannel.Kind.WEBHOOK, receiver.url("/hooks/${HOOK_TOKEN}"))

    delivery_attempt(delivery_id=delivery_via(raise_drop_alert(hook), hook).pk)

    assert receiver.requests[0].path == "/hooks/t0k3n-abc"


def test_the_signature_covers_the_timestamp_and_the_body():
    secret, body = b"s3cret", b'{"event":"alert.raised"}'
    now = 1_800_000_000
    signature = webhook_signature(secret, str(now), body)

    def valid(**changes) -> bool:
        arguments = {
            "secret": secret,
            "timestamp": str(now),
            "body": body,
            "signature": signature,
            "now": now + 10,
        } | changes
        return webhook_signature_valid(**arguments)

    assert signature == (
        "sha256=" + hmac.new(secret, f"{now}.".encode() + body, hashlib.sha256).hexdigest()
    )
    assert valid()
    assert not valid(body=body + b" ")
    assert not valid(secret=b"other")
    assert not valid(timestamp=str(now + 1))
    assert not valid(now=now + 301)
    assert not valid(timestamp="yesterday")


def test_without_a_configured_secret_debug_derives_one_from_the_secret_key(settings):
    settings.ALERT_WEBHOOK_SECRET = ""

    derived = webhook_secret()

    assert (
        derived
        == hashlib.sha256(b"watchprice-alert-webhook\n" + settings.SECRET_KEY.encode())
        .hexdigest()
        .encode()
    )
    assert settings.SECRET_KEY.encode() not in derived


# --- Apprise ---------------------------------------------------------------------------------


def test_an_apprise_url_delivers_through_apprise_to_a_loopback_server(receiver):
    chat = channel(NotificationChannel.Kind.APPRISE, f"json://{receiver.authority}/apprise", "chat")
    alert = raise_drop_alert(chat)
    delivery = delivery_via(alert, chat)

    delivery_attempt(delivery_id=delivery.pk)

    [request] = receiver.requests
    assert request.path == "/apprise"
    assert request.headers["User-Agent"] == "Apprise"
    assert request.json()["title"] == f"[WatchPrice] {alert.title}"
    assert "Competitor cuts raised this alert." in request.json()["message"]
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT


def test_an_apprise_secret_missing_from_the_environment_fails_the_delivery_saying_which(
    monkeypatch,
):
    monkeypatch.delenv("SLACK_WEBHOOK_TOKENS", raising=False)
    slack = channel(NotificationChannel.Kind.APPRISE, "slack://${SLACK_WEBHOOK_TOKENS}/#pricing")
    delivery = delivery_via(raise_drop_alert(slack), slack)

    delivery_attempt(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED
    assert delivery.attempts == 1
    assert "Environment variable SLACK_WEBHOOK_TOKENS is not set" in delivery.last_error


def test_an_apprise_url_it_does_not_understand_fails_at_once():
    odd = channel(NotificationChannel.Kind.APPRISE, "nosuchservice://somewhere")
    delivery = delivery_via(raise_drop_alert(odd), odd)

    delivery_attempt(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED
    assert delivery.last_error == "Apprise does not understand this nosuchservice:// URL."


def test_an_apprise_url_posting_to_a_private_address_is_refused(settings):
    settings.FETCH_ALLOWED_HOSTS = []
    internal = channel(NotificationChannel.Kind.APPRISE, "json://10.1.2.3/hook")
    delivery = delivery_via(raise_drop_alert(internal), internal)

    delivery_attempt(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED
    assert "private" in delivery.last_error


def test_secrets_filled_in_from_the_environment_are_taken_back_out_of_errors():
    target = target_expand(
        "json://user:${HOOK_PASSWORD}@hooks.example.com/", environ={"HOOK_PASSWORD": "hunter2"}
    )

    assert target.value == "json://user:hunter2@hooks.example.com/"
    assert target.redact("401 for json://user:hunter2@hooks") == (
        "401 for json://user:${HOOK_PASSWORD}@hooks"
    )
    with pytest.raises(PermanentFailure, match="HOOK_PASSWORD"):
        target_expand("json://user:${HOOK_PASSWORD}@hooks.example.com/", environ={})
