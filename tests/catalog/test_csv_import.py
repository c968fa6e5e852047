from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from catalog.imports import catalog_import_csv, parse_money, sniff_delimiter
from catalog.models import Brand, Listing, Product
from tests.conftest import grant
from tests.factories import (
    BrandFactory,
    ListingFactory,
    ProductFactory,
    RetailerFactory,
    UserFactory,
)

IMPORT_URL = reverse("admin:catalog_product_import")
CHANGELIST_URL = reverse("admin:catalog_product_changelist")

HEADER = (
    "brand,reference,name,category,description,currency,msrp,cost,list_price,sku,gtin,mpn,asin,"
    "in_inventory_since,retailer,listing_url,retailer_item_id"
)
GOOD_CSV = f"""{HEADER}
Rolex,126500LN,Cosmograph Daytona,rolex_daytona,"Steel, white dial",USD,15100.00,9800.50,14950.00,RLX-1,4006512345678,M126500LN,B0ABCDEF12,2026-01-15,chrono24,https://www.chrono24.com/rolex/126500ln,C24-1
Rolex,126500LN,Cosmograph Daytona,rolex_daytona,"Steel, white dial",USD,15100.00,9800.50,14950.00,RLX-1,4006512345678,M126500LN,B0ABCDEF12,2026-01-15,Jomashop,https://www.jomashop.com/126500ln.html,
Omega,310.30.42.50.01.001,Speedmaster Moonwatch,omega_speedmaster,,CHF,7600,5000,7450.5,,,,,,,,
"""


def upload(text: str | bytes, name: str = "catalog.csv") -> SimpleUploadedFile:
    content = text.encode() if isinstance(text, str) else text
    return SimpleUploadedFile(name, content, content_type="text/csv")


def import_text(text: str | bytes, **kwargs):
    return catalog_import_csv(file=upload(text), user=None, **kwargs)


@pytest.fixture
def retailers(db):
    return [
        RetailerFactory(name="Chrono24", slug="chrono24", currency="EUR"),
        RetailerFactory(name="Jomashop", slug="jomashop", currency="USD"),
    ]


def snapshot():
    return (
        sorted(
            Product.objects.values_list(
                "brand__name", "reference", "name", "currency", "msrp", "cost", "list_price"
            )
        ),
        sorted(Listing.objects.values_list("product__reference", "retailer__slug", "url")),
        sorted(Brand.objects.values_list("name", "slug")),
    )


# --- The admin page --------------------------------------------------------------------------


def test_it_imports_products_listings_and_brands_with_exact_values(client, admin_user, retailers):
    client.force_login(admin_user)

    response = client.post(IMPORT_URL, {"file": upload(GOOD_CSV)}, follow=True)

    assert response.redirect_chain == [(CHANGELIST_URL, 302)]
    assert (
        "Imported 3 rows: products 2 created, 0 updated, 0 unchanged; listings 2 created, "
        "0 updated, 0 unchanged; brands 2 created."
    ) in response.content.decode()
    daytona = Product.objects.get(brand__name="Rolex", reference="126500LN")
    assert daytona.name == "Cosmograph Daytona"
    assert daytona.category == "rolex_daytona"
    assert daytona.description == "Steel, white dial"
    assert (daytona.msrp, daytona.cost, daytona.list_price) == (
        Decimal("15100.00"),
        Decimal("9800.50"),
        Decimal("14950.00"),
    )
    assert (daytona.sku, daytona.gtin, daytona.mpn, daytona.asin) == (
        "RLX-1",
        "4006512345678",
        "M126500LN",
        "B0ABCDEF12",
    )
    assert daytona.in_inventory_since == date(2026, 1, 15)
    assert sorted(daytona.listings.values_list("retailer__slug", "url", "retailer_item_id")) == [
        ("chrono24", "https://www.chrono24.com/rolex/126500ln", "C24-1"),
        ("jomashop", "https://www.jomashop.com/126500ln.html", ""),
    ]
    speedmaster = Product.objects.get(reference="310.30.42.50.01.001")
    assert speedmaster.brand.slug == "omega"
    assert speedmaster.currency == "CHF"
    assert speedmaster.list_price == Decimal("7450.50")
    assert speedmaster.in_inventory_since is None
    assert not speedmaster.listings.exists()


