"""The product page shows the review sentiment trend beside the price history."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalog import services
from tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def viewer(client):
    client.force_login(UserFactory())
    return client


def review(product, text, rating, posted_at, **kwargs):
    return services.review_create(
        product=product, source="forum", text=text, rating=rating, posted_at=posted_at, **kwargs
    )


def page_of(client, product) -> str:
    response = client.get(reverse("pricing:product-detail", args=[product.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_product_page_shows_sentiment_by_month_and_the_latest_reviews(viewer):
    product = ProductFactory()
    review(product, "Wonderful watch, I love it.", 5, datetime(2026, 1, 5, tzinfo=UTC))
    review(product, "Great, very happy.", 4, datetime(2026, 1, 20, tzinfo=UTC))
    review(
        product,
        "Awful, it broke after a week.",
        1,
        datetime(2026, 3, 2, tzinfo=UTC),
        title="Avoid",
        author="Ben",
    )

    page = page_of(viewer, product)

    assert 'id="sentiment"' in page
    section = page[page.index('id="sentiment"') :]
    january = section[section.index('data-month="2026-01"') :]
    march = section[section.index('data-month="2026-03"') :]
    assert january.index('<td class="num">2</td>') < january.index("</tr>")
    assert 'aria-label="positive"' in january[: january.index("</tr>")]
    assert 'aria-label="negative"' in march[: march.index("</tr>")]
    assert "67%" in section  # two of three positive
    latest = section[section.index('class="latest-reviews"') :]
    assert latest.index("Avoid") < latest.index("Great, very happy.")
    assert '<span class="badge sentiment-label" data-field="sentiment-label">Negative' in latest


def test_a_product_without_reviews_says_so(viewer):
    page = page_of(viewer, ProductFactory())

    assert "No reviews yet" in page


def test_the_page_reads_as_many_queries_for_40_reviews_as_for_2(viewer):
    few, many = ProductFactory(), ProductFactory()
    for day in (1, 2):
        review(few, f"Good watch {day}.", 4, datetime(2026, 1, day, tzinfo=UTC))
    for index in range(40):
        posted = datetime(2025 + index // 24, index % 12 + 1, index % 27 + 1, tzinfo=UTC)
        review(many, f"Review number {index}, fine.", 3, posted)
    page_of(viewer, few)

    with CaptureQueriesContext(connection) as for_few:
        page_of(viewer, few)
    with CaptureQueriesContext(connection) as for_many:
        page = page_of(viewer, many)

    assert len(for_many) == len(for_few)
    assert page.count('class="sentiment-month"') == 12
    assert page.count('class="review review-') == 5
