"""Canonical JSON: the one byte string every ledger payload is hashed as.

Anyone holding a payload must be able to rebuild these exact bytes in any language, so the rules
are deliberately few and are the whole specification:

* Output is UTF-8 encoded JSON text with no insignificant whitespace: separators are ``,`` and
  ``:`` with no spaces, no trailing newline.
* Object keys must be strings and are sorted by Unicode code point (this is Python's default
  string order; note it differs from RFC 8785/JCS, which sorts by UTF-16 code unit, only for keys
  containing characters outside the Basic Multilingual Plane).
* Strings are written as raw UTF-8 (no ``\\uXXXX`` escapes for non-ASCII); only ``"``, ``\\`` and
  the C0 control characters are escaped, as ``\\"``, ``\\\\``, ``\\b``, ``\\f``, ``\\n``, ``\\r``,
  ``\\t`` and otherwise ``\\u00XX`` with lowercase hex. Lone surrogates are rejected.
* ``None``, ``True``/``False``, integers (any size, decimal, no leading zeros), lists and tuples
  (as arrays) are plain JSON.
* ``decimal.Decimal`` is written as a JSON *string* in plain positional notation that keeps the
  number's own scale: ``Decimal("12500.00")`` -> ``"12500.00"``, ``Decimal("0.5")`` -> ``"0.5"``,
  ``Decimal("1E+3")`` -> ``"1000"``. NaN and infinities are rejected with ``ValueError``.
  Money is never a JSON number, so no reader can round it through a binary float.
* Aware ``datetime`` is converted to UTC and written as the string
  ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (always six fractional digits); naive datetimes are rejected with
  ``ValueError`` because their instant is unknowable.
* ``date`` is written as the string ``YYYY-MM-DD``.
* ``float`` is rejected with ``TypeError``, as is every other type (sets, bytes, enums that are
  neither ``str`` nor ``int`` subclasses, ...). ``str`` and ``int`` subclasses (e.g. Django
  ``TextChoices``) are written as their plain value.

Because Decimal, datetime and date become JSON strings, the canonical bytes do not record the
original Python type: a payload schema, not the encoding, says which fields are prices.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

__all__ = ["canonical_json", "format_utc"]

_ENCODER = json.JSONEncoder(
    ensure_ascii=False,
    allow_nan=False,
    sort_keys=True,
    separators=(",", ":"),
)


def format_utc(dt: datetime) -> str:
    """Render an aware datetime as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` in UTC."""
    if not isinstance(dt, datetime):
        raise TypeError(f"format_utc() needs a datetime, got {type(dt).__name__}")
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"naive datetime {dt.isoformat()} has no timezone; refusing to guess")
    u = dt.astimezone(UTC)
    # Built by hand rather than strftime: %Y is not zero-padded for years < 1000 on every libc.
    return (
        f"{u.year:04d}-{u.month:02d}-{u.day:02d}T"
        f"{u.hour:02d}:{u.minute:02d}:{u.second:02d}.{u.microsecond:06d}Z"
    )


def _format_decimal(value: Decimal) -> str:
    if not value.is_finite():
        raise ValueError(f"Decimal {value} is not a finite number")
    # "f" never switches to exponent notation and keeps trailing zeros of the scale.
    return format(value, "f")


def _normalise(obj: Any) -> Any:
    # Ordered from the most to the least common payload value; bool is checked before int
    # because bool is an int subclass.
    if obj is None or obj is True or obj is False:
        return obj
    if isinstance(obj, str):
        return str.__str__(obj)
    if isinstance(obj, float):
        raise TypeError(f"float {obj!r} is not allowed in canonical JSON; use Decimal for money")
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, Decimal):
        return _format_decimal(obj)
    if isinstance(obj, datetime):
        return format_utc(obj)
    if isinstance(obj, date):
        return obj.isoformat()
    if isinstance(obj, dict):
        out: dict[str, Any] = {}
        for key, value in obj.items():
            if not isinstance(key, str):
                raise TypeError(f"object key {key!r} is a {type(key).__name__}, not a str")
            plain_key = str.__str__(key)
            if plain_key in out:
                raise ValueError(f"object key {plain_key!r} appears twice")
            out[plain_key] = _normalise(value)
        return out
    if isinstance(obj, list | tuple):
        return [_normalise(item) for item in obj]
    raise TypeError(f"{type(obj).__name__} {obj!r} has no canonical JSON form")


def canonical_json(obj: Any) -> bytes:
    """Serialize ``obj`` to its canonical JSON bytes (see the module docstring for the rules)."""
    # encode() raises UnicodeEncodeError (a ValueError) on lone surrogates, which is what we want:
    # they have no UTF-8 form another implementation could reproduce.
    return _ENCODER.encode(_normalise(obj)).encode("utf-8")
