"""The market dashboard's rollups, refreshed: what lets a render read a few thousand rows instead
of aggregating two million probes (the way BI dashboards read materialized rollups).

`market_rollups_refresh()` rebuilds, each table in its own transaction, with INSERT ... SELECT
statements the database runs on its own (no row passes through Python):

- `MarketProductSnapshot`, wholesale, from the live where-we-stand SQL (`selectors.standing_sql`),
  so the definition of "where we stand" exists once;
- `MarketProbeDay` (probe health) and `MarketTrendDay` (trend), per UTC day. Probes carry their
  creation time, so a day that has ended never changes: a refresh recomputes only the days from
  the one the previous refresh was on (and yesterday, for probes committed around midnight) up to
  now; the first refresh, or `full=True`, computes every day;
- `MarketMove`, per preset range (7, 30, 90 days ending on the refresh's day), from the live
  movers SQL (`selectors.moves_sql`): only listings whose price changed, so the top ten either
  way is an indexed ORDER BY ... LIMIT.

Every rollup counts what was recorded before the refresh's moment (`computed_at`), which the page
shows as "as of HH:MM UTC". Two things are fixed when a day is rolled up and a later change does
not reach a closed day until a full refresh: a product's brand and category, and the list price
the trend's index divides by (the live query divides by today's list price).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from pricing.market import filters, selectors
from pricing.market.selectors import LISTING, PROBE, PRODUCT, Scope, as_float, day_of, moment
from pricing.models import (
    MarketMove,
    MarketProbeDay,
    MarketProductSnapshot,
    MarketRefresh,
    MarketRetailerListings,
    MarketStandingSummary,
    MarketTrendDay,
)
from scraping.models import Probe

logger = logging.getLogger(__name__)

SNAPSHOT = MarketProductSnapshot._meta.db_table
PROBE_DAY = MarketProbeDay._meta.db_table
TREND_DAY = MarketTrendDay._meta.db_table
MOVE = MarketMove._meta.db_table
SUMMARY = MarketStandingSummary._meta.db_table
RETAILER_LISTINGS = MarketRetailerListings._meta.db_table
ROLLUPS = (SNAPSHOT, SUMMARY, RETAILER_LISTINGS, PROBE_DAY, TREND_DAY, MOVE)
STAGED_MOVES = "market_moves_staged"  # a temporary table, one per connection


@dataclass
class RefreshReport:
    refresh: MarketRefresh
    seconds: dict[str, float] = field(default_factory=dict)


def execute(sql: str, params: list) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def day_value(value):
    return connection.ops.adapt_datefield_value(value)


def status_count(statuses) -> str:
    names = ", ".join(f"'{status}'" for status in statuses)  # our own enum values
    return f"SUM(CASE WHEN pr.status IN ({names}) THEN 1 ELSE 0 END)"


def snapshot_rebuild(*, now: datetime) -> int:
    """Every product's place against the market as of `now`, its sums per brand and category,
    and each retailer's active listings per brand and category; returns the products stored."""
    max_age = timedelta(hours=settings.PRICING_MAX_OBSERVATION_AGE_HOURS)
    standing, params = selectors.standing_sql(scope=Scope(), now=now, max_age=max_age)
    places = ", ".join(
        f"SUM(CASE WHEN place = '{place}' THEN 1 ELSE 0 END)"
        for place in ("without_price", "cheapest", "within", "above", "no_market")
    )
    with transaction.atomic():
        for table in (SNAPSHOT, SUMMARY, RETAILER_LISTINGS):
            execute(f"DELETE FROM {table}", [])  # noqa: S608
        execute(
            f"""INSERT INTO {RETAILER_LISTINGS} (retailer_id, brand_id, category, listings,
                computed_at)
            SELECT l.retailer_id, p.brand_id, p.category, COUNT(*), %s
            FROM {LISTING} l JOIN {PRODUCT} p ON p.id = l.product_id
            WHERE l.active = %s
            GROUP BY l.retailer_id, p.brand_id, p.category""",  # noqa: S608
            [moment(now), True],
        )
        products = execute(
            # INSERT first, WITH after: sqlite3 counts the rows of a statement that starts so.
            f"""INSERT INTO {SNAPSHOT} (product_id, brand_id, category, currency, our_price,
                lowest, median, highest, competitors, gap, distance, place, computed_at)
            {standing}
            SELECT product_id, brand_id, category, currency, our_price, lowest, median, highest,
                   size, gap, ABS(gap), place, %s
            FROM standing""",  # noqa: S608
            [*params, moment(now)],
        )
        execute(
            f"""INSERT INTO {SUMMARY} (brand_id, category, products, without_price, cheapest,
                within, above, no_market, gap_sum, gaps, computed_at)
            SELECT brand_id, category, COUNT(*), {places}, SUM(gap), COUNT(gap), %s
            FROM {SNAPSHOT} GROUP BY brand_id, category""",  # noqa: S608
            [moment(now)],
        )
    return products


