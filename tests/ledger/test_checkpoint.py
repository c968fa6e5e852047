"""Signed checkpoints, key loading, and the standard-library Ed25519 verifier."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
from datetime import UTC, datetime

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.checkpoint import (
    Checkpoint,
    InvalidCheckpoint,
    checkpoint_body,
    generate_private_key_b64,
    load_private_key,
    load_public_key,
    parse_checkpoint_body,
    public_key_b64,
    sign_checkpoint,
    signed_note_key_id,
    verify_checkpoint,
)
from ledger.offline_verify import ed25519_verify

ORIGIN = "watchprice.example/ledger"
ROOT = hashlib.sha256(b"root").digest()
SEED = bytes(range(32))
SEED_B64 = base64.b64encode(SEED).decode()
WHEN = datetime(2025, 1, 31, 12, 0, tzinfo=UTC)


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return load_private_key(SEED_B64)


def test_the_body_is_a_c2sp_checkpoint_with_a_timestamp_extension_line() -> None:
    body = checkpoint_body(origin=ORIGIN, tree_size=1234, root_hash=ROOT, timestamp=WHEN)
    assert body == (
        f"{ORIGIN}\n1234\n{base64.b64encode(ROOT).decode()}\n"
        "timestamp 2025-01-31T12:00:00.000000Z\n"
    )


def test_the_timestamp_line_is_optional() -> None:
    body = checkpoint_body(origin=ORIGIN, tree_size=0, root_hash=ROOT)
    assert body.count("\n") == 3
    assert parse_checkpoint_body(body) == Checkpoint(ORIGIN, 0, ROOT, None)


def test_a_body_parses_back_to_what_was_written_including_unknown_extensions() -> None:
    checkpoint = Checkpoint(ORIGIN, 7, ROOT, "2025-01-31T12:00:00.000000Z", ("other ext",))
    assert parse_checkpoint_body(checkpoint.body()) == checkpoint


@pytest.mark.parametrize(
    "body",
    [
        f"{ORIGIN}\n12\n{base64.b64encode(ROOT).decode()}",  # no final newline
        f"{ORIGIN}\n012\n{base64.b64encode(ROOT).decode()}\n",  # leading zero
        f"{ORIGIN}\n-1\n{base64.b64encode(ROOT).decode()}\n",
        f"{ORIGIN}\n12\n{base64.b64encode(ROOT[:31]).decode()}\n",  # short root
        f"{ORIGIN}\n12\n{base64.b64encode(ROOT).decode()}\n\n",  # empty extension line
        f"has space\n12\n{base64.b64encode(ROOT).decode()}\n",
        f"{ORIGIN}\n12\n{base64.b64encode(ROOT).decode()}\ntimestamp yesterday\n",
        f"{ORIGIN}\n12\n",
    ],
)
def test_a_malformed_body_is_refused(body: str) -> None:
    with pytest.raises(InvalidCheckpoint):
        parse_checkpoint_body(body)


@pytest.mark.parametrize("origin", ["", "with space", "a+b", "tab\there", "é"])
def test_an_origin_unusable_as_a_key_name_is_refused(origin: str) -> None:
    with pytest.raises(ValueError, match="origin"):
        checkpoint_body(origin=origin, tree_size=1, root_hash=ROOT)


def test_a_signed_checkpoint_verifies_with_only_the_public_key(key: Ed25519PrivateKey) -> None:
    signed = sign_checkpoint(key, origin=ORIGIN, tree_size=42, root_hash=ROOT, timestamp=WHEN)
    checkpoint = verify_checkpoint(
        body=signed.body, signature=signed.signature, public_key=signed.public_key, origin=ORIGIN
    )
    assert checkpoint == Checkpoint(ORIGIN, 42, ROOT, "2025-01-31T12:00:00.000000Z")
    assert signed.checkpoint == checkpoint
    # The signature is plain Ed25519 over the body bytes, checkable by any library.
    key.public_key().verify(base64.b64decode(signed.signature), signed.body.encode())


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("\n42\n", "\n43\n"),
        ("2025-01-31T12", "2025-02-01T12"),
        (ORIGIN, "watchprice.example/other"),
        (base64.b64encode(ROOT).decode(), base64.b64encode(bytes(32)).decode()),
    ],
)
def test_a_tampered_body_fails_verification(key: Ed25519PrivateKey, old: str, new: str) -> None:
    signed = sign_checkpoint(key, origin=ORIGIN, tree_size=42, root_hash=ROOT, timestamp=WHEN)
    tampered = signed.body.replace(old, new)
    assert tampered != signed.body
    with pytest.raises(InvalidCheckpoint, match="signature"):
        verify_checkpoint(body=tampered, signature=signed.signature, public_key=signed.public_key)


def test_another_key_fails_verification(key: Ed25519PrivateKey) -> None:
    signed = sign_checkpoint(key, origin=ORIGIN, tree_size=42, root_hash=ROOT)
    other = public_key_b64(Ed25519PrivateKey.generate())
    with pytest.raises(InvalidCheckpoint, match="signature"):
        verify_checkpoint(body=signed.body, signature=signed.signature, public_key=other)


def test_a_checkpoint_for_another_log_is_refused(key: Ed25519PrivateKey) -> None:
    signed = sign_checkpoint(key, origin=ORIGIN, tree_size=1, root_hash=ROOT)
    with pytest.raises(InvalidCheckpoint, match="not 'elsewhere'"):
        verify_checkpoint(
            body=signed.body,
            signature=signed.signature,
            public_key=load_public_key(signed.public_key),
            origin="elsewhere",
        )


@pytest.mark.parametrize("signature", ["", "not base64!", base64.b64encode(bytes(63)).decode()])
def test_a_malformed_signature_fails_verification(key: Ed25519PrivateKey, signature: str) -> None:
    signed = sign_checkpoint(key, origin=ORIGIN, tree_size=1, root_hash=ROOT)
    with pytest.raises(InvalidCheckpoint):
        verify_checkpoint(body=signed.body, signature=signature, public_key=signed.public_key)


def test_the_signed_note_form_carries_the_c2sp_key_id_and_signature(
    key: Ed25519PrivateKey,
) -> None:
    signed = sign_checkpoint(key, origin=ORIGIN, tree_size=5, root_hash=ROOT)
    body, signature_line = signed.note().split("\n\n")
    assert body + "\n" == signed.body
    dash, name, blob = signature_line.rstrip("\n").split(" ")
    assert (dash, name) == ("\u2014", ORIGIN)
    raw = base64.b64decode(blob)
    expected_id = hashlib.sha256(
        ORIGIN.encode() + b"\n\x01" + key.public_key().public_bytes_raw()
    ).digest()[:4]
    assert raw[:4] == expected_id == signed_note_key_id(ORIGIN, key.public_key())
    assert raw[4:] == base64.b64decode(signed.signature)


def test_the_export_record_carries_what_the_offline_verifier_reads(
    key: Ed25519PrivateKey,
) -> None:
    signed = sign_checkpoint(key, origin=ORIGIN, tree_size=5, root_hash=ROOT, timestamp=WHEN)
    assert signed.export_record() == {
        "type": "checkpoint",
        "tree_size": 5,
        "root_hash": ROOT.hex(),
        "timestamp": "2025-01-31T12:00:00.000000Z",
        "body": signed.body,
        "signature": signed.signature,
        "public_key": signed.public_key,
    }


# --- keys --------------------------------------------------------------------------------------


def test_a_base64_seed_loads_as_the_matching_key() -> None:
    key = load_private_key(SEED_B64 + "\n")  # env files often end in a newline
    assert key.private_bytes_raw() == SEED
    assert public_key_b64(key) == base64.b64encode(key.public_key().public_bytes_raw()).decode()
    assert public_key_b64(key.public_key()) == public_key_b64(key)


def test_a_generated_key_round_trips() -> None:
    raw = generate_private_key_b64()
    assert len(base64.b64decode(raw)) == 32
    assert load_private_key(raw).private_bytes_raw() == base64.b64decode(raw)


@pytest.mark.parametrize(
    ("raw", "complaint"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("c2VjcmV0LXRoYXQtaXMtdG9vLXNob3J0", "32 bytes"),
        (base64.b64encode(bytes(64)).decode(), "32 bytes"),
        ("not*base64*at*all", "base64"),
    ],
)
def test_a_bad_signing_key_is_a_clear_error_that_does_not_echo_the_secret(
    raw: str, complaint: str
) -> None:
    with pytest.raises(ValueError, match=complaint) as excinfo:
        load_private_key(raw)
    if raw.strip():
        assert raw not in str(excinfo.value)


# --- the standard-library Ed25519 verifier shipped to auditors ----------------------------------

# RFC 8032 section 7.1, TEST 1-3: (secret key, public key, message, signature).
RFC8032_VECTORS = [
    (
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39"
        "701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f36"
        "13d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
    (
        "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        "af82",
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f7"
        "60984dc6594a7c15e9716ed28dc027beceea1ec40a",
    ),
]


@pytest.mark.parametrize(("secret", "public", "message", "signature"), RFC8032_VECTORS)
def test_both_verifiers_accept_the_rfc_8032_vectors_and_reject_them_altered(
    secret: str, public: str, message: str, signature: str
) -> None:
    pk, msg, sig = bytes.fromhex(public), bytes.fromhex(message), bytes.fromhex(signature)
    # The vector itself: cryptography derives the same key and deterministic signature.
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(secret))
    assert key.public_key().public_bytes_raw() == pk
    assert key.sign(msg) == sig
    assert ed25519_verify(pk, msg, sig)
    assert not ed25519_verify(pk, msg + b"\x00", sig)
    assert not ed25519_verify(pk, msg, sig[:-1] + bytes([sig[-1] ^ 1]))
    assert not ed25519_verify(pk, msg, bytes([sig[0] ^ 1]) + sig[1:])
    assert not ed25519_verify(bytes([pk[0] ^ 1]) + pk[1:], msg, sig)


def test_the_stdlib_verifier_rejects_non_canonical_scalars_and_bad_lengths() -> None:
    _, public, message, signature = RFC8032_VECTORS[2]
    pk, msg, sig = bytes.fromhex(public), bytes.fromhex(message), bytes.fromhex(signature)
    order = 2**252 + 27742317777372353535851937790883648493
    s = int.from_bytes(sig[32:], "little")
    # s + L is the same scalar mod L; RFC 8032 5.1.7 requires rejecting it (malleability).
    assert not ed25519_verify(pk, msg, sig[:32] + (s + order).to_bytes(32, "little"))
    assert not ed25519_verify(pk[:31], msg, sig)
    assert not ed25519_verify(pk, msg, sig[:63])
    # y = p is not a canonical field element, so no point decodes from it.
    assert not ed25519_verify((2**255 - 19).to_bytes(32, "little"), msg, sig)


@given(
    seed=st.binary(min_size=32, max_size=32),
    message=st.binary(max_size=200),
    tamper=st.sampled_from(["none", "message", "signature", "key"]),
    position=st.integers(0, 1000),
)
@settings(max_examples=40, deadline=None)
def test_the_stdlib_verifier_agrees_with_cryptography(
    seed: bytes, message: bytes, tamper: str, position: int
) -> None:
    key = Ed25519PrivateKey.from_private_bytes(seed)
    pk, sig, msg = key.public_key().public_bytes_raw(), key.sign(message), message
    if tamper == "message":
        msg = message + b"!" if not message else flip_byte(message, position)
    elif tamper == "signature":
        sig = flip_byte(sig, position)
    elif tamper == "key":
        pk = flip_byte(pk, position)
    try:
        load_public_key(base64.b64encode(pk).decode()).verify(sig, msg)
        expected = True
    except (InvalidSignature, ValueError):
        expected = False
    assert ed25519_verify(pk, msg, sig) is expected
    assert expected is (tamper == "none")


def flip_byte(data: bytes, position: int) -> bytes:
    i = position % len(data)
    return data[:i] + bytes([data[i] ^ (1 << (position % 8))]) + data[i + 1 :]


def test_the_stdlib_verifier_accepts_real_checkpoint_signatures(key: Ed25519PrivateKey) -> None:
    signed = sign_checkpoint(key, origin=ORIGIN, tree_size=9, root_hash=ROOT, timestamp=WHEN)
    pk = base64.b64decode(signed.public_key)
    sig = base64.b64decode(signed.signature)
    assert ed25519_verify(pk, signed.body.encode(), sig)
    other = dataclasses.replace(signed.checkpoint, tree_size=10).body()
    assert not ed25519_verify(pk, other.encode(), sig)