def test_a_file_with_bad_rows_imports_nothing_and_the_page_lists_each_one(
    client, admin_user, retailers
):
    rows = [
        HEADER,
        # row 2 is good, and must not be imported either
        "Rolex,126500LN,Daytona,,,USD,15100.00,,,,,,,,chrono24,,",
        'Rolex,126610LN,Submariner,,,USD,"1,2,3",,,,,,,,,,',
        "Rolex,126710BLRO,GMT-Master II,,,USD,10000,,,,,,,,nowhere,,",
        "Tudor,M79360N,Black Bay Chrono,,,XYZ,5000,,,,,,,,,,",
        "Tudor,M7941A1A0RU,Black Bay 58,,,USD,4000,,,,12345,,,,,,",
        "Tudor,,Pelagos,,,USD,4500,,,,,,,,,,",
        "Rolex,126500LN,Daytona,,,USD,15200.00,,,,,,,,jomashop,,",
        "Omega,310.30,Speedmaster,,,USD,-10,,,,,,,2026-02-30,,,",
    ]
    client.force_login(admin_user)

    response = client.post(IMPORT_URL, {"file": upload("\n".join(rows) + "\n")})

    assert response.status_code == 200
    assert Product.objects.count() == 0
    assert Brand.objects.count() == 0
    assert Listing.objects.count() == 0
    errors = [(e.row, e.field) for e in response.context["result"].errors]
    assert errors == [
        (3, "msrp"),
        (4, "retailer"),
        (5, "currency"),
        (6, "gtin"),
        (7, "reference"),
        (8, "msrp"),
        (9, "msrp"),
        (9, "in_inventory_since"),
    ]
    page = response.content.decode()
    assert "Nothing was imported: 8 problems in this file." in page
    for text in [
        "&#x27;1,2,3&#x27; is not a plain amount",
        "No retailer has the slug or name &#x27;nowhere&#x27;",
        "&#x27;XYZ&#x27; is not an ISO 4217 currency code",
        "A GTIN has 8, 12, 13 or 14 digits.",
        "The reference is missing.",
        "The msrp &#x27;15200.00&#x27; contradicts row 2, which gives &#x27;15100.00&#x27;",
        "The msrp must not be negative.",
        "&#x27;2026-02-30&#x27; is not a real date",
    ]:
        assert text in page
    assert page.count('class="import-error"') == 8


def test_the_import_page_needs_add_and_change_permission(client, db):
    clerk = grant(UserFactory(is_staff=True), "catalog.view_product", "catalog.change_product")
    client.force_login(clerk)

    assert client.get(IMPORT_URL).status_code == 403
    assert client.post(IMPORT_URL, {"file": upload(GOOD_CSV)}).status_code == 403
    assert "Import CSV" not in client.get(CHANGELIST_URL).content.decode()

    merchandiser = grant(clerk, "catalog.add_product")
    client.force_login(merchandiser)
    assert client.get(IMPORT_URL).status_code == 200
    assert "Import CSV" in client.get(CHANGELIST_URL).content.decode()


def test_the_import_page_sends_anonymous_visitors_to_log_in(client):
    response = client.get(IMPORT_URL)

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_the_import_form_rejects_a_post_without_the_csrf_token(admin_user, retailers):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)

    response = client.post(IMPORT_URL, {"file": upload(GOOD_CSV)})

    assert response.status_code == 403
    assert Product.objects.count() == 0


