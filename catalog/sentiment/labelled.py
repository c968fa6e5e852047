"""The labelled review set the sentiment benchmark measures against: plain data, no Django.

labelled_reviews.csv holds, one row each:

- every review on the real retailer pages in shared/pages/real (origin ``real``), as
  scraping.extraction.reviews reads them; and
- the demo's review texts (origin ``written``): catalog.demo.SHOP_REVIEWS and REVIEW_TEXTS, which
  we wrote ourselves, so they are weak evidence and reported apart.

The label comes from the stars, never from the words: 4-5 positive, 1-2 negative. Three-star
reviews are kept in the file with an empty label and left out of the accuracy figures.
``bench/sentiment_bench.py --write-set`` rebuilds the file.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from catalog.sentiment import Label, label_from_rating

LABELLED_SET = Path(__file__).with_name("labelled_reviews.csv")
FIELDS = ("origin", "source", "rating", "label", "title", "text")


@dataclass(frozen=True)
class LabelledReview:
    origin: str  # "real" or "written"
    source: str  # the page file, or the demo list it comes from
    rating: int
    label: Label | None
    title: str
    text: str


def labelled_reviews(path: Path = LABELLED_SET) -> list[LabelledReview]:
    with path.open(encoding="utf-8", newline="") as file:
        return [
            LabelledReview(
                origin=row["origin"],
                source=row["source"],
                rating=int(row["rating"]),
                label=Label(row["label"]) if row["label"] else None,
                title=row["title"],
                text=row["text"],
            )
            for row in csv.DictReader(file)
        ]


def write_labelled_reviews(rows: list[LabelledReview], path: Path = LABELLED_SET) -> None:
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(FIELDS)
        for row in rows:
            label = label_from_rating(row.rating)
            writer.writerow([row.origin, row.source, row.rating, label or "", row.title, row.text])
