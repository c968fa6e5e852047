#!/usr/bin/env python3
"""Verify a WatchPrice ledger export offline, with nothing but the Python standard library.

    python offline_verify.py export.jsonl [--public-key BASE64]

Exit status: 0 the export is intact; 1 it was tampered with (the first bad seq and the reason are
printed); 2 the file cannot be read as an export.

This file is self-contained on purpose: it is handed to auditors as-is and must not trust any of
the publisher's code. It re-implements the hash chain, the RFC 9162 Merkle tree hash and an
RFC 8032 Ed25519 verifier from their specifications.

Export format (JSON Lines, UTF-8, one JSON object per line)
-----------------------------------------------------------
An optional first line ``{"type": "header", "format": "watchprice-ledger-export-v1", ...}``;
other header fields (``origin``, ``exported_at``, ...) are informational, except that when
``origin`` is present every checkpoint must name that origin.

One line per ledger entry, in ascending ``seq`` order starting at 1::

    {"type": "entry", "seq": 1, "kind": "price_observed", "subject": "listing:5",
     "recorded_at": "2025-01-31T12:00:00.000000Z", "payload": "<canonical JSON text>",
     "payload_hash": "<64 hex>", "prev_hash": "<64 hex>", "entry_hash": "<64 hex>"}

``payload`` is the canonical payload JSON *as a string*: its UTF-8 bytes are what was hashed.

Any number of checkpoint lines, anywhere in the file::

    {"type": "checkpoint", "tree_size": 1000, "root_hash": "<64 hex>",
     "timestamp": "2025-01-31T12:00:00.000000Z" or null, "body": "<signed text>",
     "signature": "<base64, 64 bytes>", "public_key": "<base64, 32 bytes>"}

What is checked
---------------
1. The hash chain, entry by entry (first problem wins):
   ``payload_hash = SHA-256(payload)``;
   ``entry_hash = SHA-256("watchprice-ledger-entry-v1\\n" seq "\\n" kind "\\n" subject "\\n"
   recorded_at "\\n" payload_hash "\\n" prev_hash "\\n")`` (UTF-8);
   ``prev_hash`` = previous ``entry_hash``, 64 zeros for seq 1; seq gapless from 1.
   Reasons: GAP, REORDERED, DUPLICATE, ENTRY_HASH_MISMATCH, PAYLOAD_CHANGED, LINK_BROKEN (the
   rules that attribute each to a seq are those documented in the publisher's ``ledger/chain.py``
   and repeated in ``check_chain`` below).
2. Every checkpoint: the body is a C2SP checkpoint (origin, tree size, base64 root, optional
   ``timestamp <UTC>`` line) agreeing with the record's ``tree_size``/``root_hash``/``timestamp``;
   the Ed25519 signature over the body verifies (against ``--public-key`` when given, which is
   what an auditor should do: a key taken from the export proves only self-consistency); the
   tree size does not exceed the entries exported; and the RFC 9162 Merkle root over leaves
   ``SHA-256(0x00 || raw entry_hash bytes)`` for seq 1..tree_size equals the signed root.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import re
import sys
from collections.abc import Iterable, Iterator
from typing import Any

EXPORT_FORMAT = "watchprice-ledger-export-v1"
ENTRY_VERSION = "watchprice-ledger-entry-v1"
GENESIS_HASH = "0" * 64

EXIT_OK, EXIT_TAMPERED, EXIT_UNREADABLE = 0, 1, 2

_HEX64 = re.compile(r"[0-9a-f]{64}")
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")
_ORIGIN = re.compile(r"[\x21-\x2a\x2c-\x7e]+")


class Unreadable(Exception):
    """The input is not a well-formed export."""


class Tampered(Exception):
    """A verification failure; ``seq`` is the first bad entry when one can be named."""

    def __init__(self, seq: int | None, reason: str, message: str) -> None:
        super().__init__(message)
        self.seq, self.reason, self.message = seq, reason, message

    def __str__(self) -> str:
        where = f"first bad seq {self.seq}: " if self.seq is not None else ""
        return f"{where}{self.reason}: {self.message}"


# --- RFC 8032 Ed25519 verification (after the section 6 reference code) ---------------------

_P = 2**255 - 19
_Q = 2**252 + 27742317777372353535851937790883648493
_D = -121665 * pow(121666, _P - 2, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)


def _point_add(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    # Extended homogeneous coordinates (X, Y, Z, T), x = X/Z, y = Y/Z, x*y = T/Z.
    p = _P
    aa = (a[1] - a[0]) * (b[1] - b[0]) % p
    bb = (a[1] + a[0]) * (b[1] + b[0]) % p
    cc = 2 * a[3] * b[3] * _D % p
    dd = 2 * a[2] * b[2] % p
    e, f, g, h = bb - aa, dd - cc, dd + cc, bb + aa
    return (e * f % p, g * h % p, f * g % p, e * h % p)


def _point_mul(s: int, point: tuple[int, ...]) -> tuple[int, ...]:
    result: tuple[int, ...] = (0, 1, 1, 0)
    while s > 0:
        if s & 1:
            result = _point_add(result, point)
        point = _point_add(point, point)
        s >>= 1
    return result


def _point_equal(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    return (a[0] * b[2] - b[0] * a[2]) % _P == 0 and (a[1] * b[2] - b[1] * a[2]) % _P == 0


def _recover_x(y: int, sign: int) -> int | None:
    if y >= _P:
        return None
    # Reduced mod p before the zero test (the reference code tests the unreduced product), so
    # y = p - 1 with the sign bit set is rejected as RFC 8032 5.1.3 step 4 requires.
    x2 = (y * y - 1) * pow(_D * y * y + 1, _P - 2, _P) % _P
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P != 0:
        x = x * _SQRT_M1 % _P
    if (x * x - x2) % _P != 0:
        return None
    if (x & 1) != sign:
        x = _P - x
    return x


def _point_decompress(s: bytes) -> tuple[int, ...] | None:
    y = int.from_bytes(s, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    x = _recover_x(y, sign)
    return None if x is None else (x, y, 1, x * y % _P)


_G_Y = 4 * pow(5, _P - 2, _P) % _P
_G_X = _recover_x(_G_Y, 0) or 0
_G = (_G_X, _G_Y, 1, _G_X * _G_Y % _P)


def ed25519_verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """RFC 8032 5.1.7 verification (cofactorless, as in the section 6 reference code)."""
    if len(public_key) != 32 or len(signature) != 64:
        return False
    a = _point_decompress(public_key)
    if a is None:
        return False
    r_bytes = signature[:32]
    r = _point_decompress(r_bytes)
    if r is None:
        return False
    s = int.from_bytes(signature[32:], "little")
    if s >= _Q:
        return False
    h = int.from_bytes(hashlib.sha512(r_bytes + public_key + message).digest(), "little") % _Q
    return _point_equal(_point_mul(s, _G), _point_add(r, _point_mul(h, a)))


# --- RFC 9162 Merkle tree hash ---------------------------------------------------------------


def merkle_roots(leaf_hashes: Iterable[bytes], sizes: Iterable[int]) -> dict[int, bytes]:
    """Roots of the trees over the first ``size`` leaves, for each wanted size, in one pass."""
    sha256 = hashlib.sha256
    wanted = set(sizes)
    roots = {}
    if 0 in wanted:
        roots[0] = sha256(b"").digest()
    peaks: list[tuple[int, bytes]] = []  # complete subtrees, strictly decreasing height
    for count, leaf in enumerate(leaf_hashes, start=1):
        height, h = 0, leaf
        while peaks and peaks[-1][0] == height:
            h = sha256(b"\x01" + peaks.pop()[1] + h).digest()
            height += 1
        peaks.append((height, h))
        if count in wanted:
            root = peaks[-1][1]
            for _, peak in reversed(peaks[:-1]):
                root = sha256(b"\x01" + peak + root).digest()
            roots[count] = root
    return roots


# --- the hash chain --------------------------------------------------------------------------


def check_chain(entries: Iterable[dict[str, Any]]) -> Tampered | None:
    """First chain problem among ``entries`` (dicts as in the export), or None."""
    sha256 = hashlib.sha256
    expected, prev_hash, prev = 1, GENESIS_HASH, None
    it: Iterator[dict[str, Any]] = iter(entries)
    row = next(it, None)
    while row is not None:
        nxt = next(it, None)
        seq = row["seq"]
        if seq != expected:
            if prev is not None and seq == prev["seq"]:
                return Tampered(seq, "DUPLICATE", f"seq {seq} appears twice in a row")
            if seq < expected:
                return Tampered(seq, "REORDERED", f"seq {seq} appears after seq {expected - 1}")
            if nxt is not None and (
                nxt["seq"] == expected or (nxt["seq"] == expected + 1 and seq != expected + 1)
            ):
                return Tampered(
                    expected, "REORDERED", f"seq {seq} sits where seq {expected} belongs"
                )
            return Tampered(expected, "GAP", f"seq {expected} missing: seq {seq} comes next")

        # A row with the same predecessor as the row before it forks the chain: that earlier
        # row was inserted. As in ledger/chain.py it only decides the verdict once a check fails.
        fork = prev is not None and row["prev_hash"] == prev["prev_hash"]
        header = (
            f"{ENTRY_VERSION}\n{seq}\n{row['kind']}\n{row['subject']}\n{row['recorded_at']}\n"
            f"{row['payload_hash']}\n{row['prev_hash']}\n"
        )
        try:
            ok = sha256(header.encode()).hexdigest() == row["entry_hash"]
        except UnicodeEncodeError:
            ok = False
        if not ok:
            if fork:
                return Tampered(prev["seq"], "DUPLICATE", f"entry {prev['seq']} was inserted")
            return Tampered(seq, "ENTRY_HASH_MISMATCH", "fields do not hash to entry_hash")
        payload = row["payload"].encode("utf-8", "surrogatepass")
        if sha256(payload).hexdigest() != row["payload_hash"]:
            return Tampered(seq, "PAYLOAD_CHANGED", "payload does not hash to payload_hash")
        if row["prev_hash"] != prev_hash:
            if prev is None:
                return Tampered(seq, "LINK_BROKEN", "prev_hash is not the genesis hash")
            if fork:
                return Tampered(prev["seq"], "DUPLICATE", f"entry {prev['seq']} was inserted")
            if nxt is not None and nxt["prev_hash"] == row["entry_hash"]:
                # This row is vouched for by its successor, so the previous one was replaced.
                return Tampered(prev["seq"], "LINK_BROKEN", f"entry {prev['seq']} was replaced")
            return Tampered(seq, "LINK_BROKEN", f"prev_hash is not entry {prev['seq']}'s hash")
        prev, prev_hash, expected = row, row["entry_hash"], seq + 1
        row = nxt
    return None


# --- reading the export ----------------------------------------------------------------------

_ENTRY_FIELDS = {
    "seq": int,
    "kind": str,
    "subject": str,
    "recorded_at": str,
    "payload": str,
    "payload_hash": str,
    "prev_hash": str,
    "entry_hash": str,
}
_CHECKPOINT_FIELDS = {
    "tree_size": int,
    "root_hash": str,
    "body": str,
    "signature": str,
    "public_key": str,
}


def _require(record: dict[str, Any], fields: dict[str, type], line_no: int) -> None:
    for name, kind in fields.items():
        value = record.get(name)
        if type(value) is not kind:
            raise Unreadable(f"line {line_no}: field {name!r} must be {kind.__name__}")


def _b64(value: str, length: int, what: str) -> bytes:
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise Unreadable(f"{what} is not base64") from None
    if len(raw) != length:
        raise Unreadable(f"{what} is not {length} bytes")
    return raw


def read_export(
    lines: Iterable[str], header: dict[str, Any], checkpoints: list[tuple[int, dict[str, Any]]]
) -> Iterator[dict[str, Any]]:
    """Yield entry records; fill ``header`` and ``checkpoints`` (line number, record) on the way."""
    for line_no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            raise Unreadable(f"line {line_no}: not JSON ({exc})") from None
        if not isinstance(record, dict):
            raise Unreadable(f"line {line_no}: not a JSON object")
        kind = record.get("type")
        if kind == "entry":
            _require(record, _ENTRY_FIELDS, line_no)
            for name in ("payload_hash", "prev_hash", "entry_hash"):
                if not _HEX64.fullmatch(record[name]):
                    raise Unreadable(f"line {line_no}: {name} is not 64 lowercase hex digits")
            yield record
        elif kind == "checkpoint":
            _require(record, _CHECKPOINT_FIELDS, line_no)
            if not _HEX64.fullmatch(record["root_hash"]):
                raise Unreadable(f"line {line_no}: root_hash is not 64 lowercase hex digits")
            if record.get("timestamp") is not None and type(record["timestamp"]) is not str:
                raise Unreadable(f"line {line_no}: timestamp must be a string or null")
            _b64(record["signature"], 64, f"line {line_no}: signature")
            _b64(record["public_key"], 32, f"line {line_no}: public_key")
            checkpoints.append((line_no, record))
        elif kind == "header" and line_no == 1:
            if record.get("format") != EXPORT_FORMAT:
                raise Unreadable(f"line 1: header format is not {EXPORT_FORMAT!r}")
            if type(record.get("origin", "")) is not str:
                raise Unreadable("line 1: header origin must be a string")
            header.update(record)
        else:
            raise Unreadable(f"line {line_no}: unknown record type {kind!r}")


def parse_checkpoint_body(body: str) -> tuple[str, int, bytes, str | None] | None:
    """(origin, tree size, root hash, timestamp) of a C2SP checkpoint body, or None."""
    if not body.endswith("\n"):
        return None
    lines = body[:-1].split("\n")
    if len(lines) < 3 or not _ORIGIN.fullmatch(lines[0]):
        return None
    if not re.fullmatch(r"0|[1-9][0-9]*", lines[1]):
        return None
    try:
        root = base64.b64decode(lines[2], validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(root) != 32 or base64.b64encode(root).decode() != lines[2]:
        return None
    timestamp = None
    for extra in lines[3:]:
        if not extra:
            return None
        if extra.startswith("timestamp ") and timestamp is None:
            timestamp = extra.removeprefix("timestamp ")
            if not _TIMESTAMP.fullmatch(timestamp):
                return None
    return lines[0], int(lines[1]), root, timestamp


def check_checkpoints(
    checkpoints: list[tuple[int, dict[str, Any]]],
    leaf_hashes: list[bytes],
    *,
    pinned_key: bytes | None,
    origin: str | None,
) -> Tampered | None:
    """First problem with any checkpoint, in tree size order, or None."""
    roots = merkle_roots(leaf_hashes, (rec["tree_size"] for _, rec in checkpoints))
    verified_size = 0
    for line_no, rec in sorted(checkpoints, key=lambda item: item[1]["tree_size"]):
        size = rec["tree_size"]
        where = f"checkpoint on line {line_no} (tree size {size})"
        parsed = parse_checkpoint_body(rec["body"])
        if parsed is None:
            return Tampered(None, "CHECKPOINT_MISMATCH", f"{where}: body is not a checkpoint")
        body_origin, body_size, body_root, body_timestamp = parsed
        if (body_size, body_root.hex(), body_timestamp) != (
            size,
            rec["root_hash"],
            rec.get("timestamp"),
        ):
            return Tampered(None, "CHECKPOINT_MISMATCH", f"{where}: fields differ from its body")
        if origin is not None and body_origin != origin:
            return Tampered(None, "CHECKPOINT_MISMATCH", f"{where}: origin is {body_origin!r}")
        key = base64.b64decode(rec["public_key"])
        if pinned_key is not None and key != pinned_key:
            return Tampered(None, "KEY_MISMATCH", f"{where}: signed by another key")
        signature = base64.b64decode(rec["signature"])
        try:
            signed = ed25519_verify(key, rec["body"].encode("utf-8"), signature)
        except UnicodeEncodeError:
            signed = False
        if not signed:
            return Tampered(None, "BAD_SIGNATURE", f"{where}: signature does not verify")
        if size > len(leaf_hashes):
            return Tampered(
                len(leaf_hashes) + 1,
                "TRUNCATED",
                f"{where}: the export ends at seq {len(leaf_hashes)}; "
                f"entries {len(leaf_hashes) + 1}..{size} were signed but are missing",
            )
        if roots[size] != body_root:
            # The chain itself checked out, so it was re-forged consistently; the signed roots
            # still pin the first bad entry between the last checkpoint that matched and this one.
            return Tampered(
                None,
                "ROOT_MISMATCH",
                f"{where}: the entries do not hash to the signed root; the chain was re-forged "
                f"and the first bad seq is in {verified_size + 1}..{size}",
            )
        verified_size = size
    return None


def verify_export(
    lines: Iterable[str], *, pinned_key: bytes | None = None
) -> tuple[str, Tampered | None]:
    """Return (summary, first problem). Raises Unreadable for malformed input."""
    header: dict[str, Any] = {}
    checkpoints: list[tuple[int, dict[str, Any]]] = []
    leaf_hashes: list[bytes] = []

    def entries() -> Iterator[dict[str, Any]]:
        for record in read_export(lines, header, checkpoints):
            yield record
            # RFC 9162 leaf hash of the leaf data, the 32 raw bytes of the entry hash. Only used
            # once the whole chain has verified.
            leaf_hashes.append(
                hashlib.sha256(b"\x00" + bytes.fromhex(record["entry_hash"])).digest()
            )

    problem = check_chain(entries())
    if problem is not None:
        return "", problem
    if not leaf_hashes and not checkpoints and not header:
        raise Unreadable("no records")
    origin = header.get("origin")
    problem = check_checkpoints(
        checkpoints, leaf_hashes, pinned_key=pinned_key, origin=origin if origin else None
    )
    if problem is not None:
        return "", problem
    n = len(leaf_hashes)
    latest = max((rec["tree_size"] for _, rec in checkpoints), default=0)
    summary = [f"OK: {n} entries (seq 1..{n}), hash chain intact"]
    if checkpoints:
        keys = sorted({rec["public_key"] for _, rec in checkpoints})
        summary.append(
            f"{len(checkpoints)} signed checkpoint(s) verified, latest at tree size {latest}, "
            f"signed by {', '.join(keys)}"
            + ("" if pinned_key else " (key taken from the export; pin it with --public-key)")
        )
    else:
        summary.append("no signed checkpoints: only internal consistency was shown")
    if latest < n:
        summary.append(f"entries {latest + 1}..{n} are not covered by a signed checkpoint yet")
    return "\n".join(summary), None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Verify a WatchPrice ledger export offline.")
    parser.add_argument("export", help="JSON Lines export file")
    parser.add_argument("--public-key", help="the publisher's Ed25519 key, base64 of 32 bytes")
    args = parser.parse_args(argv)
    try:
        pinned = _b64(args.public_key, 32, "--public-key") if args.public_key else None
        with open(args.export, encoding="utf-8") as handle:
            summary, problem = verify_export(handle, pinned_key=pinned)
    except (OSError, UnicodeDecodeError, Unreadable) as exc:
        print(f"UNREADABLE: {exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    if problem is not None:
        print(f"TAMPERED: {problem}")
        return EXIT_TAMPERED
    print(summary)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
