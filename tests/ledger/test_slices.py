"""Slices checked apart add up to the whole: the same Merkle tree, the same first problem.

Plain data, no database: `ledger.slices` is what every verification path (one process or
several) runs on each slice of the stored ledger.
"""

import dataclasses

import pytest

from ledger import merkle
from ledger.chain import GENESIS_HASH, ChainRow, verify_chain
from ledger.slices import build_levels, verify_slice
from tests.ledger.test_chain import forge, make_chain


def as_tuple(row: ChainRow) -> tuple:
    return tuple(getattr(row, f.name) for f in dataclasses.fields(ChainRow))


def slices_of(rows: list[tuple], start: int, top_level: int) -> list[tuple[int, list[tuple]]]:
    """(first leaf, rows) per slice: up to the next multiple of 2**top_level, then aligned."""
    out, leaf, position = [], start, 0
    while position < len(rows):
        width = (1 << top_level) - (leaf & ((1 << top_level) - 1))
        out.append((leaf, rows[position : position + width]))
        leaf += len(out[-1][1])
        position += width
    return out


def check_in_slices(rows: list[ChainRow], *, top_level: int, start: int = 0, peaks=None):
    """Every slice checked with only its neighbours' rows; the first problem, the top levels."""
    tuples = [as_tuple(r) for r in rows]
    fringe = {level: node for (level, _), node in (peaks or {}).items()}
    prev_hash = tuples[0][6] if start else GENESIS_HASH
    pieces, before, first_problem = [], None, None
    cut = slices_of(tuples, start, top_level)
    for k, (leaf, part) in enumerate(cut):
        after = cut[k + 1][1][0] if k + 1 < len(cut) else None
        result = verify_slice(
            part,
            first_leaf=leaf,
            start_seq=leaf + 1,
            start_prev_hash=prev_hash,
            top_level=top_level,
            fringe=fringe,
            checkpoint_sizes=[],
            before=before,
            after=after,
        )
        first_problem = first_problem or result.chain_problem
        pieces += result.top()
        prev_hash, before = part[-1][7], part[-1]
    return first_problem, pieces


@pytest.mark.parametrize("n", [1, 2, 3, 7, 8, 9, 31, 32, 33, 50])
@pytest.mark.parametrize("top_level", [0, 1, 2, 3])
def test_slices_and_the_levels_above_them_give_the_root_of_the_whole_tree(n, top_level):
    rows = make_chain(n)
    problem, tops = check_in_slices(rows, top_level=top_level)
    whole = merkle.MerkleTree.from_leaf_data(bytes.fromhex(r.entry_hash) for r in rows)

    above = build_levels(tops, 0, top_level, max(top_level, n.bit_length()), {})
    nodes = {
        (top_level + k, i): node for k, level in enumerate(above) for i, node in enumerate(level)
    }
    for size in range(1, n + 1):
        if size % (1 << top_level) == 0:
            # A root at a slice boundary is made of top nodes and the levels above them only.
            assert merkle.tree_root(size, lambda lv, ix: nodes[lv, ix]) == whole.root(size)
    assert problem is None
    assert [nodes[top_level, i] for i in range(n >> top_level)] == [
        whole.perfect_subtree(top_level, i) for i in range(n >> top_level)
    ]


@pytest.mark.parametrize("start", [5, 8, 13])
def test_a_first_slice_after_a_checkpoint_completes_its_nodes_with_the_stored_peaks(start):
    rows = make_chain(40)
    whole = merkle.MerkleTree.from_leaf_data(bytes.fromhex(r.entry_hash) for r in rows)
    peaks = {(lv, ix): whole.perfect_subtree(lv, ix) for lv, ix in merkle.peak_node_ids(start)}

    levels = build_levels(
        [merkle.leaf_hash(bytes.fromhex(r.entry_hash)) for r in rows[start:]],
        start,
        0,
        6,
        {level: node for (level, _), node in peaks.items()},
    )

    for level, nodes in enumerate(levels):
        first = start >> level
        assert nodes == [whole.perfect_subtree(level, first + i) for i in range(len(nodes))]


def tamperings(rows: list[ChainRow]) -> dict[str, list[ChainRow]]:
    swapped = list(rows)
    swapped[3], swapped[9] = swapped[9], swapped[3]
    return {
        "payload": [*rows[:6], dataclasses.replace(rows[6], payload=b"{}"), *rows[7:]],
        "entry-hash": [*rows[:4], dataclasses.replace(rows[4], entry_hash="ab" * 32), *rows[5:]],
        "reforged-before-a-boundary": [*rows[:7], forge(rows[7], payload=b"{}"), *rows[8:]],
        "deleted-at-a-boundary": [*rows[:8], *rows[9:]],
        "swapped": swapped,
        "inserted": [*rows[:8], forge(rows[8], payload=b"{}"), *rows[8:]],
    }


@pytest.mark.parametrize("name", list(tamperings(make_chain(20))))
@pytest.mark.parametrize("top_level", [0, 1, 2, 3])
def test_slices_name_the_first_problem_the_whole_stream_names(name, top_level):
    tampered = tamperings(make_chain(20))[name]

    problem, _ = check_in_slices(tampered, top_level=top_level)

    assert problem is not None
    assert problem == verify_chain(tampered)
