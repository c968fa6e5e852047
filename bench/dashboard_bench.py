"""Market dashboard benchmark: /market/ rendered over the 100,000-product catalog.

    .venv/bin/python bench/dashboard_bench.py [--products 100000] [--competitors 5] [--probes 4]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dashboard_bench \\
        .venv/bin/python bench/dashboard_bench.py

1. Builds the catalog straight into a throwaway database (bench/support/database.py; setup, not
   measured): 20 brands, 8 categories, 6 retailers (2 of them vendors), --products products with
   a list price (2% without), each listed at --competitors retailers, and --probes probes per
   listing over the last 90 days (every probe status; prices drift a few percent from one probe
   to the next; the latest probe within 2.5 days for 90% of listings, so fresh), each listing
   holding its latest reading as scraping's services leave it, and MAP episodes at the vendors'
   listings (2% of them, half still open). Rows go in with COPY on PostgreSQL and executemany
   on SQLite; then ANALYZE.
2. Refreshes the dashboard's rollups (pricing.market.services.market_rollups_refresh: the product
   snapshot, the probe-day rows, the movers of the 7/30/90-day presets), timed as setup costs:
   the first, full refresh and an incremental one (what the 15-minute beat task does).
3. Times the whole page through Django's test Client as a logged-in reviewer, with production
   settings (DEBUG=false), reading the rollups: the whole catalog over the default range (7 days)
   once cold (a new database connection, the first /market/ render of a process that has
   served one other page: Django's own first request is a process start cost) and then warm
   (median of --renders), 30 and 90 days, one brand and one category (30 days), and a custom
   range (its movers are computed live: one render); the queries of a render are counted, and
   each section's query from the rollups is timed (30 days, median of 5).
4. For comparison, in the same run: each section's live query (the page before the rollups, and
   still the reference definition), whole catalog, 30 days, run once; the same aggregates written
   the naive way (the ORM and Python loops, product by product and listing by listing) on a
   random sample of --naive-sample products, extrapolated to the catalog; and the product list
   page (/products/, 50 rows) as a page everyone already waits for.

The PASS/FAIL lines at the end check the target: the whole-catalog render from the rollups (warm
median, default range and 30 days) under 300 ms, cold under 600 ms, and the same number of
queries for the whole catalog as for one brand.
"""

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.support.database import setup_django, throwaway_django  # noqa: E402
from bench.support.measure import Verdicts, timed  # noqa: E402

TARGET_RENDER_SECONDS = 0.300
CATEGORIES = ["diver", "dress", "pilot", "chronograph", "field", "sports", "gmt", "skeleton"]
RETAILERS = [  # name, vendor (1P)?
    ("Chrono Plaza", False),
    ("Watch Hub", False),
    ("Time Bazaar", False),
    ("Hour Mart", False),
    ("Jewel Discount", True),
    ("Grand Boutique", True),
]
STATUSES = ["success", "blocked", "identity_mismatch", "no_price", "price_hidden", "failed"]
STATUS_SHARES = [0.88, 0.04, 0.03, 0.02, 0.02, 0.01]
HISTORY_DAYS = 90
CHUNK = 20_000  # products per insert batch


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=100_000, help="catalog size (100000)")
    parser.add_argument("--competitors", type=int, default=5, help="listings per product (5)")
    parser.add_argument("--probes", type=int, default=4, help="probes per listing (4)")
    parser.add_argument("--renders", type=int, default=5, help="warm renders timed per case (5)")
    parser.add_argument(
        "--naive-sample", type=int, default=300, help="products the naive baseline runs on (300)"
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed (1)")
    return parser.parse_args()


# --- the catalog ------------------------------------------------------------------------------


class Writer:
    """Rows into a table: COPY on PostgreSQL, executemany on SQLite, values as Django stores
    them."""

    def __init__(self, connection) -> None:
        self.connection = connection
        self.postgres = connection.vendor == "postgresql"

    def moment(self, value: datetime):
        return value if self.postgres else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")

    def money(self, cents: int | None):
        if cents is None:
            return None
        value = Decimal(int(cents)).scaleb(-2)
        return value if self.postgres else str(value)

    def write(self, table: str, columns: list[str], rows: list[tuple]) -> None:
        with self.connection.cursor() as cursor:
            if self.postgres:
                names = ", ".join(columns)
                with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(columns))
                cursor.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",  # noqa: S608
                    rows,
                )


