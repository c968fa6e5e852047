"""Deliveries retried with backoff until sent or visibly failed, digests, the schedule, and the
whole chain (probe committed, evaluated, delivered) through a real Celery worker."""

import json
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from celery.contrib.testing.worker import start_worker
from django.core.management import call_command
from django.db import OperationalError
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from alerts import tasks
from alerts.models import Alert, AlertRule, Delivery, NotificationChannel
from alerts.services import (
    alerts_evaluate_probe,
    deliveries_due,
    delivery_attempt,
    digest_send,
)
from catalog.services import product_update
from pricing.models import Recommendation
from scraping.models import Probe
from scraping.services import listing_probe, price_point_record
from tests.alerts.conftest import demo_listing
from tests.factories import ListingFactory, ProductFactory
from watchprice.celery import app

pytestmark = pytest.mark.django_db

Kind = AlertRule.Kind


def channel(kind: str, target: str, name: str) -> NotificationChannel:
    return NotificationChannel.objects.create(name=name, kind=kind, target=target)


def raise_drop_alert(*channels, digest: bool = False, listing=None) -> Alert:
    listing = listing or ListingFactory()
    rule, _ = AlertRule.objects.get_or_create(
        name="Competitor cuts", kind=Kind.COMPETITOR_DROP, defaults={"digest": digest}
    )
    rule.channels.set(channels)
    for price in ("10000.00", "9000.00"):
        probe = price_point_record(listing=listing, price=Decimal(price), currency="USD")
        alerts_evaluate_probe(probe_id=probe.pk)
    return Alert.objects.get(listing=listing)


def failing(request) -> int:
    return 500


# --- Retries ---------------------------------------------------------------------------------


def test_a_failing_channel_is_retried_with_backoff_while_the_others_deliver(
    receiver, second_receiver, mailoutbox, settings
):
    settings.ALERT_DELIVERY_MAX_ATTEMPTS = 4
    second_receiver.answer = failing
    hook = channel(NotificationChannel.Kind.WEBHOOK, receiver.url(), "ops webhook")
    chat = channel(
        NotificationChannel.Kind.APPRISE, f"json://{second_receiver.authority}/chat", "chat"
    )
    email = channel(NotificationChannel.Kind.EMAIL, "pricing@example.com", "pricing")
    alert = raise_drop_alert(hook, chat, email)

    for delivery in alert.deliveries.all():
        tasks.deliver.apply(args=[delivery.pk])

    statuses = dict(alert.deliveries.values_list("channel__name", "status"))
    assert statuses == {
        "ops webhook": Delivery.Status.SENT,
        "pricing": Delivery.Status.SENT,
        "chat": Delivery.Status.RETRYING,
    }
    assert len(receiver.requests) == 1
    assert len(mailoutbox) == 1

    broken = alert.deliveries.get(channel=chat)
    waits = []
    while broken.status == Delivery.Status.RETRYING:
        due_at = broken.next_attempt_at
        assert (
            delivery_attempt(delivery_id=broken.pk, now=due_at - timedelta(seconds=1)).status
            is None
        )
        previous_attempts = broken.attempts
        delivery_attempt(delivery_id=broken.pk, now=due_at)
        broken.refresh_from_db()
        assert broken.attempts == previous_attempts + 1
        if broken.next_attempt_at:
            waits.append(round((broken.next_attempt_at - due_at).total_seconds()))

    # One minute, five, thirty: then the fourth attempt fails for good, in plain sight.
    assert waits == [300, 1800]
    assert broken.status == Delivery.Status.FAILED
    assert broken.attempts == 4
    assert "Internal server error" in broken.last_error
    assert broken.next_attempt_at is None
    assert len(second_receiver.requests) == 4
    assert len(receiver.requests) == 1
    assert len(mailoutbox) == 1


def test_the_first_retry_waits_a_minute(unused_loopback_port, settings):
    settings.FETCH_ALLOWED_HOSTS = [f"127.0.0.1:{unused_loopback_port}"]
    nowhere = channel(
        NotificationChannel.Kind.WEBHOOK, f"http://127.0.0.1:{unused_loopback_port}/", "gone"
    )
    delivery = raise_drop_alert(nowhere).deliveries.get()
    now = timezone.now()

    attempt = delivery_attempt(delivery_id=delivery.pk, now=now)

    assert attempt.retry_in == 60
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.RETRYING
    assert delivery.next_attempt_at == now + timedelta(seconds=60)
    assert delivery.last_error.startswith("ConnectError:")


