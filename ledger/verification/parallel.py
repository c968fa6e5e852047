"""Checking the slices in worker processes, every one in the coordinator's snapshot.

As ``pg_dump -j`` does: the coordinator's REPEATABLE READ transaction exports its snapshot
(``pg_export_snapshot()``), and each worker opens its own connection and starts its
transaction with ``SET TRANSACTION SNAPSHOT``, so all of them read the same committed state
while appends go on. Workers are forked (the parent's Django connection is inherited but never
used in a worker: psycopg does not close a connection in a process other than its opener's).

Slice k holds the entries from leaf ``s_k`` to ``s_{k+1}``; its first row is looked up by
``seq``, which in an intact ledger is the row at that position in storage order. Anything
short of a perfectly regular answer (a boundary row missing, ids out of order, a slice with
the wrong number of rows, a chain problem, a boundary link that does not hold) returns None,
and the caller checks the ledger sequentially in the same snapshot to name the first problem.
"""

from __future__ import annotations

import gc
import itertools
import logging
import multiprocessing
import re
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from django.db import connection

from ledger.slices import SliceResult, verify_slice
from ledger.verification.stored import Store

logger = logging.getLogger(__name__)
_store: Store | None = None


@dataclass(frozen=True)
class SliceTask:
    after_seq: int
    first_leaf: int
    width: int | None  # None: the last slice, to the end of the table
    low_id: int | None
    high_id: int | None
    start_prev_hash: str | None  # known for the first slice only; the others are linked later
    top_level: int
    fringe: dict[int, bytes]
    checkpoint_sizes: list[int]


def connection_params() -> dict:
    params = connection.get_connection_params()
    for name in ("cursor_factory", "context", "prepare_threshold"):
        params.pop(name, None)
    return params


def join_snapshot(params: dict, snapshot: str) -> None:
    """Worker start-up: a connection whose transaction sees exactly the coordinator's snapshot."""
    import psycopg

    global _store
    # This process only verifies: what it inherited is never garbage (freeze), and what it
    # allocates holds no cycles (disable), so collections would only copy inherited pages.
    gc.freeze()
    gc.disable()
    raw = psycopg.connect(**params, autocommit=True)
    raw.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
    # A utility statement takes no parameters; the id is PostgreSQL's own, checked anyway.
    if not re.fullmatch(r"[0-9A-Fa-f-]+", snapshot):
        raise ValueError(f"unexpected snapshot id {snapshot!r}")
    raw.execute(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
    # A migration or VACUUM FULL queued behind the coordinator's lock would make a worker's
    # first read wait behind it, and the coordinator waits for the workers: a wait PostgreSQL
    # cannot see as a deadlock (pg_dump -j's problem). Refuse to wait: the coordinator, which
    # already holds its lock, then checks sequentially.
    raw.execute("LOCK TABLE ledger_ledgerentry, ledger_merklenode IN ACCESS SHARE MODE NOWAIT")
    raw.execute("SET LOCAL enable_sort = off")
    raw.execute("SET LOCAL max_parallel_workers_per_gather = 0")
    _store = Store(raw, "postgresql")


def check_slice(task: SliceTask) -> SliceResult | None:
    from ledger.verification import stored_nodes_problem

    rows = _store.entries_between(
        after_seq=task.after_seq, low_id=task.low_id, high_id=task.high_id
    )
    if not rows or (task.width is not None and len(rows) != task.width):
        return None
    result = verify_slice(
        rows,
        first_leaf=task.first_leaf,
        start_seq=task.first_leaf + 1,
        start_prev_hash=task.start_prev_hash or rows[0][6],
        top_level=task.top_level,
        fringe=task.fringe,
        checkpoint_sizes=[
            size
            for size in task.checkpoint_sizes
            if task.first_leaf < size <= task.first_leaf + len(rows)
        ],
    )
    if result.chain_problem is not None:
        return None
    result.node_problem = stored_nodes_problem(_store, result.levels, task.first_leaf, 0)
    return result.slim()


def verify_parallel(
    store: Store, *, start, end: int, top_level: int, sizes: list[int], workers: int
) -> list[SliceResult] | None:
    """The slices of leaves start.size..end checked by `workers` processes, or None (see above)."""
    from ledger.verification import slice_width

    starts = [start.size]
    while (next_start := starts[-1] + slice_width(starts[-1], top_level)) < end:
        starts.append(next_start)
    if len(starts) < 2:
        return None
    ids = store.ids_of([leaf + 1 for leaf in starts[1:]])
    bounds = [None, *(ids.get(leaf + 1) for leaf in starts[1:]), None]
    inner = bounds[1:-1]
    if any(i is None or i < 0 for i in inner) or inner != sorted(set(inner)):
        return None
    fringe = start.fringe
    tasks = [
        SliceTask(
            after_seq=start.size,
            first_leaf=leaf,
            width=starts[k + 1] - leaf if k + 1 < len(starts) else None,
            low_id=bounds[k],
            high_id=bounds[k + 1],
            start_prev_hash=start.entry_hash if k == 0 else None,
            top_level=top_level,
            fringe=fringe if k == 0 else {},
            checkpoint_sizes=sizes,
        )
        for k, leaf in enumerate(starts)
    ]
    (snapshot,) = store.query("SELECT pg_export_snapshot()::varchar")[0]
    try:
        with ProcessPoolExecutor(
            max_workers=min(workers, len(tasks)),
            mp_context=multiprocessing.get_context("fork"),
            initializer=join_snapshot,
            initargs=(connection_params(), snapshot),
        ) as pool:
            results = list(pool.map(check_slice, tasks))
    except Exception:  # a worker that cannot start or run leaves the sequential check
        logger.warning("ledger verification workers failed; checking sequentially", exc_info=True)
        return None
    if any(result is None for result in results):
        return None
    for previous, result in itertools.pairwise(results):
        if result.first_prev_hash != previous.last_entry_hash:
            return None
    if results[-1].end != end:
        return None
    return results
