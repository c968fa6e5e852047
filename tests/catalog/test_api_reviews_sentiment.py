"""/api/reviews carries each review's sentiment and refuses duplicates;
/api/watches/{id}/sentiment sums a watch's reviews up by month."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from catalog import services
from catalog.models import Review
from catalog.sentiment import SCORER
from tests.conftest import grant
from tests.factories import ListingFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def throttle_counts_start_empty(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def reader(api_client, user):
    api_client.force_login(user)
    return api_client


@pytest.fixture
def writer(api_client, user):
    api_client.force_login(grant(user, "catalog.add_review"))
    return api_client


def payload(watch, **overrides):
    return {
        "product": watch.pk,
        "source": "chrono24",
        "author": "Ana",
        "title": "Love it",
        "text": "Superb finishing, keeps perfect time. I am delighted.",
        "rating": 5,
        "posted_at": "2026-02-01T10:00:00Z",
    } | overrides


def review(watch, text, rating, posted_at, **kwargs):
    return services.review_create(
        product=watch, source="forum", text=text, rating=rating, posted_at=posted_at, **kwargs
    )


def test_a_posted_review_comes_back_with_its_sentiment(writer):
    response = writer.post("/api/reviews", payload(ProductFactory()))

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["sentiment_label"] == "positive"
    assert body["sentiment_score"] > 0.5
    assert body["sentiment_scorer"] == SCORER
    assert body["external_id"].startswith("sha256:")


def test_a_negative_review_is_labelled_negative(writer):
    text = "Terrible. The crystal arrived cracked and the dealer refused a refund."

    response = writer.post("/api/reviews", payload(ProductFactory(), text=text, title=""))

    assert response.json()["sentiment_label"] == "negative"
    assert response.json()["sentiment_score"] < -0.5


def test_sentiment_cannot_be_written_by_the_client(writer):
    watch = ProductFactory()

    response = writer.post(
        "/api/reviews", payload(watch, sentiment_label="negative", sentiment_score=-1)
    )

    assert response.status_code == 201
    assert Review.objects.get().sentiment_label == "positive"


def test_posting_the_same_review_twice_without_an_id_is_a_400_naming_external_id(writer):
    watch = ProductFactory()
    writer.post("/api/reviews", payload(watch))

    # The same author, day and words, written a little differently.
    again = payload(watch, text="  superb finishing,  keeps perfect time. I am DELIGHTED.")
    again["posted_at"] = "2026-02-01T18:30:00Z"
    response = writer.post("/api/reviews", again)

    assert response.status_code == 400
    assert set(response.json()) == {"external_id"}
    assert Review.objects.count() == 1


def test_the_same_external_id_from_another_source_is_another_review(writer):
    watch = ProductFactory()
    writer.post("/api/reviews", payload(watch, external_id="r-1"))

    response = writer.post("/api/reviews", payload(watch, external_id="r-1", source="jomashop"))

    assert response.status_code == 201
    assert Review.objects.count() == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"text": ""}, "text"),
        ({"rating": 7}, "rating"),
        ({"posted_at": "yesterday"}, "posted_at"),
        ({"product": 999999}, "product"),
    ],
)
def test_a_bad_review_is_a_400_naming_the_field(writer, change, field):
    response = writer.post("/api/reviews", payload(ProductFactory(), **change))

    assert response.status_code == 400
    assert field in response.json()
    assert not Review.objects.exists()


def test_posting_a_review_needs_the_add_review_permission(reader):
    response = reader.post("/api/reviews", payload(ProductFactory()))

    assert response.status_code == 403
    assert not Review.objects.exists()


def test_reviews_filter_by_sentiment(reader):
    watch = ProductFactory()
    good = review(watch, "Wonderful, I love it.", 5, datetime(2026, 1, 5, tzinfo=UTC))
    review(watch, "Awful, it broke.", 1, datetime(2026, 1, 6, tzinfo=UTC))

    response = reader.get("/api/reviews", {"sentiment_label": "positive"})

    assert [row["id"] for row in response.json()["results"]] == [good.pk]


def test_the_sentiment_of_a_watch_is_summed_up_by_month(reader):
    watch = ProductFactory()
    review(watch, "Wonderful, I love it.", 5, datetime(2026, 1, 5, tzinfo=UTC))
    review(watch, "Great watch, very happy.", 4, datetime(2026, 1, 28, tzinfo=UTC))
    review(watch, "Awful, it broke after a week.", 1, datetime(2026, 3, 2, tzinfo=UTC))
    review(ProductFactory(), "Terrible.", 1, datetime(2026, 1, 5, tzinfo=UTC))

    response = reader.get(f"/api/watches/{watch.pk}/sentiment")

    assert response.status_code == 200
    body = response.json()
    assert (body["reviews"], body["positive"], body["neutral"], body["negative"]) == (3, 2, 0, 1)
    assert body["average_rating"] == pytest.approx(10 / 3, abs=0.01)
    assert body["scorer"] == SCORER
    assert [(m["month"], m["reviews"], m["negative"]) for m in body["months"]] == [
        ("2026-01-01", 2, 0),
        ("2026-03-01", 1, 1),
    ]
    assert body["months"][0]["average_score"] > 0 > body["months"][1]["average_score"]


def test_a_watch_without_reviews_has_an_empty_sentiment(reader):
    response = reader.get(f"/api/watches/{ProductFactory().pk}/sentiment")

    assert response.json()["reviews"] == 0
    assert response.json()["average_score"] is None
    assert response.json()["months"] == []


def test_a_listings_sentiment_counts_only_the_reviews_read_from_its_retailer(reader):
    listing = ListingFactory()
    when = datetime(2026, 3, 5, tzinfo=UTC)
    services.review_create(
        product=listing.product,
        source=listing.retailer.slug,
        text="Superb, I love it.",
        rating=5,
        posted_at=when,
    )
    review(listing.product, "Terrible, it arrived broken.", 1, when)  # from a forum

    at_retailer = reader.get(f"/api/listings/{listing.pk}/sentiment").json()
    whole = reader.get(f"/api/watches/{listing.product_id}/sentiment").json()

    assert (at_retailer["reviews"], at_retailer["positive"], at_retailer["negative"]) == (1, 1, 0)
    assert (whole["reviews"], whole["negative"]) == (2, 1)
    assert reader.get("/api/listings/999999/sentiment").status_code == 404


def test_sentiment_needs_a_signed_in_user(api_client):
    response = api_client.get(f"/api/watches/{ProductFactory().pk}/sentiment")

    assert response.status_code in (401, 403)


def test_listings_show_the_retailers_average_rating(reader):
    listing = ListingFactory()
    services.listing_rating_record(listing=listing, value=Decimal("4.37"), count=120)

    response = reader.get(f"/api/listings/{listing.pk}")

    assert (response.json()["rating_value"], response.json()["rating_count"]) == ("4.37", 120)
