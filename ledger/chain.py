"""The ledger's hash chain: every entry commits to its payload and to the entry before it.

This docstring is the specification; an outsider can re-verify a ledger from it alone (and
``ledger/offline_verify.py`` is such an independent, standard-library-only re-implementation).

Entry fields
------------
``seq``
    Gapless positive integer, 1 for the first entry, +1 per entry.
``kind``
    What happened, a lowercase token matching ``[a-z][a-z0-9_.]*`` (e.g. ``price_observed``).
``subject``
    What it happened to: ``"<model>:<id>"`` with ``<model>`` matching ``[a-z][a-z0-9_]*`` and
    ``<id>`` matching ``[A-Za-z0-9_.-]+`` (e.g. ``product:12``, ``listing:5``), or ``""`` when the
    entry is about no single object.
``recorded_at``
    When the entry was appended, as the canonical UTC string ``YYYY-MM-DDTHH:MM:SS.ffffffZ``
    (see ``ledger.canonical.format_utc``).
``payload``
    The entry's data as canonical JSON bytes (``ledger.canonical.canonical_json``).

Hashes (all SHA-256, written as 64 lowercase hex characters)
-------------------------------------------------------------
``payload_hash = SHA-256(payload bytes)``

``entry_hash = SHA-256(header)`` where ``header`` is the UTF-8 encoding of exactly these seven
lines, each terminated by a single ``\\n`` (0x0A), with nothing before or after::

    watchprice-ledger-entry-v1
    <seq in decimal, no sign, no leading zeros>
    <kind>
    <subject>
    <recorded_at>
    <payload_hash>
    <prev_hash>

``prev_hash`` is the ``entry_hash`` of entry ``seq - 1``; for ``seq == 1`` it is ``GENESIS_HASH``,
64 ``0`` characters. No field may contain a newline (the writer refuses them); since all seven
fields are newline-terminated, values containing a newline can never reproduce the header bytes
of newline-free ones, so the header is unambiguous. Example for a first entry::

    b"watchprice-ledger-entry-v1\\n1\\nprice_observed\\nlisting:5\\n"
    b"2025-01-31T12:00:00.000000Z\\n<64 hex>\\n0000...0000\\n"

The header is a plain newline-joined string rather than JSON so that verification costs two
SHA-256 calls and one string format per entry.

Merkle leaves
-------------
The ledger's RFC 9162 Merkle tree has one leaf per entry, in ``seq`` order; leaf ``seq - 1`` has
as its data the 32 raw bytes of ``entry_hash`` (``leaf_input``), so its leaf hash is
``SHA-256(0x00 || bytes.fromhex(entry_hash))``.

Verification and how tampering shows up
---------------------------------------
``verify_chain`` reads rows in the order given (stream them ``ORDER BY seq``, or in storage order
to also catch rows written out of order) and returns the first problem. For each row, in order:

1. Position. A ``seq`` equal to the previous row's is ``DUPLICATE``; one lower than expected is
   ``REORDERED``. One higher than the expected ``k`` is ``REORDERED`` at ``k`` when the next row
   shows the sequence resuming (it has ``seq`` ``k``, or ``k + 1`` while this row is not ``k + 1``:
   this row belongs elsewhere), otherwise ``GAP`` at ``k`` (``k`` is missing).
2. ``ENTRY_HASH_MISMATCH``: the header rebuilt from the row's own fields does not hash to its
   stored ``entry_hash`` (a header field or a stored hash was rewritten, or a row was renumbered).
3. ``PAYLOAD_CHANGED``: the payload bytes do not hash to ``payload_hash`` (the data was edited
   in place, e.g. a price changed, and the hashes were left alone).
4. ``LINK_BROKEN``: the row is self-consistent but its ``prev_hash`` is not the previous row's
   ``entry_hash``. Blame goes to the row that changed: when the next row still links to this
   row, this row is intact and the *previous* row was replaced by a self-consistent forgery, so
   the problem is reported at the previous ``seq``; otherwise at this row's ``seq``.

A row inserted with its own, correct hashes forks the chain: it and the displaced original both
name the same predecessor in ``prev_hash``. When a row fails check 2 or 4 and its ``prev_hash``
equals the previous row's ``prev_hash``, the previous row is reported as ``DUPLICATE``: two
entries claim one position.

What the chain alone cannot see: changes at the tail that leave it consistent, namely rows
appended after the last entry (the hash is unkeyed, so anyone able to write the table can extend
it), the last rows deleted, or everything from some entry to the end re-hashed. Signed
checkpoints of the Merkle root (``checkpoint.py``) catch those up to the last signed size.
"""

from __future__ import annotations

import enum
import hashlib
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ledger.canonical import canonical_json, format_utc

__all__ = [
    "ENTRY_VERSION",
    "GENESIS_HASH",
    "ChainProblem",
    "ChainRow",
    "Reason",
    "build_row",
    "compute_entry_hash",
    "compute_payload_hash",
    "entry_header",
    "leaf_input",
    "verify_chain",
]

