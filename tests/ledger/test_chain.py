"""Canonical payloads and the hash chain: formats, and how each kind of tampering is reported."""

from __future__ import annotations

import dataclasses
import enum
import hashlib
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from ledger.canonical import canonical_json, format_utc
from ledger.chain import (
    GENESIS_HASH,
    ChainRow,
    Reason,
    build_row,
    compute_entry_hash,
    compute_payload_hash,
    entry_header,
    leaf_input,
    verify_chain,
)
from ledger.merkle import leaf_hash, root_hash

# --- canonical JSON ---------------------------------------------------------------------------


def test_canonical_json_sorts_keys_and_drops_whitespace_and_keeps_utf8_raw() -> None:
    assert canonical_json({"b": 1, "a": "Genève", "c": [True, None]}) == (
        '{"a":"Genève","b":1,"c":[true,null]}'.encode()
    )


def test_canonical_json_sorts_nested_keys_too() -> None:
    assert canonical_json({"z": {"y": 1, "x": 2}}) == b'{"z":{"x":2,"y":1}}'


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("12500.00"), '"12500.00"'),
        (Decimal("0.50"), '"0.50"'),
        (Decimal("-3.1"), '"-3.1"'),
        (Decimal("1E+3"), '"1000"'),
        (Decimal("1.5E-7"), '"0.00000015"'),
        (Decimal("7"), '"7"'),
    ],
)
def test_decimals_become_strings_of_their_exact_value(value: Decimal, expected: str) -> None:
    assert canonical_json({"price": value}) == f'{{"price":{expected}}}'.encode()


@pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("sNaN"), Decimal("Infinity")])
def test_non_finite_decimals_are_rejected(value: Decimal) -> None:
    with pytest.raises(ValueError, match="finite"):
        canonical_json({"price": value})


@pytest.mark.parametrize("payload", [12.5, {"price": 12.5}, [1, 2.0], {"a": {"b": float("nan")}}])
def test_floats_are_rejected_anywhere_because_money_is_never_float(payload: object) -> None:
    with pytest.raises(TypeError, match="float"):
        canonical_json(payload)


def test_aware_datetimes_are_written_in_utc_with_microseconds() -> None:
    paris_winter = timezone(timedelta(hours=1))
    moment = datetime(2025, 1, 31, 13, 0, 5, 42, tzinfo=paris_winter)
    assert canonical_json({"at": moment}) == b'{"at":"2025-01-31T12:00:05.000042Z"}'
    assert format_utc(moment) == "2025-01-31T12:00:05.000042Z"


def test_early_years_are_zero_padded() -> None:
    assert format_utc(datetime(999, 1, 2, tzinfo=UTC)) == "0999-01-02T00:00:00.000000Z"


def test_naive_datetimes_are_rejected() -> None:
    with pytest.raises(ValueError, match="naive"):
        canonical_json({"at": datetime(2025, 1, 31, 12, 0)})  # noqa: DTZ001


def test_dates_are_written_as_iso_dates() -> None:
    assert canonical_json([date(2025, 2, 3)]) == b'["2025-02-03"]'


@pytest.mark.parametrize("payload", [{1: "a"}, {None: 1}, {("a",): 1}])
def test_non_string_keys_are_rejected(payload: object) -> None:
    with pytest.raises(TypeError, match="key"):
        canonical_json(payload)


@pytest.mark.parametrize("payload", [{1, 2}, b"bytes", object()])
def test_types_without_a_canonical_form_are_rejected(payload: object) -> None:
    with pytest.raises(TypeError, match="canonical"):
        canonical_json(payload)


def test_str_and_int_subclasses_are_written_as_their_plain_values() -> None:
    class Source(enum.StrEnum):
        SCRAPE = "scrape"

    class Rank(enum.IntEnum):
        FIRST = 1

    assert canonical_json({Source.SCRAPE: Rank.FIRST, "s": Source.SCRAPE}) == (
        b'{"s":"scrape","scrape":1}'
    )


def test_keys_that_collide_after_normalisation_are_rejected() -> None:
    class DistinctKey(str):
        # A str subclass that a dict keeps apart from the plain string with the same text.
        __slots__ = ()

        def __hash__(self) -> int:
            return str.__hash__(self) + 1

        def __eq__(self, other: object) -> bool:
            return type(other) is DistinctKey and str.__eq__(self, other)

    payload = {DistinctKey("a"): 1, "a": 2}
    assert len(payload) == 2
    with pytest.raises(ValueError, match="twice"):
        canonical_json(payload)


def test_only_quotes_backslashes_and_control_characters_are_escaped() -> None:
    assert canonical_json('q"b\\n\n\x01/\u2028é') == '"q\\"b\\\\n\\n\\u0001/\u2028é"'.encode()


