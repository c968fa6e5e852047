"""Writes to the ledger. `ledger_append` is the only code that adds entries.

Appends are serialized by locking the single `LedgerHead` row (SELECT … FOR UPDATE on
PostgreSQL; SQLite's IMMEDIATE transactions already admit one writer at a time), so concurrent
workers can never fork the chain, skip a number or take the same one twice.
"""

import base64
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q

from ledger import chain, merkle
from ledger.canonical import canonical_json, format_utc
from ledger.checkpoint import load_private_key, public_key_b64, sign_checkpoint
from ledger.models import Checkpoint, LedgerEntry, LedgerHead, MerkleNode


@dataclass(frozen=True)
class AppendRequest:
    kind: str
    payload: dict[str, Any]
    product_id: int | None = None
    listing_id: int | None = None
    retailer_id: int | None = None
    idempotency_key: str | None = None
    recorded_at: datetime | None = None

    @property
    def subject(self) -> str:
        for name, value in (
            ("listing", self.listing_id),
            ("product", self.product_id),
            ("retailer", self.retailer_id),
        ):
            if value is not None:
                return f"{name}:{value}"
        return ""


def ledger_append(
    *,
    kind: str,
    payload: dict[str, Any],
    product_id: int | None = None,
    listing_id: int | None = None,
    retailer_id: int | None = None,
    idempotency_key: str | None = None,
) -> LedgerEntry:
    """Append one entry; with an idempotency key already used, return that entry instead."""
    request = AppendRequest(
        kind=kind,
        payload=payload,
        product_id=product_id,
        listing_id=listing_id,
        retailer_id=retailer_id,
        idempotency_key=idempotency_key,
    )
    return ledger_append_many(requests=[request])[0]


def ledger_append_many(*, requests: Iterable[AppendRequest]) -> list[LedgerEntry]:
    """Append several entries in one transaction, in order. Returns them in the same order.

    Requests whose idempotency key is already in the ledger (or earlier in the batch) come back
    as the entry recorded the first time, and nothing new is written for them.
    """
    requests = list(requests)
    with transaction.atomic():
        head = lock_head()
        keys = [r.idempotency_key for r in requests if r.idempotency_key]
        existing = (
            {e.idempotency_key: e for e in LedgerEntry.objects.filter(idempotency_key__in=keys)}
            if keys
            else {}
        )
        # Appending only ever needs the current peaks (left siblings), then nodes of this batch.
        new_nodes: dict[tuple[int, int], bytes] = {}
        peaks = prefetched_lookup(merkle.peak_node_ids(head.seq))

        def lookup(level: int, index: int) -> bytes:
            return new_nodes.get((level, index)) or peaks(level, index)

        results: list[LedgerEntry] = []
        to_create: list[LedgerEntry] = []
        seq, prev_hash = head.seq, head.entry_hash
        for request in requests:
            key = request.idempotency_key
            if key and key in existing:
                results.append(existing[key])
                continue
            seq += 1
            entry = build_entry(request, seq=seq, prev_hash=prev_hash)
            for level, index, node in merkle.new_perfect_nodes(
                seq - 1, merkle.leaf_hash(chain.leaf_input(entry.entry_hash)), lookup
            ):
                new_nodes[(level, index)] = node
            prev_hash = entry.entry_hash
            to_create.append(entry)
            results.append(entry)
            if key:
                existing[key] = entry
        if to_create:
            LedgerEntry.objects.bulk_create(to_create)
            MerkleNode.objects.bulk_create(
                MerkleNode(level=level, index=index, hash=node)
                for (level, index), node in new_nodes.items()
            )
            LedgerHead.objects.filter(pk=head.pk).update(seq=seq, entry_hash=prev_hash)
        return results


def lock_head() -> LedgerHead:
    head = LedgerHead.objects.select_for_update().filter(pk=1).first()
    if head is not None:
        return head
    try:
        with transaction.atomic():
            LedgerHead.objects.create(pk=1, seq=0, entry_hash=chain.GENESIS_HASH)
    except IntegrityError:
        pass  # another worker made it first; the lock below waits for it
    return LedgerHead.objects.select_for_update().get(pk=1)


def build_entry(request: AppendRequest, *, seq: int, prev_hash: str) -> LedgerEntry:
    recorded_at = format_utc(request.recorded_at or datetime.now(tz=UTC))
    payload = canonical_json(request.payload)
    payload_hash = chain.compute_payload_hash(payload)
    entry_hash = chain.compute_entry_hash(
        seq=seq,
        kind=request.kind,
        subject=request.subject,
        recorded_at=recorded_at,
        payload_hash=payload_hash,
        prev_hash=prev_hash,
    )
    return LedgerEntry(
        seq=seq,
        kind=request.kind,
        subject=request.subject,
        product_id=request.product_id,
        listing_id=request.listing_id,
        retailer_id=request.retailer_id,
        recorded_at=recorded_at,
        payload=payload.decode("utf-8"),
        payload_hash=payload_hash,
        prev_hash=prev_hash,
        entry_hash=entry_hash,
        idempotency_key=request.idempotency_key,
    )


def prefetched_lookup(node_ids: Iterable[tuple[int, int]]) -> merkle.PerfectSubtree:
    """A perfect-subtree reader that fetches every node a computation needs in one query."""
    wanted = set(node_ids)
    condition = Q()
    for level, index in wanted:
        condition |= Q(level=level, index=index)
    found = (
        {
            (level, index): bytes(node)
            for level, index, node in MerkleNode.objects.filter(condition).values_list(
                "level", "index", "hash"
            )
        }
        if wanted
        else {}
    )
    missing = wanted - found.keys()
    if missing:
        raise LookupError(f"Merkle nodes missing from storage: {sorted(missing)[:5]}")
    return lambda level, index: found[(level, index)]


def signing_key():
    raw = settings.LEDGER_SIGNING_KEY
    if not raw:
        # DEBUG only (settings refuse production without a key): a stable demo key.
        seed = hashlib.sha256(
            b"watchprice-ledger-dev-key\n" + settings.SECRET_KEY.encode()
        ).digest()
        raw = base64.b64encode(seed).decode()
    return load_private_key(raw)


def ledger_public_key() -> str:
    return public_key_b64(signing_key())


def ledger_checkpoint_create() -> Checkpoint:
    """Sign the tree as it stands now. Without new entries since the last one, return that."""
    with transaction.atomic():
        head = lock_head()
        latest = Checkpoint.objects.order_by("-tree_size").first()
        if latest is not None and latest.tree_size == head.seq:
            return latest
        size = head.seq
        root = merkle.tree_root(size, prefetched_lookup(merkle.peak_node_ids(size)))
        now = datetime.now(tz=UTC)
        signed = sign_checkpoint(
            signing_key(),
            origin=settings.LEDGER_ORIGIN,
            tree_size=size,
            root_hash=root,
            timestamp=now,
        )
        return Checkpoint.objects.create(
            tree_size=size,
            root_hash=root.hex(),
            timestamp=now,
            body=signed.body,
            signature=signed.signature,
            public_key=signed.public_key,
        )
