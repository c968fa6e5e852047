"""Alert rules evaluated on real probes: the demo marketplace on loopback, the real fetcher,
extractor and probe service, MAP enforcement, the database; our prices through the catalog."""

from datetime import timedelta
from decimal import Decimal

import pytest

from alerts.models import Alert, AlertRule, Delivery, NotificationChannel, RuleState
from alerts.resolution import alerts_resolve
from alerts.services import (
    alerts_evaluate_list_prices,
    alerts_evaluate_probe,
    alerts_evaluate_waiting_recommendations,
)
from catalog.services import product_update
from pricing.models import MapViolation, Recommendation
from pricing.services import recommendation_reject
from scraping.demo_marketplace import offer_for
from scraping.demo_marketplace.inventory import inventory
from scraping.models import Probe
from scraping.services import listing_probe, price_point_record
from tests.alerts.conftest import (
    JEWEL,
    START,
    another_listing,
    demo_listing,
    first_days,
    first_hours,
)
from tests.factories import BrandFactory, ListingFactory, ProductFactory, RetailerFactory

pytestmark = pytest.mark.django_db

Kind = AlertRule.Kind
SUCCESS = Probe.Status.SUCCESS
CHRONO = "chrono-plaza"
# Jewel Discount runs flash sales: a day's price well under the day before.
FLASHED = "126500LN"
# Jewel Discount, a vendor (1P) shop, dumps this Seamaster under MAP on some days.
SEAMASTER = "220.10.41.21.01.001"


def rule(kind: str, *, channels=(), **fields) -> AlertRule:
    fields.setdefault("cooldown", timedelta(0))
    created = AlertRule.objects.create(name=f"{kind} rule", kind=kind, **fields)
    created.channels.set(channels)
    return created


def email_channel(name: str = "merchandisers", **fields) -> NotificationChannel:
    return NotificationChannel.objects.create(
        name=name, kind=NotificationChannel.Kind.EMAIL, target="team@example.com", **fields
    )


def alerts_of(created: AlertRule) -> list[Alert]:
    return list(Alert.objects.filter(rule=created).order_by("pk"))


def shown_and_available(offer) -> bool:
    return offer.shown_price is not None and offer.available


def dropped_from(previous, share: str):
    def condition(offer) -> bool:
        return shown_and_available(offer) and offer.shown_price < previous * Decimal(share)

    return condition


def drop_days(shop: str, reference: str, share: str = "0.95"):
    """Two consecutive days, both in stock, the second priced under `share` of the first."""
    for day in range(90):
        first = offer_for(shop, reference, START + timedelta(days=day))
        second = offer_for(shop, reference, START + timedelta(days=day + 1))
        if (
            shown_and_available(first)
            and shown_and_available(second)
            and second.shown_price < first.shown_price * Decimal(share)
        ):
            return START + timedelta(days=day), START + timedelta(days=day + 1)
    raise AssertionError(f"the demo never drops {shop} {reference} that much")


# --- Competitor drops ------------------------------------------------------------------------


def test_a_competitor_cutting_its_price_more_than_5_percent_raises_an_alert(marketplace, probe_at):
    listing = demo_listing(marketplace, JEWEL, FLASHED)
    drop = rule(Kind.COMPETITOR_DROP, channels=[email_channel()])
    before, after = drop_days(JEWEL, FLASHED)

    probe_at(listing, before, expect=SUCCESS)
    assert alerts_of(drop) == []
    probe = probe_at(listing, after, expect=SUCCESS)

    [alert] = alerts_of(drop)
    old_price = offer_for(JEWEL, FLASHED, before).shown_price
    assert alert.kind == Kind.COMPETITOR_DROP
    assert (alert.listing, alert.retailer, alert.product) == (
        listing,
        listing.retailer,
        listing.product,
    )
    assert alert.probe == probe
    assert alert.dedup_key == f"{drop.pk}:competitor_drop:listing:{listing.pk}"
    assert Decimal(alert.data["price"]) == probe.price
    assert Decimal(alert.data["reference"]) == old_price
    assert Decimal(alert.data["change_percent"]) < Decimal("-5")
    assert "Jewel Discount cut Rolex 126500LN by" in alert.title
    assert alert.is_active
    assert alert.deliveries.count() == 1