def test_a_channel_nobody_answers_ends_failed_after_the_last_attempt(
    unused_loopback_port, settings
):
    settings.ALERT_DELIVERY_MAX_ATTEMPTS = 3
    settings.FETCH_ALLOWED_HOSTS = [f"127.0.0.1:{unused_loopback_port}"]
    nowhere = channel(
        NotificationChannel.Kind.WEBHOOK, f"http://127.0.0.1:{unused_loopback_port}/", "gone"
    )
    alert = raise_drop_alert(nowhere)
    delivery = alert.deliveries.get()
    moment = timezone.now()

    for _ in range(5):
        delivery_attempt(delivery_id=delivery.pk, now=moment)
        moment += timedelta(hours=3)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Delivery.Status.FAILED, 3)
    assert "Connection refused" in delivery.last_error
    # The alert itself is untouched by its deliveries' fate.
    alert.refresh_from_db()
    assert alert.is_active


def test_a_sent_delivery_is_never_sent_again(receiver):
    hook = channel(NotificationChannel.Kind.WEBHOOK, receiver.url(), "ops webhook")
    delivery = raise_drop_alert(hook).deliveries.get()

    for _ in range(3):
        tasks.deliver.apply(args=[delivery.pk])
    delivery_attempt(delivery_id=delivery.pk, now=timezone.now() + timedelta(days=1))

    assert len(receiver.requests) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Delivery.Status.SENT, 1)


def test_the_sweep_finds_due_retries_and_deliveries_whose_task_was_lost(receiver):
    hook = channel(NotificationChannel.Kind.WEBHOOK, receiver.url(), "ops webhook")
    lost = raise_drop_alert(hook).deliveries.get()
    retrying = raise_drop_alert(hook, listing=ListingFactory()).deliveries.get()
    now = timezone.now()
    Delivery.objects.filter(pk=retrying.pk).update(
        status=Delivery.Status.RETRYING, attempts=1, next_attempt_at=now + timedelta(minutes=1)
    )

    assert deliveries_due(now=now) == []
    assert deliveries_due(now=now + timedelta(minutes=3)) == [lost.pk, retrying.pk]


# --- Digests ---------------------------------------------------------------------------------


def test_the_daily_digest_bundles_the_alerts_into_one_message_per_channel(mailoutbox):
    email = channel(NotificationChannel.Kind.EMAIL, "pricing@example.com", "pricing")
    first = raise_drop_alert(email, digest=True)
    second = raise_drop_alert(email, digest=True, listing=ListingFactory())
    assert mailoutbox == []

    tasks.send_digests.apply()

    [message] = mailoutbox
    assert message.subject == f"[WatchPrice] 2 alerts on {timezone.now():%Y-%m-%d}"
    assert first.title in message.body
    assert second.title in message.body
    assert "<li>" in message.alternatives[0][0]
    assert set(Delivery.objects.values_list("status", flat=True)) == {Delivery.Status.SENT}

    tasks.send_digests.apply()
    assert len(mailoutbox) == 1


def test_a_digest_webhook_carries_every_alert(receiver):
    hook = channel(NotificationChannel.Kind.WEBHOOK, receiver.url(), "ops webhook")
    first = raise_drop_alert(hook, digest=True)
    second = raise_drop_alert(hook, digest=True, listing=ListingFactory())

    digest_send(channel_id=hook.pk)

    [request] = receiver.requests
    payload = request.json()
    assert request.headers["X-WatchPrice-Event"] == "alert.digest"
    assert [alert["id"] for alert in payload["alerts"]] == [first.pk, second.pk]


def test_a_failing_digest_is_retried_then_failed_and_never_lost(receiver, settings):
    settings.ALERT_DELIVERY_MAX_ATTEMPTS = 2
    receiver.answer = failing
    hook = channel(NotificationChannel.Kind.WEBHOOK, receiver.url(), "ops webhook")
    raise_drop_alert(hook, digest=True)
    now = timezone.now()

    attempt = digest_send(channel_id=hook.pk, now=now)

    assert attempt.retry_in == 60
    [delivery] = Delivery.objects.all()
    assert delivery.status == Delivery.Status.DIGESTED
    assert delivery.last_error.endswith("answered HTTP 500.")

    assert digest_send(channel_id=hook.pk, now=now + timedelta(seconds=30)).status is None
    digest_send(channel_id=hook.pk, now=now + timedelta(seconds=61))

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Delivery.Status.FAILED, 2)
    assert len(receiver.requests) == 2


