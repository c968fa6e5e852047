"""RFC 9162 section 2.1 Merkle Tree Hash, inclusion and consistency proofs.

Hashing (SHA-256, RFC 9162 2.1.1)::

    MTH({})       = SHA-256()                              (the empty tree)
    leaf_hash(d)  = SHA-256(0x00 || d)
    node_hash(l, r) = SHA-256(0x01 || l || r)
    MTH(D[n])     = node_hash(MTH(D[0:k]), MTH(D[k:n]))    k = largest power of two < n

Storage model. Proof generation never touches all n leaves. It is written against one callback,
``perfect_subtree(level, index) -> bytes``, returning the hash of the *complete* subtree over
leaves ``[index * 2**level, (index + 1) * 2**level)`` (level 0 = leaf hashes). Those nodes never
change once complete, so the database can store them in an append-only table: appending leaf
number ``i`` adds the rows ``new_perfect_nodes(i, leaf_hash, lookup)`` returns (the leaf itself
plus one node per trailing 1-bit of ``i``: at most 1 + log2 n rows). Any subtree the RFC needs,
including the not-yet-complete right edge, is rebuilt from O(log n) of them by ``subtree_hash``, so
a root or a proof costs O(log n) lookups and hashes at any tree size. The ``*_node_ids`` helpers
list the exact ``(level, index)`` pairs a root or proof will ask for, so a caller can fetch them
in one query and pass ``stored.__getitem__`` as the callback.

``MerkleTree`` is an in-memory list of levels for tests, benchmarks and offline checks. Its own
root/proof methods use a different, bottom-up algorithm (the one from the original CT reference
implementation), so comparing it with the callback functions cross-checks both.

Verification (``verify_inclusion``, ``verify_consistency``) follows RFC 9162 2.1.3.2 and 2.1.4.2
step by step. Note what a proof does *not* bind: the tree size is not hashed into the root, so an
inclusion proof for leaf 0 of a 5-leaf tree also "verifies" against the 5-leaf root under a
claimed size of 6 (same path shape). A root is only meaningful together with the size it was
signed with, which is why checkpoints sign both.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable, Sequence

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "MerkleTree",
    "PerfectSubtree",
    "consistency_proof",
    "consistency_proof_node_ids",
    "inclusion_proof",
    "inclusion_proof_node_ids",
    "leaf_hash",
    "new_perfect_nodes",
    "node_hash",
    "peak_node_ids",
    "root_hash",
    "subtree_hash",
    "tree_root",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

PerfectSubtree = Callable[[int, int], bytes]

_sha256 = hashlib.sha256


def leaf_hash(data: bytes) -> bytes:
    return _sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return _sha256(b"\x01" + left + right).digest()


def _split(size: int) -> int:
    """Largest power of two strictly below ``size`` (``size >= 2``)."""
    return 1 << ((size - 1).bit_length() - 1)


def root_hash(leaf_hashes: Iterable[bytes]) -> bytes:
    """MTH over already-hashed leaves, streaming with O(log n) memory."""
    # Stack of (level, hash) complete subtrees, strictly decreasing levels: the tree's "peaks".
    stack: list[tuple[int, bytes]] = []
    for h in leaf_hashes:
        level = 0
        while stack and stack[-1][0] == level:
            h = node_hash(stack.pop()[1], h)
            level += 1
        stack.append((level, h))
    if not stack:
        return EMPTY_ROOT
    root = stack[-1][1]
    for _, peak in reversed(stack[:-1]):
        root = node_hash(peak, root)
    return root


# --- storage-agnostic generation -------------------------------------------------------------


def new_perfect_nodes(
    size_before: int, leaf_hash: bytes, lookup: PerfectSubtree
) -> list[tuple[int, int, bytes]]:
    """Nodes ``(level, index, hash)`` that become complete when leaf ``size_before`` is appended.

    The first is the leaf itself ``(0, size_before, leaf_hash)``; each further one is the parent
    completed by it. ``lookup`` is only asked for left siblings, which are all among
    ``peak_node_ids(size_before)``. When appending several leaves in one batch, the lookup must
    see the nodes returned for the earlier leaves of the batch.
    """
    if size_before < 0:
        raise ValueError(f"size_before must be >= 0, got {size_before}")
    if len(leaf_hash) != HASH_SIZE:
        raise ValueError(f"leaf hash must be {HASH_SIZE} bytes, got {len(leaf_hash)}")
    nodes = [(0, size_before, leaf_hash)]
    level, index, h = 0, size_before, leaf_hash
    while index & 1:
        h = node_hash(lookup(level, index - 1), h)
        level += 1
        index >>= 1
        nodes.append((level, index, h))
    return nodes


def _perfect_pieces(start: int, end: int) -> list[tuple[int, int]]:
    """Complete subtrees ``(level, index)`` tiling ``[start, end)``, left to right."""
    size = end - start
    if start < 0 or size <= 0:
        raise ValueError(f"invalid leaf range [{start}, {end})")
    # RFC 9162 only ever hashes ranges that start on a multiple of their own width rounded up to
    # a power of two; anything else is not a subtree of the tree and has no MTH.
    if start & ((1 << (size - 1).bit_length()) - 1):
        raise ValueError(f"[{start}, {end}) is not a subtree of an RFC 9162 tree")
    pieces = []
    pos = start
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            pieces.append((level, pos >> level))
            pos += 1 << level
    return pieces


def subtree_hash(start: int, end: int, perfect_subtree: PerfectSubtree) -> bytes:
    """MTH of leaves ``[start, end)`` from at most log2(width)+1 perfect-subtree lookups.

    The range must be a subtree in the RFC sense (``start`` a multiple of the next power of two
    at or above ``end - start``); ``[0, n)`` and everything a proof needs qualify.
    """
    pieces = _perfect_pieces(start, end)
    h = perfect_subtree(*pieces[-1])
    # Right-to-left fold: MTH splits at the largest power of two, so the leftmost piece is the
    # left child of the root of [start, end), the next one the left child of the remainder, ...
    for level, index in reversed(pieces[:-1]):
        h = node_hash(perfect_subtree(level, index), h)
    return h


def tree_root(size: int, perfect_subtree: PerfectSubtree) -> bytes:
    """Root hash of the tree made of the first ``size`` leaves."""
    if size < 0:
        raise ValueError(f"size must be >= 0, got {size}")
    return subtree_hash(0, size, perfect_subtree) if size else EMPTY_ROOT


def inclusion_proof(index: int, size: int, perfect_subtree: PerfectSubtree) -> list[bytes]:
    """RFC 9162 2.1.3.1 PATH(index, D[size]), deepest sibling first; <= ceil(log2 size) hashes."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside a tree of size {size}")
    proof: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            proof.append(subtree_hash(start + k, end, perfect_subtree))
            end = start + k
        else:
            proof.append(subtree_hash(start, start + k, perfect_subtree))
            start += k
    proof.reverse()
    return proof