ENTRY_VERSION = "watchprice-ledger-entry-v1"
GENESIS_HASH = "0" * 64

_KIND_RE = re.compile(r"[a-z][a-z0-9_.]*")
_SUBJECT_RE = re.compile(r"(?:[a-z][a-z0-9_]*:[A-Za-z0-9_.-]+)?")
_RECORDED_AT_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")
_HEX64_RE = re.compile(r"[0-9a-f]{64}")


class Reason(enum.StrEnum):
    PAYLOAD_CHANGED = "PAYLOAD_CHANGED"
    ENTRY_HASH_MISMATCH = "ENTRY_HASH_MISMATCH"
    LINK_BROKEN = "LINK_BROKEN"
    GAP = "GAP"
    REORDERED = "REORDERED"
    DUPLICATE = "DUPLICATE"


@dataclass(frozen=True, slots=True)
class ChainProblem:
    seq: int
    reason: Reason
    message: str

    def __str__(self) -> str:
        return f"seq {self.seq}: {self.reason}: {self.message}"


@dataclass(frozen=True, slots=True)
class ChainRow:
    seq: int
    kind: str
    subject: str
    recorded_at: str
    payload: bytes | str
    payload_hash: str
    prev_hash: str
    entry_hash: str

    def export_record(self) -> dict[str, Any]:
        """The JSON Lines record ``ledger/offline_verify.py`` reads."""
        payload = self.payload
        return {
            "type": "entry",
            "seq": self.seq,
            "kind": self.kind,
            "subject": self.subject,
            "recorded_at": self.recorded_at,
            "payload": payload.decode("utf-8") if isinstance(payload, bytes) else payload,
            "payload_hash": self.payload_hash,
            "prev_hash": self.prev_hash,
            "entry_hash": self.entry_hash,
        }


def compute_payload_hash(payload: bytes | str) -> str:
    """SHA-256 hex of the canonical payload bytes (a ``str`` is taken as its UTF-8 bytes)."""
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    return hashlib.sha256(payload).hexdigest()


def entry_header(
    *,
    seq: int,
    kind: str,
    subject: str,
    recorded_at: str | datetime,
    payload_hash: str,
    prev_hash: str,
) -> bytes:
    """The exact bytes ``entry_hash`` is computed over, after validating every field."""
    if isinstance(recorded_at, datetime):
        recorded_at = format_utc(recorded_at)
    if type(seq) is not int or seq < 1:
        raise ValueError(f"seq must be an int >= 1, got {seq!r}")
    if not _KIND_RE.fullmatch(kind):
        raise ValueError(f"kind {kind!r} must match {_KIND_RE.pattern}")
    if not _SUBJECT_RE.fullmatch(subject):
        raise ValueError(f"subject {subject!r} must be '' or '<model>:<id>', e.g. 'product:12'")
    if not _RECORDED_AT_RE.fullmatch(recorded_at):
        raise ValueError(f"recorded_at {recorded_at!r} must be YYYY-MM-DDTHH:MM:SS.ffffffZ")
    for name, value in (("payload_hash", payload_hash), ("prev_hash", prev_hash)):
        if not _HEX64_RE.fullmatch(value):
            raise ValueError(f"{name} {value!r} must be 64 lowercase hex characters")
    return (
        f"{ENTRY_VERSION}\n{seq}\n{kind}\n{subject}\n{recorded_at}\n{payload_hash}\n{prev_hash}\n"
    ).encode()


def compute_entry_hash(
    *,
    seq: int,
    kind: str,
    subject: str,
    recorded_at: str | datetime,
    payload_hash: str,
    prev_hash: str,
) -> str:
    """SHA-256 hex of the entry header (see the module docstring for the byte layout)."""
    header = entry_header(
        seq=seq,
        kind=kind,
        subject=subject,
        recorded_at=recorded_at,
        payload_hash=payload_hash,
        prev_hash=prev_hash,
    )
    return hashlib.sha256(header).hexdigest()


def build_row(
    *,
    seq: int,
    kind: str,
    subject: str,
    recorded_at: str | datetime,
    payload: bytes | Mapping[str, Any],
    prev_hash: str,
) -> ChainRow:
    """Compute the hashes for a new entry; ``payload`` is canonical bytes or a mapping to encode."""
    payload_bytes = payload if isinstance(payload, bytes) else canonical_json(payload)
    if isinstance(recorded_at, datetime):
        recorded_at = format_utc(recorded_at)
    payload_hash = compute_payload_hash(payload_bytes)
    entry_hash = compute_entry_hash(
        seq=seq,
        kind=kind,
        subject=subject,
        recorded_at=recorded_at,
        payload_hash=payload_hash,
        prev_hash=prev_hash,
    )
    return ChainRow(
        seq, kind, subject, recorded_at, payload_bytes, payload_hash, prev_hash, entry_hash
    )


