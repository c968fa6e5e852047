from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from catalog.models import Retailer
from tests.factories import (
    BrandFactory,
    ListingFactory,
    ProductFactory,
    RetailerFactory,
    ReviewFactory,
)

PRODUCTS_URL = reverse("admin:catalog_product_changelist")


@pytest.fixture
def staff_client(client, admin_user):
    client.force_login(admin_user)
    return client


def add_products(count: int) -> None:
    retailers = [RetailerFactory(), RetailerFactory()]
    for _ in range(count):
        product = ProductFactory()
        for price, retailer in zip(
            [Decimal("9100.00"), Decimal("8900.00")], retailers, strict=True
        ):
            ListingFactory(product=product, retailer=retailer, available=True, last_price=price)
    ReviewFactory(product=product)


def test_the_admin_is_branded_as_the_back_office(staff_client):
    page = staff_client.get(reverse("admin:index")).content.decode()

    assert "WatchPrice back office" in page
    assert "Catalog, prices and alerts" in page


@pytest.mark.parametrize("model", ["brand", "product", "retailer", "listing", "review"])
def test_every_catalog_page_renders_with_data(staff_client, model):
    add_products(2)

    for url in [
        reverse(f"admin:catalog_{model}_changelist"),
        reverse(f"admin:catalog_{model}_changelist") + "?q=a&o=1",
        reverse(f"admin:catalog_{model}_add"),
    ]:
        response = staff_client.get(url)
        assert response.status_code == 200, url


def test_the_product_list_shows_listing_count_and_lowest_market_price(staff_client):
    product = ProductFactory(
        reference="126500LN",
        msrp=Decimal("15100.00"),
        list_price=Decimal("14950.00"),
        in_inventory_since=timezone.localdate() - timedelta(days=45),
    )
    ListingFactory(product=product, available=True, last_price=Decimal("14250.50"))
    ListingFactory(product=product, available=True, last_price=Decimal("13999.00"))
    ListingFactory(product=product, available=False, last_price=Decimal("9000.00"))
    ListingFactory(product=product, active=False, available=True, last_price=Decimal("100.00"))

    response = staff_client.get(PRODUCTS_URL)

    [row] = response.context["cl"].result_list
    assert (row.listing_count, row.lowest_market_price) == (3, Decimal("13999.00"))
    page = response.content.decode()
    assert '<td class="field-lowest_market_price_display">13,999.00</td>' in page
    assert f'?product__id__exact={product.pk}&amp;active__exact=1">3</a>' in page
    assert '<td class="field-msrp_display">15,100.00</td>' in page
    assert '<td class="field-list_price_display">14,950.00</td>' in page
    assert '<td class="field-age_in_days">45</td>' in page


def test_the_product_list_sorts_by_lowest_market_price(staff_client):
    for reference, price in [("B", "300.00"), ("A", "100.00"), ("C", "200.00")]:
        ListingFactory(
            product=ProductFactory(reference=reference), available=True, last_price=Decimal(price)
        )
    ProductFactory(reference="D")
    changelist = staff_client.get(PRODUCTS_URL).context["cl"]
    column = changelist.list_display.index("lowest_market_price_display")

    ascending = staff_client.get(PRODUCTS_URL, {"o": str(column)}).context["cl"].result_list
    descending = staff_client.get(PRODUCTS_URL, {"o": f"-{column}"}).context["cl"].result_list

    assert [p.reference for p in ascending] == ["A", "C", "B", "D"]
    assert [p.reference for p in descending][-3:] == ["B", "C", "A"]


def test_the_product_list_query_count_does_not_grow_with_its_rows(staff_client):
    add_products(5)
    with CaptureQueriesContext(connection) as five:
        assert staff_client.get(PRODUCTS_URL).status_code == 200
    add_products(25)

    with CaptureQueriesContext(connection) as thirty:
        response = staff_client.get(PRODUCTS_URL)

    assert len(response.context["cl"].result_list) == 30
    assert len(thirty) == len(five)


@pytest.mark.parametrize("model", ["listing", "review", "retailer", "brand"])
def test_other_lists_query_count_does_not_grow_with_their_rows(staff_client, model):
    url = reverse(f"admin:catalog_{model}_changelist")
    add_products(3)
    with CaptureQueriesContext(connection) as few:
        staff_client.get(url)
    add_products(12)

    with CaptureQueriesContext(connection) as many:
        staff_client.get(url)

    assert len(many) == len(few)


def test_the_product_page_shows_its_listings_inline(staff_client):
    product = ProductFactory()
    ListingFactory(
        product=product, retailer=RetailerFactory(name="Chrono24"), url="https://c.test/1"
    )

    response = staff_client.get(reverse("admin:catalog_product_change", args=[product.pk]))

    [formset] = [inline.formset for inline in response.context["inline_admin_formsets"]]
    assert formset.queryset.get().url == "https://c.test/1"
    assert "Chrono24" in response.content.decode()


