"""Currency symbols to ISO 4217 codes, with the retailer's currency settling ambiguous symbols."""

from __future__ import annotations

from urllib.parse import urlsplit

# Every code we expect to meet on a retailer page; a 3-letter token outside this set is a word,
# not a currency ("CAN", "NEW"...).
ISO_CODES = frozenset(
    {
        "USD",
        "CAD",
        "AUD",
        "NZD",
        "SGD",
        "HKD",
        "MXN",
        "ARS",
        "CLP",
        "COP",
        "TWD",
        "BRL",
        "EUR",
        "GBP",
        "JPY",
        "CNY",
        "INR",
        "KRW",
        "RUB",
        "PLN",
        "SEK",
        "NOK",
        "DKK",
        "ISK",
        "CZK",
        "HUF",
        "CHF",
        "TRY",
        "ILS",
        "ZAR",
        "THB",
        "VND",
        "PHP",
        "RON",
        "AED",
        "SAR",
        "QAR",
        "KWD",
        "BHD",
        "OMR",
        "MYR",
        "IDR",
        "EGP",
        "NGN",
        "UAH",
        "BGN",
        "HRK",
        "RSD",
        "PEN",
        "UYU",
    }
)

# Currencies written with a bare "$": which one the page means is the retailer's business.
DOLLAR_CURRENCIES = frozenset(
    {"USD", "CAD", "AUD", "NZD", "SGD", "HKD", "MXN", "ARS", "CLP", "COP"}
)
YEN_CURRENCIES = frozenset({"JPY", "CNY"})
KRONA_CURRENCIES = frozenset({"SEK", "NOK", "DKK", "ISK"})
# Symbols whose currency is a guess from the retailer's hint.
AMBIGUOUS_SYMBOLS = frozenset({"$", "¥", "\uffe5", "KR", "KR."})


def same_symbol(a: str, b: str) -> bool:
    """Whether two currencies are written with the same ambiguous symbol."""
    return any(a in family and b in family for family in _FAMILIES)


_UNAMBIGUOUS = {
    "€": "EUR",
    "£": "GBP",
    "₹": "INR",
    "RS": "INR",
    "RS.": "INR",
    "₩": "KRW",
    "₽": "RUB",
    "РУБ": "RUB",
    "РУБ.": "RUB",
    "ZŁ": "PLN",
    "KČ": "CZK",
    "FT": "HUF",
    "FR.": "CHF",
    "SFR.": "CHF",
    "FR": "CHF",
    "₺": "TRY",
    "TL": "TRY",
    "₪": "ILS",
    "฿": "THB",
    "₫": "VND",
    "₱": "PHP",
    "LEI": "RON",
    "元": "CNY",
    "RMB": "CNY",
    "円": "JPY",
    "C$": "CAD",
    "CA$": "CAD",
    "CAD$": "CAD",
    "$CA": "CAD",
    "CDN$": "CAD",
    "US$": "USD",
    "USD$": "USD",
    "A$": "AUD",
    "AU$": "AUD",
    "AUD$": "AUD",
    "NZ$": "NZD",
    "S$": "SGD",
    "HK$": "HKD",
    "MX$": "MXN",
    "R$": "BRL",
    "NT$": "TWD",
    "R": "ZAR",
}

_FAMILIES = (DOLLAR_CURRENCIES, YEN_CURRENCIES, KRONA_CURRENCIES)

# Country-code endings of retailer hosts, used when the retailer has no currency configured.
_TLD_CURRENCY = {
    ".co.uk": "GBP",
    ".uk": "GBP",
    ".ca": "CAD",
    ".com.au": "AUD",
    ".co.nz": "NZD",
    ".co.jp": "JPY",
    ".jp": "JPY",
    ".in": "INR",
    ".ch": "CHF",
    ".com.mx": "MXN",
    ".com.br": "BRL",
    ".se": "SEK",
    ".dk": "DKK",
    ".pl": "PLN",
    ".de": "EUR",
    ".fr": "EUR",
    ".es": "EUR",
    ".it": "EUR",
    ".nl": "EUR",
    ".be": "EUR",
    ".at": "EUR",
    ".ie": "EUR",
    ".pt": "EUR",
    ".fi": "EUR",
}


def to_iso(symbol: str | None, hint: str | None) -> str | None:
    """Resolve what price-parser calls the currency ("$", "C$", "EUR", "kr") to an ISO code."""
    if not symbol:
        return None
    written = symbol.strip().upper()
    hint = hint.upper() if hint else None
    if written in ISO_CODES:
        return written
    if written == "$":
        return hint if hint in DOLLAR_CURRENCIES else "USD"
    if written in {"¥", "\uffe5"}:
        return hint if hint in YEN_CURRENCIES else "JPY"
    if written in {"KR", "KR."}:
        return hint if hint in KRONA_CURRENCIES else "SEK"
    return _UNAMBIGUOUS.get(written)


def currency_from_host(url: str | None) -> str | None:
    if not url:
        return None
    host = (urlsplit(url).hostname or "").lower()
    for ending, code in _TLD_CURRENCY.items():
        if host.endswith(ending):
            return code
    return None
