"""Every direct database edit is caught by `manage.py ledger verify`, naming the seq and why.

The ledger (conftest `ledger`) holds 20 entries with signed checkpoints at 8 and 15. Edits go
straight to the tables; on PostgreSQL they first switch the append-only trigger off, as a
superuser could, since that is exactly the case verification exists for.
"""

import json

import pytest
from django.core.management import call_command

from ledger import chain, merkle
from ledger.models import LedgerHead
from tests.ledger.conftest import (
    execute,
    forged,
    insert_row,
    stored_row,
    write_row,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def broken(capsys):
    """`broken("--from-checkpoint", "8")` runs `ledger verify`, expects exit 1, returns stderr."""

    def run(*args: str) -> str:
        capsys.readouterr()
        with pytest.raises(SystemExit) as exit_info:
            call_command("ledger", "verify", *args)
        assert exit_info.value.code == 1
        return capsys.readouterr().err.strip()

    return run


@pytest.fixture
def intact(capsys):
    def run(*args: str) -> str:
        capsys.readouterr()
        call_command("ledger", "verify", *args)
        return capsys.readouterr().out.strip()

    return run


def set_payload_price(seq: int, price: str) -> None:
    row = stored_row(seq)
    payload = json.loads(row["payload"])
    payload["price"] = price
    write_row(row["id"], {"payload": json.dumps(payload, sort_keys=True, separators=(",", ":"))})


def free_unique_values(row_id: int, *, seq: bool = True) -> None:
    """Move a row out of the way of the unique seq/entry_hash/idempotency_key columns."""
    values = {"entry_hash": f"{row_id:064x}", "idempotency_key": None}
    if seq:
        values["seq"] = 10**12 + row_id
    write_row(row_id, values)


def swap_contents(seq_a: int, seq_b: int, *, including_seq: bool) -> None:
    a, b = stored_row(seq_a), stored_row(seq_b)
    skip = {"id"} if including_seq else {"id", "seq"}
    free_unique_values(a["id"], seq=including_seq)
    write_row(b["id"], {k: v for k, v in a.items() if k not in skip})
    write_row(a["id"], {k: v for k, v in b.items() if k not in skip})


def shift_rows(from_seq: int, *, by: int, ids_too: bool) -> None:
    """Renumber every entry from `from_seq` on, in two steps so no unique value collides."""
    ids = ", id = id + %s" if ids_too else ""
    big = 10**12
    execute(
        f"UPDATE ledger_ledgerentry SET seq = seq + %s{ids} WHERE seq >= %s",  # noqa: S608
        [big, *([big] if ids_too else []), from_seq],
    )
    execute(
        f"UPDATE ledger_ledgerentry SET seq = seq - %s{ids} WHERE seq >= %s",  # noqa: S608
        [big - by, *([big - by] if ids_too else []), big],
    )


def rehash_from(seq: int, last: int) -> None:
    """Re-forge entries seq..last so the chain is consistent again from `seq` on."""
    prev_hash = stored_row(seq - 1)["entry_hash"]
    for n in range(seq, last + 1):
        row = forged(stored_row(n), prev_hash=prev_hash)
        write_row(row["id"], {k: row[k] for k in ("prev_hash", "payload_hash", "entry_hash")})
        prev_hash = row["entry_hash"]


def forged_after(seq: int, *, price: str) -> dict:
    """A new, self-consistent entry that claims to follow entry `seq`."""
    previous = stored_row(seq)
    payload = json.loads(previous["payload"]) | {"price": price}
    values = {
        **previous,
        "seq": seq + 1,
        "payload": json.dumps(payload, sort_keys=True, separators=(",", ":")),
        "prev_hash": previous["entry_hash"],
        "idempotency_key": None,
    }
    del values["id"]
    return forged(values)


def set_node(level: int, index: int, value: bytes) -> None:
    execute(
        'UPDATE ledger_merklenode SET hash = %s WHERE level = %s AND "index" = %s',
        [value, level, index],
    )


# --- the untouched ledger --------------------------------------------------------------------


def test_the_untouched_ledger_verifies(ledger, intact):
    assert intact() == ("Ledger intact: 20 entries and 2 checkpoints verified (last seq 20).")


# --- entries edited in place -----------------------------------------------------------------


def test_a_price_changed_in_a_payload_is_caught_at_that_entry(ledger, broken):
    set_payload_price(12, "1.00")

    assert broken() == (
        "Ledger BROKEN at seq 12: PAYLOAD_CHANGED: entry 12's payload does not hash to its "
        "payload_hash: the data was edited"
    )


def test_a_price_changed_after_the_last_checkpoint_is_caught_by_the_chain(ledger, broken):
    set_payload_price(18, "1.00")

    assert broken().startswith("Ledger BROKEN at seq 18: PAYLOAD_CHANGED")


def test_a_price_changed_with_its_payload_hash_updated_is_caught_by_the_entry_hash(ledger, broken):
    set_payload_price(12, "1.00")
    row = stored_row(12)
    write_row(row["id"], {"payload_hash": chain.compute_payload_hash(row["payload"])})

    assert broken().startswith("Ledger BROKEN at seq 12: ENTRY_HASH_MISMATCH")


@pytest.mark.parametrize("column", ["entry_hash", "prev_hash", "payload_hash"])
def test_a_rewritten_stored_hash_is_caught_at_that_entry(ledger, broken, column):
    row = stored_row(6)
    write_row(row["id"], {column: "ab" * 32})

    assert broken().startswith("Ledger BROKEN at seq 6: ENTRY_HASH_MISMATCH")


def test_an_entry_reforged_with_consistent_hashes_is_caught_by_the_next_entrys_link(ledger, broken):
    row = forged(stored_row(11), payload='{"currency":"USD","in_stock":true,"price":"1.00"}')
    write_row(row["id"], row)

    assert broken().startswith("Ledger BROKEN at seq 11: LINK_BROKEN")


def test_a_changed_recorded_at_is_caught_at_that_entry(ledger, broken):
    row = stored_row(3)
    write_row(row["id"], {"recorded_at": "2020-01-01T00:00:00.000000Z"})

    assert broken().startswith("Ledger BROKEN at seq 3: ENTRY_HASH_MISMATCH")


# --- rows removed, moved or added ------------------------------------------------------------


def test_a_deleted_entry_is_caught_as_a_gap_at_its_seq(ledger, broken):
    execute("DELETE FROM ledger_ledgerentry WHERE seq = 10")

    assert broken() == ("Ledger BROKEN at seq 10: GAP: seq 10 missing: seq 11 follows seq 9")


def test_a_deleted_last_entry_is_caught_by_the_head(ledger, broken):
    execute("DELETE FROM ledger_ledgerentry WHERE seq = 20")

    assert broken().startswith("Ledger BROKEN at seq 20: HEAD_MISMATCH")


def test_a_deleted_last_entry_with_the_head_moved_back_is_caught_by_the_stored_tree(ledger, broken):
    execute("DELETE FROM ledger_ledgerentry WHERE seq = 20")
    LedgerHead.objects.update(seq=19, entry_hash=stored_row(19)["entry_hash"])

    assert broken().startswith("Ledger BROKEN at seq 20: TREE_NODES_ALTERED")


def test_deleting_the_signed_tail_is_caught_by_the_checkpoint(ledger, broken):
    execute("DELETE FROM ledger_ledgerentry WHERE seq >= 14")
    execute('DELETE FROM ledger_merklenode WHERE ("index" + 1) * (1 << level) > 13')
    LedgerHead.objects.update(seq=13, entry_hash=stored_row(13)["entry_hash"])

    assert broken() == (
        "Ledger BROKEN at seq 14: ENTRIES_MISSING: checkpoint at size 15 but only 13 entries: "
        "entries 14 to 15 are missing"
    )


@pytest.mark.parametrize(("a", "b"), [(4, 9), (12, 13), (2, 17)])
def test_two_rows_swapped_with_all_their_fields_are_caught_as_reordered(ledger, broken, a, b):
    swap_contents(a, b, including_seq=True)

    assert broken().startswith(f"Ledger BROKEN at seq {a}: REORDERED")


@pytest.mark.parametrize(("a", "b"), [(4, 9), (12, 13), (2, 17)])
def test_two_rows_swapped_with_all_fields_but_seq_are_caught_at_the_first(ledger, broken, a, b):
    swap_contents(a, b, including_seq=False)

    assert broken().startswith(f"Ledger BROKEN at seq {a}: ENTRY_HASH_MISMATCH")


def test_a_forged_row_inserted_in_place_with_later_rows_renumbered_is_caught_as_a_duplicate(
    ledger, broken
):
    row = forged_after(11, price="1.00")
    original_12 = stored_row(12)
    shift_rows(12, by=1, ids_too=True)
    insert_row({"id": original_12["id"], **row})

    assert broken() == (
        "Ledger BROKEN at seq 12: DUPLICATE: entries 12 and 13 both claim to follow entry 11: "
        "entry 12 was inserted into the chain"
    )


def test_a_forged_row_added_with_later_rows_renumbered_is_caught_as_a_gap(ledger, broken):
    row = forged_after(11, price="1.00")
    shift_rows(12, by=1, ids_too=False)
    insert_row(row)

    assert broken().startswith("Ledger BROKEN at seq 12: GAP")


def test_a_forged_row_inserted_and_every_later_row_rehashed_is_caught_by_the_checkpoint(
    ledger, broken
):
    row = forged_after(11, price="1.00")
    original_12 = stored_row(12)
    shift_rows(12, by=1, ids_too=True)
    insert_row({"id": original_12["id"], **row})
    rehash_from(13, 21)
    LedgerHead.objects.update(seq=21, entry_hash=stored_row(21)["entry_hash"])

    assert broken().startswith(
        "Ledger BROKEN at seq 15: CHECKPOINT_ROOT_MISMATCH: the entries up to 15 no longer hash"
    )


def test_everything_after_a_signed_entry_rehashed_is_caught_by_the_next_checkpoint(ledger, broken):
    set_payload_price(10, "1.00")
    rehash_from(10, 20)

    assert broken().startswith("Ledger BROKEN at seq 15: CHECKPOINT_ROOT_MISMATCH")


def test_a_forged_row_numbered_zero_is_caught(ledger, broken):
    """Seq 0 sorts before every real entry: a full check reads every row, whatever its seq."""
    row = {**stored_row(1), "seq": 0, "idempotency_key": None, "entry_hash": "cd" * 32}
    del row["id"]
    insert_row(row)

    assert broken() == "Ledger BROKEN at seq 0: REORDERED: seq 0 appears after seq 20"


def test_a_forged_row_appended_at_the_end_is_caught_by_the_head(ledger, broken):
    insert_row(forged_after(20, price="1.00"))

    assert broken().startswith("Ledger BROKEN at seq 21: HEAD_MISMATCH")


def test_a_forged_row_appended_with_the_head_moved_is_caught_by_the_missing_tree_nodes(
    ledger, broken
):
    row = forged_after(20, price="1.00")
    insert_row(row)
    LedgerHead.objects.update(seq=21, entry_hash=row["entry_hash"])

    assert broken().startswith("Ledger BROKEN at seq 21: TREE_NODES_MISSING")


def test_a_rewritten_head_hash_is_caught_before_the_next_append_forks_the_chain(ledger, broken):
    LedgerHead.objects.update(entry_hash=stored_row(19)["entry_hash"])

    assert broken() == (
        "Ledger BROKEN at seq 20: HEAD_MISMATCH: the head's entry hash is not entry 20's: "
        "the head was rewritten"
    )


# --- checkpoints and the stored tree ---------------------------------------------------------


def test_an_altered_checkpoint_root_is_caught_at_its_tree_size(ledger, broken):
    execute("UPDATE ledger_checkpoint SET root_hash = %s WHERE tree_size = 15", ["cd" * 32])

    assert broken() == (
        "Ledger BROKEN at seq 15: CHECKPOINT_ALTERED: the stored size or root differs from what "
        "the signature covers"
    )


def test_a_checkpoint_body_rewritten_without_the_key_fails_its_signature(ledger, broken):
    execute(
        "UPDATE ledger_checkpoint SET body = replace(body, '\n8\n', '\n9\n'), tree_size = 9 "
        "WHERE tree_size = 8"
    )

    assert broken().startswith("Ledger BROKEN at seq 9: CHECKPOINT_SIGNATURE")


@pytest.mark.parametrize(
    ("level", "index", "seq"),
    [
        pytest.param(0, 2, 3, id="a-leaf"),
        pytest.param(1, 5, 12, id="an-inner-node"),
        pytest.param(3, 1, 16, id="a-node-under-a-peak"),
        pytest.param(4, 0, 16, id="a-peak"),
        pytest.param(0, 19, 20, id="the-last-leaf"),
    ],
)
def test_an_altered_stored_merkle_node_is_caught_naming_the_entry_that_completed_it(
    ledger, broken, level, index, seq
):
    set_node(level, index, b"\x07" * 32)

    assert broken().startswith(f"Ledger BROKEN at seq {seq}: TREE_NODES_ALTERED")


def test_a_deleted_merkle_node_is_caught(ledger, broken):
    execute('DELETE FROM ledger_merklenode WHERE level = 1 AND "index" = 3')

    assert broken().startswith("Ledger BROKEN at seq 8: TREE_NODES_")


# --- starting from a checkpoint --------------------------------------------------------------


def test_verify_from_a_checkpoint_passes_on_the_untouched_ledger(ledger, intact):
    assert intact("--from-checkpoint", "8") == (
        "Ledger intact: 12 entries and 2 checkpoints verified (last seq 20)."
    )


def test_verify_from_a_checkpoint_catches_an_edit_after_it(ledger, broken):
    set_payload_price(11, "1.00")

    assert broken("--from-checkpoint", "8").startswith("Ledger BROKEN at seq 11: PAYLOAD_CHANGED")


def test_verify_from_a_checkpoint_catches_a_rehashed_tail_at_the_next_checkpoint(ledger, broken):
    set_payload_price(10, "1.00")
    rehash_from(10, 20)

    assert broken("--from-checkpoint", "8").startswith(
        "Ledger BROKEN at seq 15: CHECKPOINT_ROOT_MISMATCH"
    )


def test_verify_from_a_checkpoint_catches_a_rewritten_hash_of_its_last_entry(ledger, broken):
    row = stored_row(8)
    write_row(row["id"], {"entry_hash": "ab" * 32})

    assert broken("--from-checkpoint", "8").startswith(
        "Ledger BROKEN at seq 8: ENTRY_HASH_MISMATCH"
    )


def test_verify_from_a_checkpoint_catches_altered_stored_peaks_under_it(ledger, broken):
    set_node(3, 0, b"\x07" * 32)

    assert broken("--from-checkpoint", "8").startswith("Ledger BROKEN at seq 8: TREE_NODES_ALTERED")


def test_verify_from_a_checkpoint_trusts_the_signed_root_for_entries_before_it(
    ledger, intact, broken
):
    """Only a full verify re-reads entries the checkpoint already covers."""
    set_payload_price(5, "1.00")

    assert intact("--from-checkpoint", "8").startswith("Ledger intact: 12 entries")
    assert broken().startswith("Ledger BROKEN at seq 5: PAYLOAD_CHANGED")


def test_verify_from_a_checkpoint_that_does_not_exist_is_an_error(ledger):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No checkpoint at tree size 9"):
        call_command("ledger", "verify", "--from-checkpoint", "9")


def test_merkle_leaf_of_an_entry_is_the_hash_of_its_entry_hash(ledger):
    """The tree the tests above alter is the one the chain spec defines."""
    from ledger.services import prefetched_lookup

    row = stored_row(3)
    stored = prefetched_lookup([(0, 2)])(0, 2)
    assert stored == merkle.leaf_hash(bytes.fromhex(row["entry_hash"]))
