"""Reading schema.org Review and AggregateRating from product pages: real pages and snippets."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path

import pytest

from scraping.extraction.result import PageReviews
from scraping.extraction.reviews import extract_reviews, stars

PAGES = Path(__file__).resolve().parents[2].parent / "shared" / "pages" / "real"
MANIFEST = {entry["file"]: entry for entry in json.loads((PAGES / "manifest.json").read_text())}


@cache
def reviews_of(file: str) -> PageReviews:
    return extract_reviews((PAGES / file).read_bytes(), url=MANIFEST[file]["url"])


def page(*blocks: object, body: str = "") -> str:
    scripts = "".join(
        f'<script type="application/ld+json">{json.dumps(block)}</script>' for block in blocks
    )
    return f"<html><head>{scripts}</head><body>{body}</body></html>"


@pytest.mark.parametrize(
    ("file", "count", "rating", "rating_count"),
    [
        ("bestbuy-us-gpu-in-stock.html", 8, "4.40", 771),
        ("bestbuy-us-gpu-sold-out.html", 8, "4.80", 44),
        ("etsy-eur-listing.html", 4, "4.83", 1027),
        ("newegg-us-gpu-sold-out.html", 4, "4.00", 11),
        ("wayfair-us-armchair.html", 10, "4.50", 473),
    ],
)
def test_it_reads_every_review_and_the_aggregate_rating_of_real_pages(
    file, count, rating, rating_count
):
    found = reviews_of(file)

    assert len(found.reviews) == count
    assert found.rating is not None
    assert (found.rating.value, found.rating.count) == (Decimal(rating), rating_count)
    assert found.skipped == {}
    assert all(review.text and 1 <= review.rating <= 5 for review in found.reviews)


def test_it_reads_bestbuys_standalone_review_blocks_with_headline_author_and_stars():
    first = reviews_of("bestbuy-us-gpu-in-stock.html").reviews[0]

    assert first.author == "CZFOXX"
    assert first.title == "Good but the fans..."
    assert first.text.startswith("Good card. Fans were a little loud.")
    assert first.rating == 4
    # Best Buy does not date its reviews; the probe dates them when it first reads them.
    assert first.posted_at is None


def test_it_reads_reviews_nested_in_the_product_with_their_dates():
    first = reviews_of("wayfair-us-armchair.html").reviews[0]

    assert (first.author, first.rating) == ("Rebecca", 5)
    assert first.posted_at == datetime(2016, 5, 12, tzinfo=UTC)
    assert first.text.startswith("Super easy to assemble")


def test_newegg_reviews_keep_their_headline_apart_from_their_body():
    first = reviews_of("newegg-us-gpu-sold-out.html").reviews[0]

    assert first.title.startswith("Insane performance")
    assert first.text.startswith("Pros: super silent")


def test_it_reads_a_microdata_aggregate_rating():
    found = reviews_of("walmart-us-game-microdata.html")

    assert found.rating is not None
    assert (found.rating.value, found.rating.count) == (Decimal("3.40"), 72)


def test_a_page_without_reviews_gives_none():
    found = reviews_of("newegg-us-pc-in-stock.html")

    assert found.reviews == []
    assert found.rating is None


@pytest.mark.parametrize(
    ("value", "best", "worst", "expected"),
    [
        (5, None, None, 5),
        ("4", "5", "1", 4),
        (8, 10, 0, 4),
        (10, 10, 1, 5),
        (1, 10, 1, 1),
        ("4,5", None, None, 5),
        (6, 5, 1, None),
        ("great", None, None, None),
    ],
)
def test_ratings_on_any_scale_become_one_to_five_stars(value, best, worst, expected):
    assert stars(value, best, worst) == expected


def test_reviews_without_words_or_a_rating_are_skipped_and_counted():
    product = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": "Submariner",
        "review": [
            {"@type": "Review", "reviewBody": "Superb.", "reviewRating": {"ratingValue": 5}},
            {"@type": "Review", "reviewBody": "", "reviewRating": {"ratingValue": 2}},
            {"@type": "Review", "reviewBody": "No stars given."},
            {"@type": "Review", "reviewBody": "Eleven!", "reviewRating": {"ratingValue": 11}},
        ],
    }

    found = extract_reviews(page(product), url="https://shop.test/sub")

    assert [review.text for review in found.reviews] == ["Superb."]
    assert found.skipped == {"no_text": 1, "no_rating": 1, "bad_rating": 1}


def test_graph_reviews_of_the_page_product_count_and_reviews_of_other_products_do_not():
    graph = {
        "@context": "https://schema.org",
        "@graph": [
            {"@type": "Product", "@id": "https://shop.test/sub#product", "name": "Submariner"},
            {
                "@type": "Review",
                "@id": "https://shop.test/reviews/1",
                "itemReviewed": {"@id": "https://shop.test/sub#product"},
                "author": {"@type": "Person", "name": "Ana"},
                "datePublished": "2026-03-04T10:00:00+01:00",
                "reviewBody": "Keeps perfect time.",
                "reviewRating": {"@type": "Rating", "ratingValue": "7", "bestRating": "10"},
            },
            {
                "@type": "Review",
                "itemReviewed": {"@type": "Product", "name": "A strap"},
                "reviewBody": "Cheap strap.",
                "reviewRating": {"ratingValue": 1},
            },
            {
                "@type": "AggregateRating",
                "itemReviewed": {"@id": "https://shop.test/sub#product"},
                "ratingValue": 4.5,
                "ratingCount": 12,
            },
        ],
    }

    found = extract_reviews(page(graph), url="https://shop.test/sub")

    [review] = found.reviews
    assert (review.author, review.rating) == ("Ana", 4)
    assert review.external_id == "https://shop.test/reviews/1"
    assert review.posted_at == datetime(2026, 3, 4, 9, tzinfo=UTC)
    assert found.rating is not None
    assert (found.rating.value, found.rating.count) == (Decimal("4.50"), 12)
    assert found.skipped == {"other_product": 1}


def test_it_reads_microdata_reviews_inside_the_product():
    body = """
    <div itemscope itemtype="https://schema.org/Product">
      <h1 itemprop="name">Speedmaster</h1>
      <div itemprop="aggregateRating" itemscope itemtype="https://schema.org/AggregateRating">
        <span itemprop="ratingValue">4.2</span> from <span itemprop="reviewCount">9</span>
      </div>
      <div itemprop="review" itemscope itemtype="https://schema.org/Review">
        <span itemprop="author" itemscope itemtype="https://schema.org/Person">
          <span itemprop="name">Marc</span></span>
        <meta itemprop="datePublished" content="2025-11-02">
        <h3 itemprop="name">Moon ready</h3>
        <div itemprop="reviewRating" itemscope itemtype="https://schema.org/Rating">
          <meta itemprop="ratingValue" content="2"><meta itemprop="bestRating" content="5">
        </div>
        <p itemprop="reviewBody">The crystal scratched within a week.</p>
      </div>
    </div>"""

    found = extract_reviews(page(body=body), url="https://shop.test/speedy")

    [review] = found.reviews
    assert (review.author, review.title, review.rating) == ("Marc", "Moon ready", 2)
    assert review.text == "The crystal scratched within a week."
    assert review.posted_at == datetime(2025, 11, 2, tzinfo=UTC)
    assert found.rating is not None
    assert (found.rating.value, found.rating.count) == (Decimal("4.20"), 9)


def test_broken_json_ld_is_passed_over_without_a_crash():
    html = '<script type="application/ld+json">{"@type": "Review", "reviewBody": </script>'

    assert extract_reviews(html, url=None) == PageReviews()


def test_a_date_whose_offset_leaves_the_calendar_is_no_date_and_the_review_is_kept():
    html = """<script type="application/ld+json">{"@type": "Review", "author": "Ann",
    "datePublished": "0001-01-01T00:00:00+05:00", "reviewBody": "Lovely dial",
    "reviewRating": {"ratingValue": 5}}</script>"""

    [review] = extract_reviews(html, url=None).reviews

    assert (review.author, review.text, review.posted_at) == ("Ann", "Lovely dial", None)


def test_an_id_every_review_shares_is_the_pages_not_a_reviews_and_is_dropped():
    review = """{{"@type": "Review", "url": "{url}", "author": "{author}", "reviewBody": "{text}",
    "reviewRating": {{"ratingValue": 5}}}}"""
    page_url = "https://shop.example.com/watch"
    blocks = [
        review.format(url=page_url, author="Ann", text="Lovely dial"),
        review.format(url="https://other.example.com/p", author="Bo", text="Heavy"),
        review.format(url="https://other.example.com/p", author="Cy", text="Crisp"),
        review.format(url="https://shop.example.com/reviews/4", author="Di", text="Good"),
    ]
    html = f'<script type="application/ld+json">[{", ".join(blocks)}]</script>'

    found = extract_reviews(html, url=page_url).reviews

    assert [(r.author, r.external_id) for r in found] == [
        ("Ann", ""),
        ("Bo", ""),
        ("Cy", ""),
        ("Di", "https://shop.example.com/reviews/4"),
    ]
