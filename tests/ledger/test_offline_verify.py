"""The auditors' stdlib-only verifier, end to end as a subprocess, and against ledger/*.py."""

from __future__ import annotations

import ast
import base64
import dataclasses
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger import offline_verify
from ledger.chain import GENESIS_HASH, ChainRow, build_row, leaf_input, verify_chain
from ledger.checkpoint import public_key_b64, sign_checkpoint
from ledger.merkle import MerkleTree, leaf_hash, root_hash

SCRIPT = Path(offline_verify.__file__).resolve()
REPO = SCRIPT.parents[1]
ORIGIN = "watchprice.example/ledger"
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
START = datetime(2025, 1, 31, 12, 0, tzinfo=UTC)


def make_chain(n: int, *, first: int = 1, prev_hash: str = GENESIS_HASH) -> list[ChainRow]:
    rows = []
    for seq in range(first, first + n):
        row = build_row(
            seq=seq,
            kind="price_observed",
            subject=f"listing:{seq % 5}",
            recorded_at=START + timedelta(minutes=seq),
            payload={"price": Decimal(f"{12000 + seq}.00"), "currency": "EUR", "note": "Zürich"},
            prev_hash=prev_hash,
        )
        rows.append(row)
        prev_hash = row.entry_hash
    return rows


def reforge(rows: list[ChainRow], **changes: Any) -> ChainRow:
    """Replace the last row by a self-consistent forgery with ``changes`` applied."""
    fields = dataclasses.asdict(rows[-1]) | changes
    return build_row(
        seq=fields["seq"],
        kind=fields["kind"],
        subject=fields["subject"],
        recorded_at=fields["recorded_at"],
        payload=fields["payload"],
        prev_hash=fields["prev_hash"],
    )


def export_records(
    rows: list[ChainRow],
    *,
    checkpoint_sizes: tuple[int, ...] = (10, 25, 40),
    key: Ed25519PrivateKey = KEY,
    signed_rows: list[ChainRow] | None = None,
) -> list[dict[str, Any]]:
    """Header, entries, and each checkpoint right after the entry that completes it.

    Checkpoints are signed over ``signed_rows`` (default: ``rows``), so a test can sign the
    genuine ledger and then export a tampered copy of it, as a compromised database would.
    """
    signed_over = rows if signed_rows is None else signed_rows
    tree = MerkleTree(leaf_hash(leaf_input(r.entry_hash)) for r in signed_over)
    checkpoints = {
        size: sign_checkpoint(
            key,
            origin=ORIGIN,
            tree_size=size,
            root_hash=tree.root(size),
            timestamp=START + timedelta(hours=size),
        ).export_record()
        for size in checkpoint_sizes
    }
    records: list[dict[str, Any]] = [
        {"type": "header", "format": offline_verify.EXPORT_FORMAT, "origin": ORIGIN}
    ]
    for row in rows:
        records.append(row.export_record())
        if row.seq in checkpoints:
            records.append(checkpoints.pop(row.seq))
    records.extend(checkpoints.values())  # signed sizes beyond what was exported
    return records


