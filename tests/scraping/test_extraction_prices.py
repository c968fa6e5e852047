"""Price strings of every locale, read as Decimal with an ISO currency."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scraping.extraction.currencies import currency_from_host, to_iso
from scraping.extraction.prices import is_per_unit, parse_amount, parse_price


@pytest.mark.parametrize(
    ("text", "hint", "amount", "currency"),
    [
        ("1.234,56 €", None, "1234.56", "EUR"),
        ("CHF 12'500.00", None, "12500.00", "CHF"),
        ("Fr. 12\u2019500.\u2013", None, "12500", "CHF"),
        ("₹1,23,456.00", None, "123456.00", "INR"),
        ("$1,299.99", "USD", "1299.99", "USD"),
        ("$1,299.99", "CAD", "1299.99", "CAD"),
        ("$5", "AUD", "5", "AUD"),
        ("$5", "EUR", "5", "USD"),
        ("$5", None, "5", "USD"),
        ("C$ 19.99", "USD", "19.99", "CAD"),
        ("£4.45", None, "4.45", "GBP"),
        ("¥12,800", None, "12800", "JPY"),
        ("¥12,800", "CNY", "12800", "CNY"),
        ("12 500,00 kr", "NOK", "12500.00", "NOK"),
        ("1 234,50 zł", None, "1234.50", "PLN"),
        ("R$ 1.234,56", None, "1234.56", "BRL"),
        ("EUR 1.234", None, "1234", "EUR"),
        ("$ 2,199 .99", "USD", "2199.99", "USD"),
        ("Price: $12.48 ($6.24 / Pack)", "USD", "12.48", "USD"),
        ("53,11\u00a0€", "USD", "53.11", "EUR"),
    ],
)
def test_a_price_string_is_read_in_its_locale(
    text: str, hint: str | None, amount: str, currency: str
) -> None:
    money = parse_price(text, currency_hint=hint)
    assert money is not None
    assert (money.amount, money.currency) == (Decimal(amount), currency)
    assert isinstance(money.amount, Decimal)


@pytest.mark.parametrize("text", ["", "--", "Free", "See price in cart", "-1.0", "0.00", None])
def test_text_without_a_payable_amount_is_no_price(text: str | None) -> None:
    assert parse_price(text) is None


@pytest.mark.parametrize(
    ("value", "amount"),
    [
        ("12.500", "12.5"),
        ("329.99", "329.99"),
        (Decimal("98.99"), "98.99"),
        (49, "49"),
        (0.1, "0.1"),
        ("48,00", "48.00"),
        ("$1,029.99", "1029.99"),
    ],
)
def test_a_structured_amount_uses_a_dot_as_the_decimal_separator(
    value: object, amount: str
) -> None:
    assert parse_amount(value) == Decimal(amount)


@pytest.mark.parametrize("value", [{}, [], True, None, "", "-1.0", "abc", float("nan")])
def test_a_structured_value_that_is_not_an_amount_is_none(value: object) -> None:
    assert parse_amount(value) is None


@pytest.mark.parametrize(
    ("text", "per_unit"),
    [("($6.24 / Pack)", True), ("($49.94/cu ft)", True), ("12,99 €/kg", True), ("$12.48", False)],
)
def test_a_per_unit_price_is_recognised(text: str, per_unit: bool) -> None:
    assert is_per_unit(text) is per_unit


@pytest.mark.parametrize(
    ("url", "currency"),
    [
        ("https://www.amazon.co.uk/dp/1", "GBP"),
        ("https://www.amazon.es/dp/1", "EUR"),
        ("https://www.bestbuy.ca/x", "CAD"),
        ("https://www.amazon.com/dp/1", None),
        (None, None),
    ],
)
def test_a_host_country_ending_suggests_a_currency(url: str | None, currency: str | None) -> None:
    assert currency_from_host(url) == currency


def test_a_three_letter_word_is_not_taken_for_a_currency() -> None:
    assert to_iso("NEW", None) is None


def _group(digits: str, separator: str, sizes: tuple[int, ...] = (3,)) -> str:
    head, groups = digits, []
    size = sizes[0]
    while len(head) > size:
        groups.insert(0, head[-size:])
        head = head[:-size]
        size = sizes[-1]
    return separator.join([head, *groups])


amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9999999.99"), places=2)


@given(amounts)
def test_us_formatted_amounts_round_trip(amount: Decimal) -> None:
    whole, cents = f"{amount:.2f}".split(".")
    assert parse_price(f"${_group(whole, ',')}.{cents}", currency_hint="USD")[:2] == (amount, "USD")


@given(amounts)
def test_european_formatted_amounts_round_trip(amount: Decimal) -> None:
    whole, cents = f"{amount:.2f}".split(".")
    assert parse_price(f"{_group(whole, '.')},{cents} €")[:2] == (amount, "EUR")


@given(amounts)
def test_swiss_formatted_amounts_round_trip(amount: Decimal) -> None:
    whole, cents = f"{amount:.2f}".split(".")
    assert parse_price(f"CHF {_group(whole, chr(39))}.{cents}")[:2] == (amount, "CHF")


@given(amounts)
def test_indian_lakh_formatted_amounts_round_trip(amount: Decimal) -> None:
    whole, cents = f"{amount:.2f}".split(".")
    assert parse_price(f"₹{_group(whole, ',', (3, 2))}.{cents}")[:2] == (amount, "INR")
