"""The ledger API: entries with inclusion proofs, signed checkpoints, consistency, price history.

Every proof is checked the way an outside client would: with `ledger.merkle` and
`ledger.checkpoint` against the signed root, never by comparing with what the server stored.
"""

import math
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from catalog.signals import announce_list_price
from ledger import merkle
from ledger.checkpoint import verify_checkpoint
from ledger.models import Checkpoint, LedgerEntry
from ledger.services import ledger_append, ledger_public_key
from tests.conftest import grant
from tests.factories import ListingFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def signed_root(checkpoint: dict) -> bytes:
    """The root the checkpoint's signature covers, after checking the signature."""
    parsed = verify_checkpoint(
        body=checkpoint["body"],
        signature=checkpoint["signature"],
        public_key=ledger_public_key(),
    )
    assert (parsed.tree_size, parsed.root_hash.hex()) == (
        checkpoint["tree_size"],
        checkpoint["root_hash"],
    )
    return parsed.root_hash


def proof_verifies(body: dict) -> bool:
    proof = body["inclusion_proof"]
    leaf = merkle.leaf_hash(bytes.fromhex(body["entry"]["entry_hash"]))
    assert proof["leaf_hash"] == leaf.hex()
    return merkle.verify_inclusion(
        leaf_hash=leaf,
        index=body["entry"]["seq"] - 1,
        size=proof["tree_size"],
        proof=[bytes.fromhex(h) for h in proof["hashes"]],
        root=signed_root(proof["checkpoint"]),
    )


# --- entries ---------------------------------------------------------------------------------


def test_an_entry_comes_with_an_inclusion_proof_that_verifies_against_the_latest_checkpoint(
    api, ledger
):
    response = api.get("/api/ledger/entries/5")

    assert response.status_code == 200
    body = response.json()
    entry = LedgerEntry.objects.get(seq=5)
    assert body["entry"]["entry_hash"] == entry.entry_hash
    assert body["entry"]["payload"] == {"currency": "USD", "in_stock": True, "price": "9005.00"}
    assert body["entry"]["payload_canonical"] == entry.payload
    proof = body["inclusion_proof"]
    assert (proof["leaf_index"], proof["tree_size"]) == (4, 15)
    assert proof["checkpoint"]["tree_size"] == 15
    assert proof_verifies(body)


def test_every_signed_entry_has_a_proof_of_at_most_log2_n_hashes_that_verifies(api, ledger):
    for seq in range(1, 16):
        body = api.get(f"/api/ledger/entries/{seq}").json()

        assert len(body["inclusion_proof"]["hashes"]) <= math.ceil(math.log2(15))
        assert proof_verifies(body), seq


def test_an_inclusion_proof_does_not_verify_for_another_entry(api, ledger):
    body = api.get("/api/ledger/entries/5").json()

    body["entry"] = api.get("/api/ledger/entries/6").json()["entry"]
    body["inclusion_proof"]["leaf_hash"] = merkle.leaf_hash(
        bytes.fromhex(body["entry"]["entry_hash"])
    ).hex()

    assert not proof_verifies(body)


def test_tree_size_picks_an_older_checkpoint_to_prove_against(api, ledger):
    body = api.get("/api/ledger/entries/3", {"tree_size": 8}).json()

    assert body["inclusion_proof"]["tree_size"] == 8
    assert body["inclusion_proof"]["checkpoint"]["root_hash"] == (
        Checkpoint.objects.get(tree_size=8).root_hash
    )
    assert proof_verifies(body)


def test_an_entry_newer_than_the_latest_checkpoint_has_no_proof_yet(api, ledger):
    response = api.get("/api/ledger/entries/18")

    assert response.status_code == 200
    body = response.json()
    assert body["entry"]["seq"] == 18
    assert body["inclusion_proof"] is None
    assert body["detail"] == (
        "No signed checkpoint covers this entry yet; it will be in the next one."
    )