def probe_days_rebuild(*, now: datetime, days_from) -> int:
    """Probe health and trend rows of every day from `days_from` (None: every day) up to `now`;
    returns the health rows written."""
    known = {status for _, _, statuses in selectors.HEALTH_GROUPS for status in statuses}
    others = [s for s in Probe.Status.values if s not in known and s != Probe.Status.PENDING]
    groups = {key: statuses for key, _, statuses in selectors.HEALTH_GROUPS}
    columns = ", ".join(
        status_count(groups[key])
        for key in ("success", "blocked", "mismatch", "failed", "no_price")
    )
    other = status_count(others) if others else "0"
    since = "" if days_from is None else " AND pr.created_at >= %s"
    since_params = [] if days_from is None else [moment(selectors_start(days_from))]
    day = day_of("pr.created_at")
    stamp = moment(now)
    with transaction.atomic():
        deleted_where = "" if days_from is None else " WHERE day >= %s"
        deleted_params = [] if days_from is None else [day_value(days_from)]
        execute(f"DELETE FROM {PROBE_DAY}{deleted_where}", deleted_params)  # noqa: S608
        execute(f"DELETE FROM {TREND_DAY}{deleted_where}", deleted_params)  # noqa: S608
        written = execute(
            f"""INSERT INTO {PROBE_DAY} (day, retailer_id, brand_id, category, success, blocked,
                mismatch, failed, no_price, other, computed_at)
            SELECT {day}, l.retailer_id, p.brand_id, p.category, {columns}, {other}, %s
            FROM {PROBE} pr JOIN {LISTING} l ON l.id = pr.listing_id
            JOIN {PRODUCT} p ON p.id = l.product_id
            WHERE pr.status <> %s AND pr.created_at < %s{since}
            GROUP BY {day}, l.retailer_id, p.brand_id, p.category""",  # noqa: S608
            [stamp, Probe.Status.PENDING.value, stamp, *since_params],
        )
        # The same expression as the live trend (selectors.market_trend), summed per group so
        # that any range's mean is SUM(index_sum) / SUM(observations).
        execute(
            f"""INSERT INTO {TREND_DAY} (day, brand_id, category, observations, index_sum,
                products, computed_at)
            SELECT {day}, p.brand_id, p.category, COUNT(*),
                   SUM(100.0 * {as_float("pr.price")} / {as_float("p.list_price")}),
                   COUNT(DISTINCT p.id), %s
            FROM {PROBE} pr JOIN {LISTING} l ON l.id = pr.listing_id
            JOIN {PRODUCT} p ON p.id = l.product_id
            WHERE pr.status = %s AND pr.price IS NOT NULL AND pr.currency = p.currency
              AND p.list_price > 0 AND pr.created_at < %s{since}
            GROUP BY {day}, p.brand_id, p.category""",  # noqa: S608
            [stamp, Probe.Status.SUCCESS.value, stamp, *since_params],
        )
    return written


def selectors_start(day) -> datetime:
    return filters.MarketFilters("", "", "custom", day, day).starts_at


