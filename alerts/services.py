"""Alert rules at work: evaluating what probes, our prices and recommendations recorded;
raising, following and clearing alerts; delivering them.

What each kind measures and when it fires is in `alerts.evaluation`. Here, each evaluation reads
one value per rule and subject, only from the fields the rule is about (a stock rule never
reads a price, a price rule never reads stock), and applies the decision under a row lock on the
rule's state, so two workers evaluating the same subject take turns:

- a new alert is created under its dedup key (rule, kind, subject), with one delivery per active
  channel of the rule, queued once the transaction commits; the partial unique constraint "one
  ongoing alert per condition" backs the lock up;
- an ongoing alert is followed: data, title, last seen and occurrences, no new deliveries;
- a cleared alert gets `cleared_at`; the condition coming back later is a new alert.

Every evaluation is idempotent: reading the same probe, price or recommendation again changes
nothing, since a reading no newer than what the alert last saw is not counted.

Subjects: listing-level for competitor drops, stock and probe failures ("listing:12"; a
competitor price in another currency than the product's is its own subject, "listing:12:EUR",
since prices in two currencies cannot be compared without a rate we do not keep);
product-level for our price and the lowest market price ("product:3"); one per MAP violation
episode ("violation:7") and per recommendation ("recommendation:9").
"""

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from celery import current_app
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from alerts import evaluation, notifications
from alerts.evaluation import Decision, Direction, Outcome, State
from alerts.models import Alert, AlertRule, Delivery, NotificationChannel, RuleState
from catalog.models import Listing, Product
from pricing.models import MapViolation, Recommendation
from scraping.models import Probe

logger = logging.getLogger(__name__)

Kind = AlertRule.Kind

DEFAULT_THRESHOLDS = {
    Kind.PRICE_CHANGE: Decimal("0.10"),
    Kind.COMPETITOR_DROP: Decimal("0.05"),
    Kind.NEW_LOWEST_PRICE: Decimal("0"),
    Kind.PROBE_FAILURES: Decimal("3"),
    Kind.RECOMMENDATION_WAITING: Decimal("24"),
}
MOVEMENT_DIRECTIONS = {
    Kind.PRICE_CHANGE: Direction.EITHER,
    Kind.COMPETITOR_DROP: Direction.DOWN,
    Kind.NEW_LOWEST_PRICE: Direction.DOWN,
}
PROBE_KINDS = (
    Kind.COMPETITOR_DROP,
    Kind.NEW_LOWEST_PRICE,
    Kind.MAP_VIOLATION,
    Kind.OUT_OF_STOCK,
    Kind.BACK_IN_STOCK,
    Kind.PROBE_FAILURES,
)
# Kinds about a product as a whole, which a retailer scope cannot narrow.
PRODUCT_KINDS = (Kind.PRICE_CHANGE, Kind.NEW_LOWEST_PRICE, Kind.RECOMMENDATION_WAITING)
FAILURE_STATUSES = (
    Probe.Status.FAILED,
    Probe.Status.BLOCKED,
    Probe.Status.NOT_FOUND,
    Probe.Status.IDENTITY_MISMATCH,
)
# Probes that read the listing's own page, and so may say whether it can be bought.
PAGE_READ_STATUSES = (Probe.Status.SUCCESS, Probe.Status.NO_PRICE, Probe.Status.PRICE_HIDDEN)
# How many of a listing's latest probes a failure streak is counted over, at most.
STREAK_WINDOW = 100


def threshold_of(rule: AlertRule) -> Decimal:
    if rule.threshold is not None:
        return rule.threshold
    return DEFAULT_THRESHOLDS.get(rule.kind, Decimal(0))


