"""Import a catalog from CSV: products, their brands, and their listings at retailers.

The format, which ``catalog.exports`` writes too, so an export imports back unchanged:

- UTF-8 text, with or without a byte-order mark; cells separated by ``,`` or ``;`` (guessed
  from the first 64 KB); cells quoted with ``"`` where they hold a separator, a quote or a line
  break. At most ``MAX_ROWS`` rows and ``MAX_BYTES`` bytes.
- Row 1 names the columns, in any order, in any case. ``brand``, ``reference`` and ``name`` are
  required; the others (see ``COLUMNS``) are optional. A column left out leaves that field of an
  existing product untouched (a new product gets the model's default); a column present but
  empty in a row clears the field. A column we do not know is an error, not ignored: a misspelt
  ``list price`` must not be silently skipped.
- One row per product at one retailer. A product with no listing has empty ``retailer``,
  ``listing_url`` and ``retailer_item_id``; a product at three retailers takes three rows, whose
  product columns must agree.
- ``brand`` is matched by name (any case) or slug and created if missing. ``retailer`` must exist
  and is matched by slug or name (any case). A product is matched by brand and reference and
  created or updated; a listing by product and retailer. A new listing is priced in its
  retailer's currency; prices, availability and activity of listings belong to the probes and are
  not part of the file.
- Money is a plain decimal: digits, optionally a dot and one or two decimals (``14800.00``); no
  thousands separators, currency signs or minus. ``currency`` is an ISO 4217 code. Dates are
  ``YYYY-MM-DD``. GTIN and ASIN are checked by the model's validators.
- A cell starting with ``'`` followed by ``=``, ``+``, ``-``, ``@``, tab or carriage return loses
  the quote: the export adds it so that spreadsheets do not run the cell as a formula.

The file is validated in full before anything is written. If any row is wrong nothing is
imported, and every problem comes back as (row, column, message), row numbers counted as a
spreadsheet shows them (the header is row 1). Otherwise everything is written in one transaction.
"""

import codecs
import csv
import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import IO, Any, NamedTuple

from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from catalog.currencies import CURRENCY_CODES
from catalog.models import Brand, Listing, Product, Retailer
from catalog.signals import ListPriceChange, announce_list_prices

logger = logging.getLogger(__name__)

MAX_ROWS = 50_000
MAX_BYTES = 50 * 1024 * 1024
SNIFF_BYTES = 64 * 1024
BATCH_SIZE = 500

# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


class Column(NamedTuple):
    name: str
    required: bool
    help: str


COLUMNS = (
    Column("brand", True, "Brand name, e.g. Rolex. Created if we do not have it yet."),
    Column(
        "reference",
        True,
        "The maker's reference, e.g. 126500LN; with the brand it names the product.",
    ),
    Column("name", True, "Product name."),
    Column("category", False, 'Pricing category, a slug such as "rolex_daytona".'),
    Column("description", False, "Free text; may span lines inside quotes."),
    Column("currency", False, "ISO 4217 code of the three prices, e.g. USD or CHF."),
    Column("msrp", False, "The maker's retail price, e.g. 14800.00."),
    Column("cost", False, "What the item cost us."),
    Column("list_price", False, "Our price."),
    Column("sku", False, "Our SKU."),
    Column("gtin", False, "GTIN / UPC / EAN: 8, 12, 13 or 14 digits."),
    Column("mpn", False, "Manufacturer part number."),
    Column("asin", False, "Amazon ASIN: 10 capital letters or digits."),
    Column("in_inventory_since", False, "When the item entered our stock, YYYY-MM-DD."),
    Column("retailer", False, "Slug or name of an existing retailer; empty for no listing."),
    Column("listing_url", False, "The product's page at that retailer."),
    Column("retailer_item_id", False, "The retailer's own item id."),
)
COLUMN_NAMES = tuple(column.name for column in COLUMNS)
COLUMN_ORDER = {name: index for index, name in enumerate(COLUMN_NAMES)}
REQUIRED_COLUMNS = tuple(column.name for column in COLUMNS if column.required)

MONEY_COLUMNS = ("msrp", "cost", "list_price")
PRODUCT_COLUMNS = (
    "name",
    "category",
    "description",
    "currency",
    *MONEY_COLUMNS,
    "sku",
    "gtin",
    "mpn",
    "asin",
    "in_inventory_since",
)
# CSV column -> Listing field.
LISTING_COLUMNS = {"listing_url": "url", "retailer_item_id": "retailer_item_id"}
LISTING_FIELDS = {model_field: column for column, model_field in LISTING_COLUMNS.items()}