# --- Time-based evaluation and the schedule --------------------------------------------------


def test_the_time_based_task_raises_an_alert_for_a_recommendation_left_waiting():
    product = ProductFactory()
    AlertRule.objects.create(
        name="Waiting", kind=Kind.RECOMMENDATION_WAITING, threshold=Decimal(24)
    )
    recommendation = Recommendation.objects.create(
        product=product,
        current_price=product.list_price,
        recommended_price=product.list_price - 100,
        currency="USD",
    )
    Recommendation.objects.filter(pk=recommendation.pk).update(
        created_at=timezone.now() - timedelta(hours=30)
    )

    tasks.evaluate_time_based.apply()
    tasks.evaluate_time_based.apply()

    [alert] = Alert.objects.all()
    assert alert.recommendation == recommendation


def test_the_beat_schedule_holds_the_alert_tasks():
    call_command("setup_periodic_tasks", stdout=open("/dev/null", "w"))  # noqa: SIM115

    scheduled = {
        task.task: str(task.crontab.minute) + " " + str(task.crontab.hour)
        for task in PeriodicTask.objects.filter(task__startswith="alerts.")
    }
    assert scheduled == {
        "alerts.tasks.evaluate_time_based": "*/15 *",
        "alerts.tasks.deliver_due": "*/5 *",
        "alerts.tasks.send_digests": "0 7",
    }


# --- Through a real worker -------------------------------------------------------------------


@pytest.fixture
def worker():
    """A worker thread on the configured broker (see tests/scraping/test_probe_tasks.py)."""
    app.control.purge()
    with start_worker(app, perform_ping_check=False, loglevel="WARNING", shutdown_timeout=30):
        yield app


def wait_for(condition, seconds: float = 30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except OperationalError:
            # SQLite's shared in-memory test database locks a table while the worker writes.
            pass
        time.sleep(0.2)
    raise AssertionError("the worker did not finish in time")


@pytest.mark.django_db(transaction=True)
def test_a_committed_probe_is_evaluated_and_delivered_by_the_worker_and_a_broken_channel_fails(
    marketplace, transport, receiver, second_receiver, settings, worker
):
    settings.ALERT_DELIVERY_MAX_ATTEMPTS = 2
    settings.ALERT_DELIVERY_RETRY_DELAYS = (1,)
    second_receiver.answer = failing
    # Hallmark's page for this Submariner now shows another watch: every probe mismatches.
    listing = demo_listing(marketplace, "hallmark-jewelers", "124060")
    rule = AlertRule.objects.create(
        name="Unreadable listings", kind=Kind.PROBE_FAILURES, threshold=Decimal(1)
    )
    hook = channel(NotificationChannel.Kind.WEBHOOK, receiver.url(), "ops webhook")
    chat = channel(
        NotificationChannel.Kind.APPRISE, f"json://{second_receiver.authority}/chat", "chat"
    )
    rule.channels.set([hook, chat])

    probe = listing_probe(listing_id=listing.pk, transport=transport)

    assert probe.status == Probe.Status.IDENTITY_MISMATCH
    wait_for(lambda: receiver.requests)
    wait_for(lambda: Delivery.objects.filter(channel=chat, status="failed").exists())
    alert = Alert.objects.get(rule=rule)
    assert alert.probe_id == probe.pk
    assert json.loads(receiver.requests[0].body)["alert"]["id"] == alert.pk
    sent = Delivery.objects.get(channel=hook)
    assert (sent.status, sent.attempts) == (Delivery.Status.SENT, 1)
    broken = Delivery.objects.get(channel=chat)
    assert broken.attempts == 2
    assert len(second_receiver.requests) == 2


@pytest.mark.django_db(transaction=True)
def test_a_change_of_our_list_price_is_evaluated_by_the_worker_after_commit(worker):
    product = ProductFactory(list_price=Decimal("10000.00"))
    rule = AlertRule.objects.create(name="Our price", kind=Kind.PRICE_CHANGE)

    product_update(product=product, data={"list_price": Decimal("8500.00")}, source="admin")

    wait_for(lambda: Alert.objects.filter(rule=rule).exists())
    alert = Alert.objects.get(rule=rule)
    assert alert.data["reference"] == "10000.00"
    assert alert.data["change_percent"] == "-15.0"