# --- Readings --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reading:
    """What one probe, price or recommendation says about one rule's subject."""

    subject: str
    at: datetime
    """When it was observed: cooldowns count from it, and a reading no newer than the alert's
    last one is not counted again."""
    value: Decimal | None = None
    holds: bool | None = None
    """Condition kinds: whether the condition holds; None: this reading says nothing."""
    data: dict = field(default_factory=dict)
    links: dict = field(default_factory=dict)
    """Alert foreign keys: product_id, listing_id, retailer_id, probe_id, map_violation_id,
    recommendation_id."""
    baseline: Decimal | None = None
    """Movement kinds: the reference to start from for a subject the rule has not seen yet
    (our previous list price, which the price-change announcement carries)."""
    describe: Callable[["Reading", Decision, Decimal | None], str] | None = None
    """The alert's title, given the decision and the reference the value was measured against."""

    def title(self, decision: Decision, reference: Decimal | None) -> str:
        return self.describe(self, decision, reference) if self.describe else self.subject


@dataclass
class Evaluation:
    """What an evaluation did, by alert id."""

    raised: list[int] = field(default_factory=list)
    followed: list[int] = field(default_factory=list)
    cleared: list[int] = field(default_factory=list)
    held: int = 0


def state_of(row: RuleState) -> State:
    return State(
        armed=row.armed,
        reference=row.reference_value,
        last_value=row.last_value,
        last_fired_at=row.last_fired_at,
    )


def decide(rule: AlertRule, state: State, reading: Reading, *, acknowledged: bool) -> Decision:
    direction = MOVEMENT_DIRECTIONS.get(rule.kind)
    if direction is not None:
        return evaluation.movement(
            state,
            reading.value,
            threshold=threshold_of(rule),
            hysteresis=rule.hysteresis,
            direction=direction,
            at=reading.at,
            cooldown=rule.cooldown,
            acknowledged=acknowledged,
        )
    return evaluation.condition(
        state,
        reading.holds,
        value=reading.value,
        at=reading.at,
        cooldown=rule.cooldown,
        needs_absence_first=rule.kind == Kind.BACK_IN_STOCK,
    )


def dedup_key_for(rule: AlertRule, subject: str) -> str:
    return f"{rule.pk}:{rule.kind}:{subject}"


def rule_apply(*, rule: AlertRule, reading: Reading, summary: Evaluation) -> Outcome:
    """Apply one reading to the rule's state for its subject, and to the alert that goes with
    it. One transaction; the state row is locked for it."""
    dedup_key = dedup_key_for(rule, reading.subject)
    with transaction.atomic():
        row, created = RuleState.objects.select_for_update().get_or_create(
            rule=rule, subject=reading.subject
        )
        before = state_of(row)
        if created and reading.baseline is not None:
            before = replace(before, reference=reading.baseline, last_value=reading.baseline)
        # The current episode's alert: the newest not yet cleared, resolved or not.
        alert = (
            Alert.objects.select_for_update()
            .filter(dedup_key=dedup_key, cleared_at__isnull=True)
            .order_by("-triggered_at", "-pk")
            .first()
        )
        decision = decide(rule, before, reading, acknowledged=alert is None or alert.resolved)
        after = decision.state
        row.armed = after.armed
        row.reference_value = after.reference
        row.last_value = after.last_value
        row.last_fired_at = after.last_fired_at
        row.save()
        outcome = decision.outcome
        if outcome == Outcome.FIRE:
            if alert is not None and not alert.resolved:
                # The state and the alerts disagreed (a state row deleted by hand): follow the
                # ongoing alert rather than raise a second one for the same condition.
                alert_follow(alert, reading, decision, before.reference, summary)
            else:
                alert_raise(rule, dedup_key, reading, decision, before.reference, summary)
        elif outcome == Outcome.ONGOING and alert is not None and not alert.resolved:
            alert_follow(alert, reading, decision, before.reference, summary)
        elif outcome == Outcome.CLEAR and alert is not None:
            alert_clear(rule, alert, reading, summary)
        elif outcome == Outcome.HELD:
            summary.held += 1
    return outcome


def alert_data(reading: Reading, decision: Decision, reference: Decimal | None) -> dict:
    data = dict(reading.data)
    if decision.change is not None:
        data["reference"] = reference
        data["change_percent"] = percent(decision.change)
    return jsonable(data)