def test_lone_surrogates_are_rejected() -> None:
    with pytest.raises(ValueError):
        canonical_json("\ud800")


def test_tuples_are_arrays_and_big_integers_stay_exact() -> None:
    assert canonical_json((1, 2**70, False)) == b"[1,1180591620717411303424,false]"


# --- hash formats -----------------------------------------------------------------------------

PAYLOAD = b'{"price":"12500.00"}'
FIRST_HEADER = (
    b"watchprice-ledger-entry-v1\n1\nprice_observed\nlisting:5\n2025-01-31T12:00:00.000000Z\n"
    + hashlib.sha256(PAYLOAD).hexdigest().encode()
    + b"\n"
    + b"0" * 64
    + b"\n"
)


def test_the_payload_hash_is_sha256_hex_of_the_canonical_bytes() -> None:
    assert compute_payload_hash(PAYLOAD) == hashlib.sha256(PAYLOAD).hexdigest()
    assert compute_payload_hash(PAYLOAD.decode()) == compute_payload_hash(PAYLOAD)


def test_the_entry_hash_is_sha256_of_the_documented_seven_line_header() -> None:
    fields = {
        "seq": 1,
        "kind": "price_observed",
        "subject": "listing:5",
        "recorded_at": "2025-01-31T12:00:00.000000Z",
        "payload_hash": hashlib.sha256(PAYLOAD).hexdigest(),
        "prev_hash": GENESIS_HASH,
    }
    assert entry_header(**fields) == FIRST_HEADER
    assert compute_entry_hash(**fields) == hashlib.sha256(FIRST_HEADER).hexdigest()
    # Pinned so that an accidental format change cannot pass by changing both sides at once.
    assert compute_entry_hash(**fields) == (
        "dec48e601ce3bf9d865a59b0b652d251a4226bb192b5531546de0eae46ef3ff6"
    )


def test_recorded_at_may_be_given_as_an_aware_datetime() -> None:
    common = {
        "seq": 3,
        "kind": "price_observed",
        "subject": "",
        "payload_hash": "ab" * 32,
        "prev_hash": "cd" * 32,
    }
    moment = datetime(2025, 1, 31, 12, 0, tzinfo=UTC)
    assert compute_entry_hash(recorded_at=moment, **common) == compute_entry_hash(
        recorded_at="2025-01-31T12:00:00.000000Z", **common
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("seq", 0),
        ("seq", True),
        ("kind", "price\nobserved"),
        ("kind", "Price"),
        ("kind", ""),
        ("subject", "listing:5\n"),
        ("subject", "listing"),
        ("subject", "listing:"),
        ("recorded_at", "2025-01-31T12:00:00Z"),
        ("recorded_at", "2025-01-31 12:00:00.000000+00:00"),
        ("payload_hash", "AB" * 32),
        ("prev_hash", "0" * 63),
    ],
)
def test_the_writer_refuses_fields_that_would_make_the_header_ambiguous_or_uncanonical(
    field: str, value: object
) -> None:
    fields: dict[str, object] = {
        "seq": 1,
        "kind": "price_observed",
        "subject": "product:12",
        "recorded_at": "2025-01-31T12:00:00.000000Z",
        "payload_hash": "ab" * 32,
        "prev_hash": GENESIS_HASH,
        field: value,
    }
    with pytest.raises(ValueError, match=field.split("_")[0]):
        compute_entry_hash(**fields)  # type: ignore[arg-type]


def test_the_merkle_leaf_is_the_raw_entry_hash() -> None:
    entry_hash = hashlib.sha256(FIRST_HEADER).hexdigest()
    assert leaf_input(entry_hash) == bytes.fromhex(entry_hash)
    assert len(leaf_input(entry_hash)) == 32
    with pytest.raises(ValueError, match="64 lowercase hex"):
        leaf_input(entry_hash.upper())


def test_build_row_canonicalises_a_mapping_payload() -> None:
    row = build_row(
        seq=1,
        kind="price_observed",
        subject="listing:5",
        recorded_at=datetime(2025, 1, 31, 12, 0, tzinfo=UTC),
        payload={"price": Decimal("12500.00")},
        prev_hash=GENESIS_HASH,
    )
    assert row.payload == PAYLOAD
    assert row.recorded_at == "2025-01-31T12:00:00.000000Z"
    assert row.entry_hash == hashlib.sha256(FIRST_HEADER).hexdigest()


# --- a chain and its tamperings ---------------------------------------------------------------

START = datetime(2025, 1, 31, 12, 0, tzinfo=UTC)


def make_chain(n: int = 12, *, first_seq: int = 1, prev_hash: str = GENESIS_HASH) -> list[ChainRow]:
    rows = []
    for seq in range(first_seq, first_seq + n):
        row = build_row(
            seq=seq,
            kind="price_observed",
            subject=f"listing:{seq % 4}",
            recorded_at=START + timedelta(minutes=seq),
            payload={"listing": seq % 4, "price": Decimal(f"{12000 + seq}.00"), "currency": "EUR"},
            prev_hash=prev_hash,
        )
        rows.append(row)
        prev_hash = row.entry_hash
    return rows


