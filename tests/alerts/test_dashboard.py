"""The alerts dashboard, through Django's test client.

Alerts are created with the ORM: raising them is the evaluation engine's job and tested there;
this page only reads them and resolves them through `alerts_resolve`.
"""

import hashlib
import zlib
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from alerts.models import Alert, AlertRule, Delivery, NotificationChannel
from catalog.models import Retailer
from pricing.models import MapViolation, Recommendation
from scraping.models import Probe, ProbePage
from tests.conftest import grant
from tests.factories import (
    BrandFactory,
    ListingFactory,
    ProductFactory,
    RetailerFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

Kind = AlertRule.Kind


# --- Fixtures and helpers --------------------------------------------------------------------


@pytest.fixture
def viewer(db):
    return UserFactory(username="viewer")


@pytest.fixture
def resolver(db):
    return grant(UserFactory(username="mia"), "alerts.change_alert")


def raise_alert(kind: str, title: str, *, hours_ago: float = 1, **fields) -> Alert:
    """An alert as the engine would leave it, triggered `hours_ago`."""
    rule, _ = AlertRule.objects.get_or_create(name=f"Every {kind}", kind=kind)
    alert = Alert.objects.create(
        rule=rule, kind=kind, dedup_key=f"{rule.pk}:{kind}:{title}", title=title, **fields
    )
    moment = timezone.now() - timedelta(hours=hours_ago)
    Alert.objects.filter(pk=alert.pk).update(triggered_at=moment, last_seen_at=moment)
    alert.refresh_from_db()
    return alert


def vendor_below_map(*, brand: str = "Omega", reference: str = "310.30.42.50.01.002", vendor=None):
    """A vendor listing probed below MAP, the page kept, and the episode it opened."""
    product = ProductFactory(
        brand=BrandFactory(name=brand, slug=brand.lower()),
        reference=reference,
        name=f"Speedmaster {reference}",
    )
    retailer = vendor or RetailerFactory(
        name="Jewel Discount", retailer_type=Retailer.RetailerType.VENDOR
    )
    listing = ListingFactory(product=product, retailer=retailer)
    probe = Probe.objects.create(
        listing=listing, url=listing.url, status="success", price=Decimal("7500.00"), currency="USD"
    )
    body = b"<html><body>7,500.00</body></html>"
    ProbePage.objects.create(
        probe=probe,
        body=zlib.compress(body),
        size=len(body),
        sha256=hashlib.sha256(body).hexdigest(),
    )
    violation = MapViolation.objects.create(
        listing=listing,
        map_price=Decimal("8000.00"),
        currency="USD",
        opened_at=timezone.now(),
        lowest_price=Decimal("7500.00"),
        last_price=Decimal("7500.00"),
        opening_probe=probe,
    )
    return product, listing, probe, violation


def map_alert(title: str = "Jewel Discount advertises Omega 310.30.42.50.01.002 below MAP", **kw):
    product, listing, probe, violation = vendor_below_map(**kw)
    return raise_alert(
        Kind.MAP_VIOLATION,
        title,
        product=product,
        listing=listing,
        retailer=listing.retailer,
        probe=probe,
        map_violation=violation,
    )


def deliver(alert: Alert, channel: NotificationChannel, status: str, attempts: int = 1, **extra):
    return Delivery.objects.create(
        alert=alert, channel=channel, status=status, attempts=attempts, **extra
    )


def channel(name: str, kind: str) -> NotificationChannel:
    return NotificationChannel.objects.get_or_create(
        name=name, defaults={"kind": kind, "target": "ops@example.com"}
    )[0]


def row_html(page: str, alert: Alert) -> str:
    start = page.index(f'<tr id="alert-{alert.pk}"')
    return page[start : page.index("</tr>", start)]


def htmx(**extra):
    return {"HTTP_HX_REQUEST": "true", **extra}


def resolved(*alerts: Alert) -> list[bool]:
    return [Alert.objects.get(pk=alert.pk).resolved for alert in alerts]


URL = "/alerts/"


# --- Logging in and permissions --------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "name", "needs_id"),
    [
        ("get", "alerts:dashboard", False),
        ("post", "alerts:resolve", True),
        ("post", "alerts:resolve-many", False),
    ],
)
def test_every_page_sends_anonymous_visitors_to_log_in(client, method, name, needs_id):
    alert = raise_alert(Kind.OUT_OF_STOCK, "Out of stock at Watch Hub")
    url = reverse(name, args=[alert.pk] if needs_id else [])

    response = getattr(client, method)(url, {"ids": [alert.pk]})

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")
    assert resolved(alert) == [False]