def alert_raise(
    rule: AlertRule,
    dedup_key: str,
    reading: Reading,
    decision: Decision,
    reference: Decimal | None,
    summary: Evaluation,
) -> Alert:
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                rule=rule,
                kind=rule.kind,
                dedup_key=dedup_key,
                title=reading.title(decision, reference)[:300],
                data=alert_data(reading, decision, reference),
                **reading.links,
            )
    except IntegrityError:
        # One ongoing alert per condition: someone raised it since we looked.
        alert = Alert.objects.select_for_update().get(
            dedup_key=dedup_key, cleared_at__isnull=True, resolved=False
        )
        alert_follow(alert, reading, decision, reference, summary)
        return alert
    Alert.objects.filter(pk=alert.pk).update(last_seen_at=reading.at)
    alert.last_seen_at = reading.at
    deliveries_create(alert=alert, rule=rule, event=Delivery.Event.RAISED)
    summary.raised.append(alert.pk)
    return alert


def alert_follow(
    alert: Alert,
    reading: Reading,
    decision: Decision,
    reference: Decimal | None,
    summary: Evaluation,
) -> None:
    if reading.at <= alert.last_seen_at:
        # Read before: a repeated task, or a probe older than the alert's latest news.
        return
    alert.title = reading.title(decision, reference)[:300]
    alert.data = alert_data(reading, decision, reference)
    alert.last_seen_at = reading.at
    alert.occurrences += 1
    changed = ["title", "data", "last_seen_at", "occurrences"]
    for name, value in reading.links.items():
        if value is not None:
            setattr(alert, name, value)
            changed.append(name)
    alert.save(update_fields=changed)
    summary.followed.append(alert.pk)


def alert_clear(rule: AlertRule, alert: Alert, reading: Reading, summary: Evaluation) -> None:
    alert.cleared_at = reading.at
    changed = ["cleared_at"]
    if reading.data:
        alert.data = jsonable({**alert.data, **reading.data})
        changed.append("data")
    alert.save(update_fields=changed)
    summary.cleared.append(alert.pk)
    if rule.kind == Kind.MAP_VIOLATION and rule.notify_on_close:
        deliveries_create(alert=alert, rule=rule, event=Delivery.Event.CLEARED)


# --- Which rules apply -----------------------------------------------------------------------


def rules_matching(*, kinds, product: Product, retailer=None) -> list[AlertRule]:
    """Active rules of these kinds whose scope takes in the product (and retailer)."""
    rules = AlertRule.objects.filter(active=True, kind__in=kinds).filter(
        Q(product__isnull=True) | Q(product=product),
        Q(brand__isnull=True) | Q(brand_id=product.brand_id),
        Q(category="") | Q(category=product.category),
        Q(retailer__isnull=True) | Q(retailer=retailer),
    )
    return [
        rule
        for rule in rules.order_by("pk")
        if not (rule.kind in PRODUCT_KINDS and rule.retailer_id is not None)
    ]


def in_scope(queryset: QuerySet, rule: AlertRule, *, product_path: str = "product") -> QuerySet:
    if rule.product_id is not None:
        queryset = queryset.filter(**{f"{product_path}_id": rule.product_id})
    if rule.brand_id is not None:
        queryset = queryset.filter(**{f"{product_path}__brand_id": rule.brand_id})
    if rule.category:
        queryset = queryset.filter(**{f"{product_path}__category": rule.category})
    return queryset


# --- Probes ----------------------------------------------------------------------------------


def alerts_evaluate_probe(*, probe_id: int) -> Evaluation:
    """Evaluate every active rule that a committed probe may concern."""
    summary = Evaluation()
    probe = (
        Probe.objects.select_related("listing__product__brand", "listing__retailer")
        .filter(pk=probe_id)
        .first()
    )
    if probe is None or probe.status == Probe.Status.PENDING:
        return summary
    listing = probe.listing
    for rule in rules_matching(
        kinds=PROBE_KINDS, product=listing.product, retailer=listing.retailer
    ):
        for reading in probe_readings(rule, probe):
            rule_apply(rule=rule, reading=reading, summary=summary)
    return summary


