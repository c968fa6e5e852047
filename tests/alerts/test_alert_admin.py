"""The alerts back office: rules with their units explained and checked, read-only alerts with
a resolve action, and failed deliveries retried on request."""

from decimal import Decimal

import pytest
from django.urls import reverse

from alerts.models import Alert, AlertRule, Delivery, NotificationChannel
from tests.factories import ListingFactory, RetailerFactory

pytestmark = pytest.mark.django_db

Kind = AlertRule.Kind


def failed_delivery() -> Delivery:
    listing = ListingFactory()
    rule = AlertRule.objects.create(name="Stock", kind=Kind.OUT_OF_STOCK)
    alert = Alert.objects.create(
        rule=rule,
        kind=rule.kind,
        dedup_key=f"{rule.pk}:out_of_stock:listing:{listing.pk}",
        title="Out of stock",
        listing=listing,
        product=listing.product,
    )
    channel = NotificationChannel.objects.create(
        name="chat", kind=NotificationChannel.Kind.APPRISE, target="slack://${SLACK}/#pricing"
    )
    return Delivery.objects.create(
        alert=alert,
        channel=channel,
        status=Delivery.Status.FAILED,
        attempts=5,
        last_error="Environment variable SLACK is not set",
    )


def rule_form(**fields) -> dict:
    return {
        "name": "A rule",
        "kind": Kind.PRICE_CHANGE,
        "active": "on",
        "category": "",
        "threshold": "",
        "hysteresis": "0.02",
        "cooldown": "01:00:00",
        **fields,
    }


def test_the_rule_form_explains_each_kinds_threshold(admin_client):
    response = admin_client.get(reverse("admin:alerts_alertrule_add"))

    page = response.content.decode()
    assert response.status_code == 200
    assert "probes in a row that failed" in page
    assert "hours a proposed recommendation has waited" in page
    # filter_horizontal: the two-box chooser.
    assert 'class="selectfilter" data-field-name="channels"' in page


def test_a_rule_is_saved_with_its_channels(admin_client):
    channel = NotificationChannel.objects.create(
        name="pricing", kind=NotificationChannel.Kind.EMAIL, target="pricing@example.com"
    )

    response = admin_client.post(
        reverse("admin:alerts_alertrule_add"),
        rule_form(threshold="0.10", channels=[channel.pk]),
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    rule = AlertRule.objects.get()
    assert rule.threshold == Decimal("0.10")
    assert list(rule.channels.all()) == [channel]


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"threshold": "10"}, "Write percentages as fractions"),
        ({"kind": Kind.PROBE_FAILURES, "threshold": "2.5"}, "A whole number of probes"),
        ({"threshold": "0.05", "hysteresis": "0.05"}, "Keep it below the threshold"),
        ({"kind": Kind.OUT_OF_STOCK, "notify_on_close": "on"}, "Only MAP violations"),
    ],
)
def test_the_rule_form_refuses_thresholds_in_the_wrong_unit(admin_client, fields, error):
    response = admin_client.post(reverse("admin:alerts_alertrule_add"), rule_form(**fields))

    assert response.status_code == 200
    assert error in response.content.decode()
    assert not AlertRule.objects.exists()


def test_a_product_wide_kind_cannot_be_scoped_to_a_retailer(admin_client):
    retailer = RetailerFactory()

    response = admin_client.post(
        reverse("admin:alerts_alertrule_add"), rule_form(retailer=retailer.pk)
    )

    assert "about a product as a whole" in response.content.decode()


def test_alerts_are_resolved_from_the_list_by_whoever_does_it(admin_client, admin_user):
    alert = failed_delivery().alert

    response = admin_client.post(
        reverse("admin:alerts_alert_changelist"),
        {"action": "resolve", "_selected_action": [alert.pk]},
    )

    assert response.status_code == 302
    alert.refresh_from_db()
    assert (alert.resolved, alert.resolved_by) == (True, admin_user)
    assert admin_client.get(reverse("admin:alerts_alert_add")).status_code == 403


def test_the_alert_page_shows_its_deliveries_read_only(admin_client):
    delivery = failed_delivery()

    response = admin_client.get(reverse("admin:alerts_alert_change", args=[delivery.alert_id]))

    assert response.status_code == 200
    assert "Environment variable SLACK is not set" in response.content.decode()


def test_retry_now_sends_a_failed_delivery_again_with_fresh_attempts(
    admin_client, django_capture_on_commit_callbacks
):
    delivery = failed_delivery()

    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = admin_client.post(
            reverse("admin:alerts_delivery_changelist"),
            {"action": "retry_now", "_selected_action": [delivery.pk]},
        )

    assert response.status_code == 302
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Delivery.Status.PENDING, 0)
    assert delivery.last_error == "Environment variable SLACK is not set"
    assert len(queued) == 1


def test_the_delivery_and_rule_state_lists_render(admin_client):
    failed_delivery()

    for name in ("delivery", "rulestate", "notificationchannel", "alertrule", "alert"):
        assert admin_client.get(reverse(f"admin:alerts_{name}_changelist")).status_code == 200
