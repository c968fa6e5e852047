import pytest

from catalog.models import Product
from tests.browser.conftest import log_in
from tests.factories import BrandFactory, RetailerFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_adds_a_product_with_a_listing_and_sees_it_in_the_list(page):
    UserFactory(username="merch", is_staff=True, is_superuser=True)
    brand = BrandFactory(name="Rolex", slug="rolex")
    retailer = RetailerFactory(name="Hallmark Jewelers", slug="hallmark-jewelers")

    log_in(page, username="merch", password="correct horse battery staple")
    page.goto("/admin/catalog/product/add/")
    page.select_option("#id_brand", str(brand.pk))
    page.fill("#id_name", "Submariner Date")
    page.fill("#id_reference", "126610LN")
    page.fill("#id_category", "rolex_submariner")
    page.fill("#id_msrp", "10250.00")
    page.fill("#id_list_price", "10250.00")
    page.select_option("#id_listings-0-retailer", str(retailer.pk))
    page.fill("#id_listings-0-url", "https://hallmark.example.com/watches/rolex/126610ln")
    page.click("input[name=_save]")

    page.wait_for_url("**/admin/catalog/product/")
    assert page.locator("#result_list").get_by_text("126610LN").is_visible()
    product = Product.objects.get(reference="126610LN")
    assert product.listings.get().retailer == retailer
    assert str(product.msrp) == "10250.00"