def probe_readings(rule: AlertRule, probe: Probe) -> list[Reading]:
    readers = {
        Kind.COMPETITOR_DROP: competitor_price_reading,
        Kind.NEW_LOWEST_PRICE: lowest_price_reading,
        Kind.OUT_OF_STOCK: stock_reading,
        Kind.BACK_IN_STOCK: stock_reading,
        Kind.PROBE_FAILURES: failures_reading,
        Kind.MAP_VIOLATION: map_readings,
    }
    found = readers[rule.kind](rule, probe)
    if found is None:
        return []
    return found if isinstance(found, list) else [found]


def read_later(probe: Probe, **fields) -> bool:
    """Whether the listing has a probe read after this one that also says `fields`: this one
    is then old news (a retried task, a slow worker) and must not move the rule's state."""
    later = Q(created_at__gt=probe.created_at) | Q(created_at=probe.created_at, pk__gt=probe.pk)
    return Probe.objects.filter(later, listing_id=probe.listing_id, **fields).exists()


def listing_links(listing: Listing, probe: Probe | None = None) -> dict:
    return {
        "product_id": listing.product_id,
        "listing_id": listing.pk,
        "retailer_id": listing.retailer_id,
        "probe_id": probe.pk if probe is not None else None,
    }


def competitor_price_reading(rule: AlertRule, probe: Probe) -> Reading | None:
    if probe.status != Probe.Status.SUCCESS or probe.price is None:
        return None
    if read_later(probe, status=Probe.Status.SUCCESS):
        return None
    listing = probe.listing
    currency = probe.currency or listing.currency
    subject = f"listing:{listing.pk}"
    return Reading(
        subject=subject if currency == listing.product.currency else f"{subject}:{currency}",
        at=probe.created_at,
        value=probe.price,
        data={"price": probe.price, "currency": currency, "url": probe.final_url or probe.url},
        links=listing_links(listing, probe),
        describe=lambda r, d, ref: (
            f"{listing.retailer} cut {label(listing.product)} by "
            f"{-percent(d.change or Decimal(0))}% to {money(r.value, currency)}"
            f" (from {money(ref, currency)})"
        ),
    )


def stock_reading(rule: AlertRule, probe: Probe) -> Reading | None:
    if probe.status not in PAGE_READ_STATUSES or probe.product_available is None:
        return None
    if read_later(probe, status__in=PAGE_READ_STATUSES, product_available__isnull=False):
        return None
    listing = probe.listing
    available = probe.product_available
    out = rule.kind == Kind.OUT_OF_STOCK
    return Reading(
        subject=f"listing:{listing.pk}",
        at=probe.created_at,
        value=Decimal(1) if available else Decimal(0),
        holds=not available if out else available,
        data={"available": available, "url": probe.final_url or probe.url},
        links=listing_links(listing, probe),
        describe=lambda r, d, ref: (
            f"{label(listing.product)} is {'out of' if out else 'back in'} stock at "
            f"{listing.retailer}"
        ),
    )


def failures_reading(rule: AlertRule, probe: Probe) -> Reading | None:
    # Counted over the listing's latest probes whichever probe is evaluated, so probes read
    # out of order give the same answer.
    listing = probe.listing
    latest = list(
        Probe.objects.filter(listing_id=listing.pk)
        .exclude(status=Probe.Status.PENDING)
        .order_by("-created_at", "-pk")
        .values("pk", "status", "created_at", "error_message")[:STREAK_WINDOW]
    )
    if not latest:
        return None
    streak = evaluation.failure_streak((p["status"] for p in latest), FAILURE_STATUSES)
    needed = max(int(threshold_of(rule)), 1)
    newest = latest[0]
    statuses = [p["status"] for p in latest[: min(streak, 10)]]
    data = {"failed_in_a_row": streak, "statuses": statuses}
    if streak:
        data["last_error"] = newest["error_message"][:300]
    return Reading(
        subject=f"listing:{listing.pk}",
        at=newest["created_at"],
        value=Decimal(streak),
        holds=streak >= needed,
        data=data,
        links={**listing_links(listing), "probe_id": newest["pk"]},
        describe=lambda r, d, ref: (
            f"{label(listing.product)} at {listing.retailer}: {streak} probes in a row failed "
            f"({', '.join(dict.fromkeys(Probe.Status(s).label.lower() for s in statuses))})"
        ),
    )


