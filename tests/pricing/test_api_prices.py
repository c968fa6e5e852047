import json
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from ledger.models import LedgerEntry
from scraping.models import Probe
from scraping.signals import probe_finished
from tests.conftest import grant
from tests.factories import ListingFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def reporter():
    return grant(UserFactory(), "scraping.add_probe")


def test_current_prices_list_listings_with_a_price_and_need_an_account(api, user):
    priced = ListingFactory(last_price=Decimal("9800.00"), available=True)
    ListingFactory()  # never read successfully: no current price

    assert api.get("/api/prices").status_code == 401
    api.force_authenticate(user)
    body = api.get("/api/prices").json()

    assert [row["listing"] for row in body["results"]] == [priced.pk]
    assert body["results"][0]["price"] == "9800.00"
    assert body["results"][0]["retailer"] == priced.retailer.slug


def test_current_prices_filter_by_retailer(api, user):
    wanted = ListingFactory(last_price=Decimal("1.00"))
    ListingFactory(last_price=Decimal("2.00"))
    api.force_authenticate(user)

    body = api.get("/api/prices", {"retailer": wanted.retailer.slug}).json()

    assert [row["listing"] for row in body["results"]] == [wanted.pk]


def test_a_price_point_is_recorded_like_a_probe(api, reporter, django_capture_on_commit_callbacks):
    listing = ListingFactory()
    heard = []
    probe_finished.connect(
        lambda sender, probe_id, **kw: heard.append(probe_id),
        weak=False,
        dispatch_uid="test-price-point",
    )
    api.force_authenticate(reporter)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = api.post(
                "/api/prices",
                {"listing": listing.pk, "price": "9450.00", "currency": "USD", "available": True},
                format="json",
            )
    finally:
        probe_finished.disconnect(dispatch_uid="test-price-point")

    assert response.status_code == 201, response.content
    assert response.json()["price"] == "9450.00"
    listing.refresh_from_db()
    assert listing.last_price == Decimal("9450.00")
    probe = Probe.objects.get(listing=listing)
    assert (probe.status, probe.transport, probe.requested_by) == (
        "success",
        "integration",
        reporter,
    )
    entry = LedgerEntry.objects.get(seq=probe.ledger_seq)
    assert entry.kind == LedgerEntry.Kind.PRICE_POINT
    assert json.loads(entry.payload)["price"] == "9450.00"
    assert heard == [probe.pk]


def test_a_price_point_can_name_the_product_and_retailer(api, reporter):
    listing = ListingFactory()
    api.force_authenticate(reporter)

    response = api.post(
        "/api/prices",
        {
            "product": listing.product_id,
            "retailer": listing.retailer.slug,
            "price": "100.00",
            "currency": "USD",
        },
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["listing"] == listing.pk


def test_a_wrong_price_point_is_a_400_naming_each_bad_field(api, reporter):
    listing = ListingFactory()
    api.force_authenticate(reporter)

    response = api.post(
        "/api/prices",
        {"listing": listing.pk, "price": "-5", "currency": "XYZ"},
        format="json",
    )

    assert response.status_code == 400
    assert set(response.json()) == {"price", "currency"}
    assert not Probe.objects.exists()


def test_a_price_point_in_another_currency_than_the_listing_is_refused(api, reporter):
    listing = ListingFactory(currency="USD")
    api.force_authenticate(reporter)

    response = api.post(
        "/api/prices", {"listing": listing.pk, "price": "10.00", "currency": "EUR"}, format="json"
    )

    assert response.status_code == 400
    assert "USD" in response.json()["currency"][0]


def test_a_price_point_without_a_listing_or_product_and_retailer_is_refused(api, reporter):
    api.force_authenticate(reporter)

    response = api.post("/api/prices", {"price": "10.00", "currency": "USD"}, format="json")

    assert response.status_code == 400
    assert "listing" in response.json()


def test_reporting_a_price_point_needs_the_permission(api, user):
    listing = ListingFactory()
    api.force_authenticate(user)

    response = api.post(
        "/api/prices", {"listing": listing.pk, "price": "10.00", "currency": "USD"}, format="json"
    )

    assert response.status_code == 403
    assert not Probe.objects.exists()
