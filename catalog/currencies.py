"""ISO 4217 currency codes, from pycountry's copy of the standard."""

import pycountry

CURRENCY_CODES: tuple[str, ...] = tuple(sorted(c.alpha_3 for c in pycountry.currencies))
CURRENCY_CHOICES = [(code, code) for code in CURRENCY_CODES]
