"""RFC 9162 Merkle tree: published vectors, proof generation paths, and proof verification."""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable, Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.merkle import (
    EMPTY_ROOT,
    MerkleTree,
    consistency_proof,
    consistency_proof_node_ids,
    inclusion_proof,
    inclusion_proof_node_ids,
    leaf_hash,
    new_perfect_nodes,
    node_hash,
    peak_node_ids,
    root_hash,
    subtree_hash,
    tree_root,
    verify_consistency,
    verify_inclusion,
)

# --- Published RFC 6962 / RFC 9162 test vectors ----------------------------------------------
# Leaf inputs, node hashes and roots: transparency-dev/merkle, testonly/constants.go
# (LeafInputs, NodeHashes, RootHashes). Proof vectors: transparency-dev/merkle,
# proof/verify_test.go (inclusionProofs, consistencyProofs) and testonly/reference_test.go
# (TestRefInclusionProof, TestRefConsistencyProof). Both files index leaves from 1 in
# verify_test.go; below they are converted to 0-based leaf indices.

LEAF_INPUTS = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]

NODE_HASHES = [
    [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    ],
    [
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    ],
    [
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    ["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
]

# ROOTS[n] is the root of the tree over the first n leaf inputs.
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]

# (leaf index, tree size, proof)
INCLUSION_VECTORS = [
    (0, 1, []),
    (0, 2, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"]),
    (1, 2, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]

# (size1, size2, proof)
CONSISTENCY_VECTORS = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]

# Also from proof/verify_test.go: arbitrary values that are no root of these trees.
SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")


def hexes(hashes: list[bytes]) -> list[str]:
    return [h.hex() for h in hashes]


@pytest.fixture(scope="module")
def vector_tree() -> MerkleTree:
    return MerkleTree.from_leaf_data(LEAF_INPUTS)


# Larger trees for exhaustive and random checks; leaf data are distinct so every node is too.
BIG = MerkleTree.from_leaf_data(i.to_bytes(4, "big") for i in range(260))
LARGE = MerkleTree(hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(5000))


def uniform_tree(leaf: bytes) -> Callable[[int, int], bytes]:
    """perfect_subtree for a tree of any size whose leaves all equal ``leaf``.

    Every complete subtree of one height then has the same hash, so this is a real, consistent
    store for a tree of a million (or 2**40) leaves in O(log n) memory.
    """
    by_level = [leaf]

    def perfect_subtree(level: int, index: int) -> bytes:
        while len(by_level) <= level:
            by_level.append(node_hash(by_level[-1], by_level[-1]))
        return by_level[level]

    return perfect_subtree


# --- Reference implementation: RFC 9162 2.1.1-2.1.4 transcribed literally over leaf lists ----


def ref_mth(leaves: list[bytes]) -> bytes:
    n = len(leaves)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaves[0]
    k = 1 << ((n - 1).bit_length() - 1)
    return node_hash(ref_mth(leaves[:k]), ref_mth(leaves[k:]))


def ref_path(m: int, leaves: list[bytes]) -> list[bytes]:
    n = len(leaves)
    if n == 1:
        return []
    k = 1 << ((n - 1).bit_length() - 1)
    if m < k:
        return [*ref_path(m, leaves[:k]), ref_mth(leaves[k:])]
    return [*ref_path(m - k, leaves[k:]), ref_mth(leaves[:k])]


def ref_subproof(m: int, leaves: list[bytes], b: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if b else [ref_mth(leaves)]
    k = 1 << ((n - 1).bit_length() - 1)
    if m <= k:
        return [*ref_subproof(m, leaves[:k], b), ref_mth(leaves[k:])]
    return [*ref_subproof(m - k, leaves[k:], False), ref_mth(leaves[:k])]


# --- Hashing and the published vectors --------------------------------------------------------


def test_the_empty_tree_hashes_to_sha256_of_the_empty_string() -> None:
    assert EMPTY_ROOT.hex() == ROOTS[0]
    assert root_hash([]) == EMPTY_ROOT
    assert MerkleTree().root() == EMPTY_ROOT
    assert tree_root(0, lambda level, index: pytest.fail("no lookups for an empty tree")) == (
        EMPTY_ROOT
    )


def test_leaf_and_node_hashes_are_domain_separated_as_rfc_9162_says() -> None:
    assert leaf_hash(b"abc") == hashlib.sha256(b"\x00abc").digest()
    assert (
        node_hash(b"L" * 32, b"R" * 32) == hashlib.sha256(b"\x01" + b"L" * 32 + b"R" * 32).digest()
    )


def test_every_complete_subtree_matches_the_published_node_hashes(
    vector_tree: MerkleTree,
) -> None:
    assert [hexes(level) for level in vector_tree.levels] == NODE_HASHES


@pytest.mark.parametrize("size", range(1, 9))
def test_roots_of_the_published_trees_match_by_every_method(
    vector_tree: MerkleTree, size: int
) -> None:
    leaves = [leaf_hash(d) for d in LEAF_INPUTS[:size]]
    assert root_hash(leaves).hex() == ROOTS[size]
    assert vector_tree.root(size).hex() == ROOTS[size]
    assert tree_root(size, vector_tree.perfect_subtree).hex() == ROOTS[size]
    assert ref_mth(leaves).hex() == ROOTS[size]


@pytest.mark.parametrize(("index", "size", "expected"), INCLUSION_VECTORS)
def test_inclusion_proofs_match_the_published_vectors(
    vector_tree: MerkleTree, index: int, size: int, expected: list[str]
) -> None:
    assert hexes(inclusion_proof(index, size, vector_tree.perfect_subtree)) == expected
    assert hexes(vector_tree.inclusion_proof(index, size)) == expected
    assert verify_inclusion(
        leaf_hash=leaf_hash(LEAF_INPUTS[index]),
        index=index,
        size=size,
        proof=[bytes.fromhex(h) for h in expected],
        root=bytes.fromhex(ROOTS[size]),
    )


@pytest.mark.parametrize(("size1", "size2", "expected"), CONSISTENCY_VECTORS)
def test_consistency_proofs_match_the_published_vectors(
    vector_tree: MerkleTree, size1: int, size2: int, expected: list[str]
) -> None:
    assert hexes(consistency_proof(size1, size2, vector_tree.perfect_subtree)) == expected
    assert hexes(vector_tree.consistency_proof(size1, size2)) == expected
    assert verify_consistency(
        size1=size1,
        size2=size2,
        root1=bytes.fromhex(ROOTS[size1]),
        root2=bytes.fromhex(ROOTS[size2]),
        proof=[bytes.fromhex(h) for h in expected],
    )


# --- Generation: callback path, in-memory path and the literal RFC agree ----------------------


def test_callback_inclusion_proofs_equal_the_in_memory_tree_for_every_size_to_130() -> None:
    for size in range(1, 131):
        limit = math.ceil(math.log2(size)) if size > 1 else 0
        for index in range(size):
            proof = inclusion_proof(index, size, BIG.perfect_subtree)
            assert proof == BIG.inclusion_proof(index, size), (index, size)
            assert len(proof) <= limit


def test_callback_consistency_proofs_equal_the_in_memory_tree_for_every_size_to_130() -> None:
    for size2 in range(1, 131):
        # RFC 9162 2.1.4.1: a consistency proof needs at most ceil(log2 n) + 1 hashes.
        limit = (math.ceil(math.log2(size2)) if size2 > 1 else 0) + 1
        for size1 in range(size2 + 1):
            proof = consistency_proof(size1, size2, BIG.perfect_subtree)
            assert proof == BIG.consistency_proof(size1, size2), (size1, size2)
            assert len(proof) <= limit


def test_both_generators_equal_the_rfc_definitions_transcribed_literally() -> None:
    leaves = BIG.levels[0]
    for size in range(1, 71):
        assert tree_root(size, BIG.perfect_subtree) == ref_mth(leaves[:size])
        for index in range(size):
            assert inclusion_proof(index, size, BIG.perfect_subtree) == ref_path(
                index, leaves[:size]
            )
        for size1 in range(1, size):
            assert consistency_proof(size1, size, BIG.perfect_subtree) == ref_subproof(
                size1, leaves[:size], True
            )


def test_proofs_at_a_million_leaves_are_short_and_cost_logarithmic_lookups() -> None:
    size = 1_000_000
    leaf = leaf_hash(b"x")
    store = uniform_tree(leaf)
    lookups = []

    def counting(level: int, index: int) -> bytes:
        lookups.append((level, index))
        return store(level, index)

    root = tree_root(size, store)
    for index in (0, 1, 499_999, 524_288, 999_998, 999_999):
        lookups.clear()
        proof = inclusion_proof(index, size, counting)
        assert len(proof) <= math.ceil(math.log2(size)) == 20
        assert len(lookups) <= 2 * 20
        assert verify_inclusion(leaf_hash=leaf, index=index, size=size, proof=proof, root=root)
    for size1 in (1, 3, 524_288, 999_999):
        lookups.clear()
        proof = consistency_proof(size1, size, counting)
        assert len(lookups) <= 2 * 21
        assert verify_consistency(
            size1=size1, size2=size, root1=tree_root(size1, store), root2=root, proof=proof
        )


def test_proof_generation_costs_logarithmic_lookups_at_any_size() -> None:
    calls = 0

    def counting(level: int, index: int) -> bytes:
        nonlocal calls
        calls += 1
        return bytes(32)

    size = 2**40 - 12345
    inclusion_proof(size - 1, size, counting)
    consistency_proof(size // 3, size, counting)
    tree_root(size, counting)
    assert calls <= 3 * 2 * 40


# --- Storage model: new_perfect_nodes, subtree_hash and the node id helpers -------------------


def test_appending_a_leaf_completes_one_node_per_trailing_one_bit() -> None:
    stored: dict[tuple[int, int], bytes] = {}
    asked: list[tuple[int, int]] = []

    def lookup(level: int, index: int) -> bytes:
        asked.append((level, index))
        return stored[level, index]

    for i, leaf in enumerate(BIG.levels[0][:130]):
        asked.clear()
        nodes = new_perfect_nodes(i, leaf, lookup)
        trailing_ones = (i ^ (i + 1)).bit_length() - 1
        assert len(nodes) == 1 + trailing_ones
        assert nodes[0] == (0, i, leaf)
        # Only the current peaks are ever needed, so the caller can preload exactly those.
        assert set(asked) <= set(peak_node_ids(i))
        for level, index, h in nodes:
            stored[level, index] = h
    assert stored == {
        (level, index): h
        for level, row in enumerate(MerkleTree(BIG.levels[0][:130]).levels)
        for index, h in enumerate(row)
    }


def test_a_tree_grown_leaf_by_leaf_equals_one_built_in_bulk() -> None:
    one_by_one = MerkleTree()
    for leaf in BIG.levels[0][:77]:
        one_by_one.append(leaf)
    in_batches = MerkleTree(BIG.levels[0][:5])
    in_batches.extend(BIG.levels[0][5:6])
    in_batches.extend(BIG.levels[0][6:77])
    assert one_by_one.levels == in_batches.levels == MerkleTree(BIG.levels[0][:77]).levels


def test_subtree_hash_rebuilds_any_right_edge_from_perfect_nodes() -> None:
    leaves = BIG.levels[0]
    for end in range(1, 131):
        for start in range(end):
            width = 1 << (end - start - 1).bit_length()
            if start % width:
                continue
            assert subtree_hash(start, end, BIG.perfect_subtree) == ref_mth(leaves[start:end])


@pytest.mark.parametrize(("start", "end"), [(1, 3), (2, 5), (3, 4 + 3), (-1, 2), (4, 4)])
def test_subtree_hash_refuses_a_range_that_is_no_subtree(start: int, end: int) -> None:
    with pytest.raises(ValueError, match=r"subtree|invalid"):
        subtree_hash(start, end, BIG.perfect_subtree)


def only(node_ids: list[tuple[int, int]]) -> Callable[[int, int], bytes]:
    """A store holding just ``node_ids`` of BIG: a KeyError proves a lookup was not listed."""
    nodes = {ids: BIG.perfect_subtree(*ids) for ids in node_ids}
    return lambda level, index: nodes[level, index]


def test_the_node_id_helpers_list_exactly_what_a_proof_will_look_up() -> None:
    for size in range(1, 70):
        assert tree_root(size, only(peak_node_ids(size))) == BIG.root(size)
        for index in range(size):
            store = only(inclusion_proof_node_ids(index, size))
            assert inclusion_proof(index, size, store) == BIG.inclusion_proof(index, size)
        for size1 in range(size + 1):
            store = only(consistency_proof_node_ids(size1, size))
            assert consistency_proof(size1, size, store) == BIG.consistency_proof(size1, size)


@pytest.mark.parametrize(("index", "size"), [(0, 0), (1, 1), (-1, 3), (8, 7)])
def test_it_refuses_to_build_an_inclusion_proof_outside_the_tree(index: int, size: int) -> None:
    with pytest.raises(ValueError, match="outside"):
        inclusion_proof(index, size, BIG.perfect_subtree)


@pytest.mark.parametrize(("size1", "size2"), [(5, 4), (-1, 3)])
def test_it_refuses_to_build_a_consistency_proof_back_in_time(size1: int, size2: int) -> None:
    with pytest.raises(ValueError, match="size1 <= size2"):
        consistency_proof(size1, size2, BIG.perfect_subtree)


# --- Verification rejects every mutation of a valid proof -------------------------------------


def flip(h: bytes, bit: int) -> bytes:
    out = bytearray(h)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


FLIP_BITS = (0, 3, 131, 255)


def inclusion_mutations(
    index: int, size: int, proof: list[bytes], leaf: bytes, root: bytes
) -> Iterator[tuple[str, dict[str, object]]]:
    base = {"leaf_hash": leaf, "index": index, "size": size, "proof": proof, "root": root}

    def case(name: str, **changes: object) -> tuple[str, dict[str, object]]:
        return name, {**base, **changes}

    yield case("index - 1", index=index - 1)
    yield case("index + 1", index=index + 1)
    yield case("index ^ 2", index=index ^ 2)
    yield case("size * 2", size=size * 2)
    if size // 2 != size:
        yield case("size // 2", size=size // 2)
    # Against the real root of the claimed size (the pair a checkpoint signs).
    for other in (size - 1, size + 1):
        if index < other <= BIG.size:
            yield case(f"size {other} with its root", size=other, root=BIG.root(other))
    yield case("wrong leaf", leaf_hash=leaf_hash(b"WrongLeaf"))
    yield case("empty-tree root", root=EMPTY_ROOT)
    yield case("unrelated root", root=SOME_HASH)
    for bit in FLIP_BITS:
        yield case(f"leaf bit {bit}", leaf_hash=flip(leaf, bit))
        yield case(f"root bit {bit}", root=flip(root, bit))
        for i in range(len(proof)):
            mutated = list(proof)
            mutated[i] = flip(proof[i], bit)
            yield case(f"proof[{i}] bit {bit}", proof=mutated)
    yield case("hash appended", proof=[*proof, root])
    yield case("garbage appended", proof=[*proof, SOME_HASH])
    yield case("hash prepended", proof=[leaf, *proof])
    yield case("short hash appended", proof=[*proof, b""])
    if proof:
        yield case("last hash removed", proof=proof[:-1])
        yield case("first hash removed", proof=proof[1:])
        yield case("hash duplicated", proof=[proof[0], *proof])
    if len(proof) > 1:
        yield case("hash inserted", proof=[proof[0], SOME_HASH, *proof[1:]])
        yield case("hashes swapped", proof=[proof[1], proof[0], *proof[2:]])


def test_every_mutation_of_an_inclusion_proof_is_rejected_for_sizes_1_to_70() -> None:
    for size in range(1, 71):
        root = BIG.root(size)
        for index in range(size):
            proof = inclusion_proof(index, size, BIG.perfect_subtree)
            leaf = BIG.levels[0][index]
            assert verify_inclusion(leaf_hash=leaf, index=index, size=size, proof=proof, root=root)
            for name, kwargs in inclusion_mutations(index, size, proof, leaf, root):
                assert not verify_inclusion(**kwargs), f"accepted {name} for {index}/{size}"


def consistency_mutations(
    size1: int, size2: int, proof: list[bytes], root1: bytes, root2: bytes
) -> Iterator[tuple[str, dict[str, object]]]:
    base = {"size1": size1, "size2": size2, "root1": root1, "root2": root2, "proof": proof}

    def case(name: str, **changes: object) -> tuple[str, dict[str, object]]:
        return name, {**base, **changes}

    for other in (size1 - 1, size1 + 1, size1 ^ 2):
        if other != size1:
            yield case(f"size1 {other}", size1=other)
            if 0 <= other <= BIG.size:
                yield case(f"size1 {other} with its root", size1=other, root1=BIG.root(other))
    yield case("size2 * 2", size2=size2 * 2)
    yield case("size2 // 2", size2=size2 // 2)
    for other in (size2 - 1, size2 + 1):
        if size1 < other <= BIG.size:
            yield case(f"size2 {other} with its root", size2=other, root2=BIG.root(other))
    yield case("swapped roots", root1=root2, root2=root1)
    yield case("wrong root1", root1=SOME_HASH)
    yield case("wrong root2", root2=SOME_HASH)
    yield case("empty proof", proof=[])
    for bit in FLIP_BITS:
        yield case(f"root1 bit {bit}", root1=flip(root1, bit))
        yield case(f"root2 bit {bit}", root2=flip(root2, bit))
        for i in range(len(proof)):
            mutated = list(proof)
            mutated[i] = flip(proof[i], bit)
            yield case(f"proof[{i}] bit {bit}", proof=mutated)
    yield case("root1 appended", proof=[*proof, root1])
    yield case("root2 appended", proof=[*proof, root2])
    yield case("root1 prepended", proof=[root1, *proof])
    yield case("root2 prepended", proof=[root2, *proof])
    yield case("proof[0] duplicated", proof=[proof[0], *proof])
    yield case("short hash prepended", proof=[b"", *proof])
    yield case("last hash removed", proof=proof[:-1])
    yield case("first hash removed", proof=proof[1:])
    if len(proof) > 1:
        yield case("hash inserted", proof=[proof[0], SOME_HASH, *proof[1:]])
        yield case("hashes swapped", proof=[proof[1], proof[0], *proof[2:]])


def test_every_mutation_of_a_consistency_proof_is_rejected_for_sizes_1_to_70() -> None:
    for size2 in range(2, 71):
        root2 = BIG.root(size2)
        for size1 in range(1, size2):
            root1 = BIG.root(size1)
            proof = consistency_proof(size1, size2, BIG.perfect_subtree)
            assert verify_consistency(
                size1=size1, size2=size2, root1=root1, root2=root2, proof=proof
            )
            for name, kwargs in consistency_mutations(size1, size2, proof, root1, root2):
                assert not verify_consistency(**kwargs), f"accepted {name} for {size1}->{size2}"


def test_a_claimed_tree_size_is_only_bound_together_with_its_signed_root() -> None:
    # Documented limitation of RFC 9162 proofs (see ledger/merkle.py): leaf 0's path has the same
    # shape in trees of 5 and 6 leaves, so the 5-leaf root "verifies" under a claimed size of 6.
    # No 6-leaf tree has that root, which is why checkpoints sign (size, root) as one statement;
    # the mutation tests above therefore pair every other size with its own root.
    proof = inclusion_proof(0, 5, BIG.perfect_subtree)
    leaf = BIG.levels[0][0]
    assert verify_inclusion(leaf_hash=leaf, index=0, size=6, proof=proof, root=BIG.root(5))
    assert not verify_inclusion(leaf_hash=leaf, index=0, size=6, proof=proof, root=BIG.root(6))


@given(data=st.data())
@settings(max_examples=200, deadline=None)
def test_random_proofs_in_a_larger_tree_verify_and_reject_any_flipped_bit(
    data: st.DataObject,
) -> None:
    size = data.draw(st.integers(1, LARGE.size))
    index = data.draw(st.integers(0, size - 1))
    root = LARGE.root(size)
    proof = inclusion_proof(index, size, LARGE.perfect_subtree)
    leaf = LARGE.levels[0][index]
    assert verify_inclusion(leaf_hash=leaf, index=index, size=size, proof=proof, root=root)
    bit = data.draw(st.integers(0, 255))
    target = data.draw(st.integers(-2, len(proof) - 1))
    mutated = list(proof)
    kwargs: dict[str, object] = {"leaf_hash": leaf, "root": root}
    if target == -2:
        kwargs["leaf_hash"] = flip(leaf, bit)
    elif target == -1:
        kwargs["root"] = flip(root, bit)
    else:
        mutated[target] = flip(proof[target], bit)
    assert not verify_inclusion(index=index, size=size, proof=mutated, **kwargs)

    size1 = data.draw(st.integers(1, size))
    cproof = consistency_proof(size1, size, LARGE.perfect_subtree)
    root1 = LARGE.root(size1)
    assert verify_consistency(size1=size1, size2=size, root1=root1, root2=root, proof=cproof)
    if cproof:
        target = data.draw(st.integers(0, len(cproof) - 1))
        cproof[target] = flip(cproof[target], bit)
        assert not verify_consistency(
            size1=size1, size2=size, root1=root1, root2=root, proof=cproof
        )


# --- Verification edge cases (from proof/verify_test.go) --------------------------------------


def test_a_single_leaf_tree_has_an_empty_proof_and_the_leaf_as_root() -> None:
    h = leaf_hash(b"data")
    assert verify_inclusion(leaf_hash=h, index=0, size=1, proof=[], root=h)
    assert not verify_inclusion(leaf_hash=h, index=0, size=1, proof=[], root=b"")
    assert not verify_inclusion(leaf_hash=b"", index=0, size=1, proof=[], root=h)
    # Equal but wrongly sized values must not pass as a leaf and its root.
    assert not verify_inclusion(leaf_hash=b"", index=0, size=1, proof=[], root=b"")
    assert not verify_inclusion(leaf_hash=b"x" * 33, index=0, size=1, proof=[], root=b"x" * 33)


@pytest.mark.parametrize(("index", "size"), [(0, 0), (1, 0), (2, 1), (-1, 4)])
def test_it_rejects_an_inclusion_claim_outside_the_tree(index: int, size: int) -> None:
    assert not verify_inclusion(
        leaf_hash=SOME_HASH, index=index, size=size, proof=[], root=SOME_HASH
    )


VerifyCase = tuple[int, int, bytes, bytes, list[bytes], bool]
R1, R2 = hashlib.sha256(b"one").digest(), hashlib.sha256(b"two").digest()
CONSISTENCY_EDGE_CASES: list[VerifyCase] = [
    (1, 1, R1, R2, [], False),
    (1, 1, R2, R2, [], True),
    (1, 1, R2, R2, [EMPTY_ROOT], False),
    (0, 0, EMPTY_ROOT, EMPTY_ROOT, [], True),
    (0, 1, EMPTY_ROOT, R2, [], True),
    (0, 1, R1, R2, [], False),
    (0, 1, EMPTY_ROOT, R2, [EMPTY_ROOT], False),
    (1, 0, R1, R2, [], False),
    (2, 1, R1, R2, [], False),
    (1, 2, R1, R2, [], False),
    (3, 3, b"short", b"short", [], False),
]


@pytest.mark.parametrize(
    ("size1", "size2", "root1", "root2", "proof", "ok"), CONSISTENCY_EDGE_CASES
)
def test_consistency_edge_cases_are_decided_conservatively(
    size1: int, size2: int, root1: bytes, root2: bytes, proof: list[bytes], ok: bool
) -> None:
    assert verify_consistency(size1=size1, size2=size2, root1=root1, root2=root2, proof=proof) is ok


def test_verifying_a_proof_at_a_million_leaves_takes_well_under_a_millisecond() -> None:
    size, index = 1_000_000, 777_777
    leaf = leaf_hash(b"x")
    store = uniform_tree(leaf)
    proof, root = inclusion_proof(index, size, store), tree_root(size, store)
    runs = 200
    start = time.perf_counter()
    results = [
        verify_inclusion(leaf_hash=leaf, index=index, size=size, proof=proof, root=root)
        for _ in range(runs)
    ]
    elapsed = (time.perf_counter() - start) / runs
    assert all(results)
    assert elapsed < 1e-3