def forge(row: ChainRow, **changes: object) -> ChainRow:
    """``row`` with ``changes`` applied and every hash recomputed: a self-consistent forgery."""
    fields = dataclasses.asdict(row) | changes
    payload = fields["payload"]
    return build_row(
        seq=fields["seq"],
        kind=fields["kind"],
        subject=fields["subject"],
        recorded_at=fields["recorded_at"],
        payload=payload if isinstance(payload, bytes) else payload.encode(),
        prev_hash=fields["prev_hash"],
    )


def problem_of(rows: list[ChainRow]) -> tuple[int, Reason] | None:
    problem = verify_chain(rows)
    return None if problem is None else (problem.seq, problem.reason)


@pytest.fixture
def rows() -> list[ChainRow]:
    return make_chain()


def test_an_untouched_chain_verifies(rows: list[ChainRow]) -> None:
    assert verify_chain(rows) is None
    assert verify_chain([]) is None


def test_rows_may_carry_their_payload_as_text(rows: list[ChainRow]) -> None:
    as_text = [dataclasses.replace(r, payload=r.payload.decode()) for r in rows]
    assert verify_chain(as_text) is None


def test_a_suffix_verifies_from_a_trusted_anchor(rows: list[ChainRow]) -> None:
    assert verify_chain(rows[5:], start_seq=6, start_prev_hash=rows[4].entry_hash) is None


def test_a_suffix_with_the_wrong_anchor_is_a_broken_link_at_its_first_entry(
    rows: list[ChainRow],
) -> None:
    problem = verify_chain(rows[5:], start_seq=6, start_prev_hash=rows[3].entry_hash)
    assert problem is not None
    assert (problem.seq, problem.reason) == (6, Reason.LINK_BROKEN)


def test_a_first_entry_that_does_not_start_from_genesis_is_a_broken_link() -> None:
    rows = make_chain(prev_hash="ab" * 32)
    assert problem_of(rows) == (1, Reason.LINK_BROKEN)


def test_a_price_edited_in_a_payload_is_reported_at_that_entry(rows: list[ChainRow]) -> None:
    edited = rows[4].payload.replace(b"12005.00", b"99.00")
    assert edited != rows[4].payload
    rows[4] = dataclasses.replace(rows[4], payload=edited)
    problem = verify_chain(rows)
    assert problem is not None
    assert (problem.seq, problem.reason) == (5, Reason.PAYLOAD_CHANGED)
    assert "payload" in problem.message
    assert str(problem).startswith("seq 5: PAYLOAD_CHANGED:")


def test_a_payload_edited_along_with_its_payload_hash_is_an_entry_hash_mismatch(
    rows: list[ChainRow],
) -> None:
    edited = rows[4].payload.replace(b"12005.00", b"99.00")
    rows[4] = dataclasses.replace(
        rows[4], payload=edited, payload_hash=compute_payload_hash(edited)
    )
    assert problem_of(rows) == (5, Reason.ENTRY_HASH_MISMATCH)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("entry_hash", "ab" * 32),
        ("prev_hash", "ab" * 32),
        ("payload_hash", "ab" * 32),
        ("kind", "price_deleted"),
        ("subject", "listing:99"),
        ("recorded_at", "2024-01-31T12:00:00.000000Z"),
    ],
)
def test_a_rewritten_stored_field_or_hash_is_reported_at_that_entry(
    rows: list[ChainRow], field: str, value: str
) -> None:
    rows[4] = dataclasses.replace(rows[4], **{field: value})
    assert problem_of(rows) == (5, Reason.ENTRY_HASH_MISMATCH)


def test_an_entry_replaced_by_a_self_consistent_forgery_is_blamed_not_its_successor(
    rows: list[ChainRow],
) -> None:
    rows[4] = forge(rows[4], payload=rows[4].payload.replace(b"12005.00", b"99.00"))
    problem = verify_chain(rows)
    assert problem is not None
    # Detected at entry 6, whose prev_hash no longer matches; entry 7 still vouches for entry 6.
    assert (problem.seq, problem.reason) == (5, Reason.LINK_BROKEN)
    assert "entry 5 was replaced" in problem.message


def test_an_entry_re_chained_to_another_predecessor_is_blamed_itself(
    rows: list[ChainRow],
) -> None:
    rows[4] = forge(rows[4], prev_hash="ab" * 32)
    assert problem_of(rows) == (5, Reason.LINK_BROKEN)