def test_the_dashboard_lives_at_alerts(client, viewer):
    client.force_login(viewer)

    response = client.get(URL)

    assert reverse("alerts:dashboard") == URL
    assert response.status_code == 200
    assert '<a href="/alerts/" aria-current="page">Alerts</a>' in response.content.decode()


@pytest.mark.parametrize(
    ("name", "needs_id"), [("alerts:resolve", True), ("alerts:resolve-many", False)]
)
def test_resolving_without_permission_is_forbidden_and_changes_nothing(
    client, viewer, name, needs_id
):
    alert = raise_alert(Kind.OUT_OF_STOCK, "Out of stock at Watch Hub")
    client.force_login(viewer)

    response = client.post(reverse(name, args=[alert.pk] if needs_id else []), {"ids": [alert.pk]})

    assert response.status_code == 403
    alert.refresh_from_db()
    assert not alert.resolved
    assert alert.resolved_by is None
    assert alert.resolved_at is None


def test_viewers_see_no_resolve_buttons_or_ticks(client, viewer, resolver):
    alert = raise_alert(Kind.OUT_OF_STOCK, "Out of stock at Watch Hub")

    client.force_login(viewer)
    as_viewer = client.get(URL).content.decode()
    client.force_login(resolver)
    as_resolver = client.get(URL).content.decode()

    assert "Out of stock at Watch Hub" in as_viewer
    assert reverse("alerts:resolve", args=[alert.pk]) not in as_viewer
    assert 'name="ids"' not in as_viewer
    assert 'id="bulk-resolve"' not in as_viewer
    assert reverse("alerts:resolve", args=[alert.pk]) in as_resolver
    assert 'name="ids"' in as_resolver
    assert 'id="bulk-resolve"' in as_resolver


@pytest.mark.parametrize(
    ("name", "needs_id"), [("alerts:resolve", True), ("alerts:resolve-many", False)]
)
def test_a_post_without_the_csrf_token_is_refused(resolver, name, needs_id):
    alert = raise_alert(Kind.OUT_OF_STOCK, "Out of stock at Watch Hub")
    client = Client(enforce_csrf_checks=True)
    client.force_login(resolver)

    response = client.post(
        reverse(name, args=[alert.pk] if needs_id else []), {"ids": [alert.pk]}, **htmx()
    )

    assert response.status_code == 403
    assert resolved(alert) == [False]


def test_a_post_with_the_pages_csrf_token_is_accepted(resolver):
    alert = raise_alert(Kind.OUT_OF_STOCK, "Out of stock at Watch Hub")
    client = Client(enforce_csrf_checks=True)
    client.force_login(resolver)
    client.get(URL)  # sets the CSRF cookie the page's forms and hx-headers carry
    token = client.cookies["csrftoken"].value

    response = client.post(
        reverse("alerts:resolve", args=[alert.pk]), {"csrfmiddlewaretoken": token}
    )

    assert response.status_code == 302
    assert resolved(alert) == [True]


def test_resolving_only_answers_post(client, resolver):
    alert = raise_alert(Kind.OUT_OF_STOCK, "Out of stock at Watch Hub")
    client.force_login(resolver)

    assert client.get(reverse("alerts:resolve", args=[alert.pk])).status_code == 405
    assert client.get(reverse("alerts:resolve-many")).status_code == 405


def test_resolving_an_alert_that_does_not_exist_is_not_found(client, resolver):
    client.force_login(resolver)

    assert client.post(reverse("alerts:resolve", args=[999_999])).status_code == 404


# --- What a row shows ------------------------------------------------------------------------


def test_a_row_links_to_everything_behind_the_alert(client, viewer):
    alert = map_alert()
    client.force_login(viewer)

    row = row_html(client.get(URL).content.decode(), alert)

    assert 'class="kind kind-map_violation">MAP violation<' in row
    assert "Jewel Discount advertises Omega 310.30.42.50.01.002 below MAP" in row
    assert f'href="{reverse("pricing:product-detail", args=[alert.product_id])}"' in row
    assert f'href="{reverse("scraping:listing-detail", args=[alert.listing_id])}"' in row
    assert "Listing at Jewel Discount" in row
    assert f'href="{reverse("scraping:probe-page", args=[alert.probe_id])}" download' in row
    assert f'href="{reverse("pricing:map-violations")}?retailer=jewel-discount"' in row
    assert "MAP violation open" in row
    assert 'class="status status-active"' in row