def load_catalog(args: argparse.Namespace, now: datetime) -> dict:
    from django.db import connection, transaction

    from catalog.models import Brand, Listing, Product, Retailer
    from pricing.models import MapViolation
    from scraping.models import Probe

    rng = np.random.default_rng(args.seed)
    writer = Writer(connection)
    counts = {"products": 0, "listings": 0, "probes": 0, "violations": 0}
    t = writer.moment(now)
    with transaction.atomic():
        writer.write(
            Brand._meta.db_table,
            ["id", "name", "slug", "website"],
            [(n, f"Brand {n:02d}", f"brand-{n:02d}", "") for n in range(1, 21)],
        )
        retailer_columns = [
            "id", "name", "slug", "domain", "base_url", "retailer_type", "market_type",
            "map_percentage", "external_price_checks_enabled", "currency", "geo_location",
            "requests_per_minute", "fetch_method", "extractor", "selectors",
            "product_url_pattern", "search_url_pattern", "created_at", "updated_at",
        ]  # fmt: skip
        writer.write(
            Retailer._meta.db_table,
            retailer_columns,
            [
                (
                    n,
                    name,
                    name.lower().replace(" ", "-"),
                    f"r{n}.example",
                    f"https://r{n}.example/",
                    "vendor" if vendor else "marketplace",
                    "authorized_dealer",
                    writer.money(80) if writer.postgres else "0.800",
                    False,
                    "USD",
                    "",
                    30,
                    "default",
                    "generic",
                    "{}",
                    "",
                    "",
                    t,
                    t,
                )
                for n, (name, vendor) in enumerate(RETAILERS, start=1)
            ],
        )
        vendors = {n for n, (_, vendor) in enumerate(RETAILERS, start=1) if vendor}
        product_columns = [
            "id", "brand_id", "name", "reference", "category", "description", "currency",
            "msrp", "cost", "list_price", "sku", "gtin", "mpn", "asin", "in_inventory_since",
            "created_at", "updated_at", "last_scraped_at",
        ]  # fmt: skip
        listing_columns = [
            "id", "product_id", "retailer_id", "url", "retailer_item_id", "currency",
            "last_price", "last_regular_price", "available", "last_probed_at",
            "last_probe_status", "last_success_at", "probe_lease_until", "active",
            "created_at", "updated_at",
        ]  # fmt: skip
        probe_columns = [
            "id", "listing_id", "status", "trigger", "transport", "extractor", "url",
            "final_url", "http_status", "price", "regular_price", "currency",
            "product_available", "page_accessible", "error_message", "raw_title",
            "geo_location", "identity_matched_on", "sources", "disagreements", "attempts",
            "duration_ms", "body_sha256", "ledger_seq", "requested_by_id", "created_at",
        ]  # fmt: skip
        violation_columns = [
            "id", "listing_id", "map_price", "currency", "opened_at", "closed_at",
            "lowest_price", "last_price", "opening_probe_id", "closing_probe_id",
            "opened_ledger_seq", "closed_ledger_seq",
        ]  # fmt: skip
        listing_id = probe_id = violation_id = 0
        for first in range(1, args.products + 1, CHUNK):
            ids = np.arange(first, min(first + CHUNK, args.products + 1))
            size = len(ids)
            list_cents = rng.integers(200_000, 6_000_000, size)
            no_price = rng.random(size) < 0.02
            brands = rng.integers(1, 21, size)
            categories = rng.integers(0, len(CATEGORIES), size)
            products = [
                (
                    int(pk),
                    int(brand),
                    f"Watch {pk}",
                    f"REF-{pk:06d}",
                    CATEGORIES[category],
                    "",
                    "USD",
                    writer.money(cents * 11 // 10),
                    writer.money(cents * 6 // 10),
                    None if missing else writer.money(cents),
                    "",
                    "",
                    "",
                    "",
                    None,
                    t,
                    t,
                    None,
                )
                for pk, brand, category, cents, missing in zip(
                    ids, brands, categories, list_cents, no_price, strict=True
                )
            ]
            writer.write(Product._meta.db_table, product_columns, products)
            counts["products"] += size

            listings, probes, violations = [], [], []
            for index, pk in enumerate(ids):
                shops = rng.choice(len(RETAILERS), args.competitors, replace=False) + 1
                for retailer in shops:
                    listing_id += 1
                    ages = np.sort(rng.random(args.probes) * HISTORY_DAYS)[::-1]
                    if rng.random() < 0.9:
                        ages[-1] = rng.random() * 2.5
                        ages = np.sort(ages)[::-1]
                    statuses = rng.choice(len(STATUSES), args.probes, p=STATUS_SHARES)
                    price = int(list_cents[index] * rng.uniform(0.85, 1.15))
                    last_price = last_success = last_probe = last_status = None
                    first_probe = probe_id + 1
                    for age, status in zip(ages, statuses, strict=True):
                        probe_id += 1
                        price = int(price * rng.uniform(0.95, 1.05))
                        at = now - timedelta(days=float(age))
                        name = STATUSES[status]
                        priced = name == "success"
                        probes.append(
                            (
                                probe_id,
                                listing_id,
                                name,
                                "schedule",
                                "direct",
                                "generic",
                                f"https://r{retailer}.example/w/{pk}",
                                "",
                                200,
                                writer.money(price) if priced else None,
                                None,
                                "USD",
                                True if priced else None,
                                True,
                                "",
                                "",
                                "",
                                "",
                                "{}",
                                "[]",
                                1,
                                None,
                                "",
                                None,
                                None,
                                writer.moment(at),
                            )
                        )
                        last_probe, last_status = at, name
                        if priced:
                            last_price, last_success = price, at
                    listings.append(
                        (
                            listing_id,
                            int(pk),
                            int(retailer),
                            "",
                            "",
                            "USD",
                            writer.money(last_price),
                            None,
                            bool(rng.random() < 0.95),
                            writer.moment(last_probe),
                            last_status,
                            writer.moment(last_success) if last_success else None,
                            None,
                            True,
                            t,
                            t,
                        )
                    )
                    if retailer in vendors and rng.random() < 0.02:
                        violation_id += 1
                        opened = now - timedelta(days=float(rng.random() * HISTORY_DAYS))
                        closed = (
                            opened + timedelta(days=float(rng.random() * 10))
                            if rng.random() < 0.5
                            else None
                        )
                        violations.append(
                            (
                                violation_id,
                                listing_id,
                                writer.money(list_cents[index] * 8 // 10),
                                "USD",
                                writer.moment(opened),
                                writer.moment(closed) if closed and closed < now else None,
                                writer.money(list_cents[index] * 7 // 10),
                                writer.money(list_cents[index] * 7 // 10),
                                first_probe,
                                None,
                                None,
                                None,
                            )
                        )
            writer.write(Listing._meta.db_table, listing_columns, listings)
            writer.write(Probe._meta.db_table, probe_columns, probes)
            writer.write(MapViolation._meta.db_table, violation_columns, violations)
            counts["listings"] += len(listings)
            counts["probes"] += len(probes)
            counts["violations"] += len(violations)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    if writer.postgres:
        # The rows came with their own ids; the sequences must follow for later inserts.
        with connection.cursor() as cursor:
            for model in (Brand, Retailer, Product, Listing, Probe, MapViolation):
                table = model._meta.db_table
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                    f"(SELECT MAX(id) FROM {table}))"
                )
    return counts


# --- measuring --------------------------------------------------------------------------------


def reviewer_client():
    from django.conf import settings
    from django.test import Client

    from tests.factories import UserFactory

    client = Client(HTTP_HOST=settings.ALLOWED_HOSTS[0])
    client.force_login(UserFactory(username="bench-reviewer"))
    return client


def section_refresh() -> None:
    from pricing.market.services import market_rollups_refresh

    for label, full in (("first refresh (full)", True), ("incremental refresh", False)):
        with timed() as span:
            report = market_rollups_refresh(full=full)
        steps = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in report.seconds.items())
        refresh = report.refresh
        print(
            f"  {label}: {span.wall:.1f} s ({steps}); {refresh.products:,} products, "
            f"{refresh.probe_days:,} probe-day rows, {refresh.moves:,} moves (setup, not measured)"
        )


LAST_BODIES: dict = {}


def last_body(client, params: dict) -> bytes:
    return LAST_BODIES.get(tuple(sorted(params.items())), b"")


def render(client, params: dict) -> tuple[float, int, int]:
    """(wall seconds, queries, bytes) of one GET /market/."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries, timed() as span:
        response = client.get("/market/", params, secure=True)
    assert response.status_code == 200, response.status_code
    LAST_BODIES[tuple(sorted(params.items()))] = response.content
    return span.wall, len(queries.captured_queries), len(response.content)


def section_renders(client, args, verdicts: Verdicts, brand: str, category: str) -> float:
    """Prints the renders, checks the targets, returns the whole-catalog 30-day warm median."""
    from django.db import connections
    from django.utils import timezone

    today = timezone.now().date()
    custom = {"period": "custom", "from": str(today - timedelta(days=13)), "to": str(today)}
    # Cold: the first /market/ render, on a new database connection, in a process that has served
    # one other page (a worker that is up): Django's own first request (imports, URLconf,
    # middleware) is a process start cost, about 0.9 s here even on an empty database.
    assert client.get("/products/", secure=True).status_code == 200
    connections.close_all()
    cold, _, _ = render(client, {})
    print(
        f"  whole catalog, 7 days, cold (new connection, first /market/ render): "
        f"{cold * 1000:7.1f} ms"
    )
    cases = [
        ("whole catalog, 7 days (default)", {}, args.renders),
        ("whole catalog, 30 days", {"period": "30"}, args.renders),
        ("whole catalog, 90 days", {"period": "90"}, args.renders),
        (f"one brand ({brand}), 30 days", {"brand": brand, "period": "30"}, args.renders),
        (f"one category ({category}), 30 days", {"category": category, "period": "30"}, 3),
        ("whole catalog, custom 14 days (live movers)", custom, 1),
    ]
    results = {}
    for label, params, renders in cases:
        walls, counts = [], set()
        for _ in range(renders):
            wall, count, size = render(client, params)
            walls.append(wall)
            counts.add(count)
        results[label] = (statistics.median(walls), counts)
        print(
            f"  {label:<40} warm median {statistics.median(walls) * 1000:7.1f} ms "
            f"(min {min(walls) * 1000:.1f}, max {max(walls) * 1000:.1f}; {renders} render"
            f"{'s' if renders != 1 else ''}), "
            f"{'/'.join(map(str, sorted(counts)))} queries, {size / 1024:.0f} KiB"
            + ("" if b"Figures as of" in last_body(client, params) else " (NOT FROM ROLLUPS)")
        )
    whole7, whole30 = results[cases[0][0]], results[cases[1][0]]
    verdicts.check(
        whole7[0] < TARGET_RENDER_SECONDS,
        f"whole-catalog render from the rollups, 7 days, warm median {whole7[0] * 1000:.1f} ms < "
        f"{TARGET_RENDER_SECONDS * 1000:.0f} ms",
    )
    verdicts.check(
        whole30[0] < TARGET_RENDER_SECONDS,
        f"whole-catalog render from the rollups, 30 days, warm median {whole30[0] * 1000:.1f} ms "
        f"< "
        f"{TARGET_RENDER_SECONDS * 1000:.0f} ms",
    )
    verdicts.check(
        cold < 2 * TARGET_RENDER_SECONDS,
        f"whole-catalog render, 7 days, cold {cold * 1000:.1f} ms < "
        f"{2 * TARGET_RENDER_SECONDS * 1000:.0f} ms (twice the warm target)",
    )
    brand_counts = results[cases[3][0]][1]
    verdicts.check(
        whole7[1] == brand_counts and len(brand_counts) == 1,
        f"queries per render: whole catalog {sorted(whole7[1])}, one brand {sorted(brand_counts)}",
    )
    return whole30[0]


def section_breakdown(now: datetime) -> float:
    """Prints each section's query from the rollups (median of 5) and live (once); returns the
    live sections' total."""
    from django.conf import settings

    from pricing.market import rollups, selectors
    from pricing.market.filters import market_filters

    asked = market_filters({"period": "30"}, today=now.date())
    scope = selectors.Scope()
    window = {"scope": scope, "starts_at": asked.starts_at, "ends_before": asked.ends_before}
    max_age = timedelta(hours=settings.PRICING_MAX_OBSERVATION_AGE_HOURS)
    from_rollups = [
        ("where we stand (snapshot)", lambda: rollups.market_standing(scope=scope)),
        ("movers (30-day preset)", lambda: rollups.market_movers(scope=scope, preset=30)),
        (
            "MAP violations (episodes live)",
            lambda: rollups.map_violation_shares(scope=scope, asked=asked),
        ),
        ("probe health (day rows)", lambda: rollups.probe_health(scope=scope, asked=asked)),
        ("trend (day rows)", lambda: rollups.market_trend(scope=scope, asked=asked)),
        ("filter choices", selectors.dashboard_choices),
        ("latest refresh", rollups.latest_refresh),
    ]
    live = [
        ("where we stand (median per product)", lambda: selectors.market_standing(
            scope=scope, now=now, max_age=max_age)),
        ("movers", lambda: selectors.market_movers(**window)),
        ("MAP violations by retailer", lambda: selectors.map_violation_shares(**window)),
        ("probe health", lambda: selectors.probe_health(**window)),
        ("trend", lambda: selectors.market_trend(**window)),
    ]  # fmt: skip
    for label, run in from_rollups:
        walls = []
        for _ in range(5):
            with timed() as span:
                run()
            walls.append(span.wall)
        print(f"  {label:<40} {statistics.median(walls) * 1000:8.1f} ms (median of 5)")
    print("\n   each section's live query (the reference definition), whole catalog, 30 days")
    total = 0.0
    for label, run in live:
        with timed() as span:
            run()
        total += span.wall
        print(f"  {label:<40} {span.wall * 1000:8.1f} ms (once)")
    print(f"  {'live sections together':<40} {total * 1000:8.1f} ms")
    return total


# --- the naive baseline -----------------------------------------------------------------------


def naive_dashboard(product_ids: list[int], *, now: datetime, starts_at: datetime) -> dict:
    """The dashboard's aggregates the obvious way: a few queries per product and per listing,
    and the statistics in Python."""
    from django.conf import settings

    from catalog.models import Listing, Product
    from pricing.models import MapViolation
    from scraping.models import Probe

    since = now - timedelta(hours=settings.PRICING_MAX_OBSERVATION_AGE_HOURS)
    places = {"cheapest": 0, "within": 0, "above": 0, "no_market": 0}
    indexes, moves, health, days, violations = [], [], {}, {}, {}
    for product in Product.objects.filter(pk__in=product_ids):
        prices = []
        for listing in Listing.objects.filter(product=product, active=True):
            fresh = (
                listing.available
                and listing.last_price is not None
                and listing.last_success_at is not None
                and listing.last_success_at >= since
                and listing.currency == product.currency
            )
            if fresh:
                prices.append(listing.last_price)
            seen = list(
                Probe.objects.filter(listing=listing, created_at__gte=starts_at).order_by(
                    "created_at", "pk"
                )
            )
            for probe in seen:
                health[(listing.retailer_id, probe.status)] = (
                    health.get((listing.retailer_id, probe.status), 0) + 1
                )
                if probe.status == "success" and product.list_price:
                    day = days.setdefault(probe.created_at.date(), [])
                    day.append(probe.price / product.list_price)
            priced = [probe.price for probe in seen if probe.price is not None]
            if len(priced) >= 2 and priced[0] != priced[-1]:
                moves.append((priced[-1] - priced[0]) / priced[0])
            violations[listing.retailer_id] = (
                violations.get(listing.retailer_id, 0)
                + MapViolation.objects.filter(listing=listing, opened_at__lt=now).count()
            )
        if product.list_price is None:
            continue
        if not prices:
            places["no_market"] += 1
            continue
        median = statistics.median(prices)
        indexes.append(product.list_price / median)
        low, high = min(prices), max(prices)
        place = "cheapest" if product.list_price <= low else "within"
        places["above" if product.list_price > high else place] += 1
    return {"places": places, "moves": sorted(moves)[:10], "health": health, "days": len(days)}


def section_baseline(args, now: datetime, n_products: int) -> float:
    from django.conf import settings
    from django.test import Client

    from catalog.models import Product

    rng = np.random.default_rng(args.seed + 7)
    all_ids = list(Product.objects.values_list("pk", flat=True))
    sample = [int(pk) for pk in rng.choice(all_ids, min(args.naive_sample, len(all_ids)), False)]
    with timed() as span:
        naive_dashboard(sample, now=now, starts_at=now - timedelta(days=30))
    whole = span.wall / len(sample) * n_products
    print(
        f"  naive ORM + Python loops, 30 days: {span.wall:.2f} s for {len(sample)} products, "
        f"{span.wall / len(sample) * 1000:.1f} ms a product -> {whole:.0f} s for the catalog "
        f"(extrapolated)"
    )
    client = Client(HTTP_HOST=settings.ALLOWED_HOSTS[0])
    client.force_login(
        __import__("django.contrib.auth", fromlist=["get_user_model"])
        .get_user_model()
        .objects.get(username="bench-reviewer")
    )
    walls = []
    for _ in range(args.renders):
        with timed() as page_span:
            response = client.get("/products/", secure=True)
        assert response.status_code == 200
        walls.append(page_span.wall)
    print(
        f"  product list page /products/ (50 rows): warm median "
        f"{statistics.median(walls) * 1000:.1f} ms"
    )
    return whole


def main() -> None:
    args = parse_args()
    began = time.perf_counter()
    verdicts = Verdicts()
    now = datetime.now(UTC)
    print(f"market dashboard benchmark, Python {sys.version.split()[0]}")
    with throwaway_django("dashboard-bench-") as database:
        with timed() as migrating:
            setup_django()
        print(f"\n1. database: {database}; migrated in {migrating.wall:.1f} s")
        with timed() as loading:
            counts = load_catalog(args, now)
        print(
            f"loaded {counts['products']:,} products, {counts['listings']:,} listings, "
            f"{counts['probes']:,} probes over {HISTORY_DAYS} days, {counts['violations']:,} MAP "
            f"episodes in {loading.wall:.1f} s (setup, not measured)"
        )
        from django.conf import settings
        from django.test.utils import override_settings

        # Production settings keep static files in a manifest that collectstatic writes; this
        # run has none, so pages use plain static file URLs (no query involved).
        storages = {
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
        with override_settings(STORAGES=storages):
            client = reviewer_client()
            print("\n2. rollups (pricing.market.services.market_rollups_refresh)")
            section_refresh()
            print("\n3. /market/ from the rollups, through the test client (production settings)")
            rendered = section_renders(client, args, verdicts, brand="brand-07", category="diver")
            print("\n   each section's query alone, whole catalog, 30 days, from the rollups")
            live = section_breakdown(now)
            print("\n4. baselines, same run")
            naive = section_baseline(args, now, counts["products"])
        print(
            f"  whole-catalog render from the rollups, 30 days: {rendered * 1000:.1f} ms against "
            f"the live sections' {live:.1f} s ({live / rendered:,.0f}x) and the naive path's "
            f"{naive:.0f} s extrapolated ({naive / rendered:,.0f}x)"
        )
    verdicts.finish(began)


if __name__ == "__main__":
    main()