def test_an_entry_newer_than_the_chosen_checkpoint_has_no_proof_against_it(api, ledger):
    body = api.get("/api/ledger/entries/12", {"tree_size": 8}).json()

    assert body["inclusion_proof"] is None
    assert "No signed checkpoint covers this entry" in body["detail"]


def test_an_entry_before_any_checkpoint_has_no_proof(api, db):
    ledger_append(kind="observation", payload={"n": 1})

    body = api.get("/api/ledger/entries/1").json()

    assert body["inclusion_proof"] is None
    assert body["entry"]["seq"] == 1


def test_a_tree_size_that_is_not_a_number_is_a_400_naming_it(api, ledger):
    response = api.get("/api/ledger/entries/5", {"tree_size": "latest"})

    assert response.status_code == 400
    assert response.json() == {"tree_size": "A whole number."}


def test_a_tree_size_without_a_checkpoint_is_a_404(api, ledger):
    assert api.get("/api/ledger/entries/5", {"tree_size": 9}).status_code == 404


def test_an_unknown_entry_is_a_404(api, ledger):
    assert api.get("/api/ledger/entries/21").status_code == 404


def test_entries_filter_by_listing_even_when_the_listing_no_longer_exists(api, ledger):
    """History outlives what it describes: listing 42 was never (or is no longer) in the catalog."""
    response = api.get("/api/ledger/entries", {"listing": 42})

    assert response.status_code == 200
    body = response.json()
    assert [e["seq"] for e in body["results"]] == [2, 5, 8, 11, 14, 17, 20]
    assert body["count"] == 7


def test_an_entry_filter_that_is_not_a_whole_number_is_a_400_naming_it(api, ledger):
    response = api.get("/api/ledger/entries", {"listing": "4.5"})

    assert response.status_code == 400
    assert list(response.json()) == ["listing"]


def test_entries_filter_by_product_and_kind(api, db):
    product = ProductFactory(list_price=Decimal("9100.00"))
    announce_list_price(product=product, previous=None, source="admin")
    ledger_append(kind="observation", product_id=product.pk, payload={"n": 1})
    ledger_append(kind="observation", product_id=product.pk + 1, payload={"n": 2})

    response = api.get("/api/ledger/entries", {"product": product.pk, "kind": "observation"})

    assert response.status_code == 200
    assert [e["seq"] for e in response.json()["results"]] == [2]


# --- checkpoints -----------------------------------------------------------------------------


def test_the_latest_checkpoint_is_the_largest_and_its_signature_verifies(api, ledger):
    response = api.get("/api/ledger/checkpoints/latest")

    assert response.status_code == 200
    body = response.json()
    assert body["tree_size"] == 15
    assert signed_root(body).hex() == Checkpoint.objects.get(tree_size=15).root_hash


def test_latest_checkpoint_is_a_404_before_the_first(api, db):
    response = api.get("/api/ledger/checkpoints/latest")

    assert response.status_code == 404
    assert response.json() == {"detail": "No checkpoint yet."}


def test_a_consistency_proof_between_two_checkpoints_verifies(api, ledger):
    response = api.get("/api/ledger/checkpoints/consistency", {"first": 8, "second": 15})

    assert response.status_code == 200
    body = response.json()
    assert (body["first"]["tree_size"], body["second"]["tree_size"]) == (8, 15)
    assert merkle.verify_consistency(
        size1=8,
        size2=15,
        root1=signed_root(body["first"]),
        root2=signed_root(body["second"]),
        proof=[bytes.fromhex(h) for h in body["hashes"]],
    )


