"""Pricing benchmark: the batch engine over a whole catalog against recommend() one at a time.

    .venv/bin/python bench/pricing_bench.py [--products 100000] [--competitors 5] [--sample 2000]

Builds a catalog in memory (no database): products with MSRP, list price, cost, MAP and an
inventory date, one listing per competitor per product with its latest observation (every probe
status, some stale, some out of stock, a few in another currency), and seed 1's pricing rules
plus catalog-wide bounds and rounding. Then it times `pricing.batch.recommend_catalog()` on the
whole catalog and `pricing.engine.recommend()` on a sample, extrapolated, and checks that the
two agree on that sample. Everything printed is measured in this run.

`build_catalog()` is meant for reuse: the ORM comparison and the review page's query count can
load the same catalog into a database and time their paths against the same numbers.
"""

import argparse
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pricing.batch import recommend_catalog  # noqa: E402
from pricing.engine import (  # noqa: E402
    Kind,
    Observation,
    ProductFacts,
    RuleSpec,
    from_cents,
    recommend,
)

TARGET_CATALOG_SECONDS = 10.0
NOW = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)
MAX_AGE = timedelta(days=3)
SEED_CATEGORIES = ["rolex_daytona", "patek_philippe_nautilus", "audemars_piguet_royal_oak"]
OTHER_CATEGORIES = ["diver", "dress", "pilot", "chronograph", "field", ""]
STATUSES = ["success", "blocked", "identity_mismatch", "no_price", "price_hidden", "failed"]
STATUS_SHARES = [0.88, 0.04, 0.03, 0.02, 0.02, 0.01]
COMPETITOR_A, COMPETITOR_B = 1, 2


@dataclass(frozen=True)
class Catalog:
    """What the engines take: the frames `pricing.batch` documents, and the rules."""

    products: pd.DataFrame
    observations: pd.DataFrame
    rules: list[RuleSpec]
    now: datetime
    max_age: timedelta


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=100_000, help="catalog size (100000)")
    parser.add_argument(
        "--competitors", type=int, default=5, help="competitor listings per product (5)"
    )
    parser.add_argument(
        "--sample", type=int, default=5_000, help="products priced one at a time (5000)"
    )
    parser.add_argument("--runs", type=int, default=3, help="timed batch runs (3)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (1)")
    return parser.parse_args()


# --- the catalog ------------------------------------------------------------------------------


def seed_rules() -> list[RuleSpec]:
    """Seed 1's pricing_rules.json, then what a merchandiser adds around it."""
    seed = {
        # category: (competitor_a_discount, competitor_b_match_percent, aging days, aging percent)
        "rolex_daytona": ("50", "0.05", 30, "0.02"),
        "patek_philippe_nautilus": ("25", "0.03", 45, "0.01"),
        "audemars_piguet_royal_oak": ("75", "0.04", 60, "0.015"),
    }
    rules: list[RuleSpec] = []
    for category, (discount, match, days, aging) in seed.items():
        rules += [
            RuleSpec(
                len(rules) + 1,
                f"{category}: undercut A by {discount}",
                Kind.UNDERCUT,
                priority=10,
                category=category,
                competitor_id=COMPETITOR_A,
                amount=Decimal(discount),
            ),
            RuleSpec(
                len(rules) + 2,
                f"{category}: match B minus {match}",
                Kind.MATCH_MINUS_PERCENT,
                priority=20,
                category=category,
                competitor_id=COMPETITOR_B,
                percent=Decimal(match),
            ),
            RuleSpec(
                len(rules) + 3,
                f"{category}: aging {aging} per 30 days after {days}",
                Kind.AGING_DISCOUNT,
                priority=30,
                category=category,
                days=days,
                percent=Decimal(aging),
                cap=3,
            ),
        ]
    extra = [
        ("Divers: 1% under the cheapest", Kind.MATCH_MINUS_PERCENT, {"category": "diver"}),
        ("Brand 7 clearance", Kind.AGING_DISCOUNT, {"brand_id": 7}),
        ("Never below a 20% margin", Kind.FLOOR_MARGIN, {}),
        ("Never below our MAP", Kind.FLOOR_MAP, {}),
        ("Never above MSRP", Kind.CEILING_MSRP, {}),
        ("Ends in 9", Kind.ROUNDING, {}),
        ("Spring sale (over)", Kind.UNDERCUT, {}),
    ]
    params = {
        "Divers: 1% under the cheapest": {"percent": Decimal("0.01"), "priority": 40},
        "Brand 7 clearance": {"days": 90, "percent": Decimal("0.05"), "priority": 50},
        "Never below a 20% margin": {"percent": Decimal("0.20")},
        "Ends in 9": {"round_to": Decimal("10"), "ending": Decimal("9")},
        "Spring sale (over)": {
            "amount": Decimal("100"),
            "valid_from": datetime(2025, 3, 1, tzinfo=UTC),
            "valid_until": datetime(2025, 5, 1, tzinfo=UTC),
        },
    }
    for name, kind, scope in extra:
        rules.append(RuleSpec(len(rules) + 1, name, kind, **scope, **params.get(name, {})))
    return rules