def consistency_proof(size1: int, size2: int, perfect_subtree: PerfectSubtree) -> list[bytes]:
    """RFC 9162 2.1.4.1 PROOF(size1, D[size2]); empty when size1 is 0 or equals size2."""
    if not 0 <= size1 <= size2:
        raise ValueError(f"need 0 <= size1 <= size2, got {size1} and {size2}")
    if size1 in (0, size2):
        return []
    proof: list[bytes] = []
    start, end, m, complete = 0, size2, size1, True
    while True:
        width = end - start
        if m == width:
            # SUBPROOF(m, D[m], b): nothing if this is the old root itself, else its hash.
            if not complete:
                proof.append(subtree_hash(start, end, perfect_subtree))
            break
        k = _split(width)
        if m <= k:
            proof.append(subtree_hash(start + k, end, perfect_subtree))
            end = start + k
        else:
            proof.append(subtree_hash(start, start + k, perfect_subtree))
            start += k
            m -= k
            complete = False
    proof.reverse()
    return proof


def _recorded(build: Callable[[PerfectSubtree], object]) -> list[tuple[int, int]]:
    seen: dict[tuple[int, int], None] = {}

    def record(level: int, index: int) -> bytes:
        seen[level, index] = None
        return bytes(HASH_SIZE)

    build(record)
    return list(seen)


def peak_node_ids(size: int) -> list[tuple[int, int]]:
    """The complete subtrees tiling ``[0, size)``: enough to compute the root and to append."""
    return _perfect_pieces(0, size) if size else []


def inclusion_proof_node_ids(index: int, size: int) -> list[tuple[int, int]]:
    """Every ``(level, index)`` that ``inclusion_proof(index, size, ...)`` will look up."""
    return _recorded(lambda cb: inclusion_proof(index, size, cb))


def consistency_proof_node_ids(size1: int, size2: int) -> list[tuple[int, int]]:
    """Every ``(level, index)`` that ``consistency_proof(size1, size2, ...)`` will look up."""
    return _recorded(lambda cb: consistency_proof(size1, size2, cb))


# --- verification, RFC 9162 2.1.3.2 and 2.1.4.2 ----------------------------------------------


def _hashes_ok(*hashes: bytes) -> bool:
    return all(isinstance(h, bytes) and len(h) == HASH_SIZE for h in hashes)


