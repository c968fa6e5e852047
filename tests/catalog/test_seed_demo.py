import pytest
from django.core.management import call_command

from catalog.models import Brand, Listing, Product, Retailer, Review

pytestmark = pytest.mark.django_db


def counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Brand, Product, Retailer, Listing, Review)
    }


def test_seed_demo_builds_a_realistic_luxury_watch_catalog(capsys):
    call_command("seed_demo")

    assert Product.objects.count() >= 30
    assert {"Rolex", "Patek Philippe", "Audemars Piguet", "Omega"} <= set(
        Brand.objects.values_list("name", flat=True)
    )
    assert Retailer.objects.count() >= 5
    assert {kind for kind, _ in Retailer.MarketType.choices} <= set(
        Retailer.objects.values_list("market_type", flat=True)
    )
    daytona = Product.objects.get(reference="126500LN")
    assert daytona.cost < daytona.msrp
    assert daytona.listings.exists()
    assert Review.objects.filter(product=daytona).exists()
    assert "33 products" in capsys.readouterr().out


def test_running_seed_demo_twice_changes_nothing():
    call_command("seed_demo")
    first = counts()
    prices = dict(Product.objects.values_list("reference", "list_price"))

    call_command("seed_demo")

    assert counts() == first
    assert dict(Product.objects.values_list("reference", "list_price")) == prices


def test_ensure_demo_admin_prints_credentials_that_log_in(client, settings, tmp_path, capsys):
    settings.VAR_DIR = tmp_path
    call_command("ensure_demo_admin")
    line = capsys.readouterr().out.strip()
    username, password = line.split(":", 1)[1].strip().split(" / ")

    assert client.login(username=username, password=password)

    call_command("ensure_demo_admin")
    assert capsys.readouterr().out.strip() == line
