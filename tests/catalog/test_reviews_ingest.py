"""reviews_ingest(): the one path every review source goes through."""

import pytest

from catalog.models import Review
from catalog.services import ReviewInput, reviews_ingest
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def test_a_source_longer_than_its_column_finds_its_reviews_on_the_next_reading():
    product = ProductFactory()
    source = "marketplace-" + "x" * 150
    review = ReviewInput(text="Keeps good time", rating=5, author="Ann", external_id="r-1")

    first = reviews_ingest(product=product, source=source, reviews=[review])
    second = reviews_ingest(product=product, source=source, reviews=[review])

    assert (first.created, second.created, second.unchanged) == (1, 0, 1)
    assert Review.objects.get().source == source[:100]