def test_a_price_in_another_currency_is_not_compared_with_the_last_one():
    listing = ListingFactory(currency="USD")
    drop = rule(Kind.COMPETITOR_DROP, channels=[email_channel()])

    def report(price: str, currency: str) -> None:
        point = price_point_record(listing=listing, price=Decimal(price), currency=currency)
        alerts_evaluate_probe(probe_id=point.pk)

    report("10000.00", "USD")
    report("8000.00", "EUR")
    assert alerts_of(drop) == []
    report("7000.00", "EUR")

    [alert] = alerts_of(drop)
    assert alert.data["currency"] == "EUR"
    assert Decimal(alert.data["reference"]) == Decimal("8000.00")
    assert alert.dedup_key == f"{drop.pk}:competitor_drop:listing:{listing.pk}:EUR"


def test_probing_the_same_drop_again_keeps_one_alert_and_counts_it_without_new_mail(
    marketplace, probe_at
):
    listing = demo_listing(marketplace, JEWEL, FLASHED)
    drop = rule(Kind.COMPETITOR_DROP, channels=[email_channel()])
    before, after = drop_days(JEWEL, FLASHED)
    probe_at(listing, before)
    probe_at(listing, after)

    later = probe_at(listing, after + timedelta(hours=3), expect=SUCCESS)

    [alert] = alerts_of(drop)
    assert alert.occurrences == 2
    assert alert.last_seen_at == later.created_at
    assert alert.probe == later
    assert alert.deliveries.count() == 1


def test_evaluating_the_same_probe_again_changes_nothing(marketplace, probe_at):
    listing = demo_listing(marketplace, JEWEL, FLASHED)
    drop = rule(Kind.COMPETITOR_DROP, channels=[email_channel()])
    before, after = drop_days(JEWEL, FLASHED)
    probe_at(listing, before)
    probe = probe_at(listing, after)
    state = RuleState.objects.get(rule=drop)

    for _ in range(3):
        alerts_evaluate_probe(probe_id=probe.pk)

    [alert] = alerts_of(drop)
    assert alert.occurrences == 1
    assert Delivery.objects.count() == 1
    again = RuleState.objects.get(rule=drop)
    assert (again.armed, again.reference_value, again.last_value) == (
        state.armed,
        state.reference_value,
        state.last_value,
    )


def test_the_price_coming_back_clears_the_alert_and_a_later_drop_is_a_new_alert(
    marketplace, probe_at
):
    listing = demo_listing(marketplace, JEWEL, FLASHED)
    drop = rule(Kind.COMPETITOR_DROP, hysteresis=Decimal("0.02"))
    before, after = drop_days(JEWEL, FLASHED)
    old_price = offer_for(JEWEL, FLASHED, before).shown_price
    [back] = first_days(
        JEWEL,
        FLASHED,
        lambda o: shown_and_available(o) and o.shown_price >= old_price * Decimal("0.97"),
        after_day=after,
    )
    back_price = offer_for(JEWEL, FLASHED, back).shown_price
    [again] = first_days(JEWEL, FLASHED, dropped_from(back_price, "0.95"), after_day=back)

    probe_at(listing, before)
    probe_at(listing, after)
    cleared_by = probe_at(listing, back)

    [first] = alerts_of(drop)
    assert first.cleared_at == cleared_by.created_at
    assert not first.is_active
    assert RuleState.objects.get(rule=drop).armed

    probe_at(listing, again)

    first_again, second = alerts_of(drop)
    assert first_again == first
    assert second.is_active
    assert second.dedup_key == first.dedup_key
    assert Decimal(second.data["reference"]) == back_price


def test_a_probe_read_before_the_latest_one_does_not_move_the_rule(marketplace, probe_at):
    listing = demo_listing(marketplace, JEWEL, FLASHED)
    drop = rule(Kind.COMPETITOR_DROP)
    before, after = drop_days(JEWEL, FLASHED)
    probe_at(listing, before)
    dropped = probe_at(listing, after)
    old_price = offer_for(JEWEL, FLASHED, before).shown_price
    [back] = first_days(
        JEWEL,
        FLASHED,
        lambda o: shown_and_available(o) and o.shown_price >= old_price * Decimal("0.97"),
        after_day=after,
    )
    probe_at(listing, back)

    alerts_evaluate_probe(probe_id=dropped.pk)

    [alert] = alerts_of(drop)
    assert alert.cleared_at is not None
    assert Alert.objects.filter(cleared_at__isnull=True).count() == 0