def lowest_price_reading(rule: AlertRule, probe: Probe) -> Reading | None:
    if probe.status not in PAGE_READ_STATUSES:
        # Failed, blocked or mismatched probes leave the listing's price and stock alone.
        return None
    product = probe.listing.product
    cheapest = (
        Listing.objects.filter(
            product=product,
            active=True,
            available=True,
            last_price__isnull=False,
            currency=product.currency,
        )
        .select_related("retailer")
        .order_by("last_price", "pk")
        .first()
    )
    if cheapest is None:
        return None
    currency = product.currency
    return Reading(
        subject=f"product:{product.pk}",
        at=probe.created_at,
        value=cheapest.last_price,
        data={
            "lowest_price": cheapest.last_price,
            "currency": currency,
            "lowest_at": cheapest.retailer.slug,
        },
        links={
            "product_id": product.pk,
            "listing_id": cheapest.pk,
            "retailer_id": cheapest.retailer_id,
            "probe_id": probe.pk,
        },
        describe=lambda r, d, ref: (
            f"New lowest market price for {label(product)}: {money(r.value, currency)} at "
            f"{cheapest.retailer} (was {money(ref, currency)})"
        ),
    )


def map_readings(rule: AlertRule, probe: Probe) -> list[Reading]:
    """The listing's MAP violation episodes this probe opened, extended or closed.

    The pricing app keeps the episodes (`pricing.map_enforcement`, run on the same signal,
    before this); only a successful probe with a price can open, extend or close one.
    """
    if probe.status != Probe.Status.SUCCESS or probe.price is None:
        return []
    listing = probe.listing
    episodes = MapViolation.objects.filter(listing_id=listing.pk).filter(
        Q(closed_at__isnull=True) | Q(closing_probe_id=probe.pk)
    )
    readings = []
    for episode in episodes:
        is_open = episode.closed_at is None
        readings.append(
            Reading(
                subject=f"violation:{episode.pk}",
                at=probe.created_at if is_open else episode.closed_at,
                value=episode.last_price,
                holds=is_open,
                data={
                    "price": episode.last_price,
                    "lowest_price": episode.lowest_price,
                    "map_price": episode.map_price,
                    "currency": episode.currency,
                    "opened_at": episode.opened_at,
                    "closed_at": episode.closed_at,
                    "evidence": episode.evidence.count(),
                },
                links={**listing_links(listing, probe), "map_violation_id": episode.pk},
                describe=map_title(listing, episode),
            )
        )
    return readings


def map_title(listing: Listing, episode: MapViolation):
    def describe(reading: Reading, decision: Decision, reference) -> str:
        return (
            f"{listing.retailer} advertises {label(listing.product)} below MAP: "
            f"{money(episode.last_price, episode.currency)} "
            f"(MAP {money(episode.map_price, episode.currency)})"
        )

    return describe


# --- Our list price --------------------------------------------------------------------------


def alerts_evaluate_list_prices(*, previous_prices: Mapping[int, Decimal | None]) -> Evaluation:
    """Evaluate price_change rules on our list prices after they changed, given each product's
    price before the change (by product id)."""
    summary = Evaluation()
    products = Product.objects.select_related("brand").filter(pk__in=list(previous_prices))
    for product in products:
        if product.list_price is None:
            continue
        reading = list_price_reading(product, previous=previous_prices[product.pk])
        for rule in rules_matching(kinds=[Kind.PRICE_CHANGE], product=product):
            rule_apply(rule=rule, reading=reading, summary=summary)
    return summary


def list_price_reading(product: Product, *, previous: Decimal | None) -> Reading:
    currency = product.currency
    return Reading(
        subject=f"product:{product.pk}",
        # The change's own time, so the same change read twice counts once.
        at=product.updated_at,
        value=product.list_price,
        baseline=previous,
        data={"list_price": product.list_price, "currency": currency},
        links={"product_id": product.pk},
        describe=lambda r, d, ref: (
            f"Our price for {label(product)} moved {signed(percent(d.change or Decimal(0)))}% "
            f"to {money(r.value, currency)} (from {money(ref, currency)})"
        ),
    )


# --- Time-based: recommendations waiting -----------------------------------------------------


