"""Verifying the ledger one aligned slice at a time: plain functions over plain data, no Django.

The entries (in storage order) are cut into slices whose leaves start on a multiple of
``2**top_level`` (the first slice after a checkpoint may start anywhere), so every slice owns
the complete Merkle subtrees of height ``top_level`` over its leaves, and the nodes above them
are built afterwards from each slice's top node. A slice is checked whole, in bulk: its chain
with a handful of list comprehensions and one list comparison per check, its tree level by
level. Only when a bulk comparison fails is the slice re-walked row by row
(``chain.verify_chain``, with the rows on either side of it) to name the first bad entry
exactly as a check of the whole stream would.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from operator import itemgetter
from typing import NamedTuple

from ledger import merkle
from ledger.chain import ENTRY_VERSION, ChainProblem, verify_chain

HASH_SIZE = merkle.HASH_SIZE


@dataclass(frozen=True)
class Problem:
    seq: int | None
    reason: str
    message: str

    def __str__(self) -> str:
        where = f"seq {self.seq}" if self.seq is not None else "ledger"
        return f"{where}: {self.reason}: {self.message}"


class StoredRow(NamedTuple):
    """`chain.ChainRow`'s fields as a tuple: building frozen dataclasses costs more than hashing.

    ``payload`` holds the stored text's UTF-8 bytes, exactly what ``payload_hash`` covers.
    """

    seq: int
    kind: str
    subject: str
    recorded_at: str
    payload: bytes
    payload_hash: str
    prev_hash: str
    entry_hash: str


@dataclass
class SliceResult:
    first_leaf: int
    count: int
    first_prev_hash: str | None
    last_entry_hash: str | None
    chain_problem: ChainProblem | None
    # levels[l]: the nodes at level l completed by this slice's leaves, l = 0..top_level.
    # Dropped to the top level once the stored nodes have been compared with them.
    levels: list[list[bytes]]
    # Complete subtrees inside this slice that the roots of checkpoints in it are made of.
    pieces: dict[tuple[int, int], bytes] = field(default_factory=dict)
    node_problem: Problem | None = None

    @property
    def end(self) -> int:
        return self.first_leaf + self.count

    def top(self) -> list[bytes]:
        return self.levels[-1]

    def slim(self) -> SliceResult:
        """What the combining step needs: the top level only."""
        self.levels = [self.levels[-1]]
        return self


def verify_slice(
    rows: list[tuple],
    *,
    first_leaf: int,
    start_seq: int,
    start_prev_hash: str,
    top_level: int,
    fringe: dict[int, bytes],
    checkpoint_sizes: list[int],
    before: tuple | None = None,
    after: tuple | None = None,
) -> SliceResult:
    """Check the chain of ``rows`` and build their Merkle levels up to ``top_level``.

    ``rows`` are ``StoredRow``-shaped tuples in storage order; the first is leaf
    ``first_leaf`` and must carry ``start_seq`` and link to ``start_prev_hash``. ``fringe``
    maps a level to the stored peak just left of the slice at that level, needed only when
    the slice does not start on a multiple of ``2**top_level``.
    """
    sha256 = hashlib.sha256
    count = len(rows)
    if not rows:
        return SliceResult(first_leaf, 0, None, None, None, [[] for _ in range(top_level + 1)])
    seqs, kinds, subjects, recorded, payloads, payload_hashes, prev_hashes, entry_hashes = zip(
        *rows, strict=True
    )
    version = ENTRY_VERSION
    try:
        # Comprehensions calling the methods directly: CPython 3.11 runs these faster than map()
        # over operator.methodcaller or str.format (measured on this slice shape).
        digests = [
            sha256(
                f"{version}\n{seq}\n{kind}\n{subject}\n{at}\n{payload_hash}\n{prev_hash}\n".encode()
            ).digest()
            for seq, kind, subject, at, payload_hash, prev_hash in zip(
                seqs, kinds, subjects, recorded, payload_hashes, prev_hashes, strict=True
            )
        ]
        intact = (
            seqs == tuple(range(start_seq, start_seq + count))
            and prev_hashes[0] == start_prev_hash
            and prev_hashes[1:] == entry_hashes[:-1]
            and tuple([digest.hex() for digest in digests]) == entry_hashes
            and tuple([sha256(payload).hexdigest() for payload in payloads]) == payload_hashes
        )
    except (UnicodeEncodeError, TypeError):
        intact = False
    chain_problem = None
    if not intact:
        chain_problem = verify_chain(
            map(StoredRow._make, rows),
            start_prev_hash=start_prev_hash,
            start_seq=start_seq,
            before=StoredRow._make(before) if before else None,
            after=StoredRow._make(after) if after else None,
        )
        # Leaves past a broken entry never decide the outcome (the chain's finding wins over
        # any checkpoint after it), so any 32 bytes will do for rows whose header did not encode.
        digests = [leaf_data(row) for row in rows]
    leaves = [sha256(b"\x00" + digest).digest() for digest in digests]
    levels = build_levels(leaves, first_leaf, 0, top_level, fringe)
    result = SliceResult(first_leaf, count, prev_hashes[0], entry_hashes[-1], chain_problem, levels)
    result.pieces = checkpoint_pieces(levels, first_leaf, top_level, checkpoint_sizes)
    return result


def leaf_data(row: tuple) -> bytes:
    """The entry hash a leaf is made of, even for a row whose stored hash is not hex."""
    try:
        data = bytes.fromhex(row[7])
    except (TypeError, ValueError):
        data = b""
    return data if len(data) == HASH_SIZE else hashlib.sha256(repr(row[7]).encode()).digest()


def build_levels(
    base: list[bytes], origin: int, base_level: int, top_level: int, fringe: dict[int, bytes]
) -> list[list[bytes]]:
    """Levels ``base_level..top_level`` of the nodes completed by the leaves from ``origin`` on.

    ``base`` is level ``base_level`` from index ``origin >> base_level``. Level ``l`` then
    holds indexes ``origin >> l`` up to the end; when the first of them is a right child, its
    left sibling, the peak ``fringe[l]``, completes it.
    """
    sha256 = hashlib.sha256
    levels = [base]
    below, lo = base, origin >> base_level
    for level in range(base_level, top_level):
        if lo & 1:
            below = [fringe[level], *below]
            lo -= 1
        below = [
            sha256(b"\x01" + left + right).digest()
            for left, right in zip(below[::2], below[1::2], strict=False)
        ]
        lo >>= 1
        levels.append(below)
    return levels


def checkpoint_pieces(
    levels: list[list[bytes]], first_leaf: int, top_level: int, sizes: list[int]
) -> dict[tuple[int, int], bytes]:
    """The complete subtrees, among ``levels``, of the trees at ``sizes`` (their roots' parts)."""
    pieces = {}
    for size in sizes:
        for level, index in merkle.peak_node_ids(size):
            if level <= top_level and (index + 1) << level > first_leaf:
                pieces[level, index] = levels[level][index - (first_leaf >> level)]
    return pieces


def level_matches(level_nodes: list[bytes], low: int, stored: list[tuple[int, bytes]]) -> bool:
    """Whether `stored` (index, hash) pairs, by index, are exactly `level_nodes` from `low` on."""
    return (
        len(stored) == len(level_nodes)
        and list(map(itemgetter(1), stored)) == level_nodes
        and list(map(itemgetter(0), stored)) == list(range(low, low + len(level_nodes)))
    )


def level_problem(
    level: int, lo: int, expected: list[bytes], stored: list[tuple[int, bytes]]
) -> Problem | None:
    """The first node of ``level`` from index ``lo`` on that is stored wrong, missing or twice.

    ``stored`` holds the stored ``(index, hash)`` pairs of exactly that index range, by index.
    """
    by_index: dict[int, list[bytes]] = {}
    for index, node in stored:
        by_index.setdefault(index, []).append(bytes(node))
    for offset, want in enumerate(expected):
        index = lo + offset
        where = f"the Merkle node at level {level}, index {index}"
        seq = (index + 1) << level
        found = by_index.get(index, [])
        if not found:
            return Problem(seq, "TREE_NODES_MISSING", f"{where} is not stored")
        if len(found) > 1:
            return Problem(seq, "TREE_NODES_ALTERED", f"{where} is stored twice: nodes were added")
        if found[0] != want:
            return Problem(
                seq,
                "TREE_NODES_ALTERED",
                f"{where} does not match the entries; proofs served would not verify",
            )
    return None


def extra_node_problem(level: int, index: int) -> Problem:
    return Problem(
        (index + 1) << level,
        "TREE_NODES_ALTERED",
        f"the node at level {level}, index {index} is stored but no entry completes it: "
        "entries were removed, or nodes added",
    )


def first_problem(problems) -> Problem | None:
    """The problem at the smallest seq (the earliest entry), lowest level first on a tie."""
    found = [p for p in problems if p is not None]
    return min(found, key=lambda p: p.seq) if found else None
