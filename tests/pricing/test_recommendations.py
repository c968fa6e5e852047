import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from catalog.models import Product
from ledger.models import LedgerEntry
from pricing.models import PricingRule, Recommendation
from pricing.services import (
    DecisionRefused,
    product_recommend,
    recommendation_approve,
    recommendation_reject,
    recommendations_refresh,
)
from tests.conftest import grant
from tests.factories import ListingFactory, ProductFactory, RetailerFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def undercut_rules():
    PricingRule.objects.create(name="Undercut by 50", kind="undercut", amount=Decimal("50"))
    PricingRule.objects.create(name="20% margin", kind="floor_margin", percent=Decimal("0.20"))


def competitor(product, price: str, *, name="Chrono Plaza", hours_ago=1, available=True):
    seen = timezone.now() - timedelta(hours=hours_ago)
    return ListingFactory(
        product=product,
        retailer=RetailerFactory(name=name),
        last_price=Decimal(price),
        available=available,
        last_success_at=seen,
        last_probed_at=seen,
        last_probe_status="success",
    )


@pytest.fixture
def watch():
    return ProductFactory(
        msrp=Decimal("10000.00"), cost=Decimal("6000.00"), list_price=Decimal("9500.00")
    )


def test_refreshing_raises_a_proposal_with_its_explanation(watch, undercut_rules):
    competitor(watch, "9200.00")

    summary = recommendations_refresh()

    assert summary.raised == 1
    recommendation = Recommendation.objects.get(product=watch)
    assert recommendation.status == Recommendation.Status.PROPOSED
    assert (recommendation.current_price, recommendation.recommended_price) == (
        Decimal("9500.00"),
        Decimal("9150.00"),
    )
    assert recommendation.delta == Decimal("-350.00")
    steps = {step["rule"]: step for step in recommendation.explanation["steps"]}
    assert (steps["Undercut by 50"]["before"], steps["Undercut by 50"]["after"]) == (
        "9500.00",
        "9150.00",
    )
    assert recommendation.explanation["used"][0]["price"] == "9200.00"


def test_a_recommendation_equal_to_our_price_is_not_raised(watch, undercut_rules):
    competitor(watch, "9550.00")

    summary = recommendations_refresh()

    assert summary.unchanged == 1
    assert not Recommendation.objects.exists()


def test_refreshing_again_keeps_a_proposal_that_is_still_right(watch, undercut_rules):
    competitor(watch, "9200.00")
    recommendations_refresh()

    summary = recommendations_refresh()

    assert (summary.raised, summary.kept) == (0, 1)
    assert Recommendation.objects.count() == 1


def test_a_market_move_supersedes_the_open_proposal(watch, undercut_rules):
    listing = competitor(watch, "9200.00")
    recommendations_refresh()
    listing.last_price = Decimal("9100.00")
    listing.save()

    recommendations_refresh()

    statuses = dict(Recommendation.objects.values_list("recommended_price", "status"))
    assert statuses == {Decimal("9150.00"): "superseded", Decimal("9050.00"): "proposed"}


def test_stale_blocked_and_out_of_stock_competitors_are_ignored_and_named(watch, undercut_rules):
    competitor(watch, "8000.00", name="Old News", hours_ago=24 * 10)
    competitor(watch, "8100.00", name="Sold Out", available=False)
    blocked = ListingFactory(
        product=watch,
        retailer=RetailerFactory(name="Walled"),
        last_probed_at=timezone.now(),
        last_probe_status="blocked",
    )

    result = product_recommend(product=watch)

    reasons = dict(result.ignored)
    assert (
        "stale"
        in reasons[Product.objects.get(pk=watch.pk).listings.get(retailer__name="Old News").pk]
    )
    assert "out of stock" in reasons[watch.listings.get(retailer__name="Sold Out").pk]
    assert "blocked" in reasons[blocked.pk]
    assert result.price == Decimal("9500.00")


def test_the_batch_and_the_one_product_path_agree_on_the_database(undercut_rules):
    products = [
        ProductFactory(list_price=Decimal(f"{9000 + i * 137}.00"), cost=Decimal("5000.00"))
        for i in range(6)
    ]
    for index, product in enumerate(products):
        competitor(product, f"{8800 + index * 211}.00", name=f"Shop {index}")

    recommendations_refresh()

    for product in products:
        expected = product_recommend(product=product).price
        raised = Recommendation.objects.filter(product=product).first()
        assert (raised.recommended_price if raised else product.list_price) == expected