def test_the_probe_link_downloads_the_page_it_read(client, viewer):
    alert = map_alert()
    client.force_login(viewer)

    response = client.get(reverse("scraping:probe-page", args=[alert.probe_id]))

    assert response.status_code == 200
    assert b"7,500.00" in response.content


def test_a_probe_without_a_kept_page_is_named_but_not_linked(client, viewer):
    listing = ListingFactory()
    probe = Probe.objects.create(listing=listing, url=listing.url, status="failed")
    alert = raise_alert(Kind.PROBE_FAILURES, "Listing failing", listing=listing, probe=probe)
    client.force_login(viewer)

    row = row_html(client.get(URL).content.decode(), alert)

    assert f"Probe {probe.pk}" in row
    assert reverse("scraping:probe-page", args=[probe.pk]) not in row


def test_a_closed_violation_links_to_every_episode_at_the_retailer(client, viewer):
    alert = map_alert()
    MapViolation.objects.filter(pk=alert.map_violation_id).update(closed_at=timezone.now())
    client.force_login(viewer)

    row = row_html(client.get(URL).content.decode(), alert)

    assert (
        f'href="{reverse("pricing:map-violations")}?retailer=jewel-discount&amp;state=all"' in row
    )
    assert "MAP violation closed" in row


def test_a_waiting_recommendation_links_to_its_explanation(client, viewer):
    product = ProductFactory()
    recommendation = Recommendation.objects.create(
        product=product, recommended_price=Decimal("9150.00"), currency="USD"
    )
    alert = raise_alert(
        Kind.RECOMMENDATION_WAITING,
        "A recommendation has waited 48 hours",
        product=product,
        recommendation=recommendation,
    )
    client.force_login(viewer)

    row = row_html(client.get(URL).content.decode(), alert)

    assert f'href="{reverse("pricing:why", args=[recommendation.pk])}"' in row
    assert f'href="{reverse("pricing:product-detail", args=[product.pk])}"' in row


def test_a_row_says_how_often_it_was_seen_and_how_each_channel_went(client, viewer):
    alert = raise_alert(Kind.COMPETITOR_DROP, "Watch Hub dropped 12%")
    Alert.objects.filter(pk=alert.pk).update(occurrences=5, last_seen_at=timezone.now())
    deliver(alert, channel("Ops email", NotificationChannel.Kind.EMAIL), "sent")
    deliver(
        alert,
        channel("Pricing webhook", NotificationChannel.Kind.WEBHOOK),
        "failed",
        attempts=3,
        last_error="HTTP 502",
    )
    client.force_login(viewer)

    row = row_html(client.get(URL).content.decode(), alert)

    assert "seen 5 times" in row
    assert ">email sent</span> · <span" in row
    assert ">webhook failed (3 tries)</span>" in row
    assert 'title="Pricing webhook: HTTP 502"' in row


def test_the_all_clear_message_comes_after_the_alerts_own(client, viewer):
    alert = raise_alert(Kind.MAP_VIOLATION, "Jewel Discount back at MAP")
    Alert.objects.filter(pk=alert.pk).update(cleared_at=timezone.now())
    email = channel("Ops email", NotificationChannel.Kind.EMAIL)
    deliver(alert, email, "sent", event=Delivery.Event.CLEARED)
    deliver(alert, email, "sent", event=Delivery.Event.RAISED)
    client.force_login(viewer)

    row = row_html(client.get(URL, {"show": "history"}).content.decode(), alert)

    assert ">email sent</span> · <span" in row
    assert row.index(">email sent<") < row.index(">email all-clear sent<")


def test_a_row_without_channels_says_so(client, viewer):
    alert = raise_alert(Kind.BACK_IN_STOCK, "Back in stock at Watch Hub")
    client.force_login(viewer)

    row = row_html(client.get(URL).content.decode(), alert)

    assert "No channel" in row
    assert "seen " not in row