def test_a_price_hovering_around_the_threshold_raises_one_alert(marketplace):
    listing = demo_listing(marketplace, CHRONO, FLASHED)
    drop = rule(Kind.COMPETITOR_DROP, channels=[email_channel()])

    # An integration reporting prices records them as probes, like the scraper.
    for price in ["10000", "9490", "9510", "9490", "9510", "9490", "9510"]:
        probe = price_point_record(listing=listing, price=Decimal(price), currency="USD")
        alerts_evaluate_probe(probe_id=probe.pk)

    [alert] = alerts_of(drop)
    assert alert.occurrences == 6
    assert alert.is_active
    assert Delivery.objects.count() == 1


# --- Fields that do not matter ---------------------------------------------------------------


def test_a_stock_change_never_triggers_a_price_rule(marketplace, probe_at):
    # Chrono Plaza's prices move by a percent or so a day; its stock comes and goes.
    listing = demo_listing(marketplace, CHRONO, "126610LN")
    drop = rule(Kind.COMPETITOR_DROP, threshold=Decimal("0.05"))
    out = rule(Kind.OUT_OF_STOCK)
    days = first_days(
        CHRONO, "126610LN", lambda o: o.available, lambda o: not o.available, lambda o: o.available
    )

    for day in days:
        probe_at(listing, day, expect=SUCCESS)

    assert alerts_of(drop) == []
    assert len(alerts_of(out)) == 1


def test_a_price_change_never_triggers_a_stock_rule(marketplace, probe_at):
    listing = demo_listing(marketplace, JEWEL, FLASHED)
    out = rule(Kind.OUT_OF_STOCK)
    back = rule(Kind.BACK_IN_STOCK)
    drop = rule(Kind.COMPETITOR_DROP)

    for day in drop_days(JEWEL, FLASHED):
        probe_at(listing, day)

    assert len(alerts_of(drop)) == 1
    assert alerts_of(out) == alerts_of(back) == []


# --- Stock -----------------------------------------------------------------------------------


def test_out_of_stock_fires_clears_on_the_return_and_back_in_stock_fires_then(
    marketplace, probe_at
):
    listing = demo_listing(marketplace, CHRONO, "126610LN")
    out = rule(Kind.OUT_OF_STOCK)
    back = rule(Kind.BACK_IN_STOCK)
    in_stock, sold_out, restocked = first_days(
        CHRONO, "126610LN", lambda o: o.available, lambda o: not o.available, lambda o: o.available
    )

    probe_at(listing, in_stock)
    assert Alert.objects.count() == 0

    gone = probe_at(listing, sold_out)
    [out_alert] = alerts_of(out)
    assert out_alert.title == "Rolex 126610LN is out of stock at Chrono Plaza"
    assert out_alert.probe == gone
    assert alerts_of(back) == []

    returned = probe_at(listing, restocked)
    out_alert.refresh_from_db()
    assert out_alert.cleared_at == returned.created_at
    [back_alert] = alerts_of(back)
    assert back_alert.title == "Rolex 126610LN is back in stock at Chrono Plaza"
    assert back_alert.is_active


def test_resolving_an_alert_while_the_listing_is_still_out_does_not_bring_it_back(
    marketplace, probe_at, user
):
    listing = demo_listing(marketplace, CHRONO, "126610LN")
    out = rule(Kind.OUT_OF_STOCK)
    [sold_out] = first_days(CHRONO, "126610LN", lambda o: not o.available)
    probe_at(listing, sold_out)
    [alert] = alerts_of(out)

    alerts_resolve(alert_ids=[alert.pk], user=user)
    probe_at(listing, sold_out + timedelta(hours=2))

    assert alerts_of(out) == [alert]


def out_in_out(shop: str, reference: str):
    """A day out of stock, a later one in stock, and a later one out again."""
    [first] = first_days(shop, reference, lambda o: not o.available)
    [back] = first_days(shop, reference, lambda o: o.available, after_day=first)
    [again] = first_days(shop, reference, lambda o: not o.available, after_day=back)
    return first, back, again