def verify_inclusion(
    *, leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """True when ``proof`` shows ``leaf_hash`` at ``index`` in the tree ``root`` of ``size``."""
    if not _hashes_ok(leaf_hash, root, *proof):
        return False
    # 1. leaf_index >= tree_size fails.
    if not 0 <= index < size:
        return False
    # 2-3.
    fn, sn = index, size - 1
    r = leaf_hash
    # 4.
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    # 5.
    return sn == 0 and hmac.compare_digest(r, root)


def verify_consistency(
    *, size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]
) -> bool:
    """True when ``proof`` shows the tree ``root1`` of ``size1`` is a prefix of ``root2``.

    RFC 9162 2.1.4.2 covers 0 < size1 < size2. The edge cases are decided here: equal sizes need
    an empty proof and equal roots; size1 == 0 needs an empty proof and the empty-tree root1.
    """
    if not _hashes_ok(root1, root2, *proof):
        return False
    if not 0 <= size1 <= size2:
        return False
    if size1 == size2:
        return not proof and hmac.compare_digest(root1, root2)
    if size1 == 0:
        return not proof and hmac.compare_digest(root1, EMPTY_ROOT)
    # 1.
    if not proof:
        return False
    path = list(proof)
    # 2.
    if size1 & (size1 - 1) == 0:
        path.insert(0, root1)
    # 3.
    fn, sn = size1 - 1, size2 - 1
    # 4.
    while fn & 1:
        fn >>= 1
        sn >>= 1
    # 5.
    fr = sr = path[0]
    # 6.
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    # 7.
    return sn == 0 and hmac.compare_digest(fr, root1) and hmac.compare_digest(sr, root2)


# --- in-memory tree ---------------------------------------------------------------------------


class MerkleTree:
    """Complete-subtree hashes held in memory: ``levels[l][i]`` is ``perfect_subtree(l, i)``."""

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self.levels: list[list[bytes]] = [[]]
        self.extend(leaf_hashes)

    @classmethod
    def from_leaf_data(cls, items: Iterable[bytes]) -> MerkleTree:
        return cls(leaf_hash(item) for item in items)

    @property
    def size(self) -> int:
        return len(self.levels[0])

    def perfect_subtree(self, level: int, index: int) -> bytes:
        return self.levels[level][index]

    def append(self, leaf: bytes) -> None:
        for level, _index, h in new_perfect_nodes(self.size, leaf, self.perfect_subtree):
            if level == len(self.levels):
                self.levels.append([])
            self.levels[level].append(h)

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        new = list(leaf_hashes)
        if not _hashes_ok(*new):
            raise ValueError(f"leaf hashes must be {HASH_SIZE} bytes each")
        self.levels[0].extend(new)
        # Level by level, pair up everything from the first parent not yet built; a left child
        # left unpaired by the previous size gets its right sibling here.
        level = 0
        while len(self.levels[level]) > 1:
            below = self.levels[level]
            if level + 1 == len(self.levels):
                self.levels.append([])
            above = self.levels[level + 1]
            above.extend(
                _sha256(b"\x01" + below[i] + below[i + 1]).digest()
                for i in range(2 * len(above), len(below) - 1, 2)
            )
            level += 1

    # Independent bottom-up algorithms (CT's original merkle_tree.cc), for cross-checking.

    def _last_node(self, level: int, size: int) -> bytes:
        """Hash of the rightmost node at ``level`` in the tree of ``size`` leaves."""
        node = size - 1
        h = self.levels[0][node]
        for lvl in range(level):
            if node & 1:
                h = node_hash(self.levels[lvl][node - 1], h)
            node >>= 1
        return h

    def _path(self, node: int, level: int, size: int) -> list[bytes]:
        path = []
        last = (size - 1) >> level
        while last:
            sibling = node ^ 1
            if sibling < last:
                path.append(self.levels[level][sibling])
            elif sibling == last:
                path.append(self._last_node(level, size))
            node >>= 1
            last >>= 1
            level += 1
        return path

    def _check_size(self, size: int | None) -> int:
        size = self.size if size is None else size
        if not 0 <= size <= self.size:
            raise ValueError(f"size {size} is outside 0..{self.size}")
        return size

    def root(self, size: int | None = None) -> bytes:
        size = self._check_size(size)
        if size == 0:
            return EMPTY_ROOT
        return self._last_node((size - 1).bit_length(), size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        size = self._check_size(size)
        if not 0 <= index < size:
            raise ValueError(f"leaf index {index} is outside a tree of size {size}")
        return self._path(index, 0, size)

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        size2 = self._check_size(size2)
        if not 0 <= size1 <= size2:
            raise ValueError(f"need 0 <= size1 <= size2, got {size1} and {size2}")
        if size1 in (0, size2):
            return []
        level, node = 0, size1 - 1
        while node & 1:
            node >>= 1
            level += 1
        # Left of `node` both trees agree; `node` itself is the old tree's last complete peak,
        # omitted when it is the whole old tree (the verifier already holds that root).
        proof = [self.levels[level][node]] if node else []
        return proof + self._path(node, level, size2)
