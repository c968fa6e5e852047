"""Re-verify the stored ledger: the chain, the Merkle tree, the head and every checkpoint.

Reads only. Rows are streamed in storage order (by primary key), so rows moved around by a
direct database edit show up as reordered even when their `seq` values were swapped too. The
stored Merkle nodes are streamed the same way beside them and must be exactly the nodes the
entries complete, in the order appending wrote them: any node altered, removed or added would
otherwise go unseen until a proof served from it failed to verify.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import NamedTuple

from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.db.models.sql.constants import MULTI

from ledger import chain, merkle
from ledger.checkpoint import InvalidCheckpoint, verify_checkpoint
from ledger.models import Checkpoint, LedgerEntry, LedgerHead, MerkleNode
from ledger.services import ledger_public_key, prefetched_lookup

CHUNK = 5000


@dataclass(frozen=True)
class Problem:
    seq: int | None
    reason: str
    message: str

    def __str__(self) -> str:
        where = f"seq {self.seq}" if self.seq is not None else "ledger"
        return f"{where}: {self.reason}: {self.message}"


@dataclass(frozen=True)
class VerificationReport:
    entries_checked: int
    checkpoints_checked: int
    last_seq: int
    problem: Problem | None

    @property
    def ok(self) -> bool:
        return self.problem is None


class MerkleAccumulator:
    """The tree's peaks as leaves stream by: O(log n) memory, the root at any size."""

    def __init__(self, size: int = 0, peaks: list[bytes] | None = None) -> None:
        self.size = size
        ids = merkle.peak_node_ids(size)
        self.stack: list[tuple[int, bytes]] = [
            (level, node) for (level, _), node in zip(ids, peaks or [], strict=True)
        ]

    def add(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Add a leaf; return the nodes it completes, as `merkle.new_perfect_nodes` does."""
        index = self.size
        level, node = 0, merkle.leaf_hash(leaf)
        completed = [(0, index, node)]
        stack = self.stack
        while stack and stack[-1][0] == level:
            node = merkle.node_hash(stack.pop()[1], node)
            level += 1
            index >>= 1
            completed.append((level, index, node))
        stack.append((level, node))
        self.size += 1
        return completed

    def root(self) -> bytes:
        if not self.stack:
            return merkle.EMPTY_ROOT
        root = self.stack[-1][1]
        for _, peak in reversed(self.stack[:-1]):
            root = merkle.node_hash(peak, root)
        return root


ROW_FIELDS = (
    "seq",
    "kind",
    "subject",
    "recorded_at",
    "payload",
    "payload_hash",
    "prev_hash",
    "entry_hash",
)


class StoredRow(NamedTuple):
    """`chain.ChainRow`'s fields as a tuple: building frozen dataclasses costs more than hashing."""

    seq: int
    kind: str
    subject: str
    recorded_at: str
    payload: str
    payload_hash: str
    prev_hash: str
    entry_hash: str


def fetch_chunks(queryset: QuerySet) -> Iterator[list[tuple]]:
    """A values_list queryset's rows, CHUNK at a time, without the ORM's per-row work."""
    compiler = queryset.query.get_compiler(using=queryset.db)
    yield from compiler.execute_sql(MULTI, chunked_fetch=True, chunk_size=CHUNK)


def entry_rows(*, after_seq: int = 0) -> Iterator[StoredRow]:
    queryset = LedgerEntry.objects.filter(seq__gt=after_seq).order_by("pk").values_list(*ROW_FIELDS)
    make = StoredRow._make
    for chunk in fetch_chunks(queryset):
        yield from map(make, chunk)


def stream_rows(*, after_seq: int = 0) -> Iterator[chain.ChainRow]:
    for row in entry_rows(after_seq=after_seq):
        yield chain.ChainRow(*row)


def node_chunks(*, after_size: int = 0) -> Iterator[list[tuple]]:
    """Stored Merkle nodes in storage order, leaving out those complete at `after_size` leaves."""
    nodes = MerkleNode.objects.order_by("pk")
    if after_size:
        # Node (level, index) is completed by leaf (index + 1) * 2**level - 1, so it is newer
        # than the first `after_size` leaves exactly when index >= after_size >> level.
        newer = Q(level__gte=after_size.bit_length())
        for level in range(after_size.bit_length()):
            newer |= Q(level=level, index__gte=after_size >> level)
        nodes = nodes.filter(newer)
    return fetch_chunks(nodes.values_list("level", "index", "hash"))


class StoredNodes:
    """The stored nodes, compared a chunk at a time with the nodes the entries complete."""

    def __init__(self, *, after_size: int) -> None:
        self.chunks = node_chunks(after_size=after_size)
        self.unread: list[tuple] = []
        self.expected: list[tuple[int, int, bytes]] = []
        self.problem: Problem | None = None

    def expect(self, nodes: list[tuple[int, int, bytes]]) -> None:
        self.expected += nodes
        if len(self.expected) >= CHUNK:
            self.compare()

    def compare(self) -> None:
        expected, self.expected = self.expected, []
        if self.problem is not None:
            return
        while len(self.unread) < len(expected):
            chunk = next(self.chunks, None)
            if chunk is None:
                break
            self.unread += chunk
        stored, self.unread = self.unread[: len(expected)], self.unread[len(expected) :]
        # One list comparison per chunk, in C, rather than one per node in Python.
        if stored != expected:
            at = next(i for i, node in enumerate(expected) if i >= len(stored) or stored[i] != node)
            self.problem = node_problem(expected[at], stored[at] if at < len(stored) else None)

    def finish(self) -> Problem | None:
        """The first difference, or a node stored beyond those the entries complete."""
        self.compare()
        if self.problem is None:
            extra = self.unread[:1] or next(self.chunks, [])[:1]
            if extra:
                self.problem = node_problem(None, extra[0])
        return self.problem


@contextmanager
def one_snapshot() -> Iterator[None]:
    """Read the whole ledger as of one moment, so entries committed meanwhile are not half-seen.

    Without it, the head read last would count appends the entry stream started too early to
    see, and report a healthy, busy ledger as broken. Inside a caller's transaction, the
    caller's isolation decides.
    """
    if connection.in_atomic_block or connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def node_problem(
    expected: tuple[int, int, bytes] | None, stored: tuple[int, int, bytes] | None
) -> Problem:
    """Why the stored node differs from the one the entries complete, at the entry completing it."""
    if expected is None:
        level, index, _ = stored
        return Problem(
            (index + 1) << level,
            "TREE_NODES_ALTERED",
            f"the node at level {level}, index {index} is stored but no entry completes it: "
            "entries were removed, or nodes added",
        )
    level, index, _ = expected
    where = f"the Merkle node at level {level}, index {index}"
    if stored is None:
        return Problem((index + 1) << level, "TREE_NODES_MISSING", f"{where} is not stored")
    if stored[:2] != expected[:2]:
        message = (
            f"{where} should come next but the node at level {stored[0]}, index {stored[1]} "
            "does: nodes were removed, added or moved"
        )
    else:
        message = f"{where} does not match the entries; proofs served would not verify"
    return Problem((index + 1) << level, "TREE_NODES_ALTERED", message)


def ledger_verify(*, from_checkpoint: Checkpoint | None = None) -> VerificationReport:
    with one_snapshot():
        return verify_stored(from_checkpoint)


def verify_stored(from_checkpoint: Checkpoint | None) -> VerificationReport:
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

    start_size, prev_hash, accumulator = 0, chain.GENESIS_HASH, MerkleAccumulator()
    if from_checkpoint is not None:
        start_size = from_checkpoint.tree_size
        problem, prev_hash, accumulator = resume_at(from_checkpoint)
        if problem:
            return VerificationReport(0, 0, start_size, problem)

    pending = [c for c in checkpoints if c.tree_size > start_size]
    checked = len(checkpoints) - len(pending)
    mismatch: Checkpoint | None = None
    stored_nodes = StoredNodes(after_size=start_size)
    last_hash = prev_hash

    def leaves() -> Iterator[StoredRow]:
        nonlocal checked, mismatch, last_hash
        add, expect = accumulator.add, stored_nodes.expect
        for row in entry_rows(after_seq=start_size):
            yield row
            last_hash = row.entry_hash
            expect(add(bytes.fromhex(last_hash)))
            while pending and pending[0].tree_size == accumulator.size:
                checkpoint = pending.pop(0)
                checked += 1
                if mismatch is None and accumulator.root().hex() != checkpoint.root_hash:
                    mismatch = checkpoint

    chain_problem = chain.verify_chain(
        leaves(), start_prev_hash=prev_hash, start_seq=start_size + 1
    )

    def report(problem: Problem | None) -> VerificationReport:
        return VerificationReport(accumulator.size - start_size, checked, accumulator.size, problem)

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
                pending[0].tree_size,
                "ENTRIES_MISSING",
                f"checkpoint at size {pending[0].tree_size} but only {accumulator.size} entries",
            )
        )
    return report(check_head(accumulator, last_hash) or stored_nodes.finish())


