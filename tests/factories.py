"""factory_boy factories shared by every app's tests."""

from datetime import UTC, date
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from catalog.models import Brand, Listing, Product, Retailer, Review


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("correct horse battery staple")


class BrandFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Brand
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Brand {n}")
    slug = factory.LazyAttribute(lambda b: b.name.lower().replace(" ", "-"))


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    brand = factory.SubFactory(BrandFactory)
    name = factory.Sequence(lambda n: f"Chronograph {n}")
    reference = factory.Sequence(lambda n: f"REF{1000 + n}")
    category = "sports_chronograph"
    currency = "USD"
    msrp = Decimal("10000.00")
    cost = Decimal("6000.00")
    list_price = Decimal("9500.00")
    in_inventory_since = date(2026, 1, 15)


class RetailerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Retailer
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Retailer {n}")
    slug = factory.LazyAttribute(lambda r: r.name.lower().replace(" ", "-"))
    domain = factory.LazyAttribute(lambda r: f"{r.slug}.example.com")
    base_url = factory.LazyAttribute(lambda r: f"https://{r.domain}")
    retailer_type = Retailer.RetailerType.VENDOR
    market_type = Retailer.MarketType.AUTHORIZED_DEALER
    currency = "USD"


class ListingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Listing

    product = factory.SubFactory(ProductFactory)
    retailer = factory.SubFactory(RetailerFactory)
    url = factory.LazyAttribute(
        lambda li: f"{li.retailer.base_url}/watches/{li.product.reference.lower()}"
    )
    currency = "USD"


class ReviewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Review

    product = factory.SubFactory(ProductFactory)
    source = "chrono24"
    text = "Keeps excellent time and the bracelet is superb."
    rating = 5
    posted_at = factory.Faker("date_time_this_year", tzinfo=UTC)
