"""Eight workers appending at once still make one gapless chain (PostgreSQL's row lock)."""

import threading
from collections import Counter
from decimal import Decimal

import pytest
from django.db import connections

from ledger.models import LedgerEntry, LedgerHead
from ledger.services import AppendRequest, ledger_append, ledger_append_many
from ledger.verification import ledger_verify

WORKERS = 8
OWN_ENTRIES = 20
SHARED_KEYS = [f"shared:{n}" for n in range(5)]

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def worker(number: int, start: threading.Barrier, results: dict, errors: list) -> None:
    """Appends one at a time, a small batch, and every shared key, on its own connection."""
    try:
        start.wait(timeout=30)
        mine: dict[str, int] = {}
        for n in range(OWN_ENTRIES - 4):
            key = f"worker:{number}:{n}"
            entry = ledger_append(
                kind="observation",
                payload={"worker": number, "n": n, "price": Decimal(f"{1000 + n}.00")},
                listing_id=number,
                idempotency_key=key,
            )
            mine[key] = entry.seq
            if n % 4 == 0:
                shared = SHARED_KEYS[(number + n) % len(SHARED_KEYS)]
                mine[shared] = ledger_append(
                    kind="observation", payload={"shared": shared}, idempotency_key=shared
                ).seq
        batch = [
            AppendRequest(
                kind="observation",
                payload={"worker": number, "batch": n},
                idempotency_key=f"worker:{number}:batch:{n}",
            )
            for n in range(4)
        ]
        batch.append(AppendRequest(kind="observation", payload={}, idempotency_key=SHARED_KEYS[0]))
        for request, entry in zip(batch, ledger_append_many(requests=batch), strict=True):
            mine[request.idempotency_key] = entry.seq
        results[number] = mine
    except BaseException as exc:  # reported by the test, not lost in the thread
        errors.append(exc)
    finally:
        connections.close_all()


def test_concurrent_appenders_make_one_gapless_chain_with_each_key_recorded_once():
    start = threading.Barrier(WORKERS)
    results: dict[int, dict[str, int]] = {}
    errors: list[BaseException] = []
    threads = [
        threading.Thread(target=worker, args=(n, start, results, errors)) for n in range(WORKERS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not errors, errors
    assert not any(thread.is_alive() for thread in threads)
    expected = WORKERS * OWN_ENTRIES + len(SHARED_KEYS)
    seqs = list(LedgerEntry.objects.order_by("pk").values_list("seq", flat=True))
    assert seqs == list(range(1, expected + 1))
    assert LedgerHead.objects.get().seq == expected
    keys = Counter(LedgerEntry.objects.values_list("idempotency_key", flat=True))
    assert len(keys) == expected
    assert max(keys.values()) == 1
    for key in SHARED_KEYS:
        # Every worker that used a shared key got the one entry recorded for it.
        seen = {mine[key] for mine in results.values() if key in mine}
        assert seen == {LedgerEntry.objects.get(idempotency_key=key).seq}
    report = ledger_verify()
    assert report.ok, report.problem
    assert report.entries_checked == expected


def test_verification_while_appends_are_committing_sees_one_consistent_ledger():
    ledger_append_many(
        requests=[AppendRequest(kind="observation", payload={"n": n}) for n in range(200)]
    )
    stop = threading.Event()
    errors: list[BaseException] = []

    def keep_appending(number: int) -> None:
        try:
            n = 0
            while not stop.is_set():
                ledger_append_many(
                    requests=[
                        AppendRequest(kind="observation", payload={"w": number, "n": n + i})
                        for i in range(3)
                    ]
                )
                n += 3
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=keep_appending, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    try:
        reports = [ledger_verify() for _ in range(15)]
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)

    assert not errors, errors
    assert [str(r.problem) for r in reports if not r.ok] == []
    assert reports[-1].last_seq > reports[0].last_seq  # appends really ran in between