def test_the_rules_link_shows_to_those_who_may_see_the_rules(client, viewer):
    rule_viewer = grant(UserFactory(username="ops"), "alerts.view_alertrule")
    admin_url = reverse("admin:alerts_alertrule_changelist")

    client.force_login(viewer)
    as_viewer = client.get(URL).content.decode()
    client.force_login(rule_viewer)
    as_rule_viewer = client.get(URL).content.decode()

    assert admin_url not in as_viewer
    assert f'href="{admin_url}"' in as_rule_viewer


# --- Tabs, filters and counts ----------------------------------------------------------------


def test_active_shows_what_is_neither_resolved_nor_cleared_and_history_shows_all_newest_first(
    client, viewer, resolver
):
    old = raise_alert(Kind.OUT_OF_STOCK, "Oldest alert", hours_ago=30)
    cleared = raise_alert(Kind.OUT_OF_STOCK, "Cleared alert", hours_ago=20)
    Alert.objects.filter(pk=cleared.pk).update(cleared_at=timezone.now())
    done = raise_alert(Kind.OUT_OF_STOCK, "Resolved alert", hours_ago=10)
    Alert.objects.filter(pk=done.pk).update(
        resolved=True, resolved_at=timezone.now(), resolved_by=resolver
    )
    new = raise_alert(Kind.OUT_OF_STOCK, "Newest alert", hours_ago=1)
    client.force_login(viewer)

    active = client.get(URL).content.decode()
    history = client.get(URL, {"show": "history"}).content.decode()

    assert "Oldest alert" in active and "Newest alert" in active
    assert "Cleared alert" not in active and "Resolved alert" not in active
    positions = [history.index(f'id="alert-{alert.pk}"') for alert in (new, done, cleared, old)]
    assert positions == sorted(positions)
    assert 'class="status status-cleared"' in row_html(history, cleared)
    resolved_row = row_html(history, done)
    assert 'class="status status-resolved"' in resolved_row
    assert "mia" in resolved_row


def test_the_dashboard_filters_by_kind_brand_retailer_and_time(client, viewer):
    hub = RetailerFactory(name="Watch Hub", retailer_type=Retailer.RetailerType.MARKETPLACE)
    omega = ProductFactory(brand=BrandFactory(name="Omega", slug="omega"))
    rolex = ProductFactory(brand=BrandFactory(name="Rolex", slug="rolex"))
    raise_alert(Kind.PRICE_CHANGE, "OMEGA-PRICE", product=omega, hours_ago=2)
    raise_alert(
        Kind.OUT_OF_STOCK,
        "ROLEX-AT-HUB",
        listing=ListingFactory(product=rolex, retailer=hub),
        hours_ago=24 * 3,
    )
    raise_alert(Kind.COMPETITOR_DROP, "HUB-DROP", retailer=hub, hours_ago=24 * 20)
    raise_alert(Kind.PROBE_FAILURES, "ANCIENT", hours_ago=24 * 60)
    client.force_login(viewer)
    now = timezone.now()

    def titles(**query) -> set[str]:
        html = client.get(URL, query).content.decode()
        return {t for t in ("OMEGA-PRICE", "ROLEX-AT-HUB", "HUB-DROP", "ANCIENT") if t in html}

    assert titles() == {"OMEGA-PRICE", "ROLEX-AT-HUB", "HUB-DROP", "ANCIENT"}
    assert titles(kind="out_of_stock") == {"ROLEX-AT-HUB"}
    assert titles(brand="rolex") == {"ROLEX-AT-HUB"}
    assert titles(brand="omega") == {"OMEGA-PRICE"}
    assert titles(retailer="watch-hub") == {"ROLEX-AT-HUB", "HUB-DROP"}
    assert titles(within="24h") == {"OMEGA-PRICE"}
    assert titles(within="7d") == {"OMEGA-PRICE", "ROLEX-AT-HUB"}
    assert titles(within="30d") == {"OMEGA-PRICE", "ROLEX-AT-HUB", "HUB-DROP"}
    assert titles(since=f"{now - timedelta(days=10):%Y-%m-%d}") == {"OMEGA-PRICE", "ROLEX-AT-HUB"}
    assert titles(until=f"{now - timedelta(days=15):%Y-%m-%d}") == {"HUB-DROP", "ANCIENT"}
    assert titles(
        since=f"{now - timedelta(days=30):%Y-%m-%d}", until=f"{now - timedelta(days=15):%Y-%m-%d}"
    ) == {"HUB-DROP"}
    assert titles(retailer="watch-hub", within="7d") == {"ROLEX-AT-HUB"}


