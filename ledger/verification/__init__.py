"""Re-verify the stored ledger: the chain, the Merkle tree, the head and every checkpoint.

Reads only, all of it in one database snapshot. Rows are streamed in storage order (by primary
key), so rows moved around by a direct database edit show up as reordered even when their
`seq` values were swapped too. Every stored Merkle node newer than the starting point must be
exactly a node the entries complete: any node altered, removed, duplicated or added would
otherwise go unseen until a proof served from it failed to verify.

The work is cut into slices of ``2**top_level`` leaves (`ledger/slices.py`). Sequentially, one
stream is cut as it is read. On PostgreSQL, a large ledger's slices are checked by worker
processes (`parallel.py`), each reading its slice in this transaction's exported snapshot;
the slice boundaries' links and every combined result are checked here. If a slice's chain is
broken or the slices do not line up (a boundary row missing or moved, a slice of the wrong
length), the ledger is checked again sequentially, in the same snapshot, so that what is
reported is always what the sequential check reports: the first problem in storage order.
(Stored-node findings need no second pass: both paths compare the same levels the same way.)
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import connection, transaction

from ledger import chain, merkle
from ledger.checkpoint import InvalidCheckpoint, verify_checkpoint
from ledger.models import Checkpoint, LedgerEntry, LedgerHead
from ledger.services import ledger_public_key, prefetched_lookup
from ledger.slices import (
    Problem,
    SliceResult,
    StoredRow,
    build_levels,
    extra_node_problem,
    first_problem,
    level_matches,
    level_problem,
    verify_slice,
)
from ledger.verification.stored import Store

__all__ = ["Problem", "VerificationReport", "entry_rows", "ledger_verify", "stream_rows"]

TOP_LEVEL = 14  # slices of 16,384 entries: a few MB of hashes in memory at a time
PARALLEL_MIN_ENTRIES = 50_000  # below this, starting workers costs more than it saves


@dataclass(frozen=True)
class VerificationReport:
    entries_checked: int
    checkpoints_checked: int
    last_seq: int
    problem: Problem | None

    @property
    def ok(self) -> bool:
        return self.problem is None


def raw_store() -> Store:
    connection.ensure_connection()
    return Store(connection.connection, connection.vendor)


def entry_rows(*, after_seq: int = 0) -> Iterator[StoredRow]:
    make = StoredRow._make
    # A PostgreSQL server-side cursor lives in a transaction (the export runs in autocommit).
    with transaction.atomic():
        for batch in raw_store().entry_batches(after_seq=after_seq):
            yield from map(make, batch)


def stream_rows(*, after_seq: int = 0) -> Iterator[chain.ChainRow]:
    for row in entry_rows(after_seq=after_seq):
        yield chain.ChainRow(*row)


@contextmanager
def one_snapshot() -> Iterator[bool]:
    """Read the whole ledger as of one moment, so entries committed meanwhile are not half-seen.

    Without it, the head read last would count appends the entry stream started too early to
    see, and report a healthy, busy ledger as broken. Inside a caller's transaction, the
    caller's isolation decides. Yields whether this is a snapshot other sessions can join.
    """
    if connection.in_atomic_block or connection.vendor != "postgresql":
        yield False
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            # Reading in primary-key order must walk the primary key, never sort the table:
            # on a freshly filled, not yet analysed table the planner picks a disk sort.
            cursor.execute("SET LOCAL enable_sort = off")
            cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        yield True


def ledger_verify(
    *,
    from_checkpoint: Checkpoint | None = None,
    workers: int | None = None,
    top_level: int | None = None,
) -> VerificationReport:
    """Verify everything stored (or from a signed checkpoint on).

    ``workers``: processes for the parallel check on PostgreSQL; by default one per CPU for a
    ledger of at least PARALLEL_MIN_ENTRIES, 1 (sequential) otherwise. ``top_level``: slices of
    ``2**top_level`` entries (tests use small ones to get many slices from a few entries).
    """
    with one_snapshot() as shared, gc_paused():
        return verify_stored(
            from_checkpoint, workers=workers, top_level=top_level, shareable=shared
        )


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while verifying.

    Verification allocates hundreds of thousands of tuples, strings and bytes, none of them in
    a cycle; each allocation burst would otherwise start collections that walk every object in
    the process (measured: about a quarter of verification's CPU time).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def verify_stored(
    from_checkpoint: Checkpoint | None,
    *,
    workers: int | None = None,
    top_level: int | None = None,
    shareable: bool = False,
) -> VerificationReport:
    public_key = ledger_public_key()
    checkpoints = list(Checkpoint.objects.order_by("tree_size"))
    for checkpoint in checkpoints:
        try:
            parsed = verify_checkpoint(
                body=checkpoint.body, signature=checkpoint.signature, public_key=public_key
            )
        except InvalidCheckpoint as exc:
            return failed(checkpoint.tree_size, "CHECKPOINT_SIGNATURE", str(exc), checkpoints)
        if parsed.tree_size != checkpoint.tree_size or parsed.root_hash.hex() != (
            checkpoint.root_hash
        ):
            return failed(
                checkpoint.tree_size,
                "CHECKPOINT_ALTERED",
                "the stored size or root differs from what the signature covers",
                checkpoints,
            )

    start = Start(0, chain.GENESIS_HASH, {})
    if from_checkpoint is not None:
        problem, start = resume_at(from_checkpoint)
        if problem:
            return VerificationReport(0, 0, from_checkpoint.tree_size, problem)

    head = LedgerHead.objects.filter(pk=1).first()
    store = raw_store()
    top = TOP_LEVEL if top_level is None else top_level
    sizes = [c.tree_size for c in checkpoints if c.tree_size > start.size]
    results = None
    # The workers' slices run to the last stored entry, never to a head that claims more: a
    # rewritten head is reported by the check of the head, not by cutting a billion slices.
    end = min(head.seq if head else 0, store.last_seq())
    entries = end - start.size
    if shareable and entries > 0:
        count = workers or default_workers(entries)
        if count > 1:
            from ledger.verification.parallel import verify_parallel

            if top_level is None:
                # About four slices per worker, so that the last ones finish close together.
                top = max(10, min(TOP_LEVEL + 2, (entries // (4 * count)).bit_length() - 1))
            results = verify_parallel(
                store, start=start, end=end, top_level=top, sizes=sizes, workers=count
            )
            if results is None:
                top = TOP_LEVEL if top_level is None else top_level
    if results is None:
        results = verify_sequential(store, start=start, top_level=top, sizes=sizes)
    return conclude(store, start, checkpoints, results, top, head)


def default_workers(entries: int) -> int:
    if entries < PARALLEL_MIN_ENTRIES:
        return 1
    return max(1, min(os.cpu_count() or 1, 8))


@dataclass(frozen=True)
class Start:
    """Where verification starts: tree size, the hash entry `size` has, the peaks at `size`."""

    size: int
    entry_hash: str
    peaks: dict[tuple[int, int], bytes]

    @property
    def fringe(self) -> dict[int, bytes]:
        return {level: node for (level, _), node in self.peaks.items()}


class Reader:
    """A batched row stream read `take(n)` rows at a time, with one row of lookahead."""

    def __init__(self, batches: Iterator[list[tuple]]) -> None:
        self.batches = batches
        self.buffer: list[tuple] = []
        self.position = 0

    def fill(self, wanted: int) -> None:
        while len(self.buffer) - self.position < wanted:
            batch = next(self.batches, None)
            if batch is None:
                return
            self.buffer = self.buffer[self.position :] + batch
            self.position = 0

    def take(self, count: int) -> list[tuple]:
        self.fill(count)
        rows = self.buffer[self.position : self.position + count]
        self.position += len(rows)
        return rows

    def peek(self) -> tuple | None:
        self.fill(1)
        return self.buffer[self.position] if self.position < len(self.buffer) else None


def slice_width(first_leaf: int, top_level: int) -> int:
    """Leaves up to the next multiple of 2**top_level: every slice but the first is aligned."""
    width = 1 << top_level
    return width - (first_leaf & (width - 1))


def verify_sequential(
    store: Store, *, start: Start, top_level: int, sizes: list[int]
) -> list[SliceResult]:
    """One stream, cut into slices as it is read; stops after the first broken slice."""
    reader = Reader(store.entry_batches(after_seq=start.size))
    fringe = start.fringe
    results: list[SliceResult] = []
    first_leaf, prev_hash, before = start.size, start.entry_hash, None
    while rows := reader.take(slice_width(first_leaf, top_level)):
        end = first_leaf + len(rows)
        result = verify_slice(
            rows,
            first_leaf=first_leaf,
            start_seq=first_leaf + 1,
            start_prev_hash=prev_hash,
            top_level=top_level,
            fringe=fringe,
            checkpoint_sizes=[size for size in sizes if first_leaf < size <= end],
            before=before,
            after=reader.peek(),
        )
        if result.chain_problem is None:
            result.node_problem = stored_nodes_problem(store, result.levels, first_leaf, 0)
        results.append(result.slim())
        if result.chain_problem is not None:
            break
        first_leaf, prev_hash, before = end, rows[-1][7], rows[-1]
    return results


def stored_nodes_problem(
    store: Store, levels: list[list[bytes]], origin: int, base_level: int
) -> Problem | None:
    """Compare `levels` (from `build_levels`) with the stored nodes at the same positions."""
    problems = []
    for offset, nodes in enumerate(levels):
        level = base_level + offset
        low = origin >> level
        if not nodes:
            continue  # a node stored where none is due is found by `nodes_newer`
        stored = store.level_nodes(level, low, low + len(nodes))
        if not level_matches(nodes, low, stored):
            problems.append(
                level_problem(level, low, nodes, stored)
                or Problem(
                    (low + 1) << level,
                    "TREE_NODES_ALTERED",
                    f"the Merkle nodes at level {level} from index {low} do not match the entries",
                )
            )
    return first_problem(problems)


def conclude(
    store: Store,
    start: Start,
    checkpoints: list[Checkpoint],
    results: list[SliceResult],
    top_level: int,
    head: LedgerHead | None,
) -> VerificationReport:
    """Combine the slices: the tree above them, the checkpoints, the head, the stored nodes."""
    size = results[-1].end if results else start.size
    chain_problem = next((r.chain_problem for r in results if r.chain_problem), None)

    # The nodes above the slices, from their top nodes, and everything checkpoint roots use.
    fringe = start.fringe
    tops = [node for result in results for node in result.top()]
    above = build_levels(tops, start.size, top_level, max(top_level, size.bit_length()), fringe)
    nodes = dict(start.peaks)
    for offset, level_nodes in enumerate(above):
        level = top_level + offset
        low = start.size >> level
        nodes.update(((level, low + i), node) for i, node in enumerate(level_nodes))
    for result in results:
        nodes.update(result.pieces)

    pending = [c for c in checkpoints if c.tree_size > start.size]
    checked = len(checkpoints) - len(pending)
    mismatch: Checkpoint | None = None
    while pending and pending[0].tree_size <= size:
        checkpoint = pending.pop(0)
        checked += 1
        root = merkle.tree_root(checkpoint.tree_size, lambda level, index: nodes[level, index])
        if mismatch is None and root.hex() != checkpoint.root_hash:
            mismatch = checkpoint

    def report(problem: Problem | None) -> VerificationReport:
        return VerificationReport(size - start.size, checked, size, problem)

    # The chain names the exact entry; a checkpoint mismatch only bounds it, so the chain's
    # finding wins unless the checkpoint shows damage earlier than anything the chain saw.
    if chain_problem is not None and (mismatch is None or chain_problem.seq <= mismatch.tree_size):
        return report(Problem(chain_problem.seq, str(chain_problem.reason), chain_problem.message))
    if mismatch is not None:
        return report(
            Problem(
                mismatch.tree_size,
                "CHECKPOINT_ROOT_MISMATCH",
                f"the entries up to {mismatch.tree_size} no longer hash to the signed root: "
                "an entry up to that point was rewritten, removed or inserted",
            )
        )
    if pending:
        return report(
            Problem(
                size + 1,
                "ENTRIES_MISSING",
                f"checkpoint at size {pending[0].tree_size} but only {size} entries: "
                f"entries {size + 1} to {pending[0].tree_size} are missing",
            )
        )
    last_hash = results[-1].last_entry_hash if results else start.entry_hash
    head_problem = check_head(head, size, last_hash)
    if head_problem:
        return report(head_problem)
    extra = [extra_node_problem(level, index) for level, index in store.nodes_newer(size)]
    return report(
        first_problem(
            [
                *(result.node_problem for result in results),
                stored_nodes_problem(store, above[1:], start.size, top_level + 1),
                *sorted(extra, key=lambda p: p.seq),
            ]
        )
    )


def failed(seq, reason, message, checkpoints) -> VerificationReport:
    return VerificationReport(0, len(checkpoints), 0, Problem(seq, reason, message))


def resume_at(checkpoint: Checkpoint) -> tuple[Problem | None, Start]:
    """Start verification after a signed checkpoint, trusting only what its signature covers.

    The stored peaks at its size must hash to the signed root, and the entry at its size must
    be the last leaf under it; the chain then continues from that entry's hash.
    """
    size = checkpoint.tree_size
    if size == 0:
        return None, Start(0, chain.GENESIS_HASH, {})
    ids = merkle.peak_node_ids(size)
    try:
        lookup = prefetched_lookup([*ids, (0, size - 1)])
    except LookupError as exc:
        return Problem(size, "TREE_NODES_MISSING", str(exc)), Start(size, "", {})
    peaks = {(level, index): lookup(level, index) for level, index in ids}
    if merkle.tree_root(size, lookup).hex() != checkpoint.root_hash:
        return (
            Problem(size, "TREE_NODES_ALTERED", "stored tree nodes disagree with the checkpoint"),
            Start(size, "", peaks),
        )
    last = LedgerEntry.objects.filter(seq=size).values_list("entry_hash", flat=True).first()
    if last is None or merkle.leaf_hash(bytes.fromhex(last)) != lookup(0, size - 1):
        return (
            Problem(size, "ENTRY_HASH_MISMATCH", "the checkpoint's last entry was changed"),
            Start(size, "", peaks),
        )
    return None, Start(size, last, peaks)


def check_head(head: LedgerHead | None, size: int, last_hash: str) -> Problem | None:
    head_seq = head.seq if head else 0
    if head_seq != size:
        return Problem(
            min(head_seq, size) + 1,
            "HEAD_MISMATCH",
            f"the head says {head_seq} entries, the table holds {size}: "
            "entries were added or removed outside the append service",
        )
    if head is not None and head.entry_hash != last_hash:
        # The next append would chain to this hash and fork the ledger.
        return Problem(
            head_seq,
            "HEAD_MISMATCH",
            f"the head's entry hash is not entry {head_seq}'s: the head was rewritten",
        )
    return None
