"""Verification in worker processes finds exactly what the sequential check finds.

The ledger (conftest `ledger`) holds 20 entries with checkpoints at 8 and 15. With slices of
2**2 entries it is cut into five, checked by two worker processes that each join the
coordinator's exported snapshot, so every boundary between slices, and the Merkle nodes above
the slices, are exercised. The data must be committed for other sessions to see it, hence
transactional tests.
"""

import json

import pytest
from django.core.management import call_command

import ledger.verification as verification
from ledger.models import Checkpoint, LedgerHead
from ledger.verification import ledger_verify
from tests.ledger.conftest import execute, forged, insert_row, stored_row, write_row
from tests.ledger.test_tampering import (
    forged_after,
    rehash_from,
    set_node,
    set_payload_price,
    shift_rows,
    swap_contents,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SLICE_LEVEL = 2  # slices of 4 entries


def sequential(**options):
    return ledger_verify(workers=1, top_level=SLICE_LEVEL, **options)


def parallel(**options):
    return ledger_verify(workers=2, top_level=SLICE_LEVEL, **options)


@pytest.fixture
def no_sequential_fallback(monkeypatch):
    """Fail the test if verification falls back to the one-process check."""

    def refuse(*args, **kwargs):
        raise AssertionError("the parallel check fell back to the sequential one")

    monkeypatch.setattr(verification, "verify_sequential", refuse)


def test_an_intact_ledger_is_verified_by_the_workers_alone(ledger, no_sequential_fallback):
    report = parallel()

    assert report.ok, report.problem
    assert (report.entries_checked, report.checkpoints_checked, report.last_seq) == (20, 2, 20)


def test_the_workers_check_from_a_checkpoint_on_too(ledger, no_sequential_fallback):
    report = parallel(from_checkpoint=Checkpoint.objects.get(tree_size=15))

    assert report.ok, report.problem
    assert (report.entries_checked, report.last_seq) == (5, 20)


def test_the_workers_alone_find_an_altered_merkle_node_in_a_slice(ledger, no_sequential_fallback):
    set_node(1, 5, b"\x07" * 32)

    assert str(parallel().problem).startswith("seq 12: TREE_NODES_ALTERED")


def test_the_workers_alone_find_an_altered_node_above_the_slices(ledger, no_sequential_fallback):
    set_node(3, 1, b"\x07" * 32)

    assert str(parallel().problem).startswith("seq 16: TREE_NODES_ALTERED")


def swap_with_seq(a: int, b: int) -> None:
    swap_contents(a, b, including_seq=True)


def swap_without_seq(a: int, b: int) -> None:
    swap_contents(a, b, including_seq=False)


def reforge(seq: int) -> None:
    row = forged(stored_row(seq), payload='{"currency":"USD","in_stock":true,"price":"1.00"}')
    write_row(row["id"], row)


def insert_forged_renumbering(after: int) -> None:
    row = forged_after(after, price="1.00")
    original = stored_row(after + 1)
    shift_rows(after + 1, by=1, ids_too=True)
    insert_row({"id": original["id"], **row})


def rewrite_head() -> None:
    LedgerHead.objects.update(entry_hash=stored_row(19)["entry_hash"])


def delete_tail_and_move_head() -> None:
    execute("DELETE FROM ledger_ledgerentry WHERE seq = 20")
    LedgerHead.objects.update(seq=19, entry_hash=stored_row(19)["entry_hash"])


def forge_seq_zero() -> None:
    row = {**stored_row(1), "seq": 0, "idempotency_key": None, "entry_hash": "cd" * 32}
    del row["id"]
    insert_row(row)


def delete_signed_tail() -> None:
    execute("DELETE FROM ledger_ledgerentry WHERE seq >= 14")
    execute('DELETE FROM ledger_merklenode WHERE ("index" + 1) * (1 << level) > 13')
    LedgerHead.objects.update(seq=13, entry_hash=stored_row(13)["entry_hash"])


TAMPERING = {
    # A slice boundary falls after every fourth entry: 4|5, 8|9, 12|13, 16|17.
    "payload-in-a-middle-slice": (lambda: set_payload_price(10, "1.00"), "seq 10: PAYLOAD_CHANGED"),
    "payload-first-of-a-slice": (lambda: set_payload_price(13, "1.00"), "seq 13: PAYLOAD_CHANGED"),
    "payload-last-of-a-slice": (lambda: set_payload_price(12, "1.00"), "seq 12: PAYLOAD_CHANGED"),
    "two-edits-the-earlier-wins": (
        lambda: (set_payload_price(18, "1.00"), set_payload_price(6, "1.00")),
        "seq 6: PAYLOAD_CHANGED",
    ),
    "stored-hash-rewritten": (
        lambda: write_row(stored_row(9)["id"], {"entry_hash": "ab" * 32}),
        "seq 9: ENTRY_HASH_MISMATCH",
    ),
    "last-of-a-slice-reforged": (lambda: reforge(8), "seq 8: LINK_BROKEN"),
    "deleted-at-a-boundary": (
        lambda: execute("DELETE FROM ledger_ledgerentry WHERE seq = 13"),
        "seq 13: GAP",
    ),
    "rows-swapped-across-slices": (lambda: swap_with_seq(4, 9), "seq 4: REORDERED"),
    "rows-swapped-across-a-boundary": (lambda: swap_with_seq(12, 13), "seq 12: REORDERED"),
    "contents-swapped-across-slices": (
        lambda: swap_without_seq(2, 17),
        "seq 2: ENTRY_HASH_MISMATCH",
    ),
    "forged-row-inserted-at-a-boundary": (
        lambda: insert_forged_renumbering(12),
        "seq 13: DUPLICATE",
    ),
    "tail-rehashed-after-a-signed-entry": (
        lambda: (set_payload_price(10, "1.00"), rehash_from(10, 20)),
        "seq 15: CHECKPOINT_ROOT_MISMATCH",
    ),
    "forged-row-appended": (
        lambda: insert_row(forged_after(20, price="1.00")),
        "seq 21: HEAD_MISMATCH",
    ),
    "head-rewritten": (rewrite_head, "seq 20: HEAD_MISMATCH"),
    "last-entry-deleted-head-moved": (delete_tail_and_move_head, "seq 20: TREE_NODES_ALTERED"),
    "forged-row-numbered-zero": (forge_seq_zero, "seq 0: REORDERED"),
    "head-claims-billions": (
        lambda: LedgerHead.objects.update(seq=5_000_000_000),
        "seq 21: HEAD_MISMATCH",
    ),
    "signed-tail-deleted": (delete_signed_tail, "seq 14: ENTRIES_MISSING"),
    "node-deleted": (
        lambda: execute('DELETE FROM ledger_merklenode WHERE level = 1 AND "index" = 3'),
        "seq 8: TREE_NODES_MISSING",
    ),
}


@pytest.mark.parametrize("tamper", TAMPERING.values(), ids=TAMPERING.keys())
def test_the_workers_report_the_first_problem_the_sequential_check_reports(ledger, tamper):
    edit, expected = tamper
    edit()

    first, second = sequential(), parallel()

    assert str(first.problem).startswith(expected)
    assert second.problem == first.problem


def test_a_duplicated_merkle_node_is_found_by_both_checks(ledger):
    """Only possible with the unique constraint dropped first, as a superuser could."""
    execute("ALTER TABLE ledger_merklenode DROP CONSTRAINT merkle_node_unique_position")
    try:
        execute(
            'INSERT INTO ledger_merklenode (level, "index", hash) '
            'SELECT level, "index", hash FROM ledger_merklenode WHERE level = 0 AND "index" = 9'
        )

        first, second = sequential(), parallel()

        assert str(first.problem).startswith("seq 10: TREE_NODES_ALTERED")
        assert second.problem == first.problem
    finally:
        execute(
            "DELETE FROM ledger_merklenode WHERE id NOT IN "
            '(SELECT min(id) FROM ledger_merklenode GROUP BY level, "index")'
        )
        execute(
            "ALTER TABLE ledger_merklenode ADD CONSTRAINT merkle_node_unique_position "
            'UNIQUE (level, "index")'
        )


def test_the_export_streams_the_entries_outside_any_transaction(ledger, tmp_path):
    path = tmp_path / "ledger.jsonl"

    call_command("ledger", "export", "-o", str(path))

    lines = path.read_text().splitlines()
    assert len(lines) == 23
    assert json.loads(lines[20])["seq"] == 20
    assert json.loads(lines[12])["payload"] == stored_row(12)["payload"]


def test_a_worker_refuses_to_queue_behind_a_lock_waiting_on_the_coordinator(ledger):
    """A migration waiting for the coordinator's lock must not hold the workers up forever."""
    import gc
    import threading

    import psycopg

    from ledger.verification import parallel as workers

    params = workers.connection_params()
    coordinator = psycopg.connect(**params, autocommit=True)
    migration = psycopg.connect(**params, autocommit=True)
    coordinator.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
    coordinator.execute("SELECT count(*) FROM ledger_ledgerentry")  # takes ACCESS SHARE
    (snapshot,) = coordinator.execute("SELECT pg_export_snapshot()::varchar").fetchone()
    queued = threading.Thread(
        target=lambda: migration.execute(
            "BEGIN; SET LOCAL lock_timeout = '20s'; "
            "LOCK TABLE ledger_ledgerentry IN ACCESS EXCLUSIVE MODE; ROLLBACK"
        ),
        daemon=True,
    )
    queued.start()
    try:
        while not coordinator.execute(
            "SELECT count(*) FROM pg_locks WHERE NOT granted AND mode = 'AccessExclusiveLock'"
        ).fetchone()[0]:
            pass

        with pytest.raises(psycopg.errors.LockNotAvailable):
            workers.join_snapshot(params, snapshot)
    finally:
        gc.enable()  # join_snapshot prepares a worker process: undo that for this one
        gc.unfreeze()
        coordinator.execute("ROLLBACK")
        queued.join(timeout=30)
        coordinator.close()
        migration.close()
