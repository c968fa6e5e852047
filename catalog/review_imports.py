"""Import reviews from CSV, read like the catalog import (catalog.imports) and just as strict.

- UTF-8, with or without a byte-order mark; ``,`` or ``;`` between cells; at most ``MAX_ROWS``
  rows and ``catalog.imports.MAX_BYTES`` bytes. Row 1 names the columns, in any order and case;
  an unknown column is an error.
- ``brand`` and ``reference`` name an existing product (the brand by name, any case, or slug).
- ``rating`` is a whole number of stars, 1 to 5. ``posted_at`` is ``YYYY-MM-DD`` or an ISO 8601
  time (``2026-03-01T10:00:00Z``; without an offset it is UTC). ``text`` is required.
- ``source`` says where the review was read (``csv`` when left out or empty); ``external_id`` is
  the source's own id. Without one, a review is known by its author, day and words.
- A review already imported (same product, source and id) is updated, so a file imports twice
  without doubling anything. The same review twice in one file is an error.

The whole file is checked before anything is written: if any row is wrong nothing is imported,
and every problem comes back as (row, column, message), rows numbered as a spreadsheet shows them.
Each review is scored for sentiment as it is saved.
"""

import logging
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import IntegrityError, transaction
from django.utils.text import slugify

from catalog import services
from catalog.imports import Column, RowError, clean_cell, read_csv_rows
from catalog.models import Brand, Product, Review

logger = logging.getLogger(__name__)

MAX_ROWS = 50_000
DEFAULT_SOURCE = "csv"

COLUMNS = (
    Column("brand", True, "The product's brand, by name or slug, e.g. Rolex."),
    Column("reference", True, "The product's reference, e.g. 126500LN."),
    Column("rating", True, "Stars, a whole number from 1 to 5."),
    Column("text", True, "The review's words; may span lines inside quotes."),
    Column("posted_at", True, "When it was posted: YYYY-MM-DD or 2026-03-01T10:00:00Z."),
    Column("source", False, f'Where it was read, e.g. chrono24; "{DEFAULT_SOURCE}" if empty.'),
    Column("external_id", False, "The source's own id for the review; keeps re-imports single."),
    Column("author", False, "Who wrote it."),
    Column("title", False, "The review's headline."),
)
COLUMN_ORDER = {column.name: index for index, column in enumerate(COLUMNS)}
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
# Review field -> its CSV column, for the model's own checks (lengths).
CHECKED_FIELDS = {"source": "source", "external_id": "external_id", "author": "author"}


@dataclass
class ReviewImportResult:
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        return (
            f"Imported {self.rows} review row{'s' if self.rows != 1 else ''}: "
            f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged."
        )


@dataclass
class ParsedReview:
    number: int
    brand: str
    reference: str
    source: str
    review: services.ReviewInput


def reviews_import_csv(
    *, file: IO[bytes] | File, user: Any = None, max_rows: int = MAX_ROWS
) -> ReviewImportResult:
    """Validate the whole file, then create or update its reviews in one transaction."""
    result = ReviewImportResult()
    rows = read_csv_rows(
        file, max_rows=max_rows, errors=result.errors, columns=COLUMNS, noun="review"
    )
    if rows is None:
        return result
    if not rows and not result.errors:
        result.errors.append(RowError(None, "", "The file has a header but no review rows."))
        return result
    result.rows = len(rows)

    parsed = []
    for number, cells in rows:
        row, problems = parse_review_row(number, cells)
        result.errors.extend(problems)
        if row is not None:
            parsed.append(row)
    groups = _match(parsed, errors=result.errors)
    if result.errors:
        result.errors.sort(key=lambda error: (error.row or 0, COLUMN_ORDER.get(error.field, 99)))
        return result

    try:
        with transaction.atomic():
            for (product, source), reviews in groups.items():
                ingest = services.reviews_ingest(product=product, source=source, reviews=reviews)
                result.created += ingest.created
                result.updated += ingest.updated
                result.unchanged += ingest.unchanged
    except IntegrityError:
        logger.exception("review import hit a constraint after validating")
        return ReviewImportResult(
            rows=result.rows,
            errors=[
                RowError(
                    None,
                    "",
                    "Reviews changed while the file was being imported; nothing was imported. "
                    "Upload it again.",
                )
            ],
        )
    logger.info("review import by %s: %s", user, result.summary())
    return result