def alerts_evaluate_waiting_recommendations(*, now: datetime | None = None) -> Evaluation:
    """Raise an alert for each proposed recommendation waiting longer than a rule's hours, and
    clear those decided or superseded since. Run on a schedule; running it twice changes
    nothing."""
    now = now or timezone.now()
    summary = Evaluation()
    rules = AlertRule.objects.filter(
        active=True, kind=Kind.RECOMMENDATION_WAITING, retailer__isnull=True
    )
    for rule in rules.order_by("pk"):
        wait = timedelta(hours=float(threshold_of(rule)))
        waiting = in_scope(
            Recommendation.objects.filter(
                status=Recommendation.Status.PROPOSED, created_at__lte=now - wait
            ),
            rule,
        ).select_related("product__brand")
        subjects = set()
        for recommendation in waiting:
            reading = waiting_reading(recommendation, wait=wait)
            subjects.add(reading.subject)
            rule_apply(rule=rule, reading=reading, summary=summary)
        ongoing = RuleState.objects.filter(rule=rule, armed=False).exclude(subject__in=subjects)
        for subject in ongoing.values_list("subject", flat=True):
            recommendation = Recommendation.objects.filter(
                pk=int(subject.removeprefix("recommendation:"))
            ).first()
            data = {"status": recommendation.status} if recommendation else {"status": "deleted"}
            rule_apply(
                rule=rule,
                reading=Reading(subject=subject, at=now, holds=False, data=data),
                summary=summary,
            )
            # A decided recommendation never waits again; its state has nothing left to keep.
            RuleState.objects.filter(rule=rule, subject=subject, armed=True).delete()
    return summary


def waiting_reading(recommendation: Recommendation, *, wait: timedelta) -> Reading:
    product = recommendation.product
    hours = int(wait.total_seconds() // 3600)
    currency = recommendation.currency
    return Reading(
        subject=f"recommendation:{recommendation.pk}",
        # The moment it crossed the line: the same for every run, so runs count once.
        at=recommendation.created_at + wait,
        value=Decimal(hours),
        holds=True,
        data={
            "current_price": recommendation.current_price,
            "recommended_price": recommendation.recommended_price,
            "currency": currency,
            "proposed_at": recommendation.created_at,
            "waiting_hours": hours,
        },
        links={"product_id": product.pk, "recommendation_id": recommendation.pk},
        describe=lambda r, d, ref: (
            f"Recommendation for {label(product)} waiting over {hours} hours: "
            f"{money(recommendation.current_price, currency)} to "
            f"{money(recommendation.recommended_price, currency)}"
        ),
    )


# --- Deliveries ------------------------------------------------------------------------------

# After the first failed attempt, then the second, …; the last delay repeats.
RETRY_DELAYS = (60, 300, 1800, 7200)
# How long a worker holds a delivery it is sending before another may try it.
SEND_LEASE = timedelta(minutes=10)
# A pending delivery this old was never picked up (its task lost): the sweep sends it.
PICKUP_GRACE = timedelta(minutes=2)


def max_attempts() -> int:
    return max(int(getattr(settings, "ALERT_DELIVERY_MAX_ATTEMPTS", 5)), 1)


def retry_delay(attempts: int) -> int:
    """Seconds to wait after the `attempts`-th failed attempt."""
    delays = tuple(getattr(settings, "ALERT_DELIVERY_RETRY_DELAYS", RETRY_DELAYS))
    return int(delays[min(max(attempts, 1), len(delays)) - 1])


def queue_task(name: str, *args) -> None:
    try:
        current_app.send_task(name, args=list(args))
    except Exception:
        # The rows are committed: the periodic sweep (or the next evaluation) picks them up.
        logger.exception("could not queue %s%s", name, args)


def deliveries_queue(delivery_ids) -> None:
    for delivery_id in delivery_ids:
        queue_task("alerts.tasks.deliver", delivery_id)


def deliveries_create(*, alert: Alert, rule: AlertRule, event: str) -> list[Delivery]:
    """One delivery per active channel of the rule; sent after commit, or kept for the digest."""
    status = Delivery.Status.DIGESTED if rule.digest else Delivery.Status.PENDING
    deliveries = [
        Delivery.objects.create(alert=alert, channel=channel, event=event, status=status)
        for channel in rule.channels.filter(active=True).order_by("pk")
    ]
    pending = [d.pk for d in deliveries if d.status == Delivery.Status.PENDING]
    if pending:
        transaction.on_commit(lambda: deliveries_queue(pending))
    return deliveries


@dataclass(frozen=True)
class Attempt:
    status: str | None
    """The delivery's status afterwards; None when there was nothing to send (already sent,
    failed, being sent by another worker, or not due yet)."""
    retry_in: int | None = None


def due(now: datetime) -> Q:
    return Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)


