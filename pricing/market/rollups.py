"""The market dashboard's sections read from the rollups (`pricing.market.services` keeps them),
exact as of the latest refresh, in a fixed number of small queries.

The live queries in `selectors` stay the reference definition (the tests hold these to them) and
serve what the rollups cannot: every section before the first refresh, and the movers of a
custom range (only the preset ranges ending on the refresh's day are precomputed). The MAP
section reads its episodes live (a few thousand rows) and each retailer's active listings, its
denominator, from the refresh.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection

from pricing.market import filters, selectors
from pricing.market.filters import MarketFilters
from pricing.market.selectors import (
    BRAND,
    GAPS_SHOWN,
    LISTING,
    MOVERS_SHOWN,
    PRODUCT,
    RETAILER,
    Gap,
    Move,
    Movers,
    RetailerHealth,
    Scope,
    Standing,
    TrendDay,
    as_day,
    fetch,
    money,
    percent,
)
from pricing.models import (
    MarketMove,
    MarketProbeDay,
    MarketProductSnapshot,
    MarketRefresh,
    MarketRetailerListings,
    MarketStandingSummary,
    MarketTrendDay,
)

SNAPSHOT = MarketProductSnapshot._meta.db_table
PROBE_DAY = MarketProbeDay._meta.db_table
TREND_DAY = MarketTrendDay._meta.db_table
MOVE = MarketMove._meta.db_table
SUMMARY = MarketStandingSummary._meta.db_table
RETAILER_LISTINGS = MarketRetailerListings._meta.db_table
HEALTH_KEYS = ("success", "blocked", "mismatch", "failed", "no_price", "other")


def day_value(value):
    return connection.ops.adapt_datefield_value(value)


def latest_refresh() -> MarketRefresh | None:
    """The latest refresh that finished: the moment the rollups are exact as of."""
    return MarketRefresh.objects.filter(error="").order_by("-computed_at").first()


def failed_since(refresh: MarketRefresh | None) -> datetime | None:
    """When a refresh after `refresh` last failed (it may have replaced some rollups)."""
    failures = MarketRefresh.objects.exclude(error="")
    if refresh is not None:
        failures = failures.filter(computed_at__gt=refresh.computed_at)
    return failures.order_by("-computed_at").values_list("computed_at", flat=True).first()


def market_standing(*, scope: Scope) -> Standing:
    """The snapshot's counts and mean index (one query over its sums per brand and category)
    and its largest gaps (one indexed query)."""
    scope_sql, scope_params = scope.where("s")
    counts = fetch(
        f"""SELECT SUM(products), SUM(without_price), SUM(cheapest), SUM(within), SUM(above),
               SUM(no_market), (SUM(gap_sum) + 100.0 * SUM(gaps)) / NULLIF(SUM(gaps), 0)
        FROM {SUMMARY} s WHERE 1 = 1{scope_sql}""",  # noqa: S608
        scope_params,
    )[0]
    rows = fetch(
        f"""SELECT s.product_id, b.name, p.reference, p.name, s.currency, s.our_price, s.lowest,
               s.median, s.highest, s.competitors, s.gap
        FROM {SNAPSHOT} s JOIN {PRODUCT} p ON p.id = s.product_id
        JOIN {BRAND} b ON b.id = p.brand_id
        WHERE s.distance IS NOT NULL{scope_sql}
        ORDER BY s.distance DESC, s.product_id LIMIT %s""",  # noqa: S608
        [*scope_params, GAPS_SHOWN],
    )
    gaps = tuple(Gap.from_row(row) for row in rows)
    return Standing(
        products=counts[0] or 0,
        without_price=counts[1] or 0,
        cheapest=counts[2] or 0,
        within=counts[3] or 0,
        above=counts[4] or 0,
        no_market=counts[5] or 0,
        index=percent(counts[6]),
        gaps=gaps,
    )


def market_movers(*, scope: Scope, preset: int) -> Movers:
    """The ten largest moves up and down over a preset range (one query, two index scans)."""
    scope_sql, scope_params = scope.where("m")
    side = f"""SELECT * FROM (
        SELECT m.listing_id, m.product_id, m.retailer_id, m.currency, m.first_price,
               m.last_price, m.change
        FROM {MOVE} m WHERE m.preset = %s AND m.change {{sign}} 0{scope_sql}
        ORDER BY m.change {{order}}, m.listing_id LIMIT %s) AS {{name}}"""  # noqa: S608
    up = side.format(sign=">", order="DESC", name="up")
    down = side.format(sign="<", order="ASC", name="down")
    sql = f"""SELECT t.listing_id, t.product_id, b.name, p.reference, r.name, t.currency,
           t.first_price, t.last_price, t.change
    FROM ({up} UNION ALL {down}) t
    JOIN {PRODUCT} p ON p.id = t.product_id JOIN {BRAND} b ON b.id = p.brand_id
    JOIN {RETAILER} r ON r.id = t.retailer_id
    JOIN {LISTING} l ON l.id = t.listing_id"""  # noqa: S608
    side_params = [preset, *scope_params, MOVERS_SHOWN]
    moves = [
        (
            Move(
                listing_id=row[0],
                product_id=row[1],
                brand=row[2],
                reference=row[3],
                retailer=row[4],
                currency=row[5],
                first_price=money(row[6]),
                last_price=money(row[7]),
                change_percent=percent(row[8]),
            ),
            row[8],
        )
        for row in fetch(sql, [*side_params, *side_params])
    ]
    rising = sorted((m for m in moves if m[1] > 0), key=lambda m: (-m[1], m[0].listing_id))
    falling = sorted((m for m in moves if m[1] < 0), key=lambda m: (m[1], m[0].listing_id))
    return Movers(up=tuple(m[0] for m in rising), down=tuple(m[0] for m in falling))


def map_violation_shares(*, scope: Scope, asked: MarketFilters) -> list:
    """The MAP section: its episodes live (a few thousand rows), each retailer's active listings
    in scope from the refresh (counting half a million listings is most of the live query)."""
    scope_sql, scope_params = scope.where("c")
    listed = (
        f"""SELECT c.retailer_id, SUM(c.listings) AS listings FROM {RETAILER_LISTINGS} c
        WHERE c.retailer_id IN (SELECT retailer_id FROM episodes){scope_sql}
        GROUP BY c.retailer_id""",  # noqa: S608
        scope_params,
    )
    return selectors.map_violation_shares(
        scope=scope, starts_at=asked.starts_at, ends_before=asked.ends_before, listed=listed
    )


def probe_health(*, scope: Scope, asked: MarketFilters) -> list[RetailerHealth]:
    """Finished probes per retailer over the range's days (one query over the day rows)."""
    scope_sql, scope_params = scope.where("d")
    sums = ", ".join(f"SUM(d.{key})" for key in HEALTH_KEYS)
    rows = fetch(
        f"""SELECT d.retailer_id, r.name, {sums}
        FROM {PROBE_DAY} d JOIN {RETAILER} r ON r.id = d.retailer_id
        WHERE d.day >= %s AND d.day <= %s{scope_sql}
        GROUP BY d.retailer_id, r.name
        ORDER BY r.name, d.retailer_id""",  # noqa: S608
        [day_value(asked.start), day_value(asked.end), *scope_params],
    )
    health = []
    for retailer_id, name, *values in rows:
        # The live query only names the groups that had probes.
        counts = {key: int(value) for key, value in zip(HEALTH_KEYS, values, strict=True) if value}
        if counts:
            health.append(RetailerHealth(retailer_id, name, sum(counts.values()), counts))
    return health