def test_a_consistency_proof_does_not_verify_against_a_different_old_root(api, ledger):
    body = api.get("/api/ledger/checkpoints/consistency", {"first": 8, "second": 15}).json()

    assert not merkle.verify_consistency(
        size1=8,
        size2=15,
        root1=bytes(32),
        root2=signed_root(body["second"]),
        proof=[bytes.fromhex(h) for h in body["hashes"]],
    )


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"first": "eight", "second": "15"}, "first"),
        ({"second": "15"}, "first"),
        ({"first": "8", "second": "-1"}, "second"),
        ({"first": "8"}, "second"),
        ({"first": "15", "second": "8"}, "first"),
    ],
)
def test_bad_consistency_parameters_are_a_400_naming_the_field(api, ledger, params, field):
    response = api.get("/api/ledger/checkpoints/consistency", params)

    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_a_consistency_proof_for_a_size_without_a_checkpoint_is_a_404(api, ledger):
    response = api.get("/api/ledger/checkpoints/consistency", {"first": 9, "second": 15})

    assert response.status_code == 404


def test_signing_a_checkpoint_needs_the_add_checkpoint_permission(api, user, ledger):
    response = api.post("/api/ledger/checkpoints")

    assert response.status_code == 403
    assert Checkpoint.objects.count() == 2


def test_signing_a_checkpoint_with_the_permission_signs_the_tree_as_it_stands(user, ledger):
    client = APIClient()
    client.force_authenticate(grant(user, "ledger.add_checkpoint"))

    response = client.post("/api/ledger/checkpoints")

    assert response.status_code == 201
    body = response.json()
    assert body["tree_size"] == 20
    assert signed_root(body).hex() == Checkpoint.objects.get(tree_size=20).root_hash
    assert proof_verifies(client.get("/api/ledger/entries/18").json())


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/api/ledger/entries"),
        ("get", "/api/ledger/entries/5"),
        ("get", "/api/ledger/checkpoints"),
        ("get", "/api/ledger/checkpoints/latest"),
        ("get", "/api/ledger/checkpoints/consistency?first=8&second=15"),
        ("post", "/api/ledger/checkpoints"),
        ("get", "/api/prices/history/1"),
    ],
)
def test_anonymous_callers_get_a_401(ledger, method, url):
    response = getattr(APIClient(), method)(url)

    assert response.status_code == 401
    assert Checkpoint.objects.count() == 2


# --- price history ---------------------------------------------------------------------------


def test_price_history_lists_a_watchs_recorded_prices_with_their_entry_hashes(api, db):
    product = ProductFactory(list_price=Decimal("14950.00"))
    listing = ListingFactory(product=product)
    other = ProductFactory(list_price=Decimal("100.00"))
    announce_list_price(product=product, previous=None, source="admin")
    announce_list_price(product=other, previous=None, source="admin")
    ledger_append(
        kind="observation",
        product_id=product.pk,
        listing_id=listing.pk,
        retailer_id=listing.retailer_id,
        payload={"price": Decimal("13999.00"), "currency": "USD"},
    )
    ledger_append(
        kind="map_violation_opened",
        product_id=product.pk,
        listing_id=listing.pk,
        payload={"price": Decimal("1.00"), "currency": "USD"},
    )

    response = api.get(f"/api/prices/history/{product.pk}")

    assert response.status_code == 200
    entries = {e.seq: e for e in LedgerEntry.objects.filter(product=product)}
    assert response.json() == [
        {
            "seq": 1,
            "kind": "list_price_set",
            "recorded_at": entries[1].recorded_at,
            "price": "14950.00",
            "currency": "USD",
            "listing": None,
            "retailer": None,
            "blockchain_hash": entries[1].entry_hash,
        },
        {
            "seq": 3,
            "kind": "observation",
            "recorded_at": entries[3].recorded_at,
            "price": "13999.00",
            "currency": "USD",
            "listing": listing.pk,
            "retailer": listing.retailer_id,
            "blockchain_hash": entries[3].entry_hash,
        },
    ]


def test_price_history_of_a_watch_with_no_prices_is_empty(api, db):
    product = ProductFactory(list_price=None)

    response = api.get(f"/api/prices/history/{product.pk}")

    assert response.status_code == 200
    assert response.json() == []


def test_price_history_of_an_unknown_watch_is_a_404(api, db):
    assert api.get("/api/prices/history/999999").status_code == 404
