"""A small real ledger, and the direct database edits the ledger has to survive."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection

from ledger import chain
from ledger.models import Checkpoint, LedgerEntry
from ledger.services import AppendRequest, ledger_append, ledger_append_many
from ledger.verification import ledger_verify

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def pytest_runtest_setup(item):
    """`postgres` tests run in the PostgreSQL pass; on SQLite they are skipped."""
    if item.get_closest_marker("postgres") is None:
        return
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("needs PostgreSQL: run with DATABASE_URL=postgres://…")
    import psycopg

    from tests.conftest import skip_or_fail

    try:
        psycopg.connect(
            host=database["HOST"] or None,
            port=database["PORT"] or None,
            user=database["USER"] or None,
            password=database["PASSWORD"] or None,
            dbname="postgres",
            connect_timeout=3,
        ).close()
    except psycopg.OperationalError as exc:
        skip_or_fail(f"PostgreSQL is not reachable: {exc}")


def observation(seq: int) -> AppendRequest:
    """A retailer price, different for every seq so each entry has its own payload."""
    return AppendRequest(
        kind=LedgerEntry.Kind.OBSERVATION,
        listing_id=40 + seq % 3,
        retailer_id=7,
        payload={"price": Decimal(f"{9000 + seq}.00"), "currency": "USD", "in_stock": True},
        recorded_at=START + timedelta(minutes=seq),
    )


@dataclass(frozen=True)
class Ledger:
    size: int
    checkpoint_sizes: tuple[int, ...]


@pytest.fixture
def ledger(db) -> Ledger:
    """20 entries, appended one at a time and in batches, with checkpoints at 8 and 15."""
    for seq in range(1, 9):
        request = observation(seq)
        ledger_append(
            kind=request.kind,
            payload=request.payload,
            listing_id=request.listing_id,
            retailer_id=request.retailer_id,
        )
    call_command("ledger", "checkpoint")
    ledger_append_many(requests=[observation(seq) for seq in range(9, 16)])
    call_command("ledger", "checkpoint")
    ledger_append_many(requests=[observation(seq) for seq in range(16, 21)])
    assert list(Checkpoint.objects.order_by("tree_size").values_list("tree_size", flat=True)) == [
        8,
        15,
    ]
    assert ledger_verify().ok
    return Ledger(size=20, checkpoint_sizes=(8, 15))


@contextmanager
def append_only_bypassed() -> Iterator[None]:
    """What a PostgreSQL superuser can do: switch the append-only triggers off for a session.

    `replica` mode skips ordinary triggers; SQLite has no triggers to skip.
    """
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET session_replication_role")


def execute(sql: str, params: list | tuple = ()) -> None:
    """Run an edit straight against the database, behind the ledger's back."""
    with append_only_bypassed(), connection.cursor() as cursor:
        cursor.execute(sql, params)


COLUMNS = (
    "seq",
    "kind",
    "subject",
    "product_id",
    "listing_id",
    "retailer_id",
    "recorded_at",
    "payload",
    "payload_hash",
    "prev_hash",
    "entry_hash",
    "idempotency_key",
)


def stored_row(seq: int) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, {', '.join(COLUMNS)} FROM ledger_ledgerentry WHERE seq = %s",  # noqa: S608
            [seq],
        )
        values = cursor.fetchone()
    return dict(zip(("id", *COLUMNS), values, strict=True))


def write_row(row_id: int, values: dict) -> None:
    assignments = ", ".join(f"{name} = %s" for name in values)
    execute(
        f"UPDATE ledger_ledgerentry SET {assignments} WHERE id = %s",  # noqa: S608
        [*values.values(), row_id],
    )


def insert_row(values: dict) -> None:
    names = ", ".join(values)
    marks = ", ".join(["%s"] * len(values))
    execute(
        f"INSERT INTO ledger_ledgerentry ({names}) VALUES ({marks})",  # noqa: S608
        list(values.values()),
    )


def forged(row: dict, **changes) -> dict:
    """`row` with `changes` applied and its hashes recomputed: a self-consistent forgery."""
    row = {**row, **changes}
    rebuilt = chain.build_row(
        seq=row["seq"],
        kind=row["kind"],
        subject=row["subject"],
        recorded_at=row["recorded_at"],
        payload=row["payload"].encode(),
        prev_hash=row["prev_hash"],
    )
    return {**row, "payload_hash": rebuilt.payload_hash, "entry_hash": rebuilt.entry_hash}
