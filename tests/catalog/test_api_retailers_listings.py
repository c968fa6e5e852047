"""/api/retailers and /api/listings."""

from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from catalog.models import Listing, Retailer
from tests.conftest import grant
from tests.factories import ListingFactory, ProductFactory, RetailerFactory


@pytest.fixture(autouse=True)
def throttle_counts_start_empty(settings):
    # The default file cache outlives the test run; throttle counts kept there would add up
    # across runs until the suite itself is throttled.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def reader(api_client, user):
    api_client.force_login(user)
    return api_client


def signed_in_with(api_client, user, *permissions):
    api_client.force_login(grant(user, *permissions))
    return api_client


def retailer_payload(**overrides):
    payload = {
        "name": "Chrono24",
        "slug": "chrono24",
        "domain": "www.chrono24.com",
        "base_url": "https://www.chrono24.com",
        "retailer_type": "marketplace",
        "market_type": "gray_market",
        "map_percentage": "0.850",
        "currency": "EUR",
        "requests_per_minute": 10,
        "selectors": {"price": ".price"},
    }
    return payload | overrides


def ids(response):
    return [row["id"] for row in response.json()["results"]]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/api/retailers"),
        ("post", "/api/retailers"),
        ("get", "/api/retailers/{retailer}"),
        ("put", "/api/retailers/{retailer}"),
        ("patch", "/api/retailers/{retailer}"),
        ("get", "/api/listings"),
        ("post", "/api/listings"),
        ("get", "/api/listings/{listing}"),
        ("put", "/api/listings/{listing}"),
        ("patch", "/api/listings/{listing}"),
    ],
)
def test_anonymous_callers_are_refused_with_a_token_challenge(api_client, method, url):
    listing = ListingFactory()
    url = url.format(retailer=listing.retailer.pk, listing=listing.pk)

    response = getattr(api_client, method)(url, {})

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_an_account_without_permissions_can_read_retailers_and_listings(reader):
    listing = ListingFactory()

    for url in [
        "/api/retailers",
        f"/api/retailers/{listing.retailer.pk}",
        "/api/listings",
        f"/api/listings/{listing.pk}",
    ]:
        assert reader.get(url).status_code == 200, url


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("post", "/api/retailers"),
        ("put", "/api/retailers/{retailer}"),
        ("patch", "/api/retailers/{retailer}"),
        ("post", "/api/listings"),
        ("put", "/api/listings/{listing}"),
        ("patch", "/api/listings/{listing}"),
    ],
)
def test_an_account_without_permissions_cannot_write(reader, method, url):
    listing = ListingFactory(active=True)
    url = url.format(retailer=listing.retailer.pk, listing=listing.pk)

    response = getattr(reader, method)(url, retailer_payload(active=False))

    assert response.status_code == 403
    assert Retailer.objects.count() == 1
    assert Listing.objects.get().active is True


def test_an_account_with_add_retailer_can_create_a_retailer(api_client, user):
    client = signed_in_with(api_client, user, "catalog.add_retailer")

    response = client.post("/api/retailers", retailer_payload())

    assert response.status_code == 201, response.json()
    retailer = Retailer.objects.get()
    assert retailer.slug == "chrono24"
    assert retailer.map_percentage == Decimal("0.850")
    assert retailer.selectors == {"price": ".price"}
    assert response.json()["map_percentage"] == "0.850"


def test_an_account_with_change_retailer_can_update_a_retailer(api_client, user):
    retailer = RetailerFactory(requests_per_minute=30)
    client = signed_in_with(api_client, user, "catalog.change_retailer")

    response = client.patch(f"/api/retailers/{retailer.pk}", {"requests_per_minute": 5})

    assert response.status_code == 200, response.json()
    retailer.refresh_from_db()
    assert retailer.requests_per_minute == 5


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("map_percentage", "0.000"),
        ("map_percentage", "1.200"),
        ("currency", "EURO"),
        ("requests_per_minute", 0),
        ("retailer_type", "pawn_shop"),
        ("base_url", "not a url"),
    ],
)
def test_a_bad_retailer_setting_is_a_400_naming_the_field(api_client, user, field, value):
    client = signed_in_with(api_client, user, "catalog.add_retailer")

    response = client.post("/api/retailers", retailer_payload(**{field: value}))

    assert response.status_code == 400
    assert set(response.json()) == {field}
    assert not Retailer.objects.exists()


def test_a_retailer_slug_already_taken_is_a_400_naming_slug(api_client, user):
    RetailerFactory(name="Chrono24", slug="chrono24")
    client = signed_in_with(api_client, user, "catalog.add_retailer")

    response = client.post("/api/retailers", retailer_payload(name="Chrono 24"))

    assert response.status_code == 400
    assert set(response.json()) == {"slug"}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("retailer_type=vendor", ["Big box", "Boutique"]),
        ("market_type=gray_market", ["Gray"]),
        ("retailer_type=vendor&market_type=big_box", ["Big box"]),
        ("ordering=-name", ["Gray", "Boutique", "Big box"]),
    ],
)
def test_retailers_filter_by_type_and_order(reader, query, expected):
    RetailerFactory(name="Boutique", retailer_type="vendor", market_type="official_boutique")
    RetailerFactory(name="Big box", retailer_type="vendor", market_type="big_box")
    RetailerFactory(name="Gray", retailer_type="marketplace", market_type="gray_market")

    response = reader.get(f"/api/retailers?{query}")

    assert response.status_code == 200
    assert [row["name"] for row in response.json()["results"]] == expected