def write(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8")
    return path


def run(*args: str | Path, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def verify_file(path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return run("ledger/offline_verify.py", path, *extra)


@pytest.fixture
def rows() -> list[ChainRow]:
    return make_chain(40)


# --- intact exports ----------------------------------------------------------------------------


def test_an_intact_export_exits_0_with_a_summary(tmp_path: Path, rows: list[ChainRow]) -> None:
    result = verify_file(write(tmp_path / "export.jsonl", export_records(rows)))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK: 40 entries (seq 1..40), hash chain intact" in result.stdout
    assert "3 signed checkpoint(s) verified, latest at tree size 40" in result.stdout
    assert "pin it with --public-key" in result.stdout
    assert result.stderr == ""


def test_entries_newer_than_the_last_checkpoint_are_pointed_out(tmp_path: Path) -> None:
    rows = make_chain(45)
    result = verify_file(write(tmp_path / "export.jsonl", export_records(rows)))
    assert result.returncode == 0, result.stdout
    assert "entries 41..45 are not covered by a signed checkpoint yet" in result.stdout


def test_the_publishers_key_can_be_pinned(tmp_path: Path, rows: list[ChainRow]) -> None:
    path = write(tmp_path / "export.jsonl", export_records(rows))
    result = verify_file(path, "--public-key", public_key_b64(KEY))
    assert result.returncode == 0, result.stdout
    assert "pin it" not in result.stdout


def test_the_script_runs_alone_with_no_project_and_no_site_packages(
    tmp_path: Path, rows: list[ChainRow]
) -> None:
    # -I: no PYTHONPATH, no user site, no script directory on sys.path; -S: no site-packages.
    # So only the standard library is importable, as on an auditor's machine.
    shipped = tmp_path / "auditor" / "offline_verify.py"
    shipped.parent.mkdir()
    shutil.copy(SCRIPT, shipped)
    path = write(tmp_path / "export.jsonl", export_records(rows))
    result = run("-I", "-S", shipped, path, cwd=shipped.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK: 40 entries" in result.stdout


def test_the_script_imports_nothing_but_the_standard_library() -> None:
    tree = ast.parse(SCRIPT.read_text("utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "relative import"
            imported.add((node.module or "").split(".")[0])
    assert imported
    assert imported - {"__future__"} <= sys.stdlib_module_names, imported


# --- tampered exports (exit 1) -----------------------------------------------------------------


def assert_tampered(result: subprocess.CompletedProcess[str], expected: str) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.startswith("TAMPERED: ")
    assert expected in result.stdout, result.stdout


def test_an_edited_price_names_the_first_bad_seq(tmp_path: Path, rows: list[ChainRow]) -> None:
    records = export_records(rows)
    entry = next(r for r in records if r.get("seq") == 7)
    entry["payload"] = entry["payload"].replace("12007.00", "7.00")
    result = verify_file(write(tmp_path / "export.jsonl", records))
    assert_tampered(result, "first bad seq 7: PAYLOAD_CHANGED")


def test_a_deleted_entry_is_a_gap(tmp_path: Path, rows: list[ChainRow]) -> None:
    records = [r for r in export_records(rows) if r.get("seq") != 7]
    assert_tampered(verify_file(write(tmp_path / "e.jsonl", records)), "first bad seq 7: GAP")


def test_swapped_lines_are_reordered(tmp_path: Path, rows: list[ChainRow]) -> None:
    records = export_records(rows)
    i = next(i for i, r in enumerate(records) if r.get("seq") == 7)
    records[i], records[i + 1] = records[i + 1], records[i]
    result = verify_file(write(tmp_path / "e.jsonl", records))
    assert_tampered(result, "first bad seq 7: REORDERED")


def test_a_replaced_entry_is_blamed_even_though_its_hashes_were_recomputed(
    tmp_path: Path, rows: list[ChainRow]
) -> None:
    rows[6] = reforge(rows[:7], payload=rows[6].payload.replace(b"12007.00", b"7.00"))
    result = verify_file(write(tmp_path / "e.jsonl", export_records(rows)))
    assert_tampered(result, "first bad seq 7: LINK_BROKEN")


def test_a_chain_re_forged_to_the_end_is_caught_by_the_signed_roots(
    tmp_path: Path, rows: list[ChainRow]
) -> None:
    # Entry 17 edited and every later hash recomputed: the chain is consistent again, only the
    # checkpoints signed before the edit still describe the original entries.
    edited = reforge(rows[:17], payload=b'{"currency":"EUR","price":"1.00"}')
    forged = [*rows[:16], edited, *make_chain(23, first=18, prev_hash=edited.entry_hash)]
    assert verify_chain(forged) is None
    result = verify_file(write(tmp_path / "e.jsonl", export_records(forged, signed_rows=rows)))
    assert_tampered(result, "ROOT_MISMATCH")
    assert "tree size 25" in result.stdout
    assert "first bad seq is in 11..25" in result.stdout


def test_deleting_signed_entries_at_the_end_is_truncation(
    tmp_path: Path, rows: list[ChainRow]
) -> None:
    result = verify_file(write(tmp_path / "e.jsonl", export_records(rows[:35], signed_rows=rows)))
    assert_tampered(result, "first bad seq 36: TRUNCATED")


def test_an_edited_checkpoint_fails_its_signature(tmp_path: Path, rows: list[ChainRow]) -> None:
    records = export_records(rows)
    checkpoint = next(r for r in records if r["type"] == "checkpoint" and r["tree_size"] == 25)
    checkpoint["body"] = checkpoint["body"].replace("\n25\n", "\n24\n")
    checkpoint["tree_size"] = 24
    result = verify_file(write(tmp_path / "e.jsonl", records))
    assert_tampered(result, "BAD_SIGNATURE")


def test_a_checkpoint_record_disagreeing_with_its_signed_body_is_refused(
    tmp_path: Path, rows: list[ChainRow]
) -> None:
    records = export_records(rows)
    checkpoint = next(r for r in records if r["type"] == "checkpoint")
    checkpoint["root_hash"] = "ab" * 32
    result = verify_file(write(tmp_path / "e.jsonl", records))
    assert_tampered(result, "CHECKPOINT_MISMATCH")


def test_a_ledger_re_signed_with_another_key_only_fails_against_the_pinned_key(
    tmp_path: Path, rows: list[ChainRow]
) -> None:
    rows[6] = reforge(rows[:7], payload=b"{}")
    forged = rows[:7] + make_chain(33, first=8, prev_hash=rows[6].entry_hash)
    impostor = Ed25519PrivateKey.generate()
    path = write(tmp_path / "e.jsonl", export_records(forged, key=impostor))
    # Self-consistent, so without a pinned key it passes: the summary says whose key it was.
    unpinned = verify_file(path)
    assert unpinned.returncode == 0
    assert public_key_b64(impostor) in unpinned.stdout
    assert_tampered(verify_file(path, "--public-key", public_key_b64(KEY)), "KEY_MISMATCH")


# --- unreadable input (exit 2) -----------------------------------------------------------------


def assert_unreadable(result: subprocess.CompletedProcess[str], expected: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""
    assert result.stderr.startswith("UNREADABLE: ")
    assert expected in result.stderr, result.stderr


def test_a_missing_file_is_unreadable(tmp_path: Path) -> None:
    assert_unreadable(verify_file(tmp_path / "nope.jsonl"), "No such file")


def test_an_empty_file_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_text("")
    assert_unreadable(verify_file(path), "no records")


def test_binary_garbage_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "garbage.jsonl"
    path.write_bytes(b"\xff\xfe\x00garbage\n")
    assert_unreadable(verify_file(path), "utf-8")


@pytest.mark.parametrize(
    ("breakage", "complaint"),
    [
        (lambda recs: recs.insert(3, "{not json"), "line 4: not JSON"),
        (lambda recs: recs[2].pop("entry_hash"), "line 3: field 'entry_hash' must be str"),
        (lambda recs: recs[2].update(seq="3"), "line 3: field 'seq' must be int"),
        (lambda recs: recs[2].update(prev_hash="XYZ"), "line 3: prev_hash is not 64 lowercase"),
        (lambda recs: recs[2].update(type="entri"), "line 3: unknown record type 'entri'"),
        (lambda recs: recs[0].update(format="v0"), "line 1: header format"),
        (lambda recs: recs.append(recs[0]), "unknown record type 'header'"),
        (lambda recs: recs.insert(1, [1, 2]), "line 2: not a JSON object"),
    ],
)
def test_a_malformed_export_is_unreadable(
    tmp_path: Path,
    rows: list[ChainRow],
    breakage: Callable[[list[Any]], object],
    complaint: str,
) -> None:
    records: list[Any] = export_records(rows)
    breakage(records)
    path = tmp_path / "e.jsonl"
    path.write_text(
        "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records), "utf-8"
    )
    assert_unreadable(verify_file(path), complaint)


def test_a_malformed_pinned_key_is_unreadable(tmp_path: Path, rows: list[ChainRow]) -> None:
    path = write(tmp_path / "e.jsonl", export_records(rows))
    assert_unreadable(verify_file(path, "--public-key", "abc"), "--public-key")


# --- the stdlib re-implementation agrees with ledger/chain.py and ledger/merkle.py ------------

Tamper = Callable[[list[ChainRow], int], list[ChainRow]]


def _edit_payload(rows: list[ChainRow], k: int) -> list[ChainRow]:
    rows[k] = dataclasses.replace(rows[k], payload=rows[k].payload + b" ")
    return rows


def _delete(rows: list[ChainRow], k: int) -> list[ChainRow]:
    return rows[:k] + rows[k + 1 :]


def _swap_next(rows: list[ChainRow], k: int) -> list[ChainRow]:
    if k + 1 < len(rows):
        rows[k], rows[k + 1] = rows[k + 1], rows[k]
    return rows


def _swap_far(rows: list[ChainRow], k: int) -> list[ChainRow]:
    j = (k + 5) % len(rows)
    rows[k], rows[j] = rows[j], rows[k]
    return rows


def _swap_contents(rows: list[ChainRow], k: int) -> list[ChainRow]:
    j = (k + 3) % len(rows)
    a, b = rows[k], rows[j]
    rows[k], rows[j] = dataclasses.replace(b, seq=a.seq), dataclasses.replace(a, seq=b.seq)
    return rows


def _replace_with_forgery(rows: list[ChainRow], k: int) -> list[ChainRow]:
    rows[k] = reforge(rows[: k + 1], payload=b"{}")
    return rows


def _rechain(rows: list[ChainRow], k: int) -> list[ChainRow]:
    rows[k] = reforge(rows[: k + 1], prev_hash="ab" * 32)
    return rows


def _duplicate(rows: list[ChainRow], k: int) -> list[ChainRow]:
    rows.insert(k + 1, reforge(rows[: k + 1], payload=b'{"x":1}'))
    return rows


def _insert_and_renumber(rows: list[ChainRow], k: int) -> list[ChainRow]:
    forged = reforge(rows[: k + 1], payload=b'{"x":1}')
    return [*rows[:k], forged, *(dataclasses.replace(r, seq=r.seq + 1) for r in rows[k:])]


def _rewrite(field: str, value: str) -> Tamper:
    def tamper(rows: list[ChainRow], k: int) -> list[ChainRow]:
        rows[k] = dataclasses.replace(rows[k], **{field: value})
        return rows

    return tamper


TAMPERINGS: dict[str, Tamper] = {
    "edit payload": _edit_payload,
    "delete": _delete,
    "swap with next": _swap_next,
    "swap far": _swap_far,
    "swap contents": _swap_contents,
    "replace with forgery": _replace_with_forgery,
    "re-chain": _rechain,
    "duplicate seq": _duplicate,
    "insert and renumber": _insert_and_renumber,
    "rewrite entry_hash": _rewrite("entry_hash", "cd" * 32),
    "rewrite prev_hash": _rewrite("prev_hash", "cd" * 32),
    "rewrite payload_hash": _rewrite("payload_hash", "cd" * 32),
    "rewrite subject": _rewrite("subject", "listing:77"),
    "rewrite kind with a newline": _rewrite("kind", "price\nobserved"),
}


@pytest.mark.parametrize("name", TAMPERINGS)
def test_both_chain_verifiers_name_the_same_seq_and_reason_for_every_tampering(name: str) -> None:
    n = 15
    for k in range(n):
        tampered = TAMPERINGS[name](make_chain(n), k)
        ours = verify_chain(tampered)
        theirs = offline_verify.check_chain(r.export_record() for r in tampered)
        # Only a change to the very last entry can hide from the chain (nothing links to it).
        undetectable = k == n - 1 and name in {"swap with next", "replace with forgery", "delete"}
        assert (ours is None) is undetectable, (name, k, ours)
        assert (ours and (ours.seq, str(ours.reason))) == (
            theirs and (theirs.seq, theirs.reason)
        ), (name, k, ours, theirs)


def test_both_chain_verifiers_accept_the_same_intact_chains() -> None:
    for n in (0, 1, 2, 17):
        rows = make_chain(n)
        assert verify_chain(rows) is None
        assert offline_verify.check_chain(r.export_record() for r in rows) is None


def test_both_merkle_implementations_compute_the_same_roots() -> None:
    leaves = [leaf_hash(i.to_bytes(2, "big")) for i in range(130)]
    roots = offline_verify.merkle_roots(leaves, range(131))
    assert roots == {size: root_hash(leaves[:size]) for size in range(131)}


def test_the_in_process_api_returns_the_summary_or_the_problem(rows: list[ChainRow]) -> None:
    lines = [json.dumps(r) for r in export_records(rows)]
    summary, problem = offline_verify.verify_export(lines)
    assert problem is None
    assert summary.startswith("OK: 40 entries")
    pinned = base64.b64decode(public_key_b64(Ed25519PrivateKey.generate()))
    _, problem = offline_verify.verify_export(lines, pinned_key=pinned)
    assert problem is not None
    assert problem.reason == "KEY_MISMATCH"