def test_a_condition_returning_within_the_cooldown_is_held_back_until_it_is_over(
    marketplace, probe_at
):
    listing = demo_listing(marketplace, CHRONO, "126610LN")
    out = rule(Kind.OUT_OF_STOCK, cooldown=timedelta(hours=1), channels=[email_channel()])
    first, back, again = out_in_out(CHRONO, "126610LN")

    probe_at(listing, first)
    probe_at(listing, back)
    probe_at(listing, again)

    [alert] = alerts_of(out)
    assert alert.cleared_at is not None
    state = RuleState.objects.get(rule=out)
    assert state.armed

    # An hour and more later, it is still out of stock: now it is a new alert.
    RuleState.objects.filter(pk=state.pk).update(
        last_fired_at=state.last_fired_at - timedelta(hours=2)
    )
    probe_at(listing, again + timedelta(hours=1))

    _, new = alerts_of(out)
    assert new.is_active
    assert Delivery.objects.count() == 2


def test_a_condition_that_clears_and_returns_later_is_a_new_alert(marketplace, probe_at):
    listing = demo_listing(marketplace, CHRONO, "126610LN")
    out = rule(Kind.OUT_OF_STOCK)

    for day in out_in_out(CHRONO, "126610LN"):
        probe_at(listing, day)

    first, second = alerts_of(out)
    assert first.cleared_at is not None
    assert second.is_active


# --- Probe failures --------------------------------------------------------------------------


def test_a_listing_blocked_three_probes_in_a_row_raises_one_alert_until_a_good_read(
    marketplace, probe_at
):
    reference = "124300"
    listing = demo_listing(marketplace, "megamart", reference)
    failing = rule(Kind.PROBE_FAILURES, threshold=Decimal(3))
    walls = first_hours("megamart", reference, lambda o: o.blocked, 4)
    [clear] = first_hours(
        "megamart", reference, lambda o: not o.blocked and o.shown_price is not None, 1
    )

    for hour in walls[:2]:
        probe_at(listing, hour, expect=Probe.Status.BLOCKED)
    assert alerts_of(failing) == []

    probe_at(listing, walls[2], expect=Probe.Status.BLOCKED)
    [alert] = alerts_of(failing)
    assert alert.data["failed_in_a_row"] == 3
    assert alert.data["statuses"] == ["blocked"] * 3
    assert "3 probes in a row failed (blocked)" in alert.title

    probe_at(listing, walls[3], expect=Probe.Status.BLOCKED)
    alert.refresh_from_db()
    assert (alert.occurrences, alert.data["failed_in_a_row"]) == (2, 4)

    good = probe_at(listing, clear, expect=SUCCESS)
    alert.refresh_from_db()
    assert alert.cleared_at == good.created_at
    assert alerts_of(failing) == [alert]


def test_a_page_that_redirects_to_another_watch_counts_as_failing(marketplace, probe_at):
    listing = demo_listing(marketplace, "hallmark-jewelers", "124060")
    failing = rule(Kind.PROBE_FAILURES, threshold=Decimal(2))

    probe_at(listing, START, expect=Probe.Status.IDENTITY_MISMATCH)
    probe_at(listing, START + timedelta(days=1), expect=Probe.Status.IDENTITY_MISMATCH)

    [alert] = alerts_of(failing)
    assert alert.data["statuses"] == ["identity_mismatch"] * 2
    assert "identity mismatch" in alert.title


# --- MAP violations --------------------------------------------------------------------------


def demo_map(reference: str) -> Decimal:
    return (inventory().watch(reference).msrp * Decimal("0.800")).quantize(Decimal("0.01"))


def below_map(offer) -> bool:
    return offer.shown_price is not None and offer.shown_price < demo_map(SEAMASTER)


def at_or_above_map(offer) -> bool:
    return offer.shown_price is not None and offer.shown_price >= demo_map(SEAMASTER)


def test_a_map_violation_raises_an_alert_that_its_close_clears_and_announces(marketplace, probe_at):
    listing = demo_listing(marketplace, JEWEL, SEAMASTER)
    channel = email_channel()
    violation_rule = rule(Kind.MAP_VIOLATION, notify_on_close=True, channels=[channel])
    below, back = first_days(JEWEL, SEAMASTER, below_map, at_or_above_map)

    opening = probe_at(listing, below, expect=SUCCESS)

    episode = MapViolation.objects.get(listing=listing)
    [alert] = alerts_of(violation_rule)
    assert alert.map_violation == episode
    assert alert.probe == opening
    assert alert.dedup_key == f"{violation_rule.pk}:map_violation:violation:{episode.pk}"
    assert Decimal(alert.data["map_price"]) == demo_map(SEAMASTER)
    assert Decimal(alert.data["price"]) == opening.price
    assert "below MAP" in alert.title
    assert [d.event for d in alert.deliveries.all()] == [Delivery.Event.RAISED]

    closing = probe_at(listing, back, expect=SUCCESS)

    alert.refresh_from_db()
    assert alert.cleared_at == closing.created_at
    assert alert.data["closed_at"] is not None
    events = sorted(alert.deliveries.values_list("event", flat=True))
    assert events == [Delivery.Event.CLEARED, Delivery.Event.RAISED]


