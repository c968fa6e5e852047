import json
from decimal import Decimal
from itertools import pairwise

import pytest
from django.core.management import call_command

from catalog.models import Product
from catalog.signals import announce_list_price
from ledger import chain, merkle
from ledger.models import LedgerEntry, LedgerHead, MerkleNode
from ledger.services import AppendRequest, ledger_append, ledger_append_many
from ledger.verification import ledger_verify
from tests.factories import ProductFactory, UserFactory
from tests.ledger.conftest import observation

pytestmark = pytest.mark.django_db


def append(seq: int, **overrides) -> LedgerEntry:
    request = observation(seq)
    arguments = {
        "kind": request.kind,
        "payload": request.payload,
        "listing_id": request.listing_id,
        "retailer_id": request.retailer_id,
    }
    return ledger_append(**(arguments | overrides))


def test_appends_are_numbered_from_one_without_gaps_and_each_links_to_the_one_before():
    entries = [append(seq) for seq in range(1, 6)]

    stored = list(LedgerEntry.objects.order_by("seq"))
    assert [e.seq for e in stored] == [1, 2, 3, 4, 5]
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert stored[0].prev_hash == chain.GENESIS_HASH
    for previous, entry in pairwise(stored):
        assert entry.prev_hash == previous.entry_hash
    head = LedgerHead.objects.get()
    assert (head.seq, head.entry_hash) == (5, stored[-1].entry_hash)


def test_each_stored_entry_hashes_to_its_own_fields_as_the_chain_spec_says():
    append(1, product_id=12, listing_id=None)
    entry = LedgerEntry.objects.get()

    assert entry.subject == "product:12"
    assert entry.payload_hash == chain.compute_payload_hash(entry.payload)
    assert entry.entry_hash == chain.compute_entry_hash(
        seq=1,
        kind="observation",
        subject="product:12",
        recorded_at=entry.recorded_at,
        payload_hash=entry.payload_hash,
        prev_hash=chain.GENESIS_HASH,
    )


def test_an_idempotency_key_already_used_returns_the_first_entry_and_writes_nothing():
    first = append(1, idempotency_key="probe:81:2026-03-01")
    append(2)

    again = append(3, payload={"price": Decimal("1.00")}, idempotency_key="probe:81:2026-03-01")

    assert (again.pk, again.seq, again.entry_hash) == (first.pk, 1, first.entry_hash)
    assert LedgerEntry.objects.count() == 2
    assert LedgerHead.objects.get().seq == 2
    assert json.loads(LedgerEntry.objects.get(seq=1).payload)["price"] == "9001.00"


def test_a_batch_is_appended_in_order_and_comes_back_in_order():
    append(1)

    entries = ledger_append_many(requests=[observation(seq) for seq in range(2, 7)])

    assert [e.seq for e in entries] == [2, 3, 4, 5, 6]
    prices = [
        json.loads(payload)["price"]
        for payload in LedgerEntry.objects.order_by("seq").values_list("payload", flat=True)
    ]
    assert prices == ["9001.00", "9002.00", "9003.00", "9004.00", "9005.00", "9006.00"]
    assert ledger_verify().ok


def test_a_batch_repeating_a_key_records_it_once_and_returns_that_entry_for_both():
    append(1, idempotency_key="seen-before")
    requests = [
        AppendRequest(kind="observation", payload={"n": 1}, idempotency_key="seen-before"),
        AppendRequest(kind="observation", payload={"n": 2}, idempotency_key="new"),
        AppendRequest(kind="observation", payload={"n": 3}),
        AppendRequest(kind="observation", payload={"n": 4}, idempotency_key="new"),
    ]

    entries = ledger_append_many(requests=requests)

    assert [e.seq for e in entries] == [1, 2, 3, 2]
    assert LedgerEntry.objects.count() == 3
    assert ledger_verify().ok


def test_the_merkle_nodes_written_with_appends_give_the_same_root_as_the_entries():
    ledger_append_many(requests=[observation(seq) for seq in range(1, 12)])
    ledger_append_many(requests=[observation(seq) for seq in range(12, 14)])
    hashes = LedgerEntry.objects.order_by("seq").values_list("entry_hash", flat=True)
    tree = merkle.MerkleTree.from_leaf_data(bytes.fromhex(h) for h in hashes)

    stored = {(n.level, n.index): bytes(n.hash) for n in MerkleNode.objects.all()}

    expected = {
        (level, index): node
        for level, nodes in enumerate(tree.levels)
        for index, node in enumerate(nodes)
    }
    assert stored == expected
    assert merkle.tree_root(13, lambda level, index: stored[level, index]) == tree.root()


def test_the_payload_is_stored_as_canonical_json_with_money_as_strings():
    append(1, payload={"price": Decimal("12500.50"), "currency": "EUR", "city": "Zürich"})

    assert LedgerEntry.objects.get().payload == (
        '{"city":"Zürich","currency":"EUR","price":"12500.50"}'
    )


def test_a_float_in_the_payload_is_refused_with_a_message_pointing_to_decimal():
    append(1)

    with pytest.raises(TypeError, match=r"float 9100\.5 is not allowed .* use Decimal for money"):
        append(2, payload={"price": 9100.5})

    assert LedgerEntry.objects.count() == 1
    assert LedgerHead.objects.get().seq == 1


def test_a_batch_with_one_bad_payload_writes_none_of_it():
    append(1)
    requests = [observation(2), AppendRequest(kind="observation", payload={"price": 1.5})]

    with pytest.raises(TypeError):
        ledger_append_many(requests=requests)

    assert list(LedgerEntry.objects.values_list("seq", flat=True)) == [1]
    assert MerkleNode.objects.count() == 1
    assert LedgerHead.objects.get().seq == 1


def test_announcing_a_new_list_price_records_it_in_the_ledger():
    product = ProductFactory(reference="126610LN", list_price=Decimal("10250.00"))
    merchandiser = UserFactory(username="merch")

    announce_list_price(product=product, previous=None, source="admin", user=merchandiser)

    entry = LedgerEntry.objects.get()
    assert (entry.kind, entry.subject, entry.product_id) == (
        "list_price_set",
        f"product:{product.pk}",
        product.pk,
    )
    payload = json.loads(entry.payload)
    assert payload["list_price"] == "10250.00"
    assert payload["previous"] is None
    assert payload["currency"] == "USD"
    assert payload["changed_by"] == "merch"
    assert payload["product"]["reference"] == "126610LN"


def test_announcing_an_unchanged_list_price_records_nothing():
    product = ProductFactory(list_price=Decimal("9500.00"))

    announce_list_price(product=product, previous=Decimal("9500.00"), source="admin")

    assert not LedgerEntry.objects.exists()


def test_running_seed_demo_twice_records_each_demo_list_price_once():
    call_command("seed_demo")
    call_command("seed_demo")

    recorded = LedgerEntry.objects.filter(kind="list_price_set")
    assert recorded.count() == Product.objects.count() == 33
    assert set(recorded.values_list("product_id", flat=True)) == set(
        Product.objects.values_list("pk", flat=True)
    )
    daytona = Product.objects.get(reference="126500LN")
    entry = recorded.get(product=daytona)
    assert entry.idempotency_key == f"demo-seed:list-price:{daytona.pk}"
    assert json.loads(entry.payload)["list_price"] == "15100.00"


def test_ledger_verify_passes_on_a_freshly_seeded_demo(capsys):
    call_command("seed_demo")

    call_command("ledger", "verify")

    assert "Ledger intact: 33 entries and 0 checkpoints verified (last seq 33)." in (
        capsys.readouterr().out
    )
