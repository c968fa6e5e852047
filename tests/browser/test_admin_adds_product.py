import pytest

from catalog.models import Product
from ledger.models import LedgerEntry
from tests.browser.conftest import log_in
from tests.factories import BrandFactory, RetailerFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def choose_in_autocomplete(page, select_id: str, text: str) -> None:
    """Pick an option in one of the admin's select2 autocomplete boxes, as a person does."""
    page.locator(f"#{select_id} + .select2").click()
    page.locator(".select2-container--open .select2-search__field").fill(text)
    page.locator(".select2-results__option", has_text=text).click()


def test_an_admin_adds_a_product_with_a_listing_and_sees_it_in_the_list(page):
    UserFactory(username="merch", is_staff=True, is_superuser=True)
    BrandFactory(name="Rolex", slug="rolex")
    retailer = RetailerFactory(name="Hallmark Jewelers", slug="hallmark-jewelers")

    log_in(page, username="merch", password="correct horse battery staple")
    page.goto("/admin/catalog/product/add/")
    choose_in_autocomplete(page, "id_brand", "Rolex")
    page.fill("#id_name", "Submariner Date")
    page.fill("#id_reference", "126610LN")
    page.fill("#id_category", "rolex_submariner")
    page.fill("#id_msrp", "10250.00")
    page.fill("#id_list_price", "10250.00")
    page.get_by_text("Add another Listing").click()
    choose_in_autocomplete(page, "id_listings-0-retailer", "Hallmark Jewelers")
    page.fill("#id_listings-0-url", "https://hallmark.example.com/watches/rolex/126610ln")
    page.click("input[name=_save]")

    page.wait_for_url("**/admin/catalog/product/")
    assert page.locator("#result_list").get_by_text("126610LN").is_visible()
    product = Product.objects.get(reference="126610LN")
    assert product.listings.get().retailer == retailer
    assert str(product.msrp) == "10250.00"
    recorded = LedgerEntry.objects.get(product=product)
    assert recorded.kind == LedgerEntry.Kind.LIST_PRICE_SET
    assert '"list_price":"10250.00"' in recorded.payload
    assert '"changed_by":"merch"' in recorded.payload
