"""What the pricing engine needs, read from the database: rules, product facts, observations.

Observations come from the listings themselves, which keep the latest successful reading (price,
availability, when) and how the latest probe ended. A listing whose newest probe was blocked
still offers its last good price, which the engine uses while it is fresh enough.
"""

from decimal import Decimal

import pandas as pd
from django.conf import settings
from django.db import connection
from django.db.models import Q

from catalog.models import Listing, Product
from pricing.batch import forecasts_frame as build_forecasts_frame
from pricing.engine import Forecast, Observation, ProductFacts, RuleSpec
from pricing.forecasting.selectors import forecasts_for_pricing
from pricing.models import PricingRule

NEVER_PROBED = "pending"
# Observations read from a listing's latest successful reading name no single probe.
FROM_LISTING = 0


def active_rules() -> list[RuleSpec]:
    return [RuleSpec.from_rule(rule) for rule in PricingRule.objects.filter(active=True)]


def own_map_price(*, msrp: Decimal | None, override: Decimal | None) -> Decimal | None:
    """Our own MAP: the product's override, else MSRP x the default MAP share."""
    if override is not None:
        return override
    if msrp is None:
        return None
    share = Decimal(settings.PRICING_DEFAULT_MAP_PERCENTAGE)
    return (msrp * share).quantize(Decimal("0.01"))


def product_facts(product: Product) -> ProductFacts:
    policy = getattr(product, "map_policy", None)
    return ProductFacts(
        id=product.pk,
        brand_id=product.brand_id,
        category=product.category,
        currency=product.currency,
        list_price=product.list_price,
        msrp=product.msrp,
        cost=product.cost,
        map_price=own_map_price(msrp=product.msrp, override=policy.map_price if policy else None),
        in_inventory_since=product.in_inventory_since,
    )


def observation_from_listing(row: dict) -> Observation:
    succeeded = row["last_price"] is not None and row["last_success_at"] is not None
    return Observation(
        listing_id=row["id"],
        retailer_id=row["retailer_id"],
        retailer_name=row["retailer__name"],
        price=row["last_price"] if succeeded else None,
        currency=row["currency"],
        available=row["available"],
        observed_at=row["last_success_at"] if succeeded else row["last_probed_at"],
        status="success" if succeeded else (row["last_probe_status"] or NEVER_PROBED),
        probe_id=FROM_LISTING,
    )


LISTING_FIELDS = (
    "id",
    "product_id",
    "retailer_id",
    "retailer__name",
    "last_price",
    "currency",
    "available",
    "last_success_at",
    "last_probed_at",
    "last_probe_status",
)


def listing_rows(*, product_ids=None):
    listings = Listing.objects.filter(active=True).filter(
        Q(last_success_at__isnull=False) | Q(last_probed_at__isnull=False)
    )
    if product_ids is not None:
        listings = listings.filter(product_id__in=product_ids)
    return listings.values(*LISTING_FIELDS)


def product_observations(product: Product) -> list[Observation]:
    return [observation_from_listing(row) for row in listing_rows(product_ids=[product.pk])]


def product_forecasts(product: Product, *, now=None) -> dict[int, Forecast]:
    """The shown 7-day forecasts of the product's listings, for hold_on_forecast_revert."""
    return forecasts_for_pricing(product_ids=[product.pk], now=now)


def forecasts_frame(*, product_ids=None, now=None) -> pd.DataFrame:
    """The shown 7-day forecasts as the frame `pricing.batch` documents."""
    return build_forecasts_frame(forecasts_for_pricing(product_ids=product_ids, now=now).values())


# --- The whole catalog, for the batch engine ------------------------------------------------


def cents(value: Decimal | None) -> int | None:
    # Exact: the values are Decimals with two places, straight from the database.
    return None if value is None else int(value * 100)


def catalog_frames(*, product_ids=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Products and observations as DataFrames in the columns `pricing.batch` documents."""
    products = Product.objects.all()
    if product_ids is not None:
        products = products.filter(pk__in=product_ids)
    rows = products.values_list(
        "id",
        "brand_id",
        "category",
        "currency",
        "list_price",
        "msrp",
        "cost",
        "map_policy__map_price",
        "in_inventory_since",
    )
    product_table = pd.DataFrame(
        [
            (
                pk,
                brand_id,
                category,
                currency,
                cents(list_price),
                cents(msrp),
                cents(cost),
                cents(own_map_price(msrp=msrp, override=override)),
                since,
            )
            for pk, brand_id, category, currency, list_price, msrp, cost, override, since in rows
        ],
        columns=[
            "id",
            "brand_id",
            "category",
            "currency",
            "list_price_cents",
            "msrp_cents",
            "cost_cents",
            "map_price_cents",
            "in_inventory_since",
        ],
    )
    for column in ("brand_id", "list_price_cents", "msrp_cents", "cost_cents", "map_price_cents"):
        product_table[column] = product_table[column].astype("Int64")

    observation_table = observations_frame(product_ids=product_ids)
    return product_table, observation_table


OBSERVATION_COLUMNS = (
    "product_id",
    "listing_id",
    "retailer_id",
    "probe_id",
    "price_cents",
    "currency",
    "available",
    "observed_at",
    "status",
)


def observations_frame(*, product_ids=None) -> pd.DataFrame:
    """Every listing's observation, as `observation_from_listing` reads one, built column-wise.

    Half a million listings go through here; the rows come from a plain cursor (no per-value
    conversion by the ORM) and prices and times are converted a column at a time.
    """
    queryset = listing_rows(product_ids=product_ids).values_list(
        "product_id",
        "id",
        "retailer_id",
        "last_price",
        "currency",
        "available",
        "last_success_at",
        "last_probed_at",
        "last_probe_status",
    )
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Django loads every timestamptz through a Python subclass of psycopg's loader (to
            # attach its time zone); a million of them dominate this read. psycopg's own loader
            # gives the same aware UTC datetimes.
            from psycopg.types.datetime import TimestamptzLoader

            cursor.cursor.adapters.register_loader("timestamptz", TimestamptzLoader)
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if not rows:
        return pd.DataFrame(columns=list(OBSERVATION_COLUMNS))
    raw = pd.DataFrame(
        rows,
        columns=[
            "product_id",
            "listing_id",
            "retailer_id",
            "last_price",
            "currency",
            "available",
            "last_success_at",
            "last_probed_at",
            "last_probe_status",
        ],
    )
    succeeded = raw["last_price"].notna() & raw["last_success_at"].notna()
    # Money has two decimal places, so the nearest whole cent is exact.
    price_cents = (pd.to_numeric(raw["last_price"]).astype("float64") * 100).round()
    success_at = pd.to_datetime(raw["last_success_at"], utc=True, format="ISO8601")
    probed_at = pd.to_datetime(raw["last_probed_at"], utc=True, format="ISO8601")
    status = raw["last_probe_status"].fillna("").replace("", NEVER_PROBED)
    return pd.DataFrame(
        {
            "product_id": raw["product_id"],
            "listing_id": raw["listing_id"],
            "retailer_id": raw["retailer_id"],
            "probe_id": FROM_LISTING,
            "price_cents": price_cents.where(succeeded).astype("Int64"),
            "currency": raw["currency"],
            "available": raw["available"].astype("boolean"),
            "observed_at": success_at.where(succeeded, probed_at),
            "status": status.where(~succeeded, "success"),
        },
        columns=list(OBSERVATION_COLUMNS),
    )
