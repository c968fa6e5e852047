"""Seed 1's Alert API: list and filter, read one, resolve (PUT, or POST), in the schema."""

from datetime import timedelta
from decimal import Decimal

import pytest
import yaml
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from alerts.models import Alert, AlertRule, Delivery, NotificationChannel
from tests.conftest import grant
from tests.factories import BrandFactory, ListingFactory, ProductFactory, RetailerFactory

pytestmark = pytest.mark.django_db

Kind = AlertRule.Kind


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def reader(api, user):
    api.force_authenticate(user)
    return api


@pytest.fixture
def resolver(api, user):
    person = grant(user, "alerts.change_alert")
    api.force_authenticate(person)
    return api


def make_alert(kind=Kind.OUT_OF_STOCK, *, listing=None, ago=timedelta(0), **fields) -> Alert:
    listing = listing or ListingFactory()
    rule, _ = AlertRule.objects.get_or_create(name=f"{kind} rule", kind=kind)
    fields.setdefault("data", {"available": False})
    alert = Alert.objects.create(
        rule=rule,
        kind=kind,
        dedup_key=f"{rule.pk}:{kind}:listing:{listing.pk}",
        title=f"{listing.product} {kind} at {listing.retailer}",
        product=listing.product,
        listing=listing,
        retailer=listing.retailer,
        **fields,
    )
    Alert.objects.filter(pk=alert.pk).update(triggered_at=timezone.now() - ago)
    alert.refresh_from_db()
    return alert


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_anonymous_callers_are_refused(api):
    assert api.get("/api/alerts").status_code == 401


def test_the_list_shows_the_newest_alerts_first_with_their_deliveries(reader):
    older = make_alert(ago=timedelta(days=2))
    newer = make_alert(Kind.COMPETITOR_DROP)
    email = NotificationChannel.objects.create(
        name="pricing", kind=NotificationChannel.Kind.EMAIL, target="pricing@example.com"
    )
    Delivery.objects.create(
        alert=newer, channel=email, status=Delivery.Status.FAILED, attempts=5, last_error="boom"
    )

    response = reader.get("/api/alerts")

    assert ids(response) == [newer.pk, older.pk]
    row = response.json()["results"][0]
    assert row["kind"] == "competitor_drop"
    assert row["rule_name"] == "competitor_drop rule"
    assert row["active"] is True
    assert row["retailer"] == newer.retailer.slug
    assert row["brand"] == newer.product.brand.slug
    assert row["deliveries"] == [
        {
            "id": newer.deliveries.get().pk,
            "channel": "pricing",
            "event": "raised",
            "status": "failed",
            "attempts": 5,
            "last_error": "boom",
            "next_attempt_at": None,
            "sent_at": None,
            "created_at": row["deliveries"][0]["created_at"],
        }
    ]


def test_the_list_filters_by_kind_status_product_brand_retailer_and_time(reader):
    omega = BrandFactory(name="Omega", slug="omega")
    jewel = RetailerFactory(name="Jewel Discount", slug="jewel-discount")
    mine = ListingFactory(product=ProductFactory(brand=omega), retailer=jewel)
    stock = make_alert(listing=mine, ago=timedelta(days=3))
    drop = make_alert(Kind.COMPETITOR_DROP)
    resolved = make_alert(resolved=True, resolved_at=timezone.now())
    cleared = make_alert(cleared_at=timezone.now())
    since = (timezone.now() - timedelta(days=1)).isoformat()

    assert ids(reader.get("/api/alerts", {"kind": "competitor_drop"})) == [drop.pk]
    assert set(ids(reader.get("/api/alerts", {"resolved": "true"}))) == {resolved.pk}
    assert set(ids(reader.get("/api/alerts", {"active": "true"}))) == {stock.pk, drop.pk}
    assert set(ids(reader.get("/api/alerts", {"active": "false"}))) == {resolved.pk, cleared.pk}
    assert ids(reader.get("/api/alerts", {"product": mine.product_id})) == [stock.pk]
    assert ids(reader.get("/api/alerts", {"brand": "omega"})) == [stock.pk]
    assert ids(reader.get("/api/alerts", {"retailer": "jewel-discount"})) == [stock.pk]
    assert stock.pk not in ids(reader.get("/api/alerts", {"since": since}))


def test_one_alert_reads_with_its_data(reader):
    alert = make_alert(Kind.COMPETITOR_DROP, data={"price": "9000.00", "change_percent": "-10.0"})

    response = reader.get(f"/api/alerts/{alert.pk}")

    assert response.status_code == 200
    assert response.json()["data"] == {"price": "9000.00", "change_percent": "-10.0"}
    assert response.json()["dedup_key"] == alert.dedup_key


def test_put_resolve_records_who_resolved_it_and_when(resolver, user):
    alert = make_alert()

    response = resolver.put(f"/api/alerts/{alert.pk}/resolve")

    assert response.status_code == 200
    body = response.json()
    assert (body["resolved"], body["active"], body["resolved_by"]) == (True, False, user.username)
    alert.refresh_from_db()
    assert alert.resolved_by == user
    assert abs(alert.resolved_at - timezone.now()) < timedelta(minutes=1)


def test_post_resolve_works_too(resolver):
    alert = make_alert()

    assert resolver.post(f"/api/alerts/{alert.pk}/resolve").status_code == 200
    alert.refresh_from_db()
    assert alert.resolved


def test_resolving_twice_keeps_the_first_resolution(resolver, admin_user):
    alert = make_alert(resolved=True, resolved_by=admin_user, resolved_at=timezone.now())

    response = resolver.put(f"/api/alerts/{alert.pk}/resolve")

    assert response.status_code == 200
    assert response.json()["resolved_by"] == admin_user.username


def test_resolving_needs_the_change_alert_permission(reader):
    alert = make_alert()

    assert reader.put(f"/api/alerts/{alert.pk}/resolve").status_code == 403
    alert.refresh_from_db()
    assert not alert.resolved


def test_resolving_an_unknown_alert_is_not_found(resolver):
    assert resolver.put("/api/alerts/999999/resolve").status_code == 404


def test_alerts_cannot_be_created_or_deleted_through_the_api(resolver):
    alert = make_alert()

    assert resolver.post("/api/alerts", {"title": "x"}).status_code == 405
    assert resolver.delete(f"/api/alerts/{alert.pk}").status_code == 405


def test_the_schema_documents_the_alert_api_without_warnings(tmp_path, settings):
    path = tmp_path / "schema.yaml"

    call_command(
        "spectacular",
        "--validate",
        "--fail-on-warn",
        "--urlconf",
        settings.ROOT_URLCONF,
        "--file",
        str(path),
    )

    paths = yaml.safe_load(path.read_text())["paths"]
    assert set(paths["/api/alerts/"]) == {"get"}
    assert set(paths["/api/alerts/{id}/"]) == {"get"}
    assert set(paths["/api/alerts/{id}/resolve/"]) == {"put", "post"}
    parameters = {p["name"] for p in paths["/api/alerts/"]["get"]["parameters"]}
    assert parameters >= {"kind", "resolved", "active", "product", "brand", "retailer", "since"}


def test_money_in_alert_data_stays_exact(reader):
    alert = make_alert(Kind.COMPETITOR_DROP, data={"price": str(Decimal("12345.67"))})

    assert reader.get(f"/api/alerts/{alert.pk}").json()["data"]["price"] == "12345.67"