def test_filters_that_do_not_validate_are_ignored(client, viewer):
    raise_alert(Kind.OUT_OF_STOCK, "Out of stock at Watch Hub")
    client.force_login(viewer)

    response = client.get(
        URL, {"show": "everything", "kind": "meteor", "since": "yesterday", "within": "1y"}
    )

    assert response.status_code == 200
    assert "Out of stock at Watch Hub" in response.content.decode()


def test_the_filter_form_works_without_javascript_and_keeps_its_values(client, viewer):
    BrandFactory(name="Omega", slug="omega")
    client.force_login(viewer)

    page = client.get(
        URL, {"show": "history", "kind": "map_violation", "brand": "omega", "since": "2026-01-02"}
    ).content.decode()

    assert (
        f'<form id="alert-filters" class="filters alert-filters" method="get" action="{URL}"'
        in page
    )
    assert '<input type="radio" name="show" value="history" checked>' in page
    assert '<option value="map_violation" selected>' in page
    assert '<option value="omega" selected>' in page
    assert 'name="since" value="2026-01-02"' in page
    assert 'hx-push-url="true"' in page


def test_the_summary_counts_active_alerts_by_kind(client, viewer, resolver):
    for n in range(3):
        raise_alert(Kind.OUT_OF_STOCK, f"Out of stock {n}")
    raise_alert(Kind.MAP_VIOLATION, "Below MAP")
    done = raise_alert(Kind.MAP_VIOLATION, "Resolved below MAP")
    Alert.objects.filter(pk=done.pk).update(resolved=True)
    client.force_login(viewer)

    page = client.get(URL, {"kind": "map_violation"}).content.decode()

    summary = page[
        page.index('<nav class="kind-summary"') : page.index(
            "</nav>", page.index('<nav class="kind-summary"')
        )
    ]
    assert "<b>4</b> active" in summary
    assert 'data-kind="out_of_stock"' in summary
    assert ">Out of stock</span><b>3</b>" in summary
    assert ">MAP violation</span><b>1</b>" in summary
    assert "Price change" not in summary
    assert 'aria-current="true"' in summary


def test_filtering_with_htmx_answers_with_the_table_only(client, viewer):
    raise_alert(Kind.OUT_OF_STOCK, "Out of stock at Watch Hub")
    client.force_login(viewer)

    response = client.get(URL, {"kind": "out_of_stock"}, **htmx())

    html = response.content.decode()
    assert html.strip().startswith('<section id="alert-table"')
    assert "<html" not in html
    assert 'id="alert-filters"' not in html
    assert "Out of stock at Watch Hub" in html
    assert "HX-Request" in response["Vary"]


def test_the_dashboard_reads_as_many_queries_for_25_rows_as_for_5(
    client, resolver, django_assert_num_queries
):
    email = channel("Ops email", NotificationChannel.Kind.EMAIL)
    webhook = channel("Pricing webhook", NotificationChannel.Kind.WEBHOOK)

    def alerts(count: int, brand: str) -> None:
        vendor = RetailerFactory(name=f"{brand} vendor", retailer_type="vendor")
        for index in range(count):
            alert = map_alert(
                f"{brand} alert {index}", brand=brand, reference=f"{brand}-{index}", vendor=vendor
            )
            product = alert.product
            recommendation = Recommendation.objects.create(
                product=product, recommended_price=Decimal("9150.00"), currency="USD"
            )
            Alert.objects.filter(pk=alert.pk).update(
                recommendation=recommendation,
                resolved=index % 2 == 0,
                resolved_by=resolver if index % 2 == 0 else None,
                resolved_at=timezone.now(),
            )
            deliver(alert, email, "sent")
            deliver(alert, webhook, "retrying", attempts=2)

    alerts(5, "Five")
    alerts(25, "Many")
    client.force_login(resolver)
    client.get(URL, {"brand": "five", "show": "history"})  # session and permission caches warm up

    with CaptureQueriesContext(connection) as for_five:
        five = client.get(URL, {"brand": "five", "show": "history"}).content.decode()
    with django_assert_num_queries(len(for_five)):
        many = client.get(URL, {"brand": "many", "show": "history"}).content.decode()

    assert five.count('class="alert-row') == 5
    assert many.count('class="alert-row') == 25
    assert many.count("webhook retrying (2 tries)") == 25


