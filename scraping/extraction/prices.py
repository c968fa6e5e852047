"""Money parsing: shopper-facing price strings and structured-data amounts, always Decimal."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

from price_parser import Price

from .currencies import AMBIGUOUS_SYMBOLS, to_iso


class Money(NamedTuple):
    amount: Decimal
    currency: str | None
    # True when the currency came from an ambiguous symbol ("$", "¥", "kr") and the hint.
    ambiguous: bool = False


# Swiss "12'500.-" with typographic apostrophes and dashes: price-parser reads those group
# separators and dash cents poorly, so they are normalised first.
_APOSTROPHE_GROUPS = re.compile(r"(?<=\d)['\u2019\u02bc\u00b4](?=\d{3})")
_DASH_CENTS = re.compile(r"(?<=\d)([.,])[-\u2013\u2014]+")
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009\u2007]+")
# Schema.org asks for a dot decimal separator; a plain number must not be read as "12.500 €".
_PLAIN_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
# "$6.24 / Pack", "($49.94/cu ft)", "12,99 €/kg": a price per unit, not the item's price.
_PER_UNIT = re.compile(
    r"\d\s*[^\s\d/()]{0,3}\s*\)?\s*(?:/|per\b|pro\b|par\b)\s*\(?\s*[^\W\d]",
    re.IGNORECASE,
)
# "-$5.00" is a discount line, "-1.0" a placeholder: neither is a price.
_NEGATIVE = re.compile(r"^[-\u2212\u2013]\s*\D{0,4}\d")

# Upper bound that still covers a rare watch; anything above is a parsing accident
# (phone numbers, concatenated digits).
_MAX_AMOUNT = Decimal("100000000")


def _valid(amount: Decimal | None) -> Decimal | None:
    # Zero and negative values are placeholders (Costco's "-1.0" list price), not prices.
    if amount is None or not amount.is_finite() or amount <= 0 or amount >= _MAX_AMOUNT:
        return None
    return amount


def parse_price(text: str | None, *, currency_hint: str | None = None) -> Money | None:
    """Read the first price in a shopper-facing string ("1.234,56 €", "CHF 12'500.00")."""
    if not text:
        return None
    text = _SPACES.sub(" ", text).strip()
    if not text or len(text) > 400:
        return None
    if _NEGATIVE.match(text):
        return None
    text = _DASH_CENTS.sub("", _APOSTROPHE_GROUPS.sub("", text))
    parsed = Price.fromstring(text)
    amount = _valid(parsed.amount)
    if amount is None:
        return None
    symbol = (parsed.currency or "").strip().upper()
    return Money(amount, to_iso(symbol, currency_hint), symbol in AMBIGUOUS_SYMBOLS)


def parse_amount(value: object) -> Decimal | None:
    """Read an amount from structured data, where a dot is the decimal separator."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, Decimal):
        return _valid(value)
    if isinstance(value, int):
        return _valid(Decimal(value))
    if isinstance(value, float):
        return _valid(Decimal(str(value)))
    if not isinstance(value, str):
        return None
    text = value.strip()
    if _PLAIN_NUMBER.fullmatch(text):
        try:
            return _valid(Decimal(text))
        except InvalidOperation:
            return None
    money = parse_price(text)
    return money.amount if money else None


def is_per_unit(text: str) -> bool:
    return bool(_PER_UNIT.search(text))