def test_a_map_violation_closing_is_not_announced_unless_the_rule_asks(marketplace, probe_at):
    listing = demo_listing(marketplace, JEWEL, SEAMASTER)
    violation_rule = rule(Kind.MAP_VIOLATION, channels=[email_channel()])

    for day in first_days(JEWEL, SEAMASTER, below_map, at_or_above_map):
        probe_at(listing, day)

    [alert] = alerts_of(violation_rule)
    assert alert.cleared_at is not None
    assert alert.deliveries.count() == 1


# --- New lowest market price -----------------------------------------------------------------


def test_a_new_lowest_market_price_raises_an_alert_naming_the_cheapest_shop(marketplace, probe_at):
    jewel = demo_listing(marketplace, JEWEL, SEAMASTER)
    chrono = another_listing(marketplace, CHRONO, jewel.product)
    lowest = rule(Kind.NEW_LOWEST_PRICE, threshold=Decimal("0.02"))

    def market_low(day):
        offers = [offer_for(shop, SEAMASTER, day) for shop in (JEWEL, CHRONO)]
        if not all(shown_and_available(offer) for offer in offers):
            return None
        return min(offer.shown_price for offer in offers)

    for day in range(90):
        first, second = START + timedelta(days=day), START + timedelta(days=day + 1)
        low, next_low = market_low(first), market_low(second)
        if low and next_low and next_low < low * Decimal("0.98"):
            break
    else:
        raise AssertionError("the demo market never makes a new low")
    # The cheaper shop first, so the first day's low is known before the other is read.
    cheaper_first = sorted(
        [jewel, chrono], key=lambda li: offer_for(li.retailer.slug, SEAMASTER, first).shown_price
    )

    for listing in cheaper_first:
        probe_at(listing, first, expect=SUCCESS)
    assert alerts_of(lowest) == []
    for listing in (jewel, chrono):
        probe_at(listing, second, expect=SUCCESS)

    [alert] = alerts_of(lowest)
    assert Decimal(alert.data["lowest_price"]) == next_low
    assert Decimal(alert.data["reference"]) == low
    assert alert.product == jewel.product
    assert alert.listing.last_price == next_low
    assert alert.data["lowest_at"] == alert.retailer.slug
    assert alert.title.startswith(f"New lowest market price for Omega {SEAMASTER}: USD")


# --- Our list price --------------------------------------------------------------------------


def set_list_price(product, price: str):
    previous = product.list_price
    product_update(product=product, data={"list_price": Decimal(price)}, source="admin")
    alerts_evaluate_list_prices(previous_prices={product.pk: previous})


def test_our_price_moving_more_than_10_percent_fires_and_re_arms_past_the_hysteresis():
    product = ProductFactory(list_price=Decimal("10000.00"))
    change = rule(Kind.PRICE_CHANGE, channels=[email_channel()])

    set_list_price(product, "9500.00")
    assert alerts_of(change) == []

    set_list_price(product, "8900.00")
    [alert] = alerts_of(change)
    assert alert.data["change_percent"] == "-11.0"
    assert alert.title == (
        f"Our price for {product.brand.name} {product.reference} moved -11.0% to USD 8,900.00 "
        "(from USD 10,000.00)"
    )

    # -9%: inside the threshold, but not back past the 2% hysteresis line: still the same move.
    set_list_price(product, "9100.00")
    alert.refresh_from_db()
    assert alert.is_active
    assert alert.occurrences == 2

    # -7%: the move is over; the rule measures from here now.
    set_list_price(product, "9300.00")
    alert.refresh_from_db()
    assert alert.cleared_at is not None

    set_list_price(product, "8300.00")
    _, second = alerts_of(change)
    assert second.data["reference"] == "9300.00"
    assert Delivery.objects.count() == 2