def test_an_unknown_retailer_type_filter_is_a_400(reader):
    response = reader.get("/api/retailers?retailer_type=pawn_shop")

    assert response.status_code == 400
    assert "retailer_type" in response.json()


@pytest.fixture
def lister(api_client, user):
    return signed_in_with(api_client, user, "catalog.add_listing", "catalog.change_listing")


def test_an_account_with_add_listing_can_list_a_watch_at_a_retailer(lister):
    watch = ProductFactory()
    retailer = RetailerFactory(slug="crown-caliber", currency="USD")

    response = lister.post(
        "/api/listings",
        {"product": watch.pk, "retailer": "crown-caliber", "url": "https://example.com/w/1"},
    )

    assert response.status_code == 201, response.json()
    listing = Listing.objects.get()
    assert (listing.product, listing.retailer) == (watch, retailer)
    assert response.json()["retailer"] == "crown-caliber"


def test_a_new_listing_is_priced_in_its_retailers_currency_unless_told_otherwise(lister):
    watch = ProductFactory()
    RetailerFactory(slug="zurich", currency="CHF")
    RetailerFactory(slug="paris", currency="EUR")

    implied = lister.post("/api/listings", {"product": watch.pk, "retailer": "zurich"})
    explicit = lister.post(
        "/api/listings", {"product": watch.pk, "retailer": "paris", "currency": "USD"}
    )

    assert implied.json()["currency"] == "CHF"
    assert explicit.json()["currency"] == "USD"


def test_a_second_listing_of_a_watch_at_the_same_retailer_is_a_400_naming_retailer(lister):
    existing = ListingFactory()

    response = lister.post(
        "/api/listings", {"product": existing.product.pk, "retailer": existing.retailer.slug}
    )

    assert response.status_code == 400
    assert set(response.json()) == {"retailer"}
    assert Listing.objects.count() == 1


def test_moving_a_listing_onto_a_retailer_that_already_lists_the_watch_is_a_400(lister):
    first = ListingFactory()
    second = ListingFactory(product=first.product)

    response = lister.patch(f"/api/listings/{second.pk}", {"retailer": first.retailer.slug})

    assert response.status_code == 400
    assert set(response.json()) == {"retailer"}


def test_a_listing_of_an_unknown_watch_or_retailer_is_a_400_naming_both(lister):
    response = lister.post("/api/listings", {"product": 999999, "retailer": "nowhere"})

    assert response.status_code == 400
    assert set(response.json()) == {"product", "retailer"}


def test_a_listing_in_a_currency_that_is_not_iso_4217_is_a_400_naming_currency(lister):
    listing = ListingFactory()

    response = lister.patch(f"/api/listings/{listing.pk}", {"currency": "BTC"})

    assert response.status_code == 400
    assert set(response.json()) == {"currency"}


def test_prices_and_availability_are_read_but_not_written_through_the_api(lister):
    listing = ListingFactory(available=True, last_price=Decimal("100.00"))

    response = lister.patch(
        f"/api/listings/{listing.pk}",
        {"last_price": "1.00", "available": False, "active": False},
    )

    assert response.status_code == 200, response.json()
    assert response.json()["last_price"] == "100.00"
    listing.refresh_from_db()
    assert (listing.last_price, listing.available, listing.active) == (
        Decimal("100.00"),
        True,
        False,
    )


def test_listings_filter_by_watch_retailer_availability_and_active(reader):
    watch = ProductFactory()
    shop = RetailerFactory(slug="shop")
    in_stock = ListingFactory(product=watch, retailer=shop, available=True)
    sold_out = ListingFactory(product=watch, available=False)
    retired = ListingFactory(product=watch, available=True, active=False)
    elsewhere = ListingFactory(retailer=shop, available=None)

    assert set(ids(reader.get(f"/api/listings?product={watch.pk}"))) == {
        in_stock.pk,
        sold_out.pk,
        retired.pk,
    }
    assert set(ids(reader.get("/api/listings?retailer=shop"))) == {in_stock.pk, elsewhere.pk}
    assert set(ids(reader.get("/api/listings?available=true"))) == {in_stock.pk, retired.pk}
    assert set(ids(reader.get("/api/listings?available=false"))) == {sold_out.pk}
    assert set(ids(reader.get("/api/listings?active=false"))) == {retired.pk}
    assert ids(reader.get(f"/api/listings?product={watch.pk}&available=true&active=true")) == [
        in_stock.pk
    ]


def test_listings_order_by_last_price(reader):
    dear = ListingFactory(last_price=Decimal("300"))
    cheap = ListingFactory(last_price=Decimal("100"))
    middle = ListingFactory(last_price=Decimal("200"))

    assert ids(reader.get("/api/listings?ordering=last_price")) == [cheap.pk, middle.pk, dear.pk]
    assert ids(reader.get("/api/listings?ordering=-last_price")) == [dear.pk, middle.pk, cheap.pk]


def test_listing_listings_takes_the_same_number_of_queries_for_5_or_25(reader):
    def queries_to_list(total):
        while Listing.objects.count() < total:
            ListingFactory()
        with CaptureQueriesContext(connection) as queries:
            response = reader.get("/api/listings")
        assert len(response.json()["results"]) == total
        return len(queries)

    assert queries_to_list(5) == queries_to_list(25)
