"""Signed checkpoints: the ledger's Merkle root at a tree size, signed with Ed25519.

Body (C2SP tlog-checkpoint, https://c2sp.org/tlog-checkpoint), UTF-8, every line ending in
``\\n``::

    <origin>
    <tree size in decimal>
    <root hash, standard base64 with padding, of the 32 raw bytes>
    timestamp <YYYY-MM-DDTHH:MM:SS.ffffffZ>

The first three lines are the standard checkpoint. The fourth is this project's optional
extension line: when the checkpoint was made, in UTC, in the same canonical form as entry
``recorded_at`` values. Other extension lines are carried through parsing untouched.

``origin`` names the log (a schema-less URL such as ``watchprice.example/ledger``); it must be
printable ASCII without spaces or ``+``, as C2SP requires, so it can double as the signed-note
key name.

Signature: Ed25519 (RFC 8032, pure, no context) over the body's UTF-8 bytes, shipped as standard
base64 of the 64 signature bytes, with the public key as standard base64 of its 32 raw bytes.
That is exactly the C2SP signed-note Ed25519 signature, so ``SignedCheckpoint.note()`` also yields
a note that standard transparency-log tooling can check (key ID = first 4 bytes of
SHA-256(origin || 0x0A || 0x01 || public key)).

Key material is passed in; this module never reads the environment.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ledger.canonical import format_utc

__all__ = [
    "Checkpoint",
    "InvalidCheckpoint",
    "SignedCheckpoint",
    "checkpoint_body",
    "generate_private_key_b64",
    "load_private_key",
    "load_public_key",
    "parse_checkpoint_body",
    "public_key_b64",
    "sign_checkpoint",
    "signed_note_key_id",
    "verify_checkpoint",
]

_ORIGIN_RE = re.compile(r"[\x21-\x2a\x2c-\x7e]+")
_SIZE_RE = re.compile(r"0|[1-9][0-9]*")
_TIMESTAMP_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")
_TIMESTAMP_PREFIX = "timestamp "
_ED25519_SIGNED_NOTE_TYPE = b"\x01"


class InvalidCheckpoint(ValueError):
    """The checkpoint body is malformed, or its signature does not verify."""


def _b64decode(value: str, *, what: str, length: int) -> bytes:
    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{what} is not valid standard base64") from None
    if len(raw) != length:
        raise ValueError(f"{what} must decode to {length} bytes, got {len(raw)}")
    return raw


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def load_private_key(raw: str) -> Ed25519PrivateKey:
    """Load a signing key from the base64 of its 32-byte Ed25519 seed."""
    if not isinstance(raw, str) or not raw.strip():
        raise ValueError("the ledger signing key is empty; expected base64 of a 32-byte seed")
    # The message never echoes the value: it is a secret.
    seed = _b64decode(raw, what="the ledger signing key", length=32)
    return Ed25519PrivateKey.from_private_bytes(seed)


def load_public_key(raw: str) -> Ed25519PublicKey:
    """Load a verification key from the base64 of its 32 raw bytes."""
    return Ed25519PublicKey.from_public_bytes(_b64decode(raw, what="public key", length=32))


def public_key_b64(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return _b64(public.public_bytes_raw())


def generate_private_key_b64() -> str:
    """A fresh random seed, base64-encoded, in the form ``load_private_key`` reads."""
    return _b64(Ed25519PrivateKey.generate().private_bytes_raw())


def signed_note_key_id(name: str, public_key: Ed25519PublicKey) -> bytes:
    """C2SP signed-note key ID: SHA-256(name || 0x0A || 0x01 || key)[:4]."""
    digest = hashlib.sha256(
        name.encode() + b"\n" + _ED25519_SIGNED_NOTE_TYPE + public_key.public_bytes_raw()
    )
    return digest.digest()[:4]


@dataclass(frozen=True, slots=True)
class Checkpoint:
    origin: str
    tree_size: int
    root_hash: bytes
    timestamp: str | None = None
    extensions: tuple[str, ...] = field(default=())

    def body(self) -> str:
        return checkpoint_body(
            origin=self.origin,
            tree_size=self.tree_size,
            root_hash=self.root_hash,
            timestamp=self.timestamp,
            extensions=self.extensions,
        )


def checkpoint_body(
    *,
    origin: str,
    tree_size: int,
    root_hash: bytes,
    timestamp: datetime | str | None = None,
    extensions: tuple[str, ...] = (),
) -> str:
    if not _ORIGIN_RE.fullmatch(origin):
        raise ValueError(f"origin {origin!r} must be printable ASCII without spaces or '+'")
    if type(tree_size) is not int or tree_size < 0:
        raise ValueError(f"tree_size must be an int >= 0, got {tree_size!r}")
    if len(root_hash) != 32:
        raise ValueError(f"root hash must be 32 bytes, got {len(root_hash)}")
    lines = [origin, str(tree_size), _b64(root_hash)]
    if timestamp is not None:
        if isinstance(timestamp, datetime):
            timestamp = format_utc(timestamp)
        if not _TIMESTAMP_RE.fullmatch(timestamp):
            raise ValueError(f"timestamp {timestamp!r} must be YYYY-MM-DDTHH:MM:SS.ffffffZ")
        lines.append(_TIMESTAMP_PREFIX + timestamp)
    for line in extensions:
        if not line or "\n" in line:
            raise ValueError(f"extension line {line!r} must be non-empty and single-line")
        lines.append(line)
    return "".join(line + "\n" for line in lines)


def parse_checkpoint_body(body: str) -> Checkpoint:
    if not body.endswith("\n"):
        raise InvalidCheckpoint("checkpoint body must end with a newline")
    lines = body[:-1].split("\n")
    if len(lines) < 3:
        raise InvalidCheckpoint("checkpoint body needs origin, tree size and root hash lines")
    origin, size_line, root_line, *rest = lines
    if not _ORIGIN_RE.fullmatch(origin):
        raise InvalidCheckpoint(f"malformed origin line {origin!r}")
    if not _SIZE_RE.fullmatch(size_line):
        raise InvalidCheckpoint(f"malformed tree size line {size_line!r}")
    try:
        root_hash = _b64decode(root_line, what="root hash", length=32)
    except ValueError as exc:
        raise InvalidCheckpoint(str(exc)) from None
    if _b64(root_hash) != root_line:
        raise InvalidCheckpoint("root hash line is not canonical base64")
    timestamp = None
    extensions = []
    for line in rest:
        if not line:
            raise InvalidCheckpoint("empty extension line in checkpoint body")
        if line.startswith(_TIMESTAMP_PREFIX) and timestamp is None:
            timestamp = line.removeprefix(_TIMESTAMP_PREFIX)
            if not _TIMESTAMP_RE.fullmatch(timestamp):
                raise InvalidCheckpoint(f"malformed timestamp line {line!r}")
        else:
            extensions.append(line)
    return Checkpoint(origin, int(size_line), root_hash, timestamp, tuple(extensions))


@dataclass(frozen=True, slots=True)
class SignedCheckpoint:
    checkpoint: Checkpoint
    body: str
    signature: str
    public_key: str

    def note(self) -> str:
        """The checkpoint as a C2SP signed note (body, blank line, signature line)."""
        key = load_public_key(self.public_key)
        key_id = signed_note_key_id(self.checkpoint.origin, key)
        sig = base64.b64decode(self.signature)
        return f"{self.body}\n\u2014 {self.checkpoint.origin} {_b64(key_id + sig)}\n"

    def export_record(self) -> dict[str, Any]:
        """The JSON Lines record ``ledger/offline_verify.py`` reads."""
        return {
            "type": "checkpoint",
            "tree_size": self.checkpoint.tree_size,
            "root_hash": self.checkpoint.root_hash.hex(),
            "timestamp": self.checkpoint.timestamp,
            "body": self.body,
            "signature": self.signature,
            "public_key": self.public_key,
        }


def sign_checkpoint(
    private_key: Ed25519PrivateKey,
    *,
    origin: str,
    tree_size: int,
    root_hash: bytes,
    timestamp: datetime | str | None = None,
) -> SignedCheckpoint:
    body = checkpoint_body(
        origin=origin, tree_size=tree_size, root_hash=root_hash, timestamp=timestamp
    )
    signature = private_key.sign(body.encode("utf-8"))
    return SignedCheckpoint(
        checkpoint=parse_checkpoint_body(body),
        body=body,
        signature=_b64(signature),
        public_key=public_key_b64(private_key),
    )


def verify_checkpoint(
    *,
    body: str,
    signature: str,
    public_key: str | Ed25519PublicKey,
    origin: str | None = None,
) -> Checkpoint:
    """Return the parsed checkpoint if ``signature`` by ``public_key`` covers ``body``.

    Raises ``InvalidCheckpoint`` on a bad signature, a malformed body or signature, or when
    ``origin`` is given and the body names another log.
    """
    try:
        key = load_public_key(public_key) if isinstance(public_key, str) else public_key
        raw_signature = _b64decode(signature, what="signature", length=64)
    except ValueError as exc:
        raise InvalidCheckpoint(str(exc)) from None
    try:
        key.verify(raw_signature, body.encode("utf-8"))
    except (InvalidSignature, UnicodeEncodeError):
        raise InvalidCheckpoint("signature does not verify for this body and key") from None
    checkpoint = parse_checkpoint_body(body)
    if origin is not None and checkpoint.origin != origin:
        raise InvalidCheckpoint(f"checkpoint is for log {checkpoint.origin!r}, not {origin!r}")
    return checkpoint
