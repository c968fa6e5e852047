import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from catalog.exports import escape_cell
from catalog.imports import COLUMN_NAMES, catalog_import_csv
from catalog.models import Brand, Listing, Product
from tests.conftest import grant
from tests.factories import (
    BrandFactory,
    ListingFactory,
    ProductFactory,
    RetailerFactory,
    UserFactory,
)

EXPORT_URL = reverse("admin:catalog_product_export")
CHANGELIST_URL = reverse("admin:catalog_product_changelist")


def read_csv(response) -> list[dict[str, str]]:
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="catalog-')
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    reader = csv.DictReader(io.StringIO(text[1:]))
    assert tuple(reader.fieldnames) == COLUMN_NAMES
    return list(reader)


@pytest.fixture
def catalog(db):
    rolex = BrandFactory(name="Rolex", slug="rolex")
    omega = BrandFactory(name="Omega", slug="omega")
    chrono24 = RetailerFactory(name="Chrono24", slug="chrono24")
    jomashop = RetailerFactory(name="Jomashop", slug="jomashop")
    daytona = ProductFactory(brand=rolex, reference="126500LN", name="Cosmograph Daytona")
    ListingFactory(product=daytona, retailer=chrono24, retailer_item_id="C24-1")
    ListingFactory(product=daytona, retailer=jomashop)
    ProductFactory(brand=rolex, reference="126610LN", name="Submariner")
    ProductFactory(brand=omega, reference="310.30.42.50.01.001", name="Speedmaster")
    return {"rolex": rolex, "omega": omega}


def test_the_changelist_links_an_export_of_what_it_shows(client, admin_user, catalog):
    client.force_login(admin_user)

    page = client.get(CHANGELIST_URL, {"q": "Submariner"}).content.decode()

    assert f'href="{EXPORT_URL}?q=Submariner"' in page


def test_an_export_of_a_filtered_changelist_contains_exactly_its_rows(client, admin_user, catalog):
    client.force_login(admin_user)

    rows = read_csv(client.get(EXPORT_URL, {"brand__id__exact": catalog["rolex"].pk}))

    assert [(row["brand"], row["reference"], row["retailer"]) for row in rows] == [
        ("Rolex", "126500LN", "chrono24"),
        ("Rolex", "126500LN", "jomashop"),
        ("Rolex", "126610LN", ""),
    ]


def test_an_export_follows_the_changelist_search(client, admin_user, catalog):
    client.force_login(admin_user)

    rows = read_csv(client.get(EXPORT_URL, {"q": "speedmaster"}))

    assert [row["reference"] for row in rows] == ["310.30.42.50.01.001"]


def test_an_export_of_a_filter_across_listings_lists_each_product_once(client, admin_user, catalog):
    client.force_login(admin_user)
    jomashop = RetailerFactory(name="Jomashop")

    rows = read_csv(client.get(EXPORT_URL, {"listings__retailer__id__exact": jomashop.pk}))

    assert [(row["reference"], row["retailer"]) for row in rows] == [
        ("126500LN", "chrono24"),
        ("126500LN", "jomashop"),
    ]


def test_the_export_action_exports_the_selected_products(client, admin_user, catalog):
    client.force_login(admin_user)
    submariner = Product.objects.get(reference="126610LN")
    speedmaster = Product.objects.get(reference="310.30.42.50.01.001")

    response = client.post(
        CHANGELIST_URL,
        {
            "action": "export_selected_as_csv",
            "_selected_action": [submariner.pk, speedmaster.pk],
        },
    )

    assert [row["reference"] for row in read_csv(response)] == [
        "310.30.42.50.01.001",
        "126610LN",
    ]


def test_the_export_writes_money_as_plain_decimals_and_dates_as_iso(client, admin_user, db):
    ProductFactory(
        msrp=Decimal("1234567.50"),
        cost=None,
        list_price=Decimal("10000"),
        in_inventory_since=date(2026, 1, 5),
    )
    client.force_login(admin_user)

    [row] = read_csv(client.get(EXPORT_URL))

    assert (row["msrp"], row["cost"], row["list_price"], row["in_inventory_since"]) == (
        "1234567.50",
        "",
        "10000.00",
        "2026-01-05",
    )