PLAIN_AMOUNT = re.compile(r"\d+(\.\d{1,2})?")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
MAX_WHOLE_DIGITS = 10  # DecimalField(max_digits=12, decimal_places=2)


class RowError(NamedTuple):
    """One problem: the spreadsheet row (None for the file as a whole), the column, why."""

    row: int | None
    field: str
    message: str


@dataclass
class ImportResult:
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    brands_created: int = 0
    products_created: int = 0
    products_updated: int = 0
    products_unchanged: int = 0
    listings_created: int = 0
    listings_updated: int = 0
    listings_unchanged: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        return (
            f"Imported {self.rows} row{'s' if self.rows != 1 else ''}: "
            f"products {self.products_created} created, {self.products_updated} updated, "
            f"{self.products_unchanged} unchanged; "
            f"listings {self.listings_created} created, {self.listings_updated} updated, "
            f"{self.listings_unchanged} unchanged; "
            f"brands {self.brands_created} created."
        )


def catalog_import_csv(
    *, file: IO[bytes] | File, user: Any = None, max_rows: int = MAX_ROWS
) -> ImportResult:
    """Validate the whole file, then create or update brands, products and listings at once."""
    result = ImportResult()
    rows = _read_rows(file, max_rows=max_rows, errors=result.errors)
    if rows is None:
        return result
    if not rows and not result.errors:
        result.errors.append(RowError(None, "", "The file has a header but no product rows."))
        return result
    result.rows = len(rows)

    parsed = []
    for number, cells in rows:
        row, problems = parse_row(number, cells)
        result.errors.extend(problems)
        if not problems:
            parsed.append(row)
    plan = _plan(parsed, errors=result.errors)
    if result.errors:
        result.errors.sort(key=lambda error: (error.row or 0, COLUMN_ORDER.get(error.field, 99)))
        return result

    try:
        with transaction.atomic():
            _write(plan, result, user=user)
    except IntegrityError:
        logger.exception("catalog import hit a constraint after validating")
        return ImportResult(
            rows=result.rows,
            errors=[
                RowError(
                    None,
                    "",
                    "The catalog changed while the file was being imported; nothing was "
                    "imported. Upload it again.",
                )
            ],
        )
    logger.info("catalog import by %s: %s", user, result.summary())
    return result


# --- Reading ---------------------------------------------------------------------------------


def _read_rows(
    file: IO[bytes] | File,
    *,
    max_rows: int,
    errors: list[RowError],
    columns: Sequence[Column] = COLUMNS,
    noun: str = "product",
) -> list[tuple[int, dict[str, str]]] | None:
    """The data rows as (spreadsheet row number, {column: raw text}).

    Problems go to errors; None means the file cannot be read at all, so no row is worth parsing.
    Other imports (reviews) pass their own ``columns`` and the ``noun`` their rows are.
    """
    source = file if isinstance(file, File) else File(file)
    size = getattr(source, "size", None)
    if size is not None and size > MAX_BYTES:
        errors.append(
            RowError(
                None, "", f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB; split it."
            )
        )
        return None
    source.seek(0)
    sample = source.read(SNIFF_BYTES)
    if isinstance(sample, str):
        raise TypeError("catalog_import_csv needs a file opened in binary mode")
    if not sample.decode("utf-8-sig", errors="ignore").strip():
        errors.append(RowError(None, "", "The file is empty."))
        return None
    delimiter = sniff_delimiter(sample.decode("utf-8-sig", errors="ignore"))
    source.seek(0)

    reader = csv.reader(codecs.iterdecode(source, "utf-8-sig"), delimiter=delimiter)
    number = 0  # the last spreadsheet row read
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        header = next(reader, None)
        number = 1
        if header is None:
            errors.append(RowError(None, "", "The file is empty."))
            return None
        names = [normalise_column(name) for name in header]
        header_errors = check_header(names, columns)
        if header_errors:
            errors.extend(header_errors)
            return None
        counted = 0
        for cells in reader:
            number += 1
            if not any(cell.strip() for cell in cells):
                continue
            counted += 1
            if counted > max_rows:
                errors.append(
                    RowError(
                        None,
                        "",
                        f"The file has more than {max_rows:,} {noun} rows; split it into "
                        "smaller files.",
                    )
                )
                return None
            problem = check_width(cells, names)
            if problem:
                errors.append(RowError(number, "", problem))
                continue
            named = zip(names, cells[: len(names)], strict=True)
            rows.append((number, {name: cell for name, cell in named if name}))
    except UnicodeDecodeError as exc:
        errors.append(
            RowError(
                number + 1,
                "",
                f"This row is not UTF-8 text (byte 0x{exc.object[exc.start]:02X} cannot be "
                'read). Save the file as "CSV UTF-8" and upload it again.',
            )
        )
        return None
    except csv.Error as exc:
        errors.append(RowError(number + 1, "", f"This row is not valid CSV: {exc}."))
        return None
    return rows