def test_a_price_rule_in_another_brand_stays_quiet():
    product = ProductFactory(list_price=Decimal("10000.00"))
    rule(Kind.PRICE_CHANGE, brand=BrandFactory(name="Somebody Else"))

    set_list_price(product, "5000.00")

    assert Alert.objects.count() == 0


# --- Recommendations waiting -----------------------------------------------------------------


def proposal(product) -> Recommendation:
    return Recommendation.objects.create(
        product=product,
        current_price=product.list_price,
        recommended_price=product.list_price - 200,
        currency=product.currency,
    )


def test_a_recommendation_waiting_longer_than_the_rule_raises_one_alert_until_decided(user):
    product = ProductFactory()
    waiting = rule(Kind.RECOMMENDATION_WAITING, threshold=Decimal(24))
    recommendation = proposal(product)
    proposed = recommendation.created_at

    alerts_evaluate_waiting_recommendations(now=proposed + timedelta(hours=23))
    assert alerts_of(waiting) == []

    for hours in (25, 26, 40):
        alerts_evaluate_waiting_recommendations(now=proposed + timedelta(hours=hours))

    [alert] = alerts_of(waiting)
    assert alert.recommendation == recommendation
    assert alert.occurrences == 1
    assert "waiting over 24 hours" in alert.title

    recommendation_reject(recommendation_id=recommendation.pk, user=user)
    alerts_evaluate_waiting_recommendations(now=proposed + timedelta(hours=41))

    alert.refresh_from_db()
    assert alert.cleared_at is not None
    assert alert.data["status"] == "rejected"
    assert not RuleState.objects.filter(rule=waiting).exists()


def test_a_waiting_rule_scoped_to_a_brand_ignores_other_brands():
    mine = ProductFactory()
    theirs = ProductFactory()
    waiting = rule(Kind.RECOMMENDATION_WAITING, threshold=Decimal(1), brand=mine.brand)
    proposal(mine)
    proposal(theirs)

    alerts_evaluate_waiting_recommendations(now=START + timedelta(days=400))

    assert [alert.product for alert in alerts_of(waiting)] == [mine]


# --- Scope, channels, digests ----------------------------------------------------------------


def test_rules_out_of_scope_or_inactive_stay_quiet(marketplace, probe_at):
    listing = demo_listing(marketplace, JEWEL, FLASHED)
    rule(Kind.COMPETITOR_DROP, retailer=RetailerFactory(name="Elsewhere"))
    rule(Kind.COMPETITOR_DROP, category="somewhere_else")
    rule(Kind.COMPETITOR_DROP, active=False)
    in_scope = rule(Kind.COMPETITOR_DROP, retailer=listing.retailer, brand=listing.product.brand)

    for day in drop_days(JEWEL, FLASHED):
        probe_at(listing, day)

    assert [alert.rule for alert in Alert.objects.all()] == [in_scope]


def test_a_new_alert_gets_one_delivery_per_active_channel_queued_after_commit(
    marketplace, probe_at, transport, clock, django_capture_on_commit_callbacks
):
    listing = demo_listing(marketplace, JEWEL, FLASHED)
    email, chat = email_channel(), email_channel("chat")
    off = email_channel("switched off", active=False)
    drop = rule(Kind.COMPETITOR_DROP, channels=[email, chat, off])
    before, after = drop_days(JEWEL, FLASHED)
    probe_at(listing, before)
    clock["now"] = after
    probe = listing_probe(listing_id=listing.pk, transport=transport)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        alerts_evaluate_probe(probe_id=probe.pk)

    [alert] = alerts_of(drop)
    deliveries = list(alert.deliveries.order_by("channel__name"))
    assert [(d.channel, d.status) for d in deliveries] == [
        (chat, Delivery.Status.PENDING),
        (email, Delivery.Status.PENDING),
    ]
    assert len(callbacks) == 1


def test_a_digest_rule_keeps_its_deliveries_for_the_daily_message(marketplace, probe_at):
    listing = demo_listing(marketplace, JEWEL, FLASHED)
    drop = rule(Kind.COMPETITOR_DROP, channels=[email_channel()], digest=True)

    for day in drop_days(JEWEL, FLASHED):
        probe_at(listing, day)

    [alert] = alerts_of(drop)
    assert [d.status for d in alert.deliveries.all()] == [Delivery.Status.DIGESTED]