# --- Resolving -------------------------------------------------------------------------------


def test_resolving_with_htmx_answers_with_the_row_resolved(client, resolver):
    alert = map_alert()
    client.force_login(resolver)

    response = client.post(reverse("alerts:resolve", args=[alert.pk]), {"next": URL}, **htmx())

    html = response.content.decode()
    assert response.status_code == 200
    assert html.strip().startswith(f'<tr id="alert-{alert.pk}"')
    assert "<html" not in html
    assert 'class="status status-resolved"' in html
    assert "mia" in html
    assert "Resolve</button>" not in html
    assert 'name="ids"' not in html
    alert.refresh_from_db()
    assert alert.resolved
    assert alert.resolved_by == resolver
    assert alert.resolved_at is not None


def test_resolving_without_htmx_goes_back_with_a_message(client, resolver):
    alert = raise_alert(Kind.OUT_OF_STOCK, "Out of stock at Watch Hub")
    client.force_login(resolver)
    back_to = URL + "?kind=out_of_stock"

    response = client.post(reverse("alerts:resolve", args=[alert.pk]), {"next": back_to})

    assert response.status_code == 302
    assert response["Location"] == back_to
    page = client.get(back_to).content.decode()
    assert "Resolved “Out of stock at Watch Hub”." in page
    assert f'id="alert-{alert.pk}"' not in page


def test_resolving_never_goes_back_to_another_site(client, resolver):
    alert = raise_alert(Kind.OUT_OF_STOCK, "Out of stock at Watch Hub")
    client.force_login(resolver)

    response = client.post(
        reverse("alerts:resolve", args=[alert.pk]), {"next": "https://evil.example.com/"}
    )

    assert response["Location"] == URL


def test_resolving_again_says_someone_already_did(client, resolver):
    alert = raise_alert(Kind.OUT_OF_STOCK, "Out of stock at Watch Hub")
    other = UserFactory(username="noah")
    Alert.objects.filter(pk=alert.pk).update(
        resolved=True, resolved_by=other, resolved_at=timezone.now()
    )
    client.force_login(resolver)

    response = client.post(reverse("alerts:resolve", args=[alert.pk]), **htmx())

    html = response.content.decode()
    assert "Someone had already resolved this alert." in html
    assert "noah" in html
    alert.refresh_from_db()
    assert alert.resolved_by == other


def test_bulk_resolve_resolves_the_ticked_ones_and_goes_back(client, resolver):
    first, second, third = (raise_alert(Kind.OUT_OF_STOCK, f"Alert {n}") for n in range(3))
    client.force_login(resolver)

    response = client.post(
        reverse("alerts:resolve-many"), {"ids": [first.pk, third.pk], "next": URL}, follow=True
    )

    page = response.content.decode()
    assert response.redirect_chain == [(URL, 302)]
    assert "Resolved 2 alerts." in page
    assert resolved(first, second, third) == [True, False, True]
    assert set(
        Alert.objects.filter(pk__in=[first.pk, third.pk]).values_list("resolved_by", flat=True)
    ) == {resolver.pk}
    assert f'id="alert-{second.pk}"' in page
    assert f'id="alert-{first.pk}"' not in page


def test_bulk_resolve_with_htmx_comes_back_as_the_table_with_the_message(client, resolver):
    first, second = (raise_alert(Kind.OUT_OF_STOCK, f"Alert {n}") for n in range(2))
    Alert.objects.filter(pk=second.pk).update(resolved=True)
    client.force_login(resolver)

    response = client.post(
        reverse("alerts:resolve-many"),
        {"ids": [first.pk, second.pk], "next": URL + "?show=history"},
        follow=True,
        **htmx(),
    )

    html = response.content.decode()
    assert html.strip().startswith('<section id="alert-table"')
    assert "Resolved 1 alert." in html
    assert "1 of the ticked alerts was already resolved." in html
    assert html.count('class="status status-resolved"') == 2


def test_bulk_resolving_with_nothing_ticked_says_so(client, resolver):
    alert = raise_alert(Kind.OUT_OF_STOCK, "Out of stock at Watch Hub")
    client.force_login(resolver)

    response = client.post(reverse("alerts:resolve-many"), {"next": URL}, follow=True)

    assert "Tick at least one alert first." in response.content.decode()
    assert resolved(alert) == [False]