def test_a_re_forged_last_entry_escapes_the_chain_but_not_a_signed_root(
    rows: list[ChainRow],
) -> None:
    signed_root = root_hash(leaf_hash(leaf_input(r.entry_hash)) for r in rows)
    rows[-1] = forge(rows[-1], payload=rows[-1].payload.replace(b"12012.00", b"1.00"))
    # Nothing after it links to it: this is what checkpoints are for.
    assert verify_chain(rows) is None
    assert root_hash(leaf_hash(leaf_input(r.entry_hash)) for r in rows) != signed_root


def test_a_deleted_row_is_a_gap_at_its_seq(rows: list[ChainRow]) -> None:
    del rows[4]
    problem = verify_chain(rows)
    assert problem is not None
    assert (problem.seq, problem.reason) == (5, Reason.GAP)
    assert "seq 5 missing" in problem.message


def test_several_deleted_rows_are_one_gap_naming_the_range(rows: list[ChainRow]) -> None:
    del rows[4:7]
    problem = verify_chain(rows)
    assert problem is not None
    assert (problem.seq, problem.reason) == (5, Reason.GAP)
    assert "5..7" in problem.message


def test_a_deleted_first_row_is_a_gap_at_seq_1(rows: list[ChainRow]) -> None:
    assert problem_of(rows[1:]) == (1, Reason.GAP)


def test_a_deleted_row_with_its_successors_renumbered_is_caught_at_the_renumbered_row(
    rows: list[ChainRow],
) -> None:
    del rows[4]
    rows[4:] = [dataclasses.replace(r, seq=r.seq - 1) for r in rows[4:]]
    assert problem_of(rows) == (5, Reason.ENTRY_HASH_MISMATCH)


def test_two_rows_with_swapped_contents_are_caught_at_the_first(rows: list[ChainRow]) -> None:
    a, b = rows[4], rows[8]
    rows[4] = dataclasses.replace(b, seq=a.seq)
    rows[8] = dataclasses.replace(a, seq=b.seq)
    assert problem_of(rows) == (5, Reason.ENTRY_HASH_MISMATCH)


@pytest.mark.parametrize("other", [5, 8])
def test_rows_stored_out_of_order_are_reordered_at_the_first_misplaced_seq(
    rows: list[ChainRow], other: int
) -> None:
    rows[4], rows[other] = rows[other], rows[4]
    problem = verify_chain(rows)
    assert problem is not None
    assert (problem.seq, problem.reason) == (5, Reason.REORDERED)


def test_a_seq_going_backwards_is_reordered(rows: list[ChainRow]) -> None:
    rows.insert(8, rows[2])
    assert problem_of(rows) == (3, Reason.REORDERED)


@pytest.mark.parametrize("forged_first", [False, True])
def test_a_forged_row_inserted_under_an_existing_seq_is_a_duplicate(
    rows: list[ChainRow], forged_first: bool
) -> None:
    forged = forge(rows[4], payload=b'{"price":"1.00"}')
    rows.insert(4 if forged_first else 5, forged)
    assert problem_of(rows) == (5, Reason.DUPLICATE)


def test_a_forged_row_inserted_by_renumbering_the_rest_is_a_duplicate_at_its_seq(
    rows: list[ChainRow],
) -> None:
    forged = forge(rows[4], payload=b'{"price":"1.00"}')
    shifted = [dataclasses.replace(r, seq=r.seq + 1) for r in rows[4:]]
    rows[4:] = [forged, *shifted]
    problem = verify_chain(rows)
    assert problem is not None
    assert (problem.seq, problem.reason) == (5, Reason.DUPLICATE)
    assert "inserted" in problem.message


def test_a_forged_row_inserted_with_the_displaced_row_rehashed_is_a_duplicate_at_its_seq(
    rows: list[ChainRow],
) -> None:
    forged = forge(rows[4], payload=b'{"price":"1.00"}')
    displaced = forge(rows[4], seq=6)
    shifted = [dataclasses.replace(r, seq=r.seq + 1) for r in rows[5:]]
    rows[4:] = [forged, displaced, *shifted]
    assert problem_of(rows) == (5, Reason.DUPLICATE)


def test_only_the_first_of_several_problems_is_reported(rows: list[ChainRow]) -> None:
    rows[2] = dataclasses.replace(rows[2], payload=b"{}")
    del rows[8]
    assert problem_of(rows) == (3, Reason.PAYLOAD_CHANGED)


def test_rows_are_streamed_not_collected(rows: list[ChainRow]) -> None:
    rows[4] = dataclasses.replace(rows[4], payload=b"{}")
    consumed = 0

    def stream() -> Iterator[ChainRow]:
        nonlocal consumed
        for row in rows:
            consumed += 1
            yield row
        raise AssertionError("read past the first problem")

    assert verify_chain(stream()) is not None
    # Row 5 is bad; one row of lookahead means row 6 was read, and nothing after it.
    assert consumed == 6