# Other CSV imports (catalog.review_imports) read their files the same way.
read_csv_rows = _read_rows


def sniff_delimiter(sample: str) -> str:
    """',' or ';', whichever the sample is written with; ',' when it cannot tell."""
    # A sample cut mid-row confuses the sniffer; it sees whole lines only.
    if "\n" in sample:
        sample = sample[: sample.rindex("\n")]
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;").delimiter
    except csv.Error:
        return ","


def normalise_column(name: str) -> str:
    return "_".join(name.strip().lower().split())


def check_header(names: list[str], columns: Sequence[Column] = COLUMNS) -> list[RowError]:
    errors = []
    required = [column.name for column in columns if column.required]
    known = [column.name for column in columns]
    missing = [name for name in required if name not in names]
    if missing:
        errors.append(
            RowError(
                1,
                "",
                f"The header lacks the required column{'s' if len(missing) > 1 else ''} "
                f"{', '.join(missing)}. Row 1 must name the columns.",
            )
        )
    unknown = [name for name in names if name and name not in known]
    if unknown:
        errors.append(
            RowError(
                1,
                "",
                f"Unknown column{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}: rename "
                f"or remove {'them' if len(unknown) > 1 else 'it'}. The known columns are "
                f"{', '.join(known)}.",
            )
        )
    twice = sorted({name for name in names if name and names.count(name) > 1})
    if twice:
        errors.append(RowError(1, "", f"Columns named more than once: {', '.join(twice)}."))
    return errors


def check_width(cells: list[str], names: list[str]) -> str | None:
    # Spreadsheets pad rows with empty cells under empty headers; those are harmless.
    if len(cells) < len(names):
        return (
            f"This row has {len(cells)} cells where the header has {len(names)}; look for a "
            "missing separator or an unclosed quote."
        )
    unnamed = [
        i for i, cell in enumerate(cells) if cell.strip() and (i >= len(names) or not names[i])
    ]
    if unnamed:
        return (
            f"This row has a value in column {unnamed[0] + 1}, which has no header; look for a "
            "stray separator."
        )
    return None


# --- Parsing one row: plain data in, plain data out, no database ----------------------------


@dataclass
class ParsedRow:
    number: int
    brand: str
    reference: str
    product: dict[str, Any]  # Product field -> value, for the columns the file has
    retailer: str
    listing: dict[str, str]  # Listing field -> value, for the columns the file has


def parse_money(text: str) -> Decimal | None:
    if text == "":
        return None
    if text.startswith("-"):
        raise ValueError("must not be negative")
    if re.fullmatch(r"\d+\.\d{3,}", text):
        raise ValueError(f"{text!r} has more than 2 decimals")
    if not PLAIN_AMOUNT.fullmatch(text):
        raise ValueError(
            f"{text!r} is not a plain amount; write it like 14800.00 (a dot for decimals, no "
            "thousands separators or currency signs)"
        )
    if len(text.split(".")[0].lstrip("0")) > MAX_WHOLE_DIGITS:
        raise ValueError(f"{text!r} is too large")
    return Decimal(text)


def parse_date(text: str) -> date | None:
    if text == "":
        return None
    if not ISO_DATE.fullmatch(text):
        raise ValueError(f"{text!r} is not a date written YYYY-MM-DD")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a real date") from None


def parse_currency(text: str) -> str:
    code = text.upper()
    if code == "":
        raise ValueError("is required (an ISO 4217 code such as USD)")
    if code not in CURRENCY_CODES:
        raise ValueError(f"{text!r} is not an ISO 4217 currency code")
    return code


def clean_cell(text: str) -> str:
    text = text.strip()
    if text.startswith("'") and text[1:2] and text[1] in FORMULA_TRIGGERS:
        return text[1:]
    return text


PARSERS = {
    "msrp": parse_money,
    "cost": parse_money,
    "list_price": parse_money,
    "in_inventory_since": parse_date,
    "currency": parse_currency,
}


