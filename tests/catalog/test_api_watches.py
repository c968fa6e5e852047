"""/api/watches, with the brands and reviews that belong to a watch."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.pagination import PageNumberPagination
from rest_framework.test import APIClient

from catalog.models import Brand, Product, Review
from tests.conftest import grant
from tests.factories import (
    BrandFactory,
    ListingFactory,
    ProductFactory,
    ReviewFactory,
)


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


def watch_payload(brand: Brand, **overrides):
    payload = {
        "brand": brand.slug,
        "name": "Cosmograph Daytona",
        "reference": "126500LN",
        "category": "rolex_daytona",
        "currency": "USD",
        "msrp": "15100.00",
        "cost": "12000.00",
        "list_price": "14900.00",
        "gtin": "01234567890128",
    }
    return payload | overrides


def rows(response):
    return response.json()["results"]


def references(response):
    return [row["reference"] for row in rows(response)]


ENDPOINTS = [
    ("get", "/api/watches"),
    ("post", "/api/watches"),
    ("get", "/api/watches/{watch}"),
    ("put", "/api/watches/{watch}"),
    ("patch", "/api/watches/{watch}"),
    ("get", "/api/brands"),
    ("post", "/api/brands"),
    ("get", "/api/brands/{brand}"),
    ("get", "/api/reviews"),
    ("post", "/api/reviews"),
    ("get", "/api/reviews/{review}"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
def test_anonymous_callers_are_refused_with_a_token_challenge(api_client, method, url):
    review = ReviewFactory()
    url = url.format(watch=review.product.pk, brand=review.product.brand.pk, review=review.pk)

    response = getattr(api_client, method)(url, {})

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("post", "/api/watches"),
        ("put", "/api/watches/{watch}"),
        ("patch", "/api/watches/{watch}"),
        ("post", "/api/brands"),
        ("post", "/api/reviews"),
    ],
)
def test_an_account_without_permissions_cannot_write(reader, method, url):
    watch = ProductFactory()

    response = getattr(reader, method)(url.format(watch=watch.pk), watch_payload(watch.brand))

    assert response.status_code == 403
    assert Product.objects.count() == 1
    assert Brand.objects.count() == 1


def test_an_account_without_permissions_can_read_every_watch_endpoint(reader):
    review = ReviewFactory()

    for url in [
        "/api/watches",
        f"/api/watches/{review.product.pk}",
        "/api/brands",
        f"/api/brands/{review.product.brand.pk}",
        "/api/reviews",
        f"/api/reviews/{review.pk}",
    ]:
        assert reader.get(url).status_code == 200, url


def test_an_account_with_add_product_can_create_a_watch(api_client, user):
    brand = BrandFactory(name="Rolex", slug="rolex")
    client = signed_in_with(api_client, user, "catalog.add_product")

    response = client.post("/api/watches", watch_payload(brand))

    assert response.status_code == 201, response.json()
    product = Product.objects.get()
    assert (product.brand, product.reference, product.msrp) == (
        brand,
        "126500LN",
        Decimal("15100.00"),
    )
    body = response.json()
    assert body["id"] == product.pk
    assert body["brand"] == "rolex"
    assert body["listing_count"] == 0
    assert body["lowest_market_price"] is None


def test_add_product_does_not_allow_changing_a_watch(api_client, user):
    watch = ProductFactory(name="Before")
    client = signed_in_with(api_client, user, "catalog.add_product")

    response = client.patch(f"/api/watches/{watch.pk}", {"name": "After"})

    assert response.status_code == 403
    watch.refresh_from_db()
    assert watch.name == "Before"


def test_an_account_with_change_product_can_replace_a_watch(api_client, user):
    watch = ProductFactory()
    other_brand = BrandFactory(slug="omega")
    client = signed_in_with(api_client, user, "catalog.change_product")

    response = client.put(
        f"/api/watches/{watch.pk}", watch_payload(other_brand, reference="310.30.42.50.01.001")
    )

    assert response.status_code == 200, response.json()
    watch.refresh_from_db()
    assert watch.brand == other_brand
    assert watch.reference == "310.30.42.50.01.001"


def test_patching_a_watch_changes_only_the_fields_sent_and_reports_its_market(api_client, user):
    watch = ProductFactory(name="Old name", msrp=Decimal("100.00"))
    ListingFactory(product=watch, available=True, last_price=Decimal("90.00"))
    client = signed_in_with(api_client, user, "catalog.change_product")

    response = client.patch(f"/api/watches/{watch.pk}", {"name": "New name"})

    assert response.status_code == 200, response.json()
    watch.refresh_from_db()
    assert (watch.name, watch.msrp) == ("New name", Decimal("100.00"))
    assert response.json()["listing_count"] == 1
    assert response.json()["lowest_market_price"] == "90.00"


def test_a_token_authenticates_a_caller(api_client, user):
    ProductFactory()
    token = Token.objects.create(user=user)

    response = api_client.get("/api/watches", HTTP_AUTHORIZATION=f"Token {token.key}")

    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_a_wrong_token_is_refused(api_client, user):
    Token.objects.create(user=user)

    response = api_client.get("/api/watches", HTTP_AUTHORIZATION="Token not-the-key")

    assert response.status_code == 401


def test_a_token_carries_its_accounts_permissions(api_client, user):
    brand = BrandFactory()
    token = Token.objects.create(user=grant(user, "catalog.add_product"))

    response = api_client.post(
        "/api/watches", watch_payload(brand), HTTP_AUTHORIZATION=f"Token {token.key}"
    )

    assert response.status_code == 201


@pytest.mark.parametrize("suffix", ["", "/"])
def test_urls_work_with_and_without_a_trailing_slash(api_client, user, suffix):
    watch = ProductFactory()
    client = signed_in_with(api_client, user, "catalog.add_product", "catalog.change_product")

    assert client.get(f"/api/watches{suffix}").status_code == 200
    assert client.get(f"/api/watches/{watch.pk}{suffix}").status_code == 200
    assert client.patch(f"/api/watches/{watch.pk}{suffix}", {"name": "x"}).status_code == 200
    created = client.post(f"/api/watches{suffix}", watch_payload(watch.brand))
    assert created.status_code == 201


def test_a_watch_shows_its_brand_by_name_and_slug_and_its_money_as_strings(reader):
    brand = BrandFactory(name="Patek Philippe", slug="patek-philippe")
    watch = ProductFactory(
        brand=brand,
        reference="5711/1A",
        currency="CHF",
        msrp=Decimal("30000"),
        cost=None,
        list_price=Decimal("45999.5"),
    )

    body = reader.get(f"/api/watches/{watch.pk}").json()

    assert body["brand"] == "patek-philippe"
    assert body["brand_name"] == "Patek Philippe"
    assert body["currency"] == "CHF"
    assert body["msrp"] == "30000.00"
    assert body["cost"] is None
    assert body["list_price"] == "45999.50"
    assert set(body) >= {
        "id",
        "name",
        "reference",
        "category",
        "description",
        "sku",
        "gtin",
        "mpn",
        "asin",
        "in_inventory_since",
        "created_at",
        "updated_at",
        "last_scraped_at",
        "listing_count",
        "lowest_market_price",
    }


def test_the_list_counts_active_listings_and_finds_the_lowest_in_stock_price(reader):
    watch = ProductFactory(currency="USD")
    ListingFactory(product=watch, available=True, last_price=Decimal("9100.00"))
    ListingFactory(product=watch, available=True, last_price=Decimal("8800.00"))
    # None of these may set the lowest price: out of stock, unknown, inactive, another currency.
    ListingFactory(product=watch, available=False, last_price=Decimal("7000.00"))
    ListingFactory(product=watch, available=None, last_price=Decimal("7100.00"))
    ListingFactory(product=watch, available=True, active=False, last_price=Decimal("7200.00"))
    ListingFactory(product=watch, available=True, currency="EUR", last_price=Decimal("7300.00"))
    ProductFactory()

    listed = {row["id"]: row for row in rows(reader.get("/api/watches"))}

    assert listed[watch.pk]["listing_count"] == 5
    assert listed[watch.pk]["lowest_market_price"] == "8800.00"


def test_a_watch_with_no_in_stock_listing_has_no_lowest_market_price(reader):
    watch = ProductFactory()
    ListingFactory(product=watch, available=False, last_price=Decimal("5000.00"))

    body = reader.get(f"/api/watches/{watch.pk}").json()

    assert body["listing_count"] == 1
    assert body["lowest_market_price"] is None


def test_listing_watches_takes_the_same_number_of_queries_for_5_or_25_watches(reader):
    def queries_to_list(total):
        while Product.objects.count() < total:
            watch = ProductFactory()
            ListingFactory(product=watch, available=True, last_price=Decimal("1.00"))
            ListingFactory(product=watch, available=False, last_price=Decimal("2.00"))
        with CaptureQueriesContext(connection) as queries:
            response = reader.get("/api/watches")
        assert len(response.json()["results"]) == total
        return len(queries)

    assert queries_to_list(5) == queries_to_list(25)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("brand=rolex", ["116500", "126500LN"]),
        ("brand=rolex&brand=omega", ["311.30", "116500", "126500LN"]),
        ("category=dress", ["311.30"]),
        ("currency=CHF", ["116500"]),
        ("currency=CHF&currency=EUR", ["311.30", "116500"]),
        ("reference=126500ln", ["126500LN"]),
        ("q=speedmaster", ["311.30"]),
        ("q=500", ["116500", "126500LN"]),
        ("q=SKU-77", ["116500"]),
        ("q=4006", ["126500LN"]),
        ("brand=rolex&currency=USD", ["126500LN"]),
    ],
)
def test_watches_filter_by_brand_category_currency_reference_and_search(reader, query, expected):
    rolex = BrandFactory(name="Rolex", slug="rolex")
    omega = BrandFactory(name="Omega", slug="omega")
    ProductFactory(brand=rolex, reference="126500LN", name="Daytona", gtin="40061234")
    ProductFactory(brand=rolex, reference="116500", name="Daytona", sku="SKU-77", currency="CHF")
    ProductFactory(
        brand=omega, reference="311.30", name="Speedmaster", category="dress", currency="EUR"
    )

    response = reader.get(f"/api/watches?{query}")

    assert response.status_code == 200
    assert references(response) == expected


def test_filtering_by_an_unknown_brand_is_a_400_naming_the_filter(reader):
    ProductFactory()

    response = reader.get("/api/watches?brand=no-such-brand")

    assert response.status_code == 400
    assert "brand" in response.json()


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("msrp", ["B", "C", "A"]),
        ("-msrp", ["A", "C", "B"]),
        ("lowest_market_price", ["C", "A", "B"]),
        ("-listing_count,reference", ["C", "A", "B"]),
        ("name", ["A", "B", "C"]),
    ],
)
def test_watches_order_by_the_fields_allowed(reader, ordering, expected):
    brand = BrandFactory()
    a = ProductFactory(brand=brand, reference="A", name="a", msrp=Decimal("300"))
    b = ProductFactory(brand=brand, reference="B", name="b", msrp=Decimal("100"))
    c = ProductFactory(brand=brand, reference="C", name="c", msrp=Decimal("200"))
    ListingFactory(product=a, available=True, last_price=Decimal("50"))
    ListingFactory(product=c, available=True, last_price=Decimal("40"))
    ListingFactory(product=c, available=True, last_price=Decimal("45"))
    ListingFactory(product=b, available=True, last_price=Decimal("60"))

    response = reader.get(f"/api/watches?ordering={ordering}")

    assert references(response) == expected


def test_ordering_by_a_field_not_offered_is_ignored(reader):
    brand = BrandFactory()
    ProductFactory(brand=brand, reference="A", cost=Decimal("3"))
    ProductFactory(brand=brand, reference="B", cost=Decimal("1"))

    response = reader.get("/api/watches?ordering=cost")

    assert references(response) == ["A", "B"]


def test_the_watch_list_is_paginated(reader, monkeypatch):
    monkeypatch.setattr(PageNumberPagination, "page_size", 2)
    brand = BrandFactory()
    for reference in "ABCDE":
        ProductFactory(brand=brand, reference=reference)

    first = reader.get("/api/watches").json()
    last = reader.get("/api/watches?page=3").json()

    assert first["count"] == 5
    assert [row["reference"] for row in first["results"]] == ["A", "B"]
    assert first["previous"] is None
    assert first["next"].endswith("/api/watches?page=2")
    assert [row["reference"] for row in last["results"]] == ["E"]
    assert last["next"] is None
    assert reader.get("/api/watches?page=4").status_code == 404


@pytest.fixture
def creator(api_client, user):
    return signed_in_with(api_client, user, "catalog.add_product", "catalog.change_product")


def test_a_watch_without_brand_name_or_reference_is_a_400_naming_each(creator):
    response = creator.post("/api/watches", {"currency": "USD"})

    assert response.status_code == 400
    assert set(response.json()) == {"brand", "name", "reference"}


def test_a_watch_of_an_unknown_brand_is_a_400_naming_brand(creator):
    response = creator.post("/api/watches", watch_payload(BrandFactory()) | {"brand": "nobody"})

    assert response.status_code == 400
    assert set(response.json()) == {"brand"}


def test_a_reference_already_used_by_the_brand_is_a_400_naming_reference(creator):
    existing = ProductFactory(reference="126500LN")

    response = creator.post("/api/watches", watch_payload(existing.brand, reference="126500LN"))

    assert response.status_code == 400
    assert set(response.json()) == {"reference"}
    assert Product.objects.count() == 1


def test_the_same_reference_under_another_brand_is_accepted(creator):
    ProductFactory(reference="126500LN")

    response = creator.post("/api/watches", watch_payload(BrandFactory(), reference="126500LN"))

    assert response.status_code == 201


def test_changing_a_reference_to_one_the_brand_already_uses_is_a_400(creator):
    brand = BrandFactory()
    ProductFactory(brand=brand, reference="A")
    watch = ProductFactory(brand=brand, reference="B")

    response = creator.patch(f"/api/watches/{watch.pk}", {"reference": "A"})

    assert response.status_code == 400
    assert set(response.json()) == {"reference"}


@pytest.mark.parametrize("field", ["msrp", "cost", "list_price"])
def test_negative_money_is_a_400_naming_the_field(creator, field):
    response = creator.post("/api/watches", watch_payload(BrandFactory(), **{field: "-1.00"}))

    assert response.status_code == 400
    assert set(response.json()) == {field}
    assert not Product.objects.exists()


def test_every_bad_field_is_named_at_once(creator):
    payload = watch_payload(BrandFactory(), msrp="-1", cost="-2", gtin="123", currency="XYZ")

    response = creator.post("/api/watches", payload)

    assert response.status_code == 400
    assert set(response.json()) == {"msrp", "cost", "gtin", "currency"}


def test_patching_in_a_negative_price_is_a_400_and_changes_nothing(creator):
    watch = ProductFactory(list_price=Decimal("9500.00"))

    response = creator.patch(f"/api/watches/{watch.pk}", {"list_price": "-9500.00"})

    assert response.status_code == 400
    assert set(response.json()) == {"list_price"}
    watch.refresh_from_db()
    assert watch.list_price == Decimal("9500.00")


@pytest.mark.parametrize("currency", ["XYZ", "usd", "DOLLARS"])
def test_a_currency_that_is_not_an_iso_4217_code_is_a_400_naming_currency(creator, currency):
    response = creator.post("/api/watches", watch_payload(BrandFactory(), currency=currency))

    assert response.status_code == 400
    assert set(response.json()) == {"currency"}


@pytest.mark.parametrize(("field", "value"), [("gtin", "12345"), ("asin", "b00-lower")])
def test_malformed_identifiers_are_a_400_naming_the_field(creator, field, value):
    response = creator.post("/api/watches", watch_payload(BrandFactory(), **{field: value}))

    assert response.status_code == 400
    assert set(response.json()) == {field}


def test_when_the_watch_was_last_scraped_is_not_written_through_the_api(creator):
    watch = ProductFactory(last_scraped_at=None)

    response = creator.patch(
        f"/api/watches/{watch.pk}", {"last_scraped_at": "2026-01-01T00:00:00Z"}
    )

    assert response.status_code == 200
    watch.refresh_from_db()
    assert watch.last_scraped_at is None


def test_an_account_with_add_brand_can_create_a_brand(api_client, user):
    client = signed_in_with(api_client, user, "catalog.add_brand")

    response = client.post("/api/brands", {"name": "Tudor", "slug": "tudor"})

    assert response.status_code == 201, response.json()
    assert Brand.objects.get().slug == "tudor"
    assert response.json()["name"] == "Tudor"


def test_a_brand_slug_already_taken_is_a_400_naming_slug(api_client, user):
    BrandFactory(name="Tudor", slug="tudor")
    client = signed_in_with(api_client, user, "catalog.add_brand")

    response = client.post("/api/brands", {"name": "Tudor SA", "slug": "tudor"})

    assert response.status_code == 400
    assert set(response.json()) == {"slug"}


def test_brands_cannot_be_changed_through_the_api(api_client, user):
    brand = BrandFactory()
    client = signed_in_with(api_client, user, "catalog.change_brand")

    response = client.patch(f"/api/brands/{brand.pk}", {"name": "Renamed"})

    assert response.status_code == 405


def review_payload(watch, **overrides):
    payload = {
        "product": watch.pk,
        "source": "chrono24",
        "external_id": "r-1",
        "text": "Lovely.",
        "rating": 4,
        "posted_at": "2026-02-01T10:00:00Z",
    }
    return payload | overrides


def test_an_account_with_add_review_can_record_a_review(api_client, user):
    watch = ProductFactory()
    client = signed_in_with(api_client, user, "catalog.add_review")

    response = client.post("/api/reviews", review_payload(watch))

    assert response.status_code == 201, response.json()
    review = Review.objects.get()
    assert (review.product, review.rating) == (watch, 4)
    assert review.posted_at == datetime(2026, 2, 1, 10, tzinfo=UTC)


@pytest.mark.parametrize("rating", [0, 6, -1])
def test_a_rating_outside_1_to_5_is_a_400_naming_rating(api_client, user, rating):
    client = signed_in_with(api_client, user, "catalog.add_review")

    response = client.post("/api/reviews", review_payload(ProductFactory(), rating=rating))

    assert response.status_code == 400
    assert set(response.json()) == {"rating"}
    assert not Review.objects.exists()


def test_a_review_already_imported_from_the_source_is_a_400_naming_external_id(api_client, user):
    existing = ReviewFactory(source="chrono24", external_id="r-1")
    client = signed_in_with(api_client, user, "catalog.add_review")

    response = client.post("/api/reviews", review_payload(existing.product))

    assert response.status_code == 400
    assert set(response.json()) == {"external_id"}


def test_reviews_filter_by_watch(reader):
    watch = ProductFactory()
    mine = ReviewFactory(product=watch)
    ReviewFactory(product=ProductFactory())

    response = reader.get(f"/api/reviews?product={watch.pk}")

    assert [row["id"] for row in rows(response)] == [mine.pk]


def test_watches_are_listed_by_brand_name_then_reference_by_default(reader):
    zenith = BrandFactory(name="Zenith")
    breitling = BrandFactory(name="Breitling")
    ProductFactory(brand=zenith, reference="A")
    ProductFactory(brand=breitling, reference="B")
    ProductFactory(brand=breitling, reference="A")

    response = reader.get("/api/watches")

    assert [(row["brand_name"], row["reference"]) for row in rows(response)] == [
        ("Breitling", "A"),
        ("Breitling", "B"),
        ("Zenith", "A"),
    ]