def test_approving_applies_our_new_price_and_records_it_in_the_ledger(watch, undercut_rules):
    competitor(watch, "9200.00")
    recommendations_refresh()
    recommendation = Recommendation.objects.get()
    merchandiser = UserFactory(username="mia")

    recommendation_approve(recommendation_id=recommendation.pk, user=merchandiser)

    watch.refresh_from_db()
    recommendation.refresh_from_db()
    assert watch.list_price == Decimal("9150.00")
    assert recommendation.status == Recommendation.Status.APPLIED
    assert recommendation.decided_by == merchandiser
    entry = LedgerEntry.objects.get(seq=recommendation.ledger_seq)
    payload = json.loads(entry.payload)
    assert (payload["list_price"], payload["previous"]) == ("9150.00", "9500.00")
    assert (payload["source"], payload["changed_by"]) == ("pricing", "mia")


def test_a_proposal_cannot_be_approved_after_our_price_moved(watch, undercut_rules, user):
    competitor(watch, "9200.00")
    recommendations_refresh()
    Product.objects.filter(pk=watch.pk).update(list_price=Decimal("9400.00"))

    with pytest.raises(DecisionRefused, match="recompute"):
        recommendation_approve(recommendation_id=Recommendation.objects.get().pk, user=user)

    assert Product.objects.get(pk=watch.pk).list_price == Decimal("9400.00")


def test_a_decided_proposal_cannot_be_decided_again(watch, undercut_rules, user):
    competitor(watch, "9200.00")
    recommendations_refresh()
    recommendation = Recommendation.objects.get()
    recommendation_reject(recommendation_id=recommendation.pk, user=user)

    with pytest.raises(DecisionRefused, match="already rejected"):
        recommendation_approve(recommendation_id=recommendation.pk, user=user)


def test_reprice_dry_run_summarises_and_writes_nothing(watch, undercut_rules, capsys):
    competitor(watch, "9200.00")

    call_command("reprice", "--dry-run")

    assert "would raise 1 new recommendations" in capsys.readouterr().out
    assert not Recommendation.objects.exists()


def test_reprice_raises_the_proposals(watch, undercut_rules, capsys):
    competitor(watch, "9200.00")

    call_command("reprice")

    assert "raised 1 new recommendations" in capsys.readouterr().out
    assert Recommendation.objects.filter(status="proposed").count() == 1


# --- API ------------------------------------------------------------------------------------


@pytest.fixture
def proposal(watch, undercut_rules):
    competitor(watch, "9200.00")
    recommendations_refresh()
    return Recommendation.objects.get()


def test_the_api_lists_recommendations_for_an_account(proposal, user):
    api = APIClient()
    assert api.get("/api/recommendations").status_code == 401
    api.force_authenticate(user)

    body = api.get("/api/recommendations", {"status": "proposed"}).json()

    assert [row["id"] for row in body["results"]] == [proposal.pk]
    assert body["results"][0]["delta"] == "-350.00"


def test_approving_through_the_api_needs_the_permission(proposal, user):
    api = APIClient()
    api.force_authenticate(user)

    assert api.post(f"/api/recommendations/{proposal.pk}/approve").status_code == 403

    api.force_authenticate(grant(user, "pricing.change_recommendation"))
    response = api.post(f"/api/recommendations/{proposal.pk}/approve")
    assert response.status_code == 200
    assert response.json()["status"] == "applied"
    assert Product.objects.get(pk=proposal.product_id).list_price == Decimal("9150.00")


def test_deciding_twice_through_the_api_is_a_conflict(proposal, user):
    api = APIClient()
    api.force_authenticate(grant(user, "pricing.change_recommendation"))
    api.post(f"/api/recommendations/{proposal.pk}/reject")

    response = api.post(f"/api/recommendations/{proposal.pk}/approve")

    assert response.status_code == 409
    assert "already rejected" in response.json()["detail"]


def test_many_can_be_decided_at_once_and_each_refusal_is_named(proposal, user):
    api = APIClient()
    api.force_authenticate(grant(user, "pricing.change_recommendation"))

    response = api.post(
        "/api/recommendations/decide",
        {"ids": [proposal.pk, 999999], "decision": "reject"},
        format="json",
    )

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["decided"]] == [proposal.pk]
    assert "999999" in response.json()["refused"]
    proposal.refresh_from_db()
    assert proposal.status == Recommendation.Status.REJECTED