def test_the_import_form_accepts_a_post_with_the_csrf_token(admin_user, retailers):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    page = client.get(IMPORT_URL)
    assert page.status_code == 200

    response = client.post(
        IMPORT_URL,
        {"file": upload(GOOD_CSV), "csrfmiddlewaretoken": client.cookies["csrftoken"].value},
    )

    assert response.status_code == 302
    assert Product.objects.count() == 2


def test_the_import_page_documents_the_format(client, admin_user):
    client.force_login(admin_user)

    page = client.get(IMPORT_URL).content.decode()

    for column in HEADER.split(","):
        assert f"<code>{column}</code>" in page
    assert "at most 50,000 rows" in page


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The submitted file is empty."),
        (b"\xef\xbb\xbf\r\n", "The file is empty."),
        (b"brand,reference,name\xe9\n", "This row is not UTF-8 text (byte 0xE9"),
    ],
)
def test_the_import_page_reports_a_file_it_cannot_read(client, admin_user, content, message):
    client.force_login(admin_user)

    response = client.post(IMPORT_URL, {"file": upload(content)})

    assert response.status_code == 200
    assert message in response.content.decode()


def test_posting_no_file_asks_for_one(client, admin_user):
    client.force_login(admin_user)

    response = client.post(IMPORT_URL, {})

    assert response.status_code == 200
    assert response.context["form"].errors == {"file": ["This field is required."]}


# --- The service -----------------------------------------------------------------------------


def test_reimporting_the_same_file_changes_nothing(retailers):
    import_text(GOOD_CSV)
    before = snapshot()
    updated_at = sorted(Product.objects.values_list("updated_at", flat=True))

    result = import_text(GOOD_CSV)

    assert result.ok
    assert (result.products_created, result.products_updated, result.products_unchanged) == (
        0,
        0,
        2,
    )
    assert (result.listings_created, result.listings_updated, result.listings_unchanged) == (
        0,
        0,
        2,
    )
    assert result.brands_created == 0
    assert snapshot() == before
    assert sorted(Product.objects.values_list("updated_at", flat=True)) == updated_at


def test_a_changed_price_updates_only_that_product(retailers):
    import_text(GOOD_CSV)

    result = import_text(GOOD_CSV.replace("7450.5,", "7399.00,"))

    assert result.ok
    assert (result.products_created, result.products_updated, result.products_unchanged) == (
        0,
        1,
        1,
    )
    assert Product.objects.get(reference="310.30.42.50.01.001").list_price == Decimal("7399.00")


def test_a_changed_listing_url_updates_the_listing(retailers):
    import_text(GOOD_CSV)

    result = import_text(GOOD_CSV.replace("126500ln.html", "rolex-126500ln.html"))

    assert (result.listings_created, result.listings_updated, result.listings_unchanged) == (
        0,
        1,
        1,
    )
    assert Listing.objects.filter(url="https://www.jomashop.com/rolex-126500ln.html").exists()


def test_a_column_left_out_keeps_the_value_and_an_empty_cell_clears_it(db):
    product = ProductFactory(
        brand=BrandFactory(name="Rolex", slug="rolex"),
        reference="126500LN",
        sku="KEEP-ME",
        cost=Decimal("9000.00"),
    )

    result = import_text("brand,reference,name,list_price,cost\nRolex,126500LN,Daytona,14000,\n")

    assert result.ok, result.errors
    product.refresh_from_db()
    assert product.name == "Daytona"
    assert product.list_price == Decimal("14000.00")
    assert product.cost is None
    assert product.sku == "KEEP-ME"
    assert product.msrp == Decimal("10000.00")


def test_brands_and_retailers_are_matched_whatever_their_case(db):
    rolex = BrandFactory(name="Rolex", slug="rolex")
    RetailerFactory(name="Chrono24", slug="chrono24")

    result = import_text("brand,reference,name,retailer\nROLEX,126500LN,Daytona,CHRONO24\n")

    assert result.ok, result.errors
    assert result.brands_created == 0
    assert Product.objects.get().brand == rolex
    assert Listing.objects.get().retailer.slug == "chrono24"