def parse_row(number: int, cells: dict[str, str]) -> tuple[ParsedRow, list[RowError]]:
    """Turn one row's text into typed values and check them against the models' validators."""
    cells = {name: clean_cell(text) for name, text in cells.items()}
    errors: list[RowError] = []
    for name in REQUIRED_COLUMNS:
        if cells[name] == "":
            errors.append(RowError(number, name, f"The {name} is missing."))

    product: dict[str, Any] = {}
    for name in PRODUCT_COLUMNS:
        if name not in cells:
            continue
        parser = PARSERS.get(name)
        try:
            product[name] = parser(cells[name]) if parser else cells[name]
        except ValueError as exc:
            errors.append(RowError(number, name, f"The {name} {exc}."))

    listing = {
        model_field: cells[column]
        for column, model_field in LISTING_COLUMNS.items()
        if column in cells
    }
    retailer = cells.get("retailer", "")
    if not retailer and any(listing.values()):
        errors.append(
            RowError(number, "retailer", "The row describes a listing but names no retailer.")
        )

    row = ParsedRow(number, cells["brand"], cells["reference"], product, retailer, listing)
    errored = {error.field for error in errors}
    errors.extend(_model_errors(row, errored))
    return row, errors


def _model_errors(row: ParsedRow, errored: set[str]) -> list[RowError]:
    """What the models' own fields (lengths, GTIN, ASIN, slug, URL) say about the row's values."""
    checks = [
        (Brand, "name", "brand", row.brand),
        (Product, "reference", "reference", row.reference),
        *((Product, name, name, value) for name, value in row.product.items()),
    ]
    if row.retailer:
        checks += [
            (Listing, name, LISTING_FIELDS[name], value) for name, value in row.listing.items()
        ]
    errors = []
    for model, name, column, value in checks:
        if column in errored:
            continue
        try:
            model._meta.get_field(name).clean(value, None)
        except ValidationError as exc:
            errors.extend(RowError(row.number, column, message) for message in exc.messages)
    if row.brand and "brand" not in errored and not slugify(row.brand):
        errors.append(
            RowError(row.number, "brand", "The brand needs at least one letter or digit.")
        )
    return errors


# --- Matching against the database ----------------------------------------------------------


@dataclass
class _PlannedListing:
    row: int
    retailer: Retailer
    values: dict[str, str]
    existing: Listing | None = None


@dataclass
class _PlannedProduct:
    row: ParsedRow
    brand: Brand
    existing: Product | None = None
    listings: dict[int, _PlannedListing] = field(default_factory=dict)


@dataclass
class _Plan:
    new_brands: list[Brand]
    products: list[_PlannedProduct]


def _plan(rows: list[ParsedRow], *, errors: list[RowError]) -> _Plan:
    brands = _BrandFinder()
    retailers = _RetailerFinder()
    products: dict[tuple[str, str], _PlannedProduct] = {}
    for row in rows:
        retailer = None
        if row.retailer:
            retailer = retailers.find(row.retailer)
            if retailer is None:
                errors.append(
                    RowError(
                        row.number,
                        "retailer",
                        f"No retailer has the slug or name {row.retailer!r}; add it under "
                        "Retailers first.",
                    )
                )
                continue
        brand = brands.find_or_add(row.brand)
        key = (brand.slug, row.reference)
        planned = products.get(key)
        if planned is None:
            planned = products[key] = _PlannedProduct(row, brand)
        else:
            contradictions = _contradictions(row.product, planned.row.product)
            for name, here, there in contradictions:
                errors.append(
                    RowError(
                        row.number,
                        name,
                        f"The {name} {_show(here)} contradicts row {planned.row.number}, which "
                        f"gives {_show(there)} for the same product.",
                    )
                )
            if contradictions:
                continue
        if retailer is None:
            continue
        listing = planned.listings.get(retailer.pk)
        if listing is None:
            planned.listings[retailer.pk] = _PlannedListing(row.number, retailer, row.listing)
            continue
        for name, here, there in _contradictions(row.listing, listing.values):
            column = LISTING_FIELDS[name]
            errors.append(
                RowError(
                    row.number,
                    column,
                    f"The {column} {_show(here)} contradicts row {listing.row}, which gives "
                    f"{_show(there)} for the same product at {retailer}.",
                )
            )
    if not errors:
        _attach_existing(list(products.values()))
    return _Plan(brands.added, list(products.values()))