def build_catalog(n_products: int, n_competitors: int, seed: int) -> Catalog:
    """A realistic catalog in memory: n_products x n_competitors listings, one probe each."""
    rng = np.random.default_rng(seed)
    ids = np.arange(1, n_products + 1, dtype=np.int64)
    brand = rng.integers(1, 21, n_products)
    seeded = rng.random(n_products) < 0.4
    category = np.where(
        seeded & (brand <= 3),
        np.array(SEED_CATEGORIES, dtype=object)[np.minimum(brand, 3) - 1],
        np.array(OTHER_CATEGORIES, dtype=object)[
            rng.integers(0, len(OTHER_CATEGORIES), n_products)
        ],
    )
    msrp = (np.clip(rng.lognormal(np.log(12_000), 0.8, n_products), 500, 500_000) // 50) * 5_000
    list_price = (msrp * rng.uniform(0.85, 1.0, n_products)).astype(np.int64)
    cost = (msrp * rng.uniform(0.55, 0.85, n_products)).astype(np.int64)
    map_price = (msrp * 0.9).astype(np.int64)

    def sometimes_missing(values: np.ndarray, share: float) -> pd.Series:
        return pd.Series(
            pd.arrays.IntegerArray(values.astype(np.int64), rng.random(n_products) < share)
        )

    since = pd.Series(
        pd.to_datetime(NOW.date()) - pd.to_timedelta(rng.integers(0, 365, n_products), unit="D")
    ).where(rng.random(n_products) >= 0.1)
    currency = np.where(rng.random(n_products) < 0.95, "USD", "EUR").astype(object)
    products = pd.DataFrame(
        {
            "id": ids,
            "brand_id": pd.array(brand, dtype="Int64"),
            "category": category,
            "currency": currency,
            "list_price_cents": sometimes_missing(list_price, 0.05),
            "msrp_cents": sometimes_missing(msrp, 0.01),
            "cost_cents": sometimes_missing(cost, 0.03),
            "map_price_cents": sometimes_missing(map_price, 0.7),
            "in_inventory_since": since,
        }
    )

    n_rows = n_products * n_competitors
    product_of = np.repeat(ids, n_competitors)
    price = (np.repeat(msrp, n_competitors) * rng.uniform(0.8, 1.1, n_rows)).astype(np.int64)
    age_us = (rng.exponential(timedelta(days=1) / timedelta(microseconds=1), n_rows)).astype(
        np.int64
    )
    observations = pd.DataFrame(
        {
            "product_id": product_of,
            "listing_id": np.arange(1, n_rows + 1, dtype=np.int64),
            "retailer_id": np.tile(np.arange(1, n_competitors + 1, dtype=np.int64), n_products),
            "probe_id": np.arange(1, n_rows + 1, dtype=np.int64),
            "price_cents": pd.arrays.IntegerArray(price, rng.random(n_rows) < 0.03),
            "currency": np.where(
                rng.random(n_rows) < 0.02, "GBP", np.repeat(currency, n_competitors)
            ).astype(object),
            "available": pd.array(
                rng.choice(
                    np.array([True, False, None], dtype=object), n_rows, p=[0.9, 0.07, 0.03]
                ),
                dtype="boolean",
            ),
            "observed_at": pd.to_datetime(NOW) - pd.to_timedelta(age_us, unit="us"),
            "status": rng.choice(np.array(STATUSES, dtype=object), n_rows, p=STATUS_SHARES),
        }
    )
    return Catalog(products, observations, seed_rules(), NOW, MAX_AGE)


def _money(value) -> Decimal | None:
    return None if pd.isna(value) else from_cents(int(value))


def product_facts(products: pd.DataFrame) -> list[ProductFacts]:
    """The catalog frame's rows as the engine's ProductFacts."""
    return [
        ProductFacts(
            id=int(row.id),
            brand_id=None if pd.isna(row.brand_id) else int(row.brand_id),
            category=row.category,
            currency=row.currency,
            list_price=_money(row.list_price_cents),
            msrp=_money(row.msrp_cents),
            cost=_money(row.cost_cents),
            map_price=_money(row.map_price_cents),
            in_inventory_since=None
            if pd.isna(row.in_inventory_since)
            else row.in_inventory_since.date(),
        )
        for row in products.itertuples()
    ]


def observations_by_product(observations: pd.DataFrame) -> dict[int, list[Observation]]:
    """The observation frame's rows as the engine's Observations, by product id."""
    found: dict[int, list[Observation]] = {}
    for row in observations.itertuples():
        found.setdefault(int(row.product_id), []).append(
            Observation(
                listing_id=int(row.listing_id),
                retailer_id=int(row.retailer_id),
                retailer_name=f"Competitor {row.retailer_id}",
                price=_money(row.price_cents),
                currency=row.currency,
                available=None if pd.isna(row.available) else bool(row.available),
                observed_at=row.observed_at.to_pydatetime(),
                status=row.status,
                probe_id=int(row.probe_id),
            )
        )
    return found


# --- sections ---------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def section_build(args: argparse.Namespace) -> Catalog:
    began = time.perf_counter()
    catalog = build_catalog(args.products, args.competitors, args.seed)
    print(
        f"catalog: {len(catalog.products):,} products, {len(catalog.observations):,} "
        f"observations, {len(catalog.rules)} rules, built in {time.perf_counter() - began:.1f} s"
    )
    return catalog


def section_engine(catalog: Catalog, *, sample_size: int, runs: int, seed: int) -> bool:
    """The batch engine on the whole catalog; recommend() one at a time on a sample."""
    timings = []
    for _ in range(runs):
        began = time.perf_counter()
        results = recommend_catalog(
            catalog.products,
            catalog.rules,
            catalog.observations,
            now=catalog.now,
            max_age=catalog.max_age,
        )
        timings.append(time.perf_counter() - began)
    batch_seconds = min(timings)
    n_products = len(catalog.products)
    print(
        f"batch engine, whole catalog: {batch_seconds:6.2f} s best of {runs} "
        f"(median {statistics.median(timings):.2f} s), "
        f"{n_products / batch_seconds:,.0f} products/s"
    )
    priced = int(results["price_cents"].notna().sum())
    bound = int(results["bound_by"].notna().sum())
    warned = int((results["warnings"].map(len) > 0).sum())
    print(
        f"  priced {priced:,}; bound by a floor or ceiling {bound:,}; with warnings {warned:,}; "
        f"listings used {int(results['n_used'].sum()):,} of {len(catalog.observations):,}"
    )

    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.choice(catalog.products["id"].to_numpy(), sample_size, replace=False))
    sample = product_facts(catalog.products[catalog.products["id"].isin(chosen)])
    observed = observations_by_product(
        catalog.observations[catalog.observations["product_id"].isin(chosen)]
    )
    began = time.perf_counter()
    answers = [
        recommend(
            product,
            catalog.rules,
            observed.get(product.id, []),
            now=catalog.now,
            max_age=catalog.max_age,
        )
        for product in sample
    ]
    sample_seconds = time.perf_counter() - began
    one_by_one = sample_seconds / len(sample) * n_products
    print(
        f"recommend() one at a time:   {sample_seconds:6.2f} s for {len(sample):,} products, "
        f"{sample_seconds / len(sample) * 1e6:,.0f} us each -> {one_by_one:,.1f} s extrapolated "
        f"to {n_products:,}"
    )
    print(f"  batch is {one_by_one / batch_seconds:,.1f}x faster than one at a time")

    rows = results.set_index("product_id").loc[[product.id for product in sample]]
    agree = sum(
        (
            None if pd.isna(row.price_cents) else from_cents(int(row.price_cents)),
            row.bound_by,
            list(row.warnings),
            int(row.n_used),
        )
        == (answer.price, answer.bound_by, answer.warnings, len(answer.used))
        for row, answer in zip(rows.itertuples(), answers, strict=True)
    )
    same = agree == len(sample)
    print(f"{verdict(same)}  batch and recommend() agree on the sample: {agree:,}/{len(sample):,}")
    fast = batch_seconds < TARGET_CATALOG_SECONDS
    print(f"{verdict(fast)}  whole catalog < {TARGET_CATALOG_SECONDS:.0f} s: {batch_seconds:.2f} s")
    return same and fast


def main() -> None:
    args = parse_args()
    began = time.perf_counter()
    print(
        f"pricing benchmark, Python {sys.version.split()[0]}, pandas {pd.__version__}, "
        f"numpy {np.__version__}"
    )

    # 1. The catalog, in memory.
    catalog = section_build(args)

    # 2. The engine: batch over the whole catalog, recommend() one at a time on a sample.
    engine_ok = section_engine(
        catalog, sample_size=min(args.sample, args.products), runs=args.runs, seed=args.seed
    )

    # 3. The ORM path (load the catalog into a database, price it through pricing.services)
    #    and 4. the review page's query count go here, reusing build_catalog().

    print(f"total {time.perf_counter() - began:.0f} s")
    if not engine_ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
