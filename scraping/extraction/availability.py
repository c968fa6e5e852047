"""Availability from schema.org tokens and from page text, in the page's language."""

from __future__ import annotations

import re
from typing import NamedTuple


class Availability(NamedTuple):
    available: bool
    token: str


IN_STOCK = Availability(True, "InStock")
OUT_OF_STOCK = Availability(False, "OutOfStock")
SOLD_OUT = Availability(False, "SoldOut")
DISCONTINUED = Availability(False, "Discontinued")

# Keys are lower-case with every non-letter removed, so "http://schema.org/InStock",
# "InStock", "in_stock", "IN STOCK" and og's "instock" meet the same entry.
_TOKENS: dict[str, Availability] = {
    "instock": IN_STOCK,
    "available": IN_STOCK,
    "availablefororder": IN_STOCK,
    "outofstock": OUT_OF_STOCK,
    "oos": OUT_OF_STOCK,
    "unavailable": OUT_OF_STOCK,
    "notavailable": OUT_OF_STOCK,
    "soldout": SOLD_OUT,
    "discontinued": DISCONTINUED,
    "preorder": Availability(True, "PreOrder"),
    "presale": Availability(True, "PreSale"),
    "backorder": Availability(True, "BackOrder"),
    "backordered": Availability(True, "BackOrder"),
    "limitedavailability": Availability(True, "LimitedAvailability"),
    "instoreonly": Availability(True, "InStoreOnly"),
    "onlineonly": Availability(True, "OnlineOnly"),
    "madetoorder": Availability(True, "MadeToOrder"),
    "reserved": Availability(False, "Reserved"),
}

_PREFIXES = re.compile(r"^(?:https?:)?(?://)?(?:www\.)?(?:schema\.org/|schema:)", re.IGNORECASE)
_NON_LETTERS = re.compile(r"[^a-z]")


def from_token(value: object) -> Availability | None:
    """Map a structured availability value (schema.org URL, og token, state enum, bool)."""
    if isinstance(value, bool):
        return IN_STOCK if value else OUT_OF_STOCK
    if not isinstance(value, str) or len(value) > 80:
        return None
    key = _NON_LETTERS.sub("", _PREFIXES.sub("", value.strip()).lower())
    return _TOKENS.get(key)


# Phrases per language. "Strong" phrases are safe in a paragraph of product text; "weak" ones
# ("unavailable", "disponible") only count in a short dedicated availability badge, because in
# running text they belong to other things ("List unavailable", "available in 3 colours").
# Negatives are tried first so that "not in stock" never reads as "in stock".
_NEGATIVE_STRONG = {
    "en": (
        r"out of stock",
        r"sold out",
        r"currently unavailable",
        r"temporarily unavailable",
        r"no longer available",
        r"not available (?:online|for (?:purchase|order|shipping|delivery))",
        r"not in stock",
        r"discontinued",
        r"notify me when (?:it'?s |this item is )?(?:available|back in stock)",
        r"email me when (?:available|back in stock)",
    ),
    "fr": (r"rupture de stock", r"épuisée?s?", r"indisponible", r"n'est plus disponible"),
    "de": (
        r"ausverkauft",
        r"nicht (?:mehr )?verfügbar",
        r"nicht (?:mehr )?auf lager",
        r"nicht (?:mehr )?lieferbar",
        r"vergriffen",
    ),
    "es": (
        r"agotad[oa]s?",
        r"no disponible",
        r"ya no está disponible",
        r"sin existencias",
        r"sin stock",
        r"fuera de stock",
    ),
    "it": (r"esaurit[oa]", r"non (?:più )?disponibile", r"non disponibili"),
    "nl": (r"uitverkocht", r"niet (?:meer )?op voorraad", r"niet leverbaar"),
    "pt": (r"esgotad[oa]", r"indisponível", r"fora de estoque"),
}
_NEGATIVE_WEAK = {
    "en": (r"unavailable", r"not available", r"sold(?!\s+by)"),
    "fr": (r"non disponible",),
    "es": (r"no está disponible",),
}
_POSITIVE_STRONG = {
    "en": (
        r"in stock",
        r"only \d+ left",
        r"available (?:now|to ship|for (?:delivery|pickup|shipping))",
        r"ready to ship",
        r"ships (?:in|within|today|tomorrow)",
    ),
    "fr": (r"en stock", r"disponible immédiatement"),
    "de": (r"auf lager", r"sofort lieferbar", r"lieferbar in"),
    "es": (r"en stock", r"hay existencias", r"disponible para envío"),
    "it": (r"in magazzino", r"disponibilità immediata"),
    "nl": (r"op voorraad",),
    "pt": (r"em estoque",),
}
_POSITIVE_WEAK = {
    "en": (r"available",),
    "fr": (r"disponible",),
    "de": (r"verfügbar", r"lieferbar"),
    "es": (r"disponible",),
    "it": (r"disponibile",),
    "nl": (r"leverbaar",),
    "pt": (r"disponível",),
}

