"""Filtering and resolving alerts on the dashboard in a real Chromium.

The alerts are created with the ORM: raising them is the evaluation engine's job, tested there.
"""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from alerts.models import Alert, AlertRule, Delivery, NotificationChannel
from tests.alerts.test_dashboard import map_alert, raise_alert
from tests.browser.conftest import log_in
from tests.conftest import grant
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Where a person looks at the page after a run.
SCREENSHOT = "/tmp/alerts_dashboard.png"  # noqa: S108

Kind = AlertRule.Kind


def some_alerts() -> dict[str, Alert]:
    alerts = {
        "map": map_alert("Jewel Discount advertises Omega 310.30.42.50.01.002 below MAP"),
        "drop": raise_alert(Kind.COMPETITOR_DROP, "Watch Hub dropped the Seamaster 12%"),
        "stock": raise_alert(Kind.OUT_OF_STOCK, "Out of stock at Chrono Plaza", hours_ago=48),
        "failing": raise_alert(Kind.PROBE_FAILURES, "Hour Mart failed 5 probes in a row"),
    }
    email = NotificationChannel.objects.create(
        name="Ops email", kind="email", target="ops@example.com"
    )
    webhook = NotificationChannel.objects.create(
        name="Pricing webhook", kind="webhook", target="https://hooks.example.com/pricing"
    )
    for alert in alerts.values():
        Delivery.objects.create(alert=alert, channel=email, status="sent", attempts=1)
    Delivery.objects.create(
        alert=alerts["map"], channel=webhook, status="failed", attempts=3, last_error="HTTP 502"
    )
    Alert.objects.filter(pk=alerts["map"].pk).update(occurrences=5, last_seen_at=timezone.now())
    return alerts


def drop_marker(page) -> None:
    # A full page load would take this marker with it.
    page.evaluate("document.body.insertAdjacentHTML('beforeend', '<i id=\"still-here\"></i>')")


def test_resolving_one_in_its_row_and_two_at_once_without_reloading(page):
    grant(UserFactory(username="ops", is_staff=True), "alerts.change_alert")
    alerts = some_alerts()

    log_in(page, username="ops", password="correct horse battery staple")
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto("/alerts/")
    summary = page.locator(".kind-summary")
    expect(summary.locator("[data-field=active-total]")).to_have_text("4 active")
    row = page.locator(f"#alert-{alerts['map'].pk}")
    expect(row).to_contain_text("seen 5 times")
    expect(row.locator("[data-field=deliveries]")).to_have_text(
        "email sent · webhook failed (3 tries)"
    )
    page.screenshot(path=SCREENSHOT, full_page=True)
    drop_marker(page)
    url_before = page.url

    row.get_by_role("button", name="Resolve").click()

    expect(row.locator("[data-field=status]")).to_have_text("Resolved")
    expect(row.locator("[data-field=resolved]")).to_contain_text("ops")
    expect(row.get_by_role("button", name="Resolve")).to_have_count(0)
    assert page.url == url_before
    assert page.locator("#still-here").count() == 1
    resolved = Alert.objects.select_related("resolved_by").get(pk=alerts["map"].pk)
    assert resolved.resolved
    assert resolved.resolved_by.username == "ops"

    page.get_by_label("Tick Watch Hub dropped the Seamaster 12%").check()
    page.get_by_label("Tick Out of stock at Chrono Plaza").check()
    page.locator("#bulk-resolve").get_by_role("button", name="Resolve").click()

    table = page.locator("#alert-table")
    expect(table.locator(".message-success")).to_have_text("Resolved 2 alerts.")
    expect(table.locator(".alert-row")).to_have_count(1)
    expect(table.locator(f"#alert-{alerts['failing'].pk}")).to_be_visible()
    expect(table.locator("[data-field=active-total]")).to_have_text("1 active")
    assert page.locator("#still-here").count() == 1
    bulk = Alert.objects.filter(pk__in=[alerts["drop"].pk, alerts["stock"].pk])
    assert set(bulk.values_list("resolved_by__username", flat=True)) == {"ops"}
    assert not Alert.objects.get(pk=alerts["failing"].pk).resolved


def test_filters_update_the_table_in_place_and_the_address(page):
    UserFactory(username="viewer", is_staff=True)
    alerts = some_alerts()

    log_in(page, username="viewer", password="correct horse battery staple")
    page.goto("/alerts/")
    expect(page.locator(".alert-row")).to_have_count(4)
    expect(page.get_by_role("button", name="Resolve")).to_have_count(0)
    drop_marker(page)

    page.locator("select[name=kind]").select_option("out_of_stock")

    expect(page.locator(".alert-row")).to_have_count(1)
    expect(page.locator(f"#alert-{alerts['stock'].pk}")).to_be_visible()
    page.wait_for_url("**/alerts/?*kind=out_of_stock*")

    page.locator("#alert-filters .segments").get_by_text("History").click()
    page.locator("select[name=within]").select_option("24h")

    expect(page.locator(".alert-row")).to_have_count(0)
    expect(page.locator("#alert-table .empty")).to_have_text("No alerts match.")
    page.wait_for_url("**within=24h*")
    assert "show=history" in page.url
    assert page.locator("#still-here").count() == 1