def delivery_attempt(*, delivery_id: int, now: datetime | None = None) -> Attempt:
    """Send one delivery once, if it is due, and record the outcome.

    A conditional UPDATE claims it, so two workers never send it twice, and one already sent is
    never sent again. A failure is kept with its error and retried after a growing delay; after
    the last attempt, or at once for a failure that retrying cannot fix, the delivery is failed.
    """
    now = now or timezone.now()
    claimed = Delivery.objects.filter(
        due(now),
        pk=delivery_id,
        status__in=[Delivery.Status.PENDING, Delivery.Status.RETRYING],
    ).update(attempts=F("attempts") + 1, next_attempt_at=now + SEND_LEASE)
    if not claimed:
        return Attempt(None)
    delivery = Delivery.objects.select_related(
        "channel", "alert__rule", "alert__product__brand", "alert__retailer"
    ).get(pk=delivery_id)
    try:
        if not delivery.channel.active:
            raise notifications.PermanentFailure("The channel was switched off before sending.")
        message = notifications.alert_message(
            delivery.alert, event=delivery.event, delivery_id=delivery.pk
        )
        notifications.channel_send(delivery.channel, message)
    except Exception as exc:
        return delivery_failed(delivery, exc, now=now)
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Delivery.Status.SENT, sent_at=timezone.now(), next_attempt_at=None
    )
    return Attempt(Delivery.Status.SENT)


def failure_text(error: Exception) -> str:
    if isinstance(error, notifications.DeliveryFailed):
        return str(error)
    return f"{type(error).__name__}: {error}"


def delivery_failed(delivery: Delivery, error: Exception, *, now: datetime) -> Attempt:
    text = failure_text(error)
    permanent = isinstance(error, notifications.PermanentFailure)
    if permanent or delivery.attempts >= max_attempts():
        logger.warning(
            "alert delivery %s via %s failed for good after %s attempt(s): %s",
            delivery.pk,
            delivery.channel,
            delivery.attempts,
            text,
        )
        Delivery.objects.filter(pk=delivery.pk).update(
            status=Delivery.Status.FAILED, last_error=text, next_attempt_at=None
        )
        return Attempt(Delivery.Status.FAILED)
    delay = retry_delay(delivery.attempts)
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Delivery.Status.RETRYING,
        last_error=text,
        next_attempt_at=now + timedelta(seconds=delay),
    )
    return Attempt(Delivery.Status.RETRYING, retry_in=delay)


