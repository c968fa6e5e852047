"""Export products and their listings as CSV, in the format ``catalog.imports`` reads.

Rows are written as the database hands them over, so a catalog of 100,000 products streams out
without sitting in memory. See ``catalog.imports`` for the format.
"""

import csv
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

from django.db.models import Prefetch, QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone

from catalog.imports import COLUMN_NAMES, FORMULA_TRIGGERS
from catalog.models import Listing, Product

CHUNK_SIZE = 1000


def escape_cell(text: str) -> str:
    """Keep a spreadsheet from running a cell as a formula; the import takes the quote off."""
    if text.startswith(FORMULA_TRIGGERS) or (
        text.startswith("'") and text[1:2] and text[1] in FORMULA_TRIGGERS
    ):
        return "'" + text
    return text


def format_money(value: Decimal | None) -> str:
    return "" if value is None else f"{value:f}"


def format_date(value: date | None) -> str:
    return "" if value is None else value.isoformat()


def catalog_export_rows(*, products: QuerySet[Product]) -> Iterator[list[str]]:
    """The header, then one row per product at each retailer (one row if it has no listing).

    Any product queryset will do, the admin's annotated and filtered one included: it is read
    again in catalog order, brand then reference, with listings ordered by retailer.
    """
    yield list(COLUMN_NAMES)
    queryset = (
        Product.objects.filter(pk__in=products.values("pk"))
        .select_related("brand")
        .prefetch_related(
            Prefetch(
                "listings",
                queryset=Listing.objects.select_related("retailer").order_by("retailer__slug"),
            )
        )
        .order_by("brand__name", "reference", "pk")
    )
    for product in queryset.iterator(chunk_size=CHUNK_SIZE):
        cells = [
            escape_cell(product.brand.name),
            escape_cell(product.reference),
            escape_cell(product.name),
            escape_cell(product.category),
            escape_cell(product.description),
            product.currency,
            format_money(product.msrp),
            format_money(product.cost),
            format_money(product.list_price),
            escape_cell(product.sku),
            escape_cell(product.gtin),
            escape_cell(product.mpn),
            escape_cell(product.asin),
            format_date(product.in_inventory_since),
        ]
        listings = product.listings.all()
        if not listings:
            yield [*cells, "", "", ""]
        for listing in listings:
            yield [
                *cells,
                listing.retailer.slug,
                escape_cell(listing.url),
                escape_cell(listing.retailer_item_id),
            ]


class _Echo:
    """A file that hands back what is written to it, so csv.writer can feed a generator."""

    def write(self, value: str) -> str:
        return value


def catalog_export_lines(*, products: QuerySet[Product]) -> Iterator[str]:
    # The byte-order mark makes Excel read the file as UTF-8; the import skips it.
    yield "\ufeff"
    writer = csv.writer(_Echo())
    for row in catalog_export_rows(products=products):
        yield writer.writerow(row)


def catalog_export_response(*, products: QuerySet[Product]) -> StreamingHttpResponse:
    filename = f"catalog-{timezone.now():%Y%m%d-%H%M%S}.csv"
    return StreamingHttpResponse(
        catalog_export_lines(products=products),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