def test_the_export_keeps_spreadsheets_from_running_formulas(client, admin_user, db):
    ProductFactory(
        name='=HYPERLINK("http://evil.test","click")',
        reference="+41",
        sku="@SUM(A1)",
        mpn="-2+3",
        description="Plain, harmless = text",
    )
    client.force_login(admin_user)

    [row] = read_csv(client.get(EXPORT_URL))

    assert row["name"] == '\'=HYPERLINK("http://evil.test","click")'
    assert row["reference"] == "'+41"
    assert row["sku"] == "'@SUM(A1)"
    assert row["mpn"] == "'-2+3"
    assert row["description"] == "Plain, harmless = text"


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("=1+1", "'=1+1"),
        ("\t=1", "'\t=1"),
        ("'=1", "''=1"),
        ("'quoted'", "'quoted'"),
        ("Daytona", "Daytona"),
        ("", ""),
    ],
)
def test_escape_cell_quotes_what_a_spreadsheet_would_run(text, escaped):
    assert escape_cell(text) == escaped


def test_the_export_needs_view_permission(client, db):
    client.force_login(UserFactory(is_staff=True))

    assert client.get(EXPORT_URL).status_code == 403


def test_a_user_who_may_view_products_may_export_them(client, db):
    ProductFactory()
    client.force_login(grant(UserFactory(is_staff=True), "catalog.view_product"))

    assert len(read_csv(client.get(EXPORT_URL))) == 1


def test_an_export_imports_back_into_an_empty_catalog_unchanged(client, admin_user, db):
    chrono24 = RetailerFactory(name="Chrono24", slug="chrono24")
    jomashop = RetailerFactory(name="Jomashop", slug="jomashop")
    lange = BrandFactory(name="A. Lange & Söhne", slug="a-lange-sohne")
    lange_1 = ProductFactory(
        brand=lange,
        reference="191.039",
        name="Lange 1",
        category="lange_1",
        description='Three lines,\n"quoted" and; semicolons\nand a tab\there',
        currency="EUR",
        msrp=Decimal("41500.00"),
        cost=Decimal("30000.10"),
        list_price=Decimal("39999.99"),
        sku="ALS-191",
        gtin="4006512345678",
        mpn="191.039-X",
        asin="B0ABCDEF12",
        in_inventory_since=date(2025, 11, 30),
    )
    ListingFactory(
        product=lange_1,
        retailer=chrono24,
        url="https://www.chrono24.com/a-lange-sohne/191039",
        retailer_item_id="C24-9",
    )
    ListingFactory(product=lange_1, retailer=jomashop, url="", retailer_item_id="")
    ProductFactory(
        brand=BrandFactory(name="Tudor"),
        reference="-M79360N",
        name="=Black Bay",
        category="",
        description="",
        msrp=None,
        cost=None,
        list_price=None,
        in_inventory_since=None,
    )
    client.force_login(admin_user)

    def catalog_state():
        return {
            "products": sorted(
                Product.objects.values_list(
                    "brand__name",
                    "reference",
                    "name",
                    "category",
                    "description",
                    "currency",
                    "msrp",
                    "cost",
                    "list_price",
                    "sku",
                    "gtin",
                    "mpn",
                    "asin",
                    "in_inventory_since",
                )
            ),
            "listings": sorted(
                Listing.objects.values_list(
                    "product__reference", "retailer__slug", "url", "retailer_item_id"
                )
            ),
            "brands": sorted(Brand.objects.values_list("name", flat=True)),
        }

    before = catalog_state()
    response = client.get(EXPORT_URL)
    exported = b"".join(response.streaming_content)
    Listing.objects.all().delete()
    Product.objects.all().delete()
    Brand.objects.all().delete()

    result = catalog_import_csv(file=SimpleUploadedFile("catalog.csv", exported), user=admin_user)

    assert result.ok, result.errors
    assert (result.brands_created, result.products_created, result.listings_created) == (
        2,
        2,
        2,
    )
    assert catalog_state() == before
    assert len(before["products"]) == 2