# --- One row: text in, typed values out, no database -----------------------------------------


def parse_rating(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 5:
        raise ValueError(f"{text!r} is not a whole number of stars from 1 to 5")
    return int(text)


def parse_posted_at(text: str) -> datetime:
    try:
        if ISO_DAY.fullmatch(text):
            moment = datetime.fromisoformat(text)
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{text!r} is not a date written YYYY-MM-DD or a time like 2026-03-01T10:00:00Z"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+05:00 falls before year 1 in UTC
        raise ValueError(f"{text!r} is outside the dates a review can have") from None


def parse_review_row(
    number: int, cells: dict[str, str]
) -> tuple[ParsedReview | None, list[RowError]]:
    cells = {name: clean_cell(text) for name, text in cells.items()}
    errors: list[RowError] = []
    for column in COLUMNS:
        if column.required and cells.get(column.name, "") == "":
            errors.append(RowError(number, column.name, f"The {column.name} is missing."))
    missing = {error.field for error in errors}
    rating = posted_at = None
    if "rating" not in missing:
        try:
            rating = parse_rating(cells["rating"])
        except ValueError as exc:
            errors.append(RowError(number, "rating", f"The rating {exc}."))
    if "posted_at" not in missing:
        try:
            posted_at = parse_posted_at(cells["posted_at"])
        except ValueError as exc:
            errors.append(RowError(number, "posted_at", f"The posted_at {exc}."))
    source = cells.get("source") or DEFAULT_SOURCE
    values = {
        "source": source,
        "external_id": cells.get("external_id", ""),
        "author": cells.get("author", ""),
    }
    for name, column in CHECKED_FIELDS.items():
        try:
            Review._meta.get_field(name).clean(values[name], None)
        except ValidationError as exc:
            errors.extend(RowError(number, column, message) for message in exc.messages)
    title = cells.get("title", "")
    if len(title) > Review._meta.get_field("title").max_length:
        errors.append(RowError(number, "title", "The title is longer than 200 characters."))
    if errors:
        return None, errors
    review = services.ReviewInput(
        text=cells["text"],
        rating=rating,
        posted_at=posted_at,
        author=values["author"],
        title=title,
        external_id=values["external_id"],
    )
    return ParsedReview(number, cells["brand"], cells["reference"], source, review), []


# --- Matching products, and the same review twice -------------------------------------------


def _match(
    rows: list[ParsedReview], *, errors: list[RowError]
) -> dict[tuple[Product, str], list[services.ReviewInput]]:
    brands: dict[str, Brand] = {}
    for brand in Brand.objects.all():
        brands[brand.name.casefold()] = brand
        brands.setdefault(brand.slug, brand)
    wanted = {
        (brand.pk, row.reference)
        for row in rows
        if (brand := brands.get(row.brand.casefold()) or brands.get(slugify(row.brand)))
    }
    products = {
        (product.brand_id, product.reference): product
        for product in Product.objects.filter(
            brand_id__in={brand_id for brand_id, _ in wanted},
            reference__in={reference for _, reference in wanted},
        )
    }
    groups: dict[tuple[Product, str], list[services.ReviewInput]] = defaultdict(list)
    seen: dict[tuple[int, str, str], int] = {}
    for row in rows:
        brand = brands.get(row.brand.casefold()) or brands.get(slugify(row.brand))
        if brand is None:
            errors.append(RowError(row.number, "brand", f"No brand is called {row.brand!r}."))
            continue
        product = products.get((brand.pk, row.reference))
        if product is None:
            errors.append(
                RowError(
                    row.number,
                    "reference",
                    f"{brand.name} has no product with the reference {row.reference!r}; add "
                    "it to the catalog first.",
                )
            )
            continue
        review = row.review
        key = services.review_key(review.external_id) or services.review_fingerprint(
            author=review.author, posted_at=review.posted_at, text=review.text, title=review.title
        )
        first = seen.setdefault((product.pk, row.source, key), row.number)
        if first != row.number:
            column = "external_id" if review.external_id else "text"
            errors.append(
                RowError(
                    row.number,
                    column,
                    f"This is the same review as row {first} (same product, source and "
                    f"{'external_id' if review.external_id else 'author, day and words'}).",
                )
            )
            continue
        groups[(product, row.source)].append(review)
    return groups