def failed(seq, reason, message, checkpoints) -> VerificationReport:
    return VerificationReport(0, len(checkpoints), 0, Problem(seq, reason, message))


def resume_at(
    checkpoint: Checkpoint,
) -> tuple[Problem | None, str, MerkleAccumulator]:
    """Start verification after a signed checkpoint, trusting only what its signature covers.

    The stored peaks at its size must hash to the signed root, and the entry at its size must
    be the last leaf under it; the chain then continues from that entry's hash.
    """
    size = checkpoint.tree_size
    accumulator = MerkleAccumulator()
    if size == 0:
        return None, chain.GENESIS_HASH, accumulator
    ids = merkle.peak_node_ids(size)
    try:
        lookup = prefetched_lookup([*ids, (0, size - 1)])
    except LookupError as exc:
        return Problem(size, "TREE_NODES_MISSING", str(exc)), "", accumulator
    peaks = [lookup(level, index) for level, index in ids]
    accumulator = MerkleAccumulator(size, peaks)
    if accumulator.root().hex() != checkpoint.root_hash:
        return (
            Problem(size, "TREE_NODES_ALTERED", "stored tree nodes disagree with the checkpoint"),
            "",
            accumulator,
        )
    last = LedgerEntry.objects.filter(seq=size).values_list("entry_hash", flat=True).first()
    if last is None or merkle.leaf_hash(bytes.fromhex(last)) != lookup(0, size - 1):
        return (
            Problem(size, "ENTRY_HASH_MISMATCH", "the checkpoint's last entry was changed"),
            "",
            accumulator,
        )
    return None, last, accumulator


def check_head(accumulator: MerkleAccumulator, last_hash: str) -> Problem | None:
    head = LedgerHead.objects.filter(pk=1).first()
    head_seq = head.seq if head else 0
    if head_seq != accumulator.size:
        return Problem(
            min(head_seq, accumulator.size) + 1,
            "HEAD_MISMATCH",
            f"the head says {head_seq} entries, the table holds {accumulator.size}: "
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
