"""What the dashboard is asked for: a scope (brand, category) and a range of UTC days.

Plain functions over the query string's values; nothing here imports Django, so a bad date
is explained in words rather than raised.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

PRESETS = (7, 30, 90)
DEFAULT_PRESET = 7
CUSTOM = "custom"
# A longer range would be a year of daily points nobody reads, and a slower page.
MAX_RANGE_DAYS = 366


@dataclass(frozen=True)
class MarketFilters:
    brand: str
    category: str
    period: str  # "7", "30", "90" or "custom"
    start: date  # first day in the range, UTC
    end: date  # last day in the range, UTC, inclusive
    errors: tuple[str, ...] = field(default=())

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def starts_at(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=UTC)

    @property
    def ends_before(self) -> datetime:
        """The first moment after the range: the range is [starts_at, ends_before)."""
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=UTC)

    @property
    def scoped(self) -> bool:
        return bool(self.brand or self.category)


def parse_day(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


def market_filters(params: Mapping[str, str], *, today: date) -> MarketFilters:
    """The filters asked for; a bad or missing custom date falls back to the default range
    with an error naming the field."""
    brand = params.get("brand", "").strip()
    category = params.get("category", "").strip()
    period = params.get("period", "").strip() or str(DEFAULT_PRESET)
    errors: list[str] = []
    if period == CUSTOM:
        start_text, end_text = params.get("from", ""), params.get("to", "")
        start, end = parse_day(start_text), parse_day(end_text)
        if start is None:
            errors.append(f"From: {start_text!r} is not a date (YYYY-MM-DD).")
        if end is None:
            errors.append(f"To: {end_text!r} is not a date (YYYY-MM-DD).")
        if end and end > today:
            # Nothing is known after today, and a far-future day has no day after it to end on.
            errors.append(f"To: the range must end by today ({today.isoformat()}, UTC).")
        if start and end and end < start:
            errors.append("To: the range must end on or after its first day.")
        if start and end and (end - start).days + 1 > MAX_RANGE_DAYS:
            errors.append(f"To: a range covers at most {MAX_RANGE_DAYS} days.")
        if not errors:
            return MarketFilters(brand, category, CUSTOM, start, end)
        period = str(DEFAULT_PRESET)
    elif period not in {str(days) for days in PRESETS}:
        errors.append(f"Period: choose {', '.join(map(str, PRESETS))} days or custom.")
        period = str(DEFAULT_PRESET)
    days = int(period)
    return MarketFilters(
        brand, category, period, today - timedelta(days=days - 1), today, tuple(errors)
    )