def market_trend(*, scope: Scope, asked: MarketFilters) -> list[TrendDay]:
    """The daily mean market index over the range's days (one query over the day rows)."""
    scope_sql, scope_params = scope.where("d")
    rows = fetch(
        f"""SELECT d.day, SUM(d.index_sum) / SUM(d.observations), SUM(d.observations),
               SUM(d.products)
        FROM {TREND_DAY} d
        WHERE d.day >= %s AND d.day <= %s{scope_sql}
        GROUP BY d.day ORDER BY d.day""",  # noqa: S608
        [day_value(asked.start), day_value(asked.end), *scope_params],
    )
    return [
        TrendDay(day=as_day(row[0]), index=percent(row[1]), observations=row[2], products=row[3])
        for row in rows
    ]


# --- The page's sections, from the rollups when there are some ------------------------------


@dataclass(frozen=True)
class Sections:
    standing: Standing
    movers: Movers
    violations: list
    health: list[RetailerHealth]
    trend: list[TrendDay]
    as_of: datetime | None  # None: computed live, no refresh has finished yet
    movers_live: bool  # the movers were computed live (a custom range)
    failed_at: datetime | None = None  # a later refresh failed part-way at this moment


def preset_of(asked: MarketFilters, refresh: MarketRefresh) -> int | None:
    """The precomputed movers range matching the one asked for, if any."""
    today = refresh.computed_at.date()
    if asked.period == filters.CUSTOM or asked.end != today:
        return None
    days = int(asked.period)
    return days if asked.start == today - timedelta(days=days - 1) else None


def dashboard_sections(*, scope: Scope, asked: MarketFilters, now: datetime) -> Sections:
    """Every section of the page, from the latest refresh's rollups; all live before the first
    refresh, and the movers live for a range the rollups do not hold."""
    window = {"scope": scope, "starts_at": asked.starts_at, "ends_before": asked.ends_before}
    refresh = latest_refresh()
    if refresh is None:
        violations = selectors.map_violation_shares(**window)
        max_age = timedelta(hours=settings.PRICING_MAX_OBSERVATION_AGE_HOURS)
        return Sections(
            standing=selectors.market_standing(scope=scope, now=now, max_age=max_age),
            movers=selectors.market_movers(**window),
            violations=violations,
            health=selectors.probe_health(**window),
            trend=selectors.market_trend(**window),
            as_of=None,
            movers_live=True,
        )
    preset = preset_of(asked, refresh)
    violations = map_violation_shares(scope=scope, asked=asked)
    return Sections(
        standing=market_standing(scope=scope),
        movers=(
            market_movers(scope=scope, preset=preset)
            if preset
            else selectors.market_movers(**window)
        ),
        violations=violations,
        health=probe_health(scope=scope, asked=asked),
        trend=market_trend(scope=scope, asked=asked),
        as_of=refresh.computed_at,
        movers_live=preset is None,
        failed_at=failed_since(refresh),
    )