def test_a_new_listing_is_priced_in_its_retailers_currency(retailers):
    import_text(GOOD_CSV)

    assert Listing.objects.get(retailer__slug="chrono24").currency == "EUR"
    assert Listing.objects.get(retailer__slug="jomashop").currency == "USD"


def test_an_import_leaves_the_probes_listing_data_alone(retailers):
    product = ProductFactory(brand=BrandFactory(name="Rolex"), reference="126500LN")
    listing = ListingFactory(
        product=product,
        retailer=retailers[0],
        url="https://www.chrono24.com/old",
        last_price=Decimal("14100.00"),
        available=True,
        active=False,
    )

    import_text(GOOD_CSV)

    listing.refresh_from_db()
    assert listing.url == "https://www.chrono24.com/rolex/126500ln"
    assert (listing.last_price, listing.available, listing.active) == (
        Decimal("14100.00"),
        True,
        False,
    )


def test_it_reads_semicolons_and_a_byte_order_mark(retailers):
    text = (
        HEADER.replace(",", ";")
        + '\nRolex;126500LN;Daytona, steel;;"Dial; white";USD;15100.00;;;;;;;;chrono24;;\n'
    )

    result = catalog_import_csv(file=upload(b"\xef\xbb\xbf" + text.encode()), user=None)

    assert result.ok, result.errors
    product = Product.objects.get()
    assert product.name == "Daytona, steel"
    assert product.description == "Dial; white"
    assert product.msrp == Decimal("15100.00")


def test_it_reads_windows_line_endings(retailers):
    result = import_text(GOOD_CSV.replace("\n", "\r\n"))

    assert result.ok, result.errors
    assert Product.objects.count() == 2


def test_header_names_are_read_in_any_case_and_order(db):
    result = import_text("Name, Reference ,BRAND,List Price\nDaytona,126500LN,Rolex,14000\n")

    assert result.ok, result.errors
    assert Product.objects.get().list_price == Decimal("14000.00")


def test_it_names_the_missing_header_columns(db):
    result = import_text("brand,name,msrp\nRolex,Daytona,100\n")

    assert [(e.row, e.message) for e in result.errors] == [
        (1, "The header lacks the required column reference. Row 1 must name the columns.")
    ]
    assert Product.objects.count() == 0


def test_it_refuses_unknown_columns_rather_than_skip_them(db):
    result = import_text("brand,reference,name,price\nRolex,126500LN,Daytona,100\n")

    assert len(result.errors) == 1
    assert result.errors[0].message.startswith("Unknown column price: rename or remove it.")
    assert Product.objects.count() == 0


def test_it_reports_a_file_that_is_not_utf8(db):
    text = "brand,reference,name\nRolex,126500LN,Daytona\nA. Lange & Söhne,191.039,Lange 1\n"

    result = import_text(text.encode("latin-1"))

    assert [(e.row, e.field) for e in result.errors] == [(3, "")]
    assert "not UTF-8" in result.errors[0].message
    assert "0xF6" in result.errors[0].message
    assert Product.objects.count() == 0


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf", b"\n\n  \n"])
def test_it_reports_an_empty_file(db, content):
    result = import_text(content)

    assert [e.message for e in result.errors] == ["The file is empty."]


def test_it_reports_a_header_without_rows(db):
    result = import_text(HEADER + "\n,,,,,,,,,,,,,,,,\n")

    assert [e.message for e in result.errors] == ["The file has a header but no product rows."]


def test_it_refuses_a_file_with_more_rows_than_the_cap(db):
    rows = "".join(f"Rolex,REF{n},Watch {n}\n" for n in range(4))

    result = import_text("brand,reference,name\n" + rows, max_rows=3)

    assert [e.message for e in result.errors] == [
        "The file has more than 3 product rows; split it into smaller files."
    ]
    assert Product.objects.count() == 0


