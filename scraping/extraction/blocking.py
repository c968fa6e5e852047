"""Bot walls and missing pages: recognised before any price is read.

A blocked page says nothing about the product, so it must never read as "out of stock".
Markers are looked for in the <title>, in a few well-known challenge elements, and in the
visible text only when that text is short: real product pages are long and may mention
"captcha" in their scripts or footers.
"""

from __future__ import annotations

import re

from .document import SMALL_DOCUMENT, Page

_BLOCK_TITLE = re.compile(
    r"robot check|access denied|attention required|just a moment|pardon our interruption"
    r"|are you a (?:robot|human)|access to this page has been denied|security check"
    r"|captcha|bot (?:check|verification|detection)|403 forbidden|request (?:rejected|blocked)"
    r"|you have been blocked|verify you are human|one more step|please wait while we verify",
    re.IGNORECASE,
)

_BLOCK_TEXT = re.compile(
    r"enter the characters you see below|not a robot|are you a robot"
    r"|verify (?:that )?you(?:'re| are) (?:a )?human|unusual traffic"
    r"|automated (?:access|queries|requests)|access denied|you don'?t have permission to access"
    r"|request (?:unsuccessful|blocked|rejected)|incapsula incident|press (?:&|and) hold"
    r"|checking (?:if the site connection is secure|your browser)"
    r"|enable (?:javascript and )?cookies to continue"
    r"|perimeterx|datadome|reference #\d+\.[0-9a-f]+|captcha",
    re.IGNORECASE,
)

# Challenge pages are a few hundred words.
_SHORT_PAGE = 3000

_NOT_FOUND = re.compile(
    r"page not found|product not found|item not found|\b404\b|no longer exists"
    r"|can(?:'|no)t be found|we can'?t find|we couldn'?t find|doesn'?t exist"
    r"|page introuvable|seite nicht gefunden"
    r"|página no encontrada|pagina non trovata|pagina niet gevonden",
    re.IGNORECASE,
)


def block_reason_in_markup(page: Page) -> str | None:
    """Checks that need the page's scripts, so they run before scripts are stripped."""
    title = page.title_tag
    if title and _BLOCK_TITLE.search(title):
        return f"bot wall: title {title[:80]!r}"
    marker = page.landmarks.challenge
    if marker is not None:
        return f"bot wall: challenge element <{marker.tag}>"
    return None


def block_reason_in_text(page: Page, has_product_data: bool) -> str | None:
    # Challenge pages are small and carry no product data; skipping other pages keeps those
    # that mention "captcha" in a footer from reading as blocked, and saves reading the text.
    if has_product_data or page.size > SMALL_DOCUMENT:
        return None
    text = page.body_text
    if len(text) <= _SHORT_PAGE:
        match = _BLOCK_TEXT.search(text)
        if match:
            return f"bot wall: page says {match.group(0)!r}"
    return None


def not_found_reason(page: Page) -> str | None:
    for text in (page.title_tag, page.h1):
        if text and _NOT_FOUND.search(text):
            return f"page says {text[:80]!r}"
    return None
