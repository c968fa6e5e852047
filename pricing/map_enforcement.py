"""MAP enforcement: a vendor (1P) retailer advertising a product below its minimum advertised
price opens a violation episode; a later advertised price at or above MAP closes it.

MAP is MSRP x the retailer's MAP percentage (seed 2: 0.80 by default) unless the product has its
own `MapPolicy`. Only a successful probe carries an advertised price, so only it can open,
extend or close an episode. Opening and closing are recorded in the ledger, and the pages read
are pinned so that retention never deletes the evidence.
"""

import logging
from decimal import ROUND_HALF_UP, Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q

from catalog.models import Listing, Retailer
from ledger.models import LedgerEntry
from ledger.services import ledger_append
from pricing.models import MapPolicy, MapViolation
from scraping.models import Probe, ProbePage

logger = logging.getLogger(__name__)

CENT = Decimal("0.01")


def map_price(
    *, msrp: Decimal | None, map_percentage: Decimal, override: Decimal | None = None
) -> Decimal | None:
    """The product's own MAP if it has one, else MSRP x the share to the cent; None without
    either, since there is then nothing to enforce."""
    if override is not None:
        return override
    if msrp is None:
        return None
    return (msrp * map_percentage).quantize(CENT, rounding=ROUND_HALF_UP)


def map_price_for(listing: Listing) -> Decimal | None:
    """The MAP the listing's retailer must not advertise below, in the product's currency."""
    override = (
        MapPolicy.objects.filter(product_id=listing.product_id)
        .values_list("map_price", flat=True)
        .first()
    )
    return map_price(
        msrp=listing.product.msrp,
        map_percentage=listing.retailer.map_percentage,
        override=override,
    )


def map_violations_update(*, probe_id: int) -> MapViolation | None:
    """Open, extend or close the listing's MAP violation episode from one committed probe.

    Returns the episode the probe opened, extended or closed, None when it changed nothing.
    Processing a probe again changes nothing, and neither does a probe read before the
    listing's latest price, except to join the open episode as evidence.
    """
    # Only a vendor's successful reading with a price can matter. A marketplace (3P) shows other
    # sellers' prices; MAP binds only a vendor's own. Blocked, failed, not found, mismatched or
    # priceless pages tell nothing about the price the retailer advertises now, so they neither
    # open nor close an episode. A price hidden until the cart is not advertised, and MAP is
    # about advertised prices: it cannot open one, and it is no proof the advertised price is
    # back at MAP, so it closes none either. Every probe comes through here, so the filter is
    # in the query and the reading's bulky fields stay in the database.
    probe = (
        Probe.objects.select_related("listing__product", "listing__retailer")
        .defer("sources", "disagreements", "error_message", "raw_title")
        .filter(
            pk=probe_id,
            status=Probe.Status.SUCCESS,
            price__isnull=False,
            listing__retailer__retailer_type=Retailer.RetailerType.VENDOR,
        )
        .first()
    )
    if probe is None:
        return None
    listing = probe.listing
    limit = map_price_for(listing)
    if limit is None:
        return None
    currency = probe.currency or listing.currency
    if currency != listing.product.currency:
        # MAP is in the product's currency; comparing across currencies would be a guess.
        logger.warning(
            "probe %s of listing %s read %s, MAP is in %s: not compared",
            probe.pk,
            listing.pk,
            currency,
            listing.product.currency,
        )
        return None
    with transaction.atomic():
        if probe.price < limit:
            return violation_open_or_extend(probe=probe, limit=limit, currency=currency)
        return violation_close(probe=probe, limit=limit)


def open_episode_locked(*, listing_id: int) -> MapViolation | None:
    return (
        MapViolation.objects.select_for_update()
        .filter(listing_id=listing_id, closed_at__isnull=True)
        .first()
    )


def newer_price_read(probe: Probe) -> bool:
    """Whether the listing has a successful probe read after this one: this one is then old
    news, read late (a retried task, a slow worker), and must not decide the current state."""
    later = Q(created_at__gt=probe.created_at) | Q(created_at=probe.created_at, pk__gt=probe.pk)
    return Probe.objects.filter(
        later, listing_id=probe.listing_id, status=Probe.Status.SUCCESS
    ).exists()