def test_row_numbers_are_the_ones_a_spreadsheet_shows(db):
    text = (
        "brand,reference,name,description,msrp\n"
        'Rolex,126500LN,Daytona,"Two\nlines",100\n'
        "\n"
        "Rolex,126610LN,Submariner,,abc\n"
    )

    result = import_text(text)

    assert [(e.row, e.field) for e in result.errors] == [(4, "msrp")]


def test_a_row_with_too_few_cells_is_reported(db):
    result = import_text("brand,reference,name,msrp\nRolex,126500LN,Daytona\n")

    assert [(e.row, e.field) for e in result.errors] == [(2, "")]
    assert "has 3 cells where the header has 4" in result.errors[0].message


def test_a_listing_needs_a_retailer(db):
    result = import_text(
        "brand,reference,name,retailer,listing_url\nRolex,126500LN,Daytona,,https://x.test/a\n"
    )

    assert [(e.row, e.field) for e in result.errors] == [(2, "retailer")]


def test_the_models_validators_check_each_field(db):
    result = import_text(
        "brand,reference,name,category,asin,listing_url,retailer\n"
        f"Rolex,{'R' * 65},Daytona,not a slug,b0abc,not a url,\n"
    )

    assert [(e.row, e.field) for e in result.errors] == [
        (2, "reference"),
        (2, "category"),
        (2, "asin"),
        (2, "retailer"),
    ]
    assert "at most 64 characters" in result.errors[0].message


def test_repeated_rows_that_agree_import_once(retailers):
    line = GOOD_CSV.splitlines()[3]

    result = import_text(f"{HEADER}\n{line}\n{line}\n")

    assert result.ok, result.errors
    assert result.products_created == 1


def test_two_rows_for_one_listing_must_agree(retailers):
    result = import_text(
        "brand,reference,name,retailer,listing_url\n"
        "Rolex,126500LN,Daytona,chrono24,https://a.test/1\n"
        "Rolex,126500LN,Daytona,Chrono24,https://a.test/2\n"
    )

    assert [(e.row, e.field) for e in result.errors] == [(3, "listing_url")]
    assert "contradicts row 2" in result.errors[0].message


def test_a_quote_the_export_put_before_a_formula_is_taken_off(db):
    result = import_text("brand,reference,name\nRolex,'-126500,'=SUM(A1)\n")

    assert result.ok, result.errors
    product = Product.objects.get()
    assert (product.reference, product.name) == ("-126500", "=SUM(A1)")


@pytest.mark.parametrize(
    ("text", "amount"),
    [("14800", Decimal("14800")), ("14800.5", Decimal("14800.5")), ("0.99", Decimal("0.99"))],
)
def test_plain_amounts_parse_as_exact_decimals(text, amount):
    assert parse_money(text) == amount


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("1,2,3", "is not a plain amount"),
        ("14,800.00", "is not a plain amount"),
        ("$100", "is not a plain amount"),
        ("1e5", "is not a plain amount"),
        ("NaN", "is not a plain amount"),
        ("-5", "must not be negative"),
        ("1.234", "has more than 2 decimals"),
        ("12345678901", "is too large"),
    ],
)
def test_anything_but_a_plain_amount_is_refused(text, reason):
    with pytest.raises(ValueError, match=reason):
        parse_money(text)


@pytest.mark.parametrize(
    ("sample", "delimiter"),
    [
        ("brand,reference,name\nRolex,126500;LN,Daytona\nOmega,311,Speedmaster\n", ","),
        ("brand;reference;name\nRolex;126500LN;Daytona, steel\nOmega;311;Moon, watch\n", ";"),
        ("brand\nRolex\n", ","),
    ],
)
def test_the_delimiter_is_guessed_from_a_sample(sample, delimiter):
    assert sniff_delimiter(sample) == delimiter
