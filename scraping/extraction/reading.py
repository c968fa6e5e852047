"""What one source says about the product, before the sources are reconciled."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from decimal import Decimal

from .availability import Availability
from .document import clean


@dataclass(slots=True)
class Reading:
    source: str
    price: Decimal | None = None
    regular_price: Decimal | None = None
    currency: str | None = None
    # The currency was read from "$" (or "¥", "kr") and settled by the retailer's hint only.
    currency_is_guess: bool = False
    availability: Availability | None = None
    condition: str | None = None
    title: str | None = None
    ids: dict[str, str] = field(default_factory=dict)
    # A per-unit price ("$6.24 / Pack") seen beside the price; only used to explain conflicts.
    unit_price: Decimal | None = None
    # The shopper-facing price element's text, kept to spot "see price in cart".
    price_text: str | None = None
    notes: list[str] = field(default_factory=list)

    def set_id(self, kind: str, value: object) -> None:
        if value is None or kind in self.ids:
            return
        text = identifier_text(value)
        if text:
            self.ids[kind] = text

    def is_empty(self) -> bool:
        return (
            self.price is None
            and self.availability is None
            and self.title is None
            and not self.ids
            and self.currency is None
        )


def identifier_text(value: object) -> str | None:
    if isinstance(value, dict):
        value = value.get("name") or value.get("@id")
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    text = clean(html.unescape(value))
    # Long values are descriptions or URLs mis-filed as identifiers.
    return text if 0 < len(text) <= 120 else None


def title_text(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    text = clean(html.unescape(value))
    return text or None
