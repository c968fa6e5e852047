"""Recommendations: computed from the rules and the market, decided by people, applied to our
price (which the ledger records through the catalog's price-change announcement)."""

from dataclasses import dataclass, field
from datetime import timedelta

import pandas as pd
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from catalog.models import Product
from catalog.services import product_update
from ledger.models import LedgerEntry
from pricing import batch, engine, inputs
from pricing.models import Recommendation


class DecisionRefused(Exception):
    """The recommendation cannot be decided (already decided, or our price moved since)."""


def max_observation_age() -> timedelta:
    return timedelta(hours=settings.PRICING_MAX_OBSERVATION_AGE_HOURS)


def product_recommend(*, product: Product, now=None) -> engine.Recommendation:
    """The engine's answer for one product, read the one-at-a-time way (ORM, then engine)."""
    now = now or timezone.now()
    rules = inputs.active_rules()
    return engine.recommend(
        inputs.product_facts(product),
        rules,
        inputs.product_observations(product),
        now=now,
        max_age=max_observation_age(),
        forecasts=inputs.product_forecasts(product, now=now) if holds_on_forecast(rules) else None,
    )


def holds_on_forecast(rules) -> bool:
    """Forecasts are read only when a rule can use them."""
    return any(rule.kind == engine.Kind.HOLD_ON_FORECAST_REVERT for rule in rules)


@dataclass
class RefreshSummary:
    evaluated: int = 0
    raised: int = 0
    unchanged: int = 0
    kept: int = 0
    superseded: int = 0
    without_price: int = 0
    warnings: int = 0
    raised_product_ids: list[int] = field(default_factory=list)


def recommendations_refresh(*, product_ids=None, dry_run: bool = False, now=None) -> RefreshSummary:
    """Recompute the catalog (or some products) with the batch engine and raise proposals.

    A product whose recommended price equals its list price gets no proposal (an open one is
    superseded); an open proposal already at the recommended price is kept as it is.
    """
    now = now or timezone.now()
    products, observations = inputs.catalog_frames(product_ids=product_ids)
    summary = RefreshSummary()
    if products.empty:
        return summary
    rules = inputs.active_rules()
    forecasts = (
        inputs.forecasts_frame(product_ids=product_ids, now=now)
        if holds_on_forecast(rules)
        else None
    )
    results = batch.recommend_catalog(
        products, rules, observations, now=now, max_age=max_observation_age(), forecasts=forecasts
    )
    summary.evaluated = len(results)
    list_prices = dict(zip(products["id"], products["list_price_cents"], strict=True))
    open_proposals = {
        r.product_id: r
        for r in Recommendation.objects.filter(
            status=Recommendation.Status.PROPOSED, product_id__in=list(products["id"])
        )
    }
    to_raise: list[int] = []
    to_supersede: list[int] = []
    for product_id, price_cents, warnings in zip(
        results["product_id"], results["price_cents"], results["warnings"], strict=True
    ):
        summary.warnings += bool(warnings)
        proposal = open_proposals.get(product_id)
        if (
            price_cents is None
            or price_cents is getattr(batch.pd, "NA", None)
            or (batch.pd.isna(price_cents))
        ):
            summary.without_price += 1
            continue
        current = list_prices[product_id]
        if not pd.isna(current) and int(current) == int(price_cents):
            summary.unchanged += 1
            if proposal is not None:
                to_supersede.append(proposal.pk)
            continue
        if proposal is not None and int(proposal.recommended_price * 100) == int(price_cents):
            summary.kept += 1
            continue
        if proposal is not None:
            to_supersede.append(proposal.pk)
        to_raise.append(int(product_id))
    summary.superseded = len(to_supersede)
    summary.raised = len(to_raise)
    summary.raised_product_ids = to_raise
    if dry_run:
        return summary
    with transaction.atomic():
        Recommendation.objects.filter(
            pk__in=to_supersede, status=Recommendation.Status.PROPOSED
        ).update(status=Recommendation.Status.SUPERSEDED)
        # The batch gave the prices; each raised proposal gets its full explanation from the
        # one-product engine, which gives the same price (the property tests hold them to it).
        for product in Product.objects.filter(pk__in=to_raise).select_related("map_policy"):
            result = product_recommend(product=product, now=now)
            Recommendation.objects.create(
                product=product,
                current_price=product.list_price,
                recommended_price=result.price,
                currency=product.currency,
                explanation=result.as_json(),
                warnings=list(result.warnings),
            )
    return summary


def recommendation_approve(*, recommendation_id: int, user) -> Recommendation:
    """Approve a proposal and apply its price as our list price, recorded in the ledger."""
    with transaction.atomic():
        recommendation = (
            Recommendation.objects.select_for_update()
            .select_related("product__brand")
            .get(pk=recommendation_id)
        )
        require_open(recommendation)
        product = Product.objects.select_for_update().get(pk=recommendation.product_id)
        if product.list_price != recommendation.current_price:
            raise DecisionRefused(
                f"Our price changed from {recommendation.current_price} to {product.list_price} "
                "since this was recommended; recompute before approving."
            )
        product_update(
            product=product,
            data={"list_price": recommendation.recommended_price},
            user=user,
            source="pricing",
        )
        now = timezone.now()
        recommendation.status = Recommendation.Status.APPLIED
        recommendation.decided_by = user
        recommendation.decided_at = now
        recommendation.applied_at = now
        recommendation.ledger_seq = (
            LedgerEntry.objects.filter(product_id=product.pk, kind=LedgerEntry.Kind.LIST_PRICE_SET)
            .order_by("-seq")
            .values_list("seq", flat=True)
            .first()
        )
        recommendation.save()
    return recommendation


def recommendation_reject(*, recommendation_id: int, user) -> Recommendation:
    with transaction.atomic():
        recommendation = Recommendation.objects.select_for_update().get(pk=recommendation_id)
        require_open(recommendation)
        recommendation.status = Recommendation.Status.REJECTED
        recommendation.decided_by = user
        recommendation.decided_at = timezone.now()
        recommendation.save()
    return recommendation


@dataclass
class BulkDecision:
    decided: list[Recommendation] = field(default_factory=list)
    refused: dict[int, str] = field(default_factory=dict)


def recommendations_decide(*, recommendation_ids, approve: bool, user) -> BulkDecision:
    """Decide many at once; each is its own transaction, and one refusal stops no other."""
    outcome = BulkDecision()
    decide = recommendation_approve if approve else recommendation_reject
    for recommendation_id in recommendation_ids:
        try:
            outcome.decided.append(decide(recommendation_id=recommendation_id, user=user))
        except (DecisionRefused, Recommendation.DoesNotExist) as exc:
            outcome.refused[recommendation_id] = str(exc) or "No such recommendation."
    return outcome


def require_open(recommendation: Recommendation) -> None:
    if recommendation.status != Recommendation.Status.PROPOSED:
        raise DecisionRefused(
            f"This recommendation was already {recommendation.get_status_display().lower()}."
        )