def deliveries_due(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Deliveries whose retry is due, whose sender died holding them, or whose task was lost."""
    now = now or timezone.now()
    return list(
        Delivery.objects.filter(status__in=[Delivery.Status.PENDING, Delivery.Status.RETRYING])
        .filter(
            Q(next_attempt_at__lte=now)
            | Q(next_attempt_at__isnull=True, created_at__lte=now - PICKUP_GRACE)
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )


def deliveries_retry_now(*, delivery_ids) -> int:
    """Send failed (or waiting) deliveries again now, with a fresh set of attempts."""
    with transaction.atomic():
        ids = list(
            Delivery.objects.filter(
                pk__in=list(delivery_ids),
                status__in=[Delivery.Status.FAILED, Delivery.Status.RETRYING],
            ).values_list("pk", flat=True)
        )
        Delivery.objects.filter(pk__in=ids).update(
            status=Delivery.Status.PENDING, attempts=0, next_attempt_at=None
        )
        transaction.on_commit(lambda: deliveries_queue(ids))
    return len(ids)


# --- Digests ---------------------------------------------------------------------------------


def digest_channels_due(*, now: datetime | None = None) -> list[int]:
    """Channels with alerts waiting for their daily digest."""
    now = now or timezone.now()
    waiting = Delivery.objects.filter(due(now), status=Delivery.Status.DIGESTED)
    return sorted(set(waiting.values_list("channel_id", flat=True)))


def digest_retries_due(*, now: datetime | None = None) -> list[int]:
    """Channels whose digest failed and is due to be tried again before the next day's."""
    now = now or timezone.now()
    retrying = Delivery.objects.filter(status=Delivery.Status.DIGESTED, next_attempt_at__lte=now)
    return sorted(set(retrying.values_list("channel_id", flat=True)))


def digest_send(*, channel_id: int, now: datetime | None = None) -> Attempt:
    """Bundle every alert waiting for this channel's digest into one message and send it."""
    now = now or timezone.now()
    with transaction.atomic():
        # One digest per channel at a time: the channel row is the lock.
        channel = NotificationChannel.objects.select_for_update().filter(pk=channel_id).first()
        if channel is None:
            return Attempt(None)
        ids = list(
            Delivery.objects.filter(
                due(now), channel=channel, status=Delivery.Status.DIGESTED, created_at__lte=now
            )
            .order_by("created_at", "pk")
            .values_list("pk", flat=True)
        )
        if not ids:
            return Attempt(None)
        Delivery.objects.filter(pk__in=ids).update(
            attempts=F("attempts") + 1, next_attempt_at=now + SEND_LEASE
        )
    deliveries = list(
        Delivery.objects.filter(pk__in=ids)
        .select_related("alert__rule", "alert__product__brand", "alert__retailer")
        .order_by("created_at", "pk")
    )
    alerts = list({d.alert_id: d.alert for d in deliveries}.values())
    try:
        if not channel.active:
            raise notifications.PermanentFailure("The channel was switched off before sending.")
        notifications.channel_send(
            channel, notifications.digest_message(alerts, day=now, delivery_ids=ids)
        )
    except Exception as exc:
        return digest_failed(deliveries, exc, now=now)
    Delivery.objects.filter(pk__in=ids).update(
        status=Delivery.Status.SENT, sent_at=timezone.now(), next_attempt_at=None
    )
    return Attempt(Delivery.Status.SENT)


def digest_failed(deliveries: list[Delivery], error: Exception, *, now: datetime) -> Attempt:
    text = failure_text(error)
    permanent = isinstance(error, notifications.PermanentFailure)
    retry_in = None
    for delivery in deliveries:
        if permanent or delivery.attempts >= max_attempts():
            Delivery.objects.filter(pk=delivery.pk).update(
                status=Delivery.Status.FAILED, last_error=text, next_attempt_at=None
            )
            continue
        delay = retry_delay(delivery.attempts)
        retry_in = delay if retry_in is None else min(retry_in, delay)
        Delivery.objects.filter(pk=delivery.pk).update(
            last_error=text, next_attempt_at=now + timedelta(seconds=delay)
        )
    if retry_in is None:
        logger.warning(
            "alert digest via channel %s failed for good: %s", deliveries[0].channel_id, text
        )
        return Attempt(Delivery.Status.FAILED)
    return Attempt(Delivery.Status.DIGESTED, retry_in=retry_in)


# --- Formatting ------------------------------------------------------------------------------


def label(product: Product) -> str:
    return f"{product.brand.name} {product.reference}"


def money(amount: Decimal | None, currency: str) -> str:
    return "?" if amount is None else f"{currency} {amount:,.2f}"


def percent(change: Decimal) -> Decimal:
    return (change * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def signed(value: Decimal) -> str:
    return f"+{value}" if value > 0 else f"{value}"


def jsonable(data: dict) -> dict:
    def plain(value):
        if isinstance(value, Decimal):
            return str(value)
        if isinstance(value, datetime):
            return value.isoformat()
        if isinstance(value, list | tuple):
            return [plain(item) for item in value]
        return value

    return {key: plain(value) for key, value in data.items()}
