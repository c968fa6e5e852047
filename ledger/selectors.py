"""Reads of the ledger: entries with proofs, consistency between checkpoints, price history."""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.db.models import QuerySet

from ledger import merkle
from ledger.checkpoint import parse_checkpoint_body
from ledger.models import Checkpoint, LedgerEntry
from ledger.services import ledger_public_key, prefetched_lookup
from ledger.verification import stream_rows

EXPORT_FORMAT = "watchprice-ledger-export-v1"
PRICE_KINDS = (
    LedgerEntry.Kind.LIST_PRICE_SET,
    LedgerEntry.Kind.OBSERVATION,
    LedgerEntry.Kind.PRICE_POINT,
)


def latest_checkpoint() -> Checkpoint | None:
    return Checkpoint.objects.order_by("-tree_size").first()


@dataclass(frozen=True)
class InclusionProof:
    leaf_index: int
    tree_size: int
    hashes: list[str]
    checkpoint: Checkpoint


def entry_inclusion_proof(*, entry: LedgerEntry, checkpoint: Checkpoint) -> InclusionProof:
    """RFC 9162 inclusion proof of `entry` in the tree the checkpoint signed."""
    if entry.seq > checkpoint.tree_size:
        raise ValueError(
            f"entry {entry.seq} is newer than the checkpoint at size {checkpoint.tree_size}"
        )
    index, size = entry.seq - 1, checkpoint.tree_size
    lookup = prefetched_lookup(merkle.inclusion_proof_node_ids(index, size))
    hashes = merkle.inclusion_proof(index, size, lookup)
    return InclusionProof(index, size, [h.hex() for h in hashes], checkpoint)


def consistency_proof(*, first: Checkpoint, second: Checkpoint) -> list[str]:
    size1, size2 = first.tree_size, second.tree_size
    lookup = prefetched_lookup(merkle.consistency_proof_node_ids(size1, size2))
    return [h.hex() for h in merkle.consistency_proof(size1, size2, lookup)]


def product_price_history(*, product_id: int) -> QuerySet[LedgerEntry]:
    """Every recorded price about a product: our list price, observations, price points."""
    return LedgerEntry.objects.filter(product_id=product_id, kind__in=PRICE_KINDS).order_by("seq")


def checkpoint_record(checkpoint: Checkpoint) -> dict:
    return {
        "type": "checkpoint",
        "tree_size": checkpoint.tree_size,
        "root_hash": checkpoint.root_hash,
        "timestamp": parse_checkpoint_body(checkpoint.body).timestamp,
        "body": checkpoint.body,
        "signature": checkpoint.signature,
        "public_key": checkpoint.public_key,
    }


def export_lines() -> Iterator[str]:
    """The ledger as JSON Lines, in the format `ledger/offline_verify.py` checks."""
    header = {
        "type": "header",
        "format": EXPORT_FORMAT,
        "origin": settings.LEDGER_ORIGIN,
        "public_key": ledger_public_key(),
        "exported_at": datetime.now(tz=UTC).isoformat(),
    }
    yield json.dumps(header, sort_keys=True)
    for row in stream_rows():
        yield json.dumps(row.export_record(), sort_keys=True, ensure_ascii=False)
    for checkpoint in Checkpoint.objects.order_by("tree_size"):
        yield json.dumps(checkpoint_record(checkpoint), sort_keys=True)