_DISCONTINUED_WORDS = re.compile(
    r"discontinued|no longer available|n'est plus disponible|nicht mehr|ya no está|non più",
    re.IGNORECASE,
)
_SOLD_OUT_WORDS = re.compile(
    r"sold out|ausverkauft|épuisé|agotad|esaurit|uitverkocht|esgotad", re.I
)

# A badge is short: "In Stock.", "Only 3 left", "Sold out".
BADGE_LENGTH = 60


def _compile(table: dict[str, tuple[str, ...]], lang: str) -> re.Pattern[str] | None:
    phrases = table.get("en", ()) + (table.get(lang, ()) if lang != "en" else ())
    if not phrases:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(phrases) + r")(?!\w)", re.IGNORECASE)


_cache: dict[tuple[str, str], re.Pattern[str] | None] = {}


def _pattern(kind: str, lang: str) -> re.Pattern[str] | None:
    key = (kind, lang)
    if key not in _cache:
        table = {
            "neg": _NEGATIVE_STRONG,
            "negweak": _NEGATIVE_WEAK,
            "pos": _POSITIVE_STRONG,
            "posweak": _POSITIVE_WEAK,
        }[kind]
        _cache[key] = _compile(table, lang)
    return _cache[key]


def _negative(phrase: str) -> Availability:
    if _DISCONTINUED_WORDS.search(phrase):
        return DISCONTINUED
    if _SOLD_OUT_WORDS.search(phrase):
        return SOLD_OUT
    return OUT_OF_STOCK


def from_text(text: str | None, lang: str | None) -> Availability | None:
    """Read availability from a bounded piece of visible text (a badge or a buy box)."""
    if not text:
        return None
    lang = (lang or "en")[:2].lower()
    badge = len(text) <= BADGE_LENGTH
    kinds = ("neg", "negweak", "pos", "posweak") if badge else ("neg", "pos")
    for kind in kinds:
        pattern = _pattern(kind, lang)
        match = pattern.search(text) if pattern else None
        if match:
            return _negative(match.group(0)) if kind.startswith("neg") else IN_STOCK
    return None


_PRICE_HIDDEN = re.compile(
    r"(?<!\w)(?:"
    r"see (?:the |our |final )?price in (?:the )?(?:cart|bag|basket|checkout)"
    r"|(?:see|view) price at checkout"
    r"|add (?:it |this item )?to (?:your )?(?:cart|bag|basket) (?:to|for) (?:see )?"
    r"(?:the |our )?price"
    r"|to see (?:our|the) price,? add (?:this item|it) to (?:your )?(?:cart|bag|basket)"
    r"|price (?:is )?(?:shown|revealed|displayed) in (?:the )?(?:cart|bag|basket|checkout)"
    r"|why don'?t we show the price"
    r"|(?:click|tap) (?:for|to see) (?:the )?price"
    r"|voir le prix dans le panier|preis im warenkorb|ver precio en el carrito"
    r")(?!\w)",
    re.IGNORECASE,
)

_PRICE_ON_REQUEST = re.compile(
    r"(?<!\w)(?:price (?:up)?on request|contact us for (?:a |the )?price|call for (?:a |the )?price"
    r"|prix sur demande|preis auf anfrage|precio a consultar|precio bajo petición"
    r"|prezzo su richiesta)(?!\w)",
    re.IGNORECASE,
)


def says_price_hidden(text: str | None) -> bool:
    return bool(text) and bool(_PRICE_HIDDEN.search(text))


def says_price_on_request(text: str | None) -> bool:
    return bool(text) and bool(_PRICE_ON_REQUEST.search(text))