def leaf_input(entry_hash_hex: str) -> bytes:
    """The Merkle leaf data for an entry: the 32 raw bytes of its entry hash."""
    if not _HEX64_RE.fullmatch(entry_hash_hex):
        raise ValueError(f"entry hash {entry_hash_hex!r} must be 64 lowercase hex characters")
    return bytes.fromhex(entry_hash_hex)


def _fork_or(row: ChainRow, prev: ChainRow | None, fallback: ChainProblem) -> ChainProblem:
    if prev is not None and row.prev_hash == prev.prev_hash:
        return ChainProblem(
            prev.seq,
            Reason.DUPLICATE,
            f"entries {prev.seq} and {row.seq} both claim to follow entry {prev.seq - 1}: "
            f"entry {prev.seq} was inserted into the chain",
        )
    return fallback


def verify_chain(
    rows: Iterable[ChainRow],
    *,
    start_prev_hash: str = GENESIS_HASH,
    start_seq: int = 1,
    before: ChainRow | None = None,
    after: ChainRow | None = None,
) -> ChainProblem | None:
    """Stream ``rows`` and return the first problem, or None when the chain is intact.

    ``start_seq``/``start_prev_hash`` let a caller verify a suffix, anchored at an entry it
    already trusts (e.g. ``start_seq = n + 1`` and ``start_prev_hash`` = entry n's hash).
    Memory use is constant. ``rows`` is read one row ahead of the row being checked (the
    lookahead that attributes ``REORDERED`` and ``LINK_BROKEN``), which matters only to a
    generator with side effects.

    ``before`` and ``after`` are the rows around ``rows`` when it is one slice of a longer
    stream (already checked, resp. checked with the next slice): they are only looked at, to
    attribute a problem exactly as a check of the whole stream would.
    """
    # Bound to locals: this loop must stay within a small factor of bare hashlib speed.
    sha256 = hashlib.sha256
    version = ENTRY_VERSION
    expected = start_seq
    prev_entry_hash = start_prev_hash
    prev: ChainRow | None = before
    iterator: Iterator[ChainRow] = iter(rows)
    row = next(iterator, None)
    while row is not None:
        following = next(iterator, None)
        ahead = following if following is not None else after
        seq = row.seq
        if seq != expected:
            if prev is not None and seq == prev.seq:
                return ChainProblem(seq, Reason.DUPLICATE, f"seq {seq} appears twice in a row")
            if seq < expected:
                return ChainProblem(
                    seq, Reason.REORDERED, f"seq {seq} appears after seq {expected - 1}"
                )
            if ahead is not None and (
                ahead.seq == expected or (ahead.seq == expected + 1 and seq != expected + 1)
            ):
                return ChainProblem(
                    expected,
                    Reason.REORDERED,
                    f"seq {seq} sits where seq {expected} belongs; rows are out of order",
                )
            missing = f"{expected}" if seq == expected + 1 else f"{expected}..{seq - 1}"
            return ChainProblem(
                expected, Reason.GAP, f"seq {missing} missing: seq {seq} follows seq {expected - 1}"
            )

        try:
            header = (
                f"{version}\n{seq}\n{row.kind}\n{row.subject}\n{row.recorded_at}\n"
                f"{row.payload_hash}\n{row.prev_hash}\n"
            )
            header_ok = sha256(header.encode()).hexdigest() == row.entry_hash
        except UnicodeEncodeError:
            header_ok = False
        if not header_ok:
            return _fork_or(
                row,
                prev,
                ChainProblem(
                    seq,
                    Reason.ENTRY_HASH_MISMATCH,
                    f"entry {seq}'s fields do not hash to its stored entry_hash: a header field "
                    "or a stored hash was rewritten",
                ),
            )

        payload = row.payload
        if isinstance(payload, str):
            payload = payload.encode("utf-8", "surrogatepass")
        if sha256(payload).hexdigest() != row.payload_hash:
            return ChainProblem(
                seq,
                Reason.PAYLOAD_CHANGED,
                f"entry {seq}'s payload does not hash to its payload_hash: the data was edited",
            )

        if row.prev_hash != prev_entry_hash:
            if prev is None:
                return ChainProblem(
                    seq,
                    Reason.LINK_BROKEN,
                    f"entry {seq}'s prev_hash is not the expected starting hash "
                    f"{start_prev_hash[:12]}...",
                )
            if ahead is not None and ahead.prev_hash == row.entry_hash:
                blamed = ChainProblem(
                    prev.seq,
                    Reason.LINK_BROKEN,
                    f"entry {seq} is chained to a different entry {prev.seq} than the one "
                    f"stored: entry {prev.seq} was replaced after entry {seq} was appended",
                )
            else:
                blamed = ChainProblem(
                    seq,
                    Reason.LINK_BROKEN,
                    f"entry {seq}'s prev_hash is not entry {prev.seq}'s entry_hash: "
                    f"entry {seq} was re-chained",
                )
            return _fork_or(row, prev, blamed)

        prev = row
        prev_entry_hash = row.entry_hash
        expected = seq + 1
        row = following
    return None