def violation_open_or_extend(*, probe: Probe, limit: Decimal, currency: str) -> MapViolation | None:
    episode = open_episode_locked(listing_id=probe.listing_id)
    if MapViolation.objects.filter(evidence=probe).exists():
        return None
    stale = newer_price_read(probe)
    if episode is None:
        if stale:
            return None
        try:
            with transaction.atomic():
                episode = MapViolation.objects.create(
                    listing=probe.listing,
                    map_price=limit,
                    currency=currency,
                    opened_at=probe.created_at,
                    lowest_price=probe.price,
                    last_price=probe.price,
                    opening_probe=probe,
                )
        except IntegrityError:
            # Another worker opened the listing's episode since we looked: join it instead.
            episode = open_episode_locked(listing_id=probe.listing_id)
            if episode is None:
                raise
            if episode.evidence.filter(pk=probe.pk).exists():
                return None
            return violation_extend(episode=episode, probe=probe, latest=True)
        episode.evidence.add(probe)
        episode.opened_ledger_seq = ledger_append(
            kind=LedgerEntry.Kind.MAP_VIOLATION_OPENED,
            payload=opened_payload(episode=episode, probe=probe),
            product_id=probe.listing.product_id,
            listing_id=probe.listing_id,
            retailer_id=probe.listing.retailer_id,
            idempotency_key=f"map-open:{probe.pk}",
        ).seq
        episode.save(update_fields=["opened_ledger_seq"])
        page_pin(probe)
        return episode
    if probe.created_at < episode.opened_at:
        # Read before the episode opened: a price at MAP may lie between the two.
        return None
    return violation_extend(episode=episode, probe=probe, latest=not stale)


def violation_extend(*, episode: MapViolation, probe: Probe, latest: bool) -> MapViolation:
    episode.evidence.add(probe)
    episode.lowest_price = min(episode.lowest_price, probe.price)
    if latest:
        episode.last_price = probe.price
    episode.save(update_fields=["lowest_price", "last_price"])
    page_pin(probe)
    return episode


def violation_close(*, probe: Probe, limit: Decimal) -> MapViolation | None:
    episode = open_episode_locked(listing_id=probe.listing_id)
    # A probe read before the episode's latest price is no proof that it ended.
    if episode is None or newer_price_read(probe):
        return None
    episode.closed_at = probe.created_at
    episode.closing_probe = probe
    episode.last_price = probe.price
    episode.closed_ledger_seq = ledger_append(
        kind=LedgerEntry.Kind.MAP_VIOLATION_CLOSED,
        payload=closed_payload(episode=episode, probe=probe, limit=limit),
        product_id=probe.listing.product_id,
        listing_id=probe.listing_id,
        retailer_id=probe.listing.retailer_id,
        idempotency_key=f"map-close:{probe.pk}",
    ).seq
    episode.save(update_fields=["closed_at", "closing_probe", "last_price", "closed_ledger_seq"])
    # The page showing the price back at MAP settles disputes over when the episode ended.
    page_pin(probe)
    return episode


def page_pin(probe: Probe) -> None:
    # Integration price points have no page; the filter then updates nothing.
    ProbePage.objects.filter(probe_id=probe.pk, pinned=False).update(pinned=True)


def opened_payload(*, episode: MapViolation, probe: Probe) -> dict:
    listing = probe.listing
    return {
        "violation": episode.pk,
        "listing": listing.pk,
        "product": listing.product_id,
        "retailer": listing.retailer_id,
        "probe": probe.pk,
        "observation_seq": probe.ledger_seq,
        "price": probe.price,
        "map_price": episode.map_price,
        "currency": episode.currency,
        "page_sha256": probe.body_sha256,
        "opened_at": episode.opened_at,
    }


def closed_payload(*, episode: MapViolation, probe: Probe, limit: Decimal) -> dict:
    listing = probe.listing
    return {
        "violation": episode.pk,
        "listing": listing.pk,
        "product": listing.product_id,
        "retailer": listing.retailer_id,
        "probe": probe.pk,
        "observation_seq": probe.ledger_seq,
        "price": probe.price,
        "map_price": limit,
        "currency": episode.currency,
        "page_sha256": probe.body_sha256,
        "opened_at": episode.opened_at,
        "closed_at": episode.closed_at,
        "lowest_price": episode.lowest_price,
        "opened_seq": episode.opened_ledger_seq,
        "evidence": sorted(episode.evidence.values_list("pk", flat=True)),
    }