def _contradictions(here: dict[str, Any], there: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    return [(name, value, there[name]) for name, value in here.items() if there[name] != value]


def _show(value: Any) -> str:
    return "(empty)" if value in ("", None) else repr(str(value))


class _BrandFinder:
    def __init__(self) -> None:
        self.by_name = {}
        self.by_slug = {}
        for brand in Brand.objects.all():
            self.by_name[brand.name.casefold()] = brand
            self.by_slug[brand.slug] = brand
        self.added: list[Brand] = []

    def find_or_add(self, name: str) -> Brand:
        slug = slugify(name)
        brand = self.by_name.get(name.casefold()) or self.by_slug.get(slug)
        if brand is None:
            brand = Brand(name=name, slug=slug)
            self.by_name[name.casefold()] = self.by_slug[slug] = brand
            self.added.append(brand)
        return brand


class _RetailerFinder:
    def __init__(self) -> None:
        self.by_key = {}
        for retailer in Retailer.objects.all():
            self.by_key[retailer.name.casefold()] = retailer
        # A slug wins over another retailer's name.
        for retailer in self.by_key.copy().values():
            self.by_key[retailer.slug] = retailer

    def find(self, text: str) -> Retailer | None:
        return self.by_key.get(text) or self.by_key.get(text.casefold())


def _attach_existing(products: list[_PlannedProduct]) -> None:
    known = [planned for planned in products if planned.brand.pk is not None]
    brand_ids = {planned.brand.pk for planned in known}
    references = sorted({planned.row.reference for planned in known})
    found: dict[tuple[int, str], Product] = {}
    for chunk in _chunks(references):
        for product in Product.objects.filter(brand_id__in=brand_ids, reference__in=chunk):
            found[(product.brand_id, product.reference)] = product
    for planned in known:
        planned.existing = found.get((planned.brand.pk, planned.row.reference))

    existing = [planned for planned in products if planned.existing is not None]
    listings: dict[tuple[int, int], Listing] = {}
    for chunk in _chunks([planned.existing.pk for planned in existing]):
        for listing in Listing.objects.filter(product_id__in=chunk):
            listings[(listing.product_id, listing.retailer_id)] = listing
    for planned in existing:
        for retailer_id, listing in planned.listings.items():
            listing.existing = listings.get((planned.existing.pk, retailer_id))


def _chunks(items: list, size: int = BATCH_SIZE) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- Writing ---------------------------------------------------------------------------------


def _write(plan: _Plan, result: ImportResult, *, user) -> None:
    now = timezone.now()
    for brand in plan.new_brands:
        brand.save()
    result.brands_created = len(plan.new_brands)

    new_products, changed_products, changed_fields = [], [], set()
    price_changes = []
    for planned in plan.products:
        if planned.existing is None:
            planned.existing = Product(
                brand=planned.brand, reference=planned.row.reference, **planned.row.product
            )
            new_products.append(planned.existing)
            price_changes.append(ListPriceChange(planned.existing, None))
        else:
            previous = planned.existing.list_price
            if changed := _apply(planned.existing, planned.row.product):
                planned.existing.updated_at = now
                changed_products.append(planned.existing)
                changed_fields.update(changed)
                price_changes.append(ListPriceChange(planned.existing, previous))
            else:
                result.products_unchanged += 1
    Product.objects.bulk_create(new_products, batch_size=BATCH_SIZE)
    if changed_products:
        Product.objects.bulk_update(
            changed_products, [*sorted(changed_fields), "updated_at"], batch_size=BATCH_SIZE
        )
    result.products_created = len(new_products)
    result.products_updated = len(changed_products)
    announce_list_prices(changes=price_changes, source="csv_import", user=user)

    new_listings, changed_listings, changed_fields = [], [], set()
    for planned in plan.products:
        for listing in planned.listings.values():
            if listing.existing is None:
                new_listings.append(
                    Listing(
                        product=planned.existing,
                        retailer=listing.retailer,
                        currency=listing.retailer.currency,
                        **listing.values,
                    )
                )
            elif changed := _apply(listing.existing, listing.values):
                listing.existing.updated_at = now
                changed_listings.append(listing.existing)
                changed_fields.update(changed)
            else:
                result.listings_unchanged += 1
    Listing.objects.bulk_create(new_listings, batch_size=BATCH_SIZE)
    if changed_listings:
        Listing.objects.bulk_update(
            changed_listings, [*sorted(changed_fields), "updated_at"], batch_size=BATCH_SIZE
        )
    result.listings_created = len(new_listings)
    result.listings_updated = len(changed_listings)


def _apply(instance: Product | Listing, values: dict[str, Any]) -> list[str]:
    """Set the values that differ; return the names of the fields that changed."""
    changed = [name for name, value in values.items() if getattr(instance, name) != value]
    for name in changed:
        setattr(instance, name, values[name])
    return changed