def moves_rebuild(*, now: datetime) -> int:
    """Every listing that moved over each preset range ending today, as of `now`.

    The slow part (ranking two million probes, about half a minute on SQLite at the benchmark's
    size) fills a temporary table outside any transaction; only the copy into the rollup holds
    the write lock, which on SQLite is the whole database's: probes wait seconds, not a minute.
    """
    today = now.date()
    columns = (
        "preset, listing_id, product_id, brand_id, category, retailer_id, currency, "
        "first_price, last_price, change, computed_at"
    )
    create = f"CREATE TEMPORARY TABLE {STAGED_MOVES} AS SELECT {columns} FROM {MOVE} WHERE 1 = 0"  # noqa: S608
    execute(f"DROP TABLE IF EXISTS {STAGED_MOVES}", [])
    try:
        # No transaction of our own here: SQLite's run in IMMEDIATE mode, which would take the
        # write lock. Inside a caller's transaction, a savepoint keeps a failure from aborting
        # it (PostgreSQL), so the failure can still be recorded.
        with transaction.atomic() if connection.in_atomic_block else nullcontext():
            execute(create, [])
            for days in filters.PRESETS:
                starts_at = selectors_start(today - timedelta(days=days - 1))
                moves, params = selectors.moves_sql(
                    scope=Scope(), starts_at=starts_at, ends_before=now
                )
                execute(
                    f"""INSERT INTO {STAGED_MOVES} ({columns})
                    {moves}
                    SELECT %s, m.listing_id, l.product_id, p.brand_id, p.category,
                           l.retailer_id, l.currency, m.first_price, m.last_price, m.change, %s
                    FROM moves m JOIN {LISTING} l ON l.id = m.listing_id
                    JOIN {PRODUCT} p ON p.id = l.product_id""",  # noqa: S608
                    [*params, days, moment(now)],
                )
        with transaction.atomic():
            execute(f"DELETE FROM {MOVE}", [])  # noqa: S608
            return execute(
                f"INSERT INTO {MOVE} ({columns}) SELECT {columns} FROM {STAGED_MOVES}",  # noqa: S608
                [],
            )
    finally:
        execute(f"DROP TABLE IF EXISTS {STAGED_MOVES}", [])


def analyze_rollups() -> None:
    if connection.vendor == "postgresql":
        execute(f"ANALYZE {', '.join(ROLLUPS)}", [])
    else:
        for table in ROLLUPS:  # SQLite analyzes one table (or everything) at a time
            execute(f"ANALYZE {table}", [])


def market_rollups_refresh(
    *,
    full: bool = False,
    now: datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> RefreshReport:
    """Brings every rollup up to `now` (default: this moment) and records the refresh."""
    now = now or timezone.now()
    say = progress or (lambda text: None)
    previous = MarketRefresh.objects.filter(error="").order_by("-computed_at").first()
    days_from = None
    if previous is not None and not full:
        days_from = min(previous.computed_at.date(), now.date() - timedelta(days=1))
    seconds: dict[str, float] = {}

    def step(name: str, run: Callable[[], int | None]) -> int | None:
        began = time.perf_counter()
        count = run()
        seconds[name] = round(time.perf_counter() - began, 3)
        rows = "" if count is None else f"{count:,} rows "
        say(f"{name}: {rows}in {seconds[name]:.2f} s")
        return count

    # Each step commits on its own (one transaction would hold SQLite's only write lock for a
    # minute), so a failure part-way is recorded: the page warns, and the next refresh starts
    # again from the last finished one.
    try:
        products = step("products snapshot", lambda: snapshot_rebuild(now=now))
        probe_days = step(
            "probe days" + (f" from {days_from}" if days_from else " (every day)"),
            lambda: probe_days_rebuild(now=now, days_from=days_from),
        )
        moves = step("movers (7, 30, 90 days)", lambda: moves_rebuild(now=now))
        # Rows rewritten wholesale: with statistics from before (or none), the planner may
        # scan where the top-N reads want their index.
        step("analyze", analyze_rollups)
    except Exception as exc:
        MarketRefresh.objects.create(
            computed_at=now,
            finished_at=timezone.now(),
            days_from=days_from,
            seconds=seconds,
            error=f"{type(exc).__name__}: {exc}"[:2000],
        )
        logger.exception("market rollups refresh as of %s failed after %s", now, seconds)
        raise
    refresh = MarketRefresh.objects.create(
        computed_at=now,
        finished_at=timezone.now(),
        days_from=days_from,
        products=products,
        probe_days=probe_days,
        moves=moves,
        seconds=seconds,
    )
    logger.info("market rollups refreshed as of %s: %s", now, seconds)
    return RefreshReport(refresh=refresh, seconds=seconds)