def test_the_retailer_list_speaks_the_merchandisers_language(staff_client):
    RetailerFactory(
        name="Chrono24",
        retailer_type=Retailer.RetailerType.MARKETPLACE,
        map_percentage=Decimal("0.800"),
        requests_per_minute=12,
        external_price_checks_enabled=True,
    )
    RetailerFactory(
        name="Boutique", retailer_type=Retailer.RetailerType.VENDOR, map_percentage=Decimal("0.925")
    )

    page = staff_client.get(reverse("admin:catalog_retailer_changelist")).content.decode()

    assert "Marketplace (3P)" in page
    assert "Vendor (1P)" in page
    assert "80% of MSRP" in page
    assert "92.5% of MSRP" in page
    assert "12 requests/min" in page


def retailer_form(**overrides) -> dict:
    return {
        "name": "Chrono24",
        "slug": "chrono24",
        "domain": "www.chrono24.com",
        "base_url": "https://www.chrono24.com",
        "currency": "EUR",
        "geo_location": "",
        "retailer_type": "marketplace",
        "market_type": "gray_market",
        "map_percentage": "0.800",
        "extractor": "generic",
        "selectors": "",
        "fetch_method": "default",
        "product_url_pattern": "",
        "requests_per_minute": "30",
        **overrides,
    }


def test_retailer_selectors_are_saved_from_json(staff_client):
    response = staff_client.post(
        reverse("admin:catalog_retailer_add"),
        retailer_form(selectors='{"price": ".product-price", "title": "h1"}'),
    )

    assert response.status_code == 302
    assert Retailer.objects.get().selectors == {"price": ".product-price", "title": "h1"}


def test_empty_retailer_selectors_are_saved_as_an_empty_object(staff_client):
    staff_client.post(reverse("admin:catalog_retailer_add"), retailer_form(selectors=""))

    assert Retailer.objects.get().selectors == {}


def test_retailer_selectors_are_shown_as_pretty_json(staff_client):
    retailer = RetailerFactory(selectors={"title": "h1", "price": ".price"})

    response = staff_client.get(reverse("admin:catalog_retailer_change", args=[retailer.pk]))

    shown = response.context["adminform"].form["selectors"].value()
    assert shown == '{\n  "price": ".price",\n  "title": "h1"\n}'
    assert (
        "&quot;price&quot;: &quot;.price&quot;,\n  &quot;title&quot;" in response.content.decode()
    )


@pytest.mark.parametrize(
    ("selectors", "error"),
    [
        ('{"price": ".price",}', "This is not valid JSON."),
        ('[".price"]', "Selectors must be a JSON object of field names to CSS selectors"),
        ('{"price": 3}', 'The selector for "price" must be a string of CSS'),
        ('{"price": {"css": ".p"}}', "it is an object."),
        ('{"price": "  "}', 'The selector for "price" is empty.'),
    ],
)
def test_retailer_selectors_must_be_an_object_of_strings(staff_client, selectors, error):
    response = staff_client.post(
        reverse("admin:catalog_retailer_add"), retailer_form(selectors=selectors)
    )

    assert response.status_code == 200
    [message] = response.context["adminform"].form.errors["selectors"]
    assert error in message
    assert not Retailer.objects.exists()


def test_retailer_selectors_that_are_not_json_are_shown_back_as_typed(staff_client):
    typed = '{"price": ".price",}'

    response = staff_client.post(
        reverse("admin:catalog_retailer_add"), retailer_form(selectors=typed)
    )

    assert response.context["adminform"].form["selectors"].value() == typed


def test_the_listing_list_filters_by_retailer_availability_and_activity(staff_client):
    chrono24 = RetailerFactory(name="Chrono24")
    wanted = ListingFactory(retailer=chrono24, available=True, active=True)
    ListingFactory(retailer=chrono24, available=False, active=True)
    ListingFactory(retailer=chrono24, available=True, active=False)
    ListingFactory(available=True, active=True)

    response = staff_client.get(
        reverse("admin:catalog_listing_changelist"),
        {"retailer__id__exact": chrono24.pk, "available__exact": "1", "active__exact": "1"},
    )

    assert list(response.context["cl"].result_list) == [wanted]


def test_the_product_listing_count_links_to_its_listings(staff_client):
    listing = ListingFactory()
    ListingFactory()

    response = staff_client.get(
        reverse("admin:catalog_listing_changelist"),
        {"product__id__exact": listing.product_id, "active__exact": "1"},
    )

    assert list(response.context["cl"].result_list) == [listing]


def test_the_review_list_filters_by_rating(staff_client):
    good = ReviewFactory(rating=5)
    ReviewFactory(rating=2)

    response = staff_client.get(reverse("admin:catalog_review_changelist"), {"rating": "5"})

    assert list(response.context["cl"].result_list) == [good]


def test_the_brand_slug_is_filled_in_from_the_name(staff_client):
    response = staff_client.get(reverse("admin:catalog_brand_add"))

    [field] = response.context["adminform"].prepopulated_fields
    assert (field["field"].name, [d.name for d in field["dependencies"]]) == ("slug", ["name"])


def test_the_brand_list_counts_products(staff_client):
    ProductFactory.create_batch(3, brand=BrandFactory(name="Rolex"))

    response = staff_client.get(reverse("admin:catalog_brand_changelist"))

    [brand] = response.context["cl"].result_list
    assert brand.product_count == 3
