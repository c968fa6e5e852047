"""Extraction of real retailer pages against what a careful reader found on them (manifest.json).

The pages sit beside the repository in shared/pages/real; CI clones the repository the same way.
"""

from __future__ import annotations

import html
import json
import re
from decimal import Decimal
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from scraping.extraction import Extraction, Status, extract, validate_identity

PAGES = Path(__file__).resolve().parents[2].parent / "shared" / "pages" / "real"
MANIFEST = json.loads((PAGES / "manifest.json").read_text(encoding="utf-8"))

# The currency each retailer's record would carry. Etsy is configured in dollars on purpose:
# its page shows euros, and the page's own currency must win.
RETAILER_CURRENCY = {"amazon.co.uk": "GBP", "amazon.es": "EUR"}


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").removeprefix("www.")


@cache
def extraction_of(file: str) -> Extraction:
    entry = next(e for e in MANIFEST if e["file"] == file)
    return extract(
        (PAGES / file).read_bytes(),
        url=entry["url"],
        retailer_currency=RETAILER_CURRENCY.get(_host(entry["url"]), "USD"),
    )


def _money(value: float | None) -> Decimal | None:
    # The manifest writes 169.1 for $169.10; compare amounts, not float spellings.
    return None if value is None else Decimal(str(value))


def _normalised(text: str | None) -> str:
    return re.sub(r"\s+", " ", html.unescape(text or "")).strip().casefold()


def pages_with(field: str) -> list:
    return [
        pytest.param(entry, id=entry["file"].removesuffix(".html"))
        for entry in MANIFEST
        if field in entry
    ]


def test_every_page_in_the_manifest_is_on_disk() -> None:
    missing = [e["file"] for e in MANIFEST if not (PAGES / e["file"]).is_file()]
    assert MANIFEST and not missing


@pytest.mark.parametrize("entry", pages_with("price"))
def test_the_price_is_the_one_a_shopper_pays_or_none(entry: dict) -> None:
    assert extraction_of(entry["file"]).price == _money(entry["price"])


@pytest.mark.parametrize("entry", pages_with("regular_price"))
def test_the_regular_price_is_the_struck_through_one_of_this_item(entry: dict) -> None:
    assert extraction_of(entry["file"]).regular_price == _money(entry["regular_price"])


@pytest.mark.parametrize("entry", pages_with("currency"))
def test_the_currency_is_the_pages_own(entry: dict) -> None:
    assert extraction_of(entry["file"]).currency == entry["currency"]


@pytest.mark.parametrize("entry", pages_with("available"))
def test_availability_matches_what_the_page_says(entry: dict) -> None:
    assert extraction_of(entry["file"]).available is entry["available"]


@pytest.mark.parametrize("entry", pages_with("title"))
def test_the_title_names_the_product(entry: dict) -> None:
    found, expected = _normalised(extraction_of(entry["file"]).title), _normalised(entry["title"])
    assert found and (found == expected or expected in found or found in expected)


@pytest.mark.parametrize("entry", pages_with("price"))
def test_the_status_says_whether_there_is_a_price_to_pay(entry: dict) -> None:
    expected = Status.NO_PRICE if entry["price"] is None else Status.OK
    assert extraction_of(entry["file"]).status == expected


@pytest.mark.parametrize("entry", pages_with("identifiers"))
def test_each_page_is_accepted_as_its_own_product(entry: dict) -> None:
    identifiers = {k: v for k, v in entry["identifiers"].items() if isinstance(v, str)}
    result = validate_identity(
        extraction_of(entry["file"]),
        identifiers=identifiers,
        listing_url=entry["url"],
        final_url=entry["url"],
    )
    assert result.ok, result.reason


def test_a_page_reached_from_another_products_listing_is_refused() -> None:
    result = validate_identity(
        extraction_of("amazon-us-relay-module.html"),
        identifiers={"asin": "B00N150YS4"},
        listing_url="https://www.amazon.com/Gorilla-6012110-Black-2-Pack-Piece/dp/B00N150YS4",
        final_url="https://www.amazon.com/SainSmart-101-70-101-4-Channel-Relay-Module/dp/B0057OC5O8",
    )
    assert not result.ok
    assert "another product" in result.reason


def test_rejuvenation_keeps_the_sale_price_and_records_that_json_ld_held_the_regular_one() -> None:
    found = extraction_of("rejuvenation-us-sconce.html")
    (disagreement,) = found.disagreements
    assert (disagreement.field, disagreement.rejected_source) == ("price", "json-ld")
    assert disagreement.rejected.startswith("150")
    assert "regular" in disagreement.reason


def test_etsy_records_both_structured_prices_it_overruled() -> None:
    found = extraction_of("etsy-eur-listing.html")
    rejected = {(d.rejected_source, d.rejected) for d in found.disagreements}
    assert rejected == {("json-ld", "43.90 EUR"), ("opengraph", "48.00 USD")}


def test_the_used_only_amazon_buy_box_is_marked_used() -> None:
    found = extraction_of("amazon-uk-used-book.html")
    assert found.condition == "used"
    assert any("used" in note for note in found.notes)


def test_costco_decodes_the_base64_price_and_ignores_the_minus_one_list_price() -> None:
    found = extraction_of("costco-us-sink-faucet.html")
    assert found.price == Decimal("329.99")
    assert found.regular_price is None
    assert found.identifiers.item_id == "1275464"


def test_identifiers_are_read_from_the_pages() -> None:
    assert extraction_of("amazon-us-gorilla-tape.html").identifiers.asin == "B00N150YS4"
    assert extraction_of("amazon-us-gorilla-tape.html").identifiers.model == "6012110"
    assert extraction_of("bestbuy-us-gpu-in-stock.html").identifiers.gtin == "0778656076310"
    assert extraction_of("newegg-us-gpu-sold-out.html").identifiers.mpn == "RTX 3080 SUPRIM X 10G"
    assert extraction_of("walmart-us-game-microdata.html").identifiers.gtin == "0883929689613"
