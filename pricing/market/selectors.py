"""Every aggregate of the market dashboard, computed live by the database in a fixed number of
queries: the reference definition. On the 100,000-product catalog these take seconds, so the page
reads rollups refreshed from the same SQL (`services`, `rollups`) and comes here only before the
first refresh and for the movers of a custom range.

The catalog can hold 100,000 products and half a million listings, so nothing here loops over
rows in Python: each section is one SQL statement (GROUP BY, window functions, subqueries) that
returns a handful of rows. The SQL is written out because the median and the movers need
aggregates over window functions, which the ORM cannot express; it runs unchanged on SQLite and
PostgreSQL, apart from the day bucket (`day_of`).

Competitor prices are the ones pricing uses (`pricing.inputs`, `pricing.engine`): each active
listing's latest successful reading, if it is fresh (observed within the freshness window),
available, and in the product's currency. The median is the middle price of a product's
listings (the mean of the two middle ones for an even count), found with ROW_NUMBER and COUNT
over the product's listings: PostgreSQL has percentile_cont, SQLite has nothing like it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import connection

from catalog.models import Brand, Listing, Product, Retailer
from pricing.models import MapViolation
from scraping.models import Probe

GAPS_SHOWN = 10
MOVERS_SHOWN = 10
CENT = Decimal("0.01")
TENTH = Decimal("0.1")

PRODUCT = Product._meta.db_table
LISTING = Listing._meta.db_table
BRAND = Brand._meta.db_table
RETAILER = Retailer._meta.db_table
PROBE = Probe._meta.db_table
VIOLATION = MapViolation._meta.db_table

# Probe statuses as the dashboard groups them; each status belongs to one group.
HEALTH_GROUPS = (
    ("success", "Success", (Probe.Status.SUCCESS,)),
    ("blocked", "Blocked", (Probe.Status.BLOCKED,)),
    ("mismatch", "Identity mismatch", (Probe.Status.IDENTITY_MISMATCH,)),
    ("failed", "Failed", (Probe.Status.FAILED, Probe.Status.NOT_FOUND)),
    ("no_price", "No price", (Probe.Status.NO_PRICE, Probe.Status.PRICE_HIDDEN)),
)
HEALTH_GROUP_OF = {status: key for key, _, statuses in HEALTH_GROUPS for status in statuses}


@dataclass(frozen=True)
class Scope:
    """Products of one brand (by id), one category, both, or (neither) the whole catalog."""

    brand_id: int | None = None
    category: str = ""

    def where(self, product: str = "p") -> tuple[str, list]:
        """AND-clauses on the product table aliased `product`, and their parameters."""
        sql, params = "", []
        if self.brand_id is not None:
            sql += f" AND {product}.brand_id = %s"
            params.append(self.brand_id)
        if self.category:
            sql += f" AND {product}.category = %s"
            params.append(self.category)
        return sql, params

    @property
    def whole_catalog(self) -> bool:
        return self.brand_id is None and not self.category


def moment(value: datetime):
    """A datetime parameter as the backend stores it (naive UTC text on SQLite)."""
    return connection.ops.adapt_datetimefield_value(value)


def day_of(column: str) -> str:
    """The UTC day of a timestamp column, as SQL."""
    if connection.vendor == "postgresql":
        return f"CAST(({column} AT TIME ZONE 'UTC') AS date)"
    # SQLite keeps UTC text 'YYYY-MM-DD HH:MM:SS[.ffffff]': the day is its first ten characters.
    return f"substr({column}, 1, 10)"


def as_day(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def money(value) -> Decimal | None:
    # SQLite hands back floats for numeric columns: two places make them exact cents again.
    return None if value is None else Decimal(str(value)).quantize(CENT)


def percent(value) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(TENTH)


def fetch(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def as_float(expression: str) -> str:
    # SQLite divides integers as integers: 12000 / 10000 is 1 there, 1.2 on PostgreSQL.
    return f"CAST({expression} AS DOUBLE PRECISION)"


# --- Where we stand -------------------------------------------------------------------------


@dataclass(frozen=True)
class Gap:
    product_id: int
    brand: str
    reference: str
    name: str
    currency: str
    our_price: Decimal
    lowest: Decimal
    median: Decimal
    highest: Decimal
    competitors: int
    gap_percent: Decimal  # our price against the median: +12.0 is 12% above it

    @property
    def direction(self) -> str:
        return "above" if self.gap_percent > 0 else "below" if self.gap_percent < 0 else "at"

    @classmethod
    def from_row(cls, row: Sequence) -> Gap:
        """From (product id, brand, reference, name, currency, our price, lowest, median,
        highest, competitors, gap): the columns both the live query and the rollup select."""
        return cls(
            product_id=row[0],
            brand=row[1],
            reference=row[2],
            name=row[3],
            currency=row[4],
            our_price=money(row[5]),
            lowest=money(row[6]),
            median=money(row[7]),
            highest=money(row[8]),
            competitors=row[9],
            gap_percent=percent(row[10]),
        )


@dataclass(frozen=True)
class Standing:
    products: int  # in scope
    without_price: int  # no list price of ours
    cheapest: int  # our price at or below the lowest competitor
    within: int  # above the lowest, at most the highest
    above: int  # above the highest competitor
    no_market: int  # a price of ours, no fresh competitor price
    index: Decimal | None  # mean of 100 x our price / market median, products with a market
    gaps: tuple[Gap, ...]

    @property
    def compared(self) -> int:
        return self.cheapest + self.within + self.above


def standing_sql(*, scope: Scope, now: datetime, max_age: timedelta) -> tuple[str, list]:
    """The CTEs ending in `standing`: one row per product in scope with its place against the
    fresh competitor prices (the definition the live page and the rollup snapshot share)."""
    scope_sql, scope_params = scope.where("p")
    sql = f"""
    WITH market AS (
        SELECT l.product_id AS product_id, l.last_price AS price,
               ROW_NUMBER() OVER (PARTITION BY l.product_id ORDER BY l.last_price) AS position,
               COUNT(*) OVER (PARTITION BY l.product_id) AS size
        FROM {LISTING} l JOIN {PRODUCT} p ON p.id = l.product_id
        WHERE l.active = %s AND l.available = %s AND l.last_price IS NOT NULL
          AND l.last_success_at >= %s AND l.currency = p.currency{scope_sql}
    ),
    per_product AS (
        SELECT product_id, MIN(price) AS lowest, MAX(price) AS highest, MAX(size) AS size,
               AVG(CASE WHEN position IN ((size + 1) / 2, (size + 2) / 2)
                        THEN {as_float("price")} END) AS median
        FROM market GROUP BY product_id
    ),
    standing AS (
        SELECT p.id AS product_id, p.brand_id, p.category, p.currency,
               p.list_price AS our_price, m.lowest, m.median, m.highest, m.size,
               100.0 * {as_float("p.list_price")} / NULLIF(m.median, 0) - 100.0 AS gap,
               CASE WHEN p.list_price IS NULL THEN 'without_price'
                    WHEN m.product_id IS NULL THEN 'no_market'
                    WHEN p.list_price <= m.lowest THEN 'cheapest'
                    WHEN p.list_price <= m.highest THEN 'within'
                    ELSE 'above' END AS place
        FROM {PRODUCT} p LEFT JOIN per_product m ON m.product_id = p.id
        WHERE 1 = 1{scope_sql}
    )"""  # noqa: S608 - table names are ours; values are parameters
    return sql, [True, True, moment(now - max_age), *scope_params, *scope_params]


def market_standing(*, scope: Scope, now: datetime, max_age: timedelta) -> Standing:
    """Our list prices against the lowest, median and highest fresh competitor price: counts, the
    mean index, and the products furthest from the median (one query)."""
    standing, standing_params = standing_sql(scope=scope, now=now, max_age=max_age)
    sql = f"""{standing},
    ranked AS (
        SELECT s.*,
               COUNT(*) OVER () AS products,
               SUM(CASE WHEN place = 'without_price' THEN 1 ELSE 0 END) OVER () AS without_price,
               SUM(CASE WHEN place = 'cheapest' THEN 1 ELSE 0 END) OVER () AS cheapest,
               SUM(CASE WHEN place = 'within' THEN 1 ELSE 0 END) OVER () AS within,
               SUM(CASE WHEN place = 'above' THEN 1 ELSE 0 END) OVER () AS above,
               SUM(CASE WHEN place = 'no_market' THEN 1 ELSE 0 END) OVER () AS no_market,
               AVG(gap + 100.0) OVER () AS mean_index,
               ROW_NUMBER() OVER (
                   ORDER BY CASE WHEN gap IS NULL THEN 1 ELSE 0 END, ABS(gap) DESC, product_id
               ) AS gap_rank
        FROM standing s
    )
    SELECT r.products, r.without_price, r.cheapest, r.within, r.above, r.no_market,
           r.mean_index, r.product_id, b.name, p.reference, p.name, p.currency, r.our_price,
           r.lowest, r.median, r.highest, r.size, r.gap
    FROM ranked r JOIN {PRODUCT} p ON p.id = r.product_id JOIN {BRAND} b ON b.id = p.brand_id
    WHERE r.gap_rank <= %s
    ORDER BY r.gap_rank
    """  # noqa: S608 - table names are ours; values are parameters
    rows = fetch(sql, [*standing_params, GAPS_SHOWN])
    if not rows:
        return Standing(0, 0, 0, 0, 0, 0, None, ())
    first = rows[0]
    gaps = tuple(Gap.from_row(row[7:]) for row in rows if row[17] is not None)
    return Standing(
        products=first[0],
        without_price=first[1] or 0,
        cheapest=first[2] or 0,
        within=first[3] or 0,
        above=first[4] or 0,
        no_market=first[5] or 0,
        index=percent(first[6]),
        gaps=gaps,
    )


# --- Movers ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Move:
    listing_id: int
    product_id: int
    brand: str
    reference: str
    retailer: str
    currency: str
    first_price: Decimal
    last_price: Decimal
    change_percent: Decimal


@dataclass(frozen=True)
class Movers:
    up: tuple[Move, ...]
    down: tuple[Move, ...]


def moves_sql(*, scope: Scope, starts_at: datetime, ends_before: datetime) -> tuple[str, list]:
    """The CTEs ending in `moves`: every listing in scope whose first and last successful price
    in the range differ (shared by the live page and the movers rollup)."""
    scope_sql, scope_params = scope.where("p")
    product_join = "" if scope.whole_catalog else f" JOIN {PRODUCT} p ON p.id = l.product_id"
    sql = f"""
    WITH seen AS (
        SELECT pr.listing_id, pr.price,
               ROW_NUMBER() OVER (
                   PARTITION BY pr.listing_id ORDER BY pr.created_at, pr.id) AS from_first,
               ROW_NUMBER() OVER (
                   PARTITION BY pr.listing_id ORDER BY pr.created_at DESC, pr.id DESC) AS from_last
        FROM {PROBE} pr JOIN {LISTING} l ON l.id = pr.listing_id{product_join}
        -- Only prices in the listing's currency: a move from EUR to USD is not a change.
        WHERE pr.status = %s AND pr.price IS NOT NULL AND pr.currency = l.currency
          AND pr.created_at >= %s AND pr.created_at < %s{scope_sql}
    ),
    ends AS (
        SELECT listing_id,
               MAX(CASE WHEN from_first = 1 THEN price END) AS first_price,
               MAX(CASE WHEN from_last = 1 THEN price END) AS last_price
        FROM seen WHERE from_first = 1 OR from_last = 1
        GROUP BY listing_id HAVING COUNT(*) = 2
    ),
    moves AS (
        SELECT listing_id, first_price, last_price,
               100.0 * {as_float("last_price - first_price")} / {as_float("first_price")}
                   AS change
        FROM ends WHERE first_price > 0 AND last_price <> first_price
    )"""  # noqa: S608
    params = [Probe.Status.SUCCESS.value, moment(starts_at), moment(ends_before), *scope_params]
    return sql, params


def market_movers(*, scope: Scope, starts_at: datetime, ends_before: datetime) -> Movers:
    """Listings whose price moved most between their first and last successful probe in the
    range, up and down (one query). A listing needs two priced probes in the range to move."""
    moves, moves_params = moves_sql(scope=scope, starts_at=starts_at, ends_before=ends_before)
    sql = f"""{moves},
    ranked AS (
        SELECT moves.*,
               ROW_NUMBER() OVER (ORDER BY change DESC, listing_id) AS up_rank,
               ROW_NUMBER() OVER (ORDER BY change, listing_id) AS down_rank
        FROM moves
    )
    SELECT r.listing_id, p.id, b.name, p.reference, rt.name, l.currency,
           r.first_price, r.last_price, r.change, r.up_rank, r.down_rank
    FROM ranked r
    JOIN {LISTING} l ON l.id = r.listing_id
    JOIN {PRODUCT} p ON p.id = l.product_id
    JOIN {BRAND} b ON b.id = p.brand_id
    JOIN {RETAILER} rt ON rt.id = l.retailer_id
    WHERE (r.change > 0 AND r.up_rank <= %s) OR (r.change < 0 AND r.down_rank <= %s)
    """  # noqa: S608
    params = [*moves_params, MOVERS_SHOWN, MOVERS_SHOWN]
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
            row[9],
            row[10],
        )
        for row in fetch(sql, params)
    ]
    up = sorted((m for m in moves if m[0].change_percent > 0), key=lambda m: m[1])
    down = sorted((m for m in moves if m[0].change_percent < 0), key=lambda m: m[2])
    return Movers(up=tuple(m[0] for m in up), down=tuple(m[0] for m in down))


# --- MAP violations by retailer ------------------------------------------------------------


@dataclass(frozen=True)
class RetailerViolations:
    retailer_id: int
    retailer: str
    episodes: int  # MAP episodes open at some time in the range
    listings_in_violation: int
    listings: int  # the retailer's active listings in scope
    share_of_episodes: Decimal  # percent of all episodes in the range

    @property
    def listing_share(self) -> Decimal | None:
        if not self.listings:
            return None
        return percent(100 * Decimal(self.listings_in_violation) / self.listings)


def map_violation_shares(
    *,
    scope: Scope,
    starts_at: datetime,
    ends_before: datetime,
    listed: tuple[str, list] | None = None,
) -> list[RetailerViolations]:
    """Retailers with MAP episodes overlapping the range, most violating share of listings
    first (one query). `listed` replaces the live count of each retailer's active listings in
    scope (a CTE `listed(retailer_id, listings)` and its parameters): the rollups pass theirs."""
    scope_sql, scope_params = scope.where("p")
    if listed is None:
        listed = (
            f"""SELECT l.retailer_id, COUNT(*) AS listings
            FROM {LISTING} l JOIN {PRODUCT} p ON p.id = l.product_id
            WHERE l.active = %s
              AND l.retailer_id IN (SELECT retailer_id FROM episodes){scope_sql}
            GROUP BY l.retailer_id""",  # noqa: S608
            [True, *scope_params],
        )
    sql = f"""
    WITH episodes AS (
        SELECT l.retailer_id, COUNT(*) AS episodes,
               -- Active listings only, like the count they are a share of.
               COUNT(DISTINCT CASE WHEN l.active = %s THEN v.listing_id END)
                   AS listings_in_violation
        FROM {VIOLATION} v
        JOIN {LISTING} l ON l.id = v.listing_id JOIN {PRODUCT} p ON p.id = l.product_id
        WHERE v.opened_at < %s AND (v.closed_at IS NULL OR v.closed_at >= %s){scope_sql}
        GROUP BY l.retailer_id
    ),
    listed AS ({listed[0]})
    SELECT e.retailer_id, r.name, e.episodes, e.listings_in_violation,
           COALESCE(listed.listings, 0), SUM(e.episodes) OVER () AS all_episodes
    FROM episodes e JOIN {RETAILER} r ON r.id = e.retailer_id
    LEFT JOIN listed ON listed.retailer_id = e.retailer_id
    """  # noqa: S608
    params = [True, moment(ends_before), moment(starts_at), *scope_params, *listed[1]]
    rows = [
        RetailerViolations(
            retailer_id=row[0],
            retailer=row[1],
            episodes=row[2],
            listings_in_violation=row[3],
            listings=row[4],
            share_of_episodes=percent(100 * Decimal(row[2]) / Decimal(row[5])),
        )
        for row in fetch(sql, params)
    ]
    return sorted(
        rows,
        key=lambda one: (-(one.listing_share or 0), -one.episodes, one.retailer),
    )


# --- Probe health ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RetailerHealth:
    retailer_id: int
    retailer: str
    total: int  # finished probes in the range
    counts: dict[str, int]  # by HEALTH_GROUPS key, plus "other"

    def rate(self, key: str) -> Decimal | None:
        if not self.total:
            return None
        return percent(100 * Decimal(self.counts.get(key, 0)) / self.total)

    @property
    def cells(self) -> list[tuple[str, str, int, Decimal | None]]:
        return [
            (key, label, self.counts.get(key, 0), self.rate(key)) for key, label, _ in HEALTH_GROUPS
        ]


def probe_health(
    *, scope: Scope, starts_at: datetime, ends_before: datetime
) -> list[RetailerHealth]:
    """Finished probes in the range per retailer and status (one query); pending ones are not
    counted: they have not ended yet."""
    scope_sql, scope_params = scope.where("p")
    product_join = "" if scope.whole_catalog else f" JOIN {PRODUCT} p ON p.id = l.product_id"
    sql = f"""
    WITH counted AS (
        SELECT l.retailer_id, pr.status, COUNT(*) AS probes
        FROM {PROBE} pr JOIN {LISTING} l ON l.id = pr.listing_id{product_join}
        WHERE pr.created_at >= %s AND pr.created_at < %s AND pr.status <> %s{scope_sql}
        GROUP BY l.retailer_id, pr.status
    )
    SELECT c.retailer_id, r.name, c.status, c.probes
    FROM counted c JOIN {RETAILER} r ON r.id = c.retailer_id
    ORDER BY r.name, c.retailer_id
    """  # noqa: S608
    params = [moment(starts_at), moment(ends_before), Probe.Status.PENDING.value, *scope_params]
    by_retailer: dict[int, tuple[str, dict[str, int]]] = {}
    for retailer_id, name, status, probes in fetch(sql, params):
        counts = by_retailer.setdefault(retailer_id, (name, {}))[1]
        key = HEALTH_GROUP_OF.get(status, "other")
        counts[key] = counts.get(key, 0) + probes
    return [
        RetailerHealth(retailer_id, name, sum(counts.values()), counts)
        for retailer_id, (name, counts) in by_retailer.items()
    ]


# --- Trend ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrendDay:
    day: date
    index: Decimal  # mean of 100 x competitor price / our list price that day
    observations: int
    products: int


def market_trend(*, scope: Scope, starts_at: datetime, ends_before: datetime) -> list[TrendDay]:
    """Per UTC day in the range: the mean market price index, every successful probe's price as
    a percentage of our current list price for the product (100 = our price), in the product's
    currency (one query)."""
    scope_sql, scope_params = scope.where("p")
    day = day_of("pr.created_at")
    sql = f"""
    SELECT {day} AS day,
           AVG(100.0 * {as_float("pr.price")} / {as_float("p.list_price")}) AS mean_index,
           COUNT(*) AS observations, COUNT(DISTINCT p.id) AS products
    FROM {PROBE} pr JOIN {LISTING} l ON l.id = pr.listing_id
    JOIN {PRODUCT} p ON p.id = l.product_id
    WHERE pr.status = %s AND pr.price IS NOT NULL AND pr.currency = p.currency
      AND p.list_price > 0 AND pr.created_at >= %s AND pr.created_at < %s{scope_sql}
    GROUP BY {day}
    ORDER BY 1
    """  # noqa: S608
    params = [Probe.Status.SUCCESS.value, moment(starts_at), moment(ends_before), *scope_params]
    return [
        TrendDay(day=as_day(row[0]), index=percent(row[1]), observations=row[2], products=row[3])
        for row in fetch(sql, params)
    ]


# --- Choices --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Choices:
    brands: list[Brand]
    categories: list[str]


def dashboard_choices() -> Choices:
    return Choices(
        brands=list(Brand.objects.only("name", "slug").order_by("name")),
        categories=list(
            Product.objects.exclude(category="")
            .order_by("category")
            .values_list("category", flat=True)
            .distinct()
        ),
    )
