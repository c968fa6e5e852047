"""The price ledger: an append-only, hash-chained log with an RFC 9162 Merkle tree over it.

Only `ledger.services.ledger_append` writes entries (and the tree nodes and head that go with
them). On PostgreSQL a trigger refuses UPDATE and DELETE on the entry, node and checkpoint
tables, so even a mistaken query or a hand-edit in psql cannot rewrite history; anything that
slips past (a superuser disabling the trigger, a hand-edited SQLite file) is caught by
`manage.py ledger verify`.
"""

from django.db import models


class LedgerEntry(models.Model):
    class Kind(models.TextChoices):
        LIST_PRICE_SET = "list_price_set", "Our list price set"
        OBSERVATION = "observation", "Retailer price observed"
        PRICE_POINT = "price_point", "Price point from an integration"
        MAP_VIOLATION_OPENED = "map_violation_opened", "MAP violation opened"
        MAP_VIOLATION_CLOSED = "map_violation_closed", "MAP violation closed"

    seq = models.PositiveBigIntegerField(unique=True, help_text="1, 2, 3, … with no gap.")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    subject = models.CharField(
        max_length=64, help_text='What it is about, e.g. "product:12" or "listing:40".'
    )
    # The subjects as real foreign keys for joins. No database constraint and no cascade: the
    # ledger outlives what it describes, and deleting a product must never touch history.
    product = models.ForeignKey(
        "catalog.Product",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="ledger_entries",
    )
    listing = models.ForeignKey(
        "catalog.Listing",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="ledger_entries",
    )
    retailer = models.ForeignKey(
        "catalog.Retailer",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="ledger_entries",
    )
    recorded_at = models.CharField(
        max_length=32, help_text="UTC, as hashed: YYYY-MM-DDTHH:MM:SS.ffffffZ"
    )
    payload = models.TextField(help_text="Canonical JSON, exactly the bytes that were hashed.")
    payload_hash = models.CharField(max_length=64)
    prev_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64, unique=True)
    idempotency_key = models.CharField(max_length=200, null=True, blank=True, unique=True)

    class Meta:
        ordering = ["seq"]
        verbose_name_plural = "ledger entries"
        indexes = [
            models.Index(fields=["product", "seq"]),
            models.Index(fields=["listing", "seq"]),
            models.Index(fields=["kind", "seq"]),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.kind} {self.subject}"


class MerkleNode(models.Model):
    """The hash of a complete subtree: leaves [index * 2**level, (index + 1) * 2**level).

    Appending leaf n adds at most log2(n) of these, and any proof needs O(log n) of them, so
    proofs stay cheap at millions of entries.
    """

    level = models.PositiveSmallIntegerField()
    index = models.PositiveBigIntegerField()
    hash = models.BinaryField(max_length=32)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["level", "index"], name="merkle_node_unique_position")
        ]

    def __str__(self) -> str:
        return f"node level={self.level} index={self.index}"


class LedgerHead(models.Model):
    """One row: the last entry. Appenders lock it, which serializes appends (no fork, no gap)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.PositiveBigIntegerField(default=0)
    entry_hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"head at #{self.seq}"


class Checkpoint(models.Model):
    """A signed statement of the tree's size and root at a moment (C2SP tlog-checkpoint)."""

    tree_size = models.PositiveBigIntegerField(unique=True)
    root_hash = models.CharField(max_length=64)
    timestamp = models.DateTimeField()
    body = models.TextField(help_text="The signed note body, byte for byte.")
    signature = models.CharField(max_length=200, help_text="Ed25519 signature, base64.")
    public_key = models.CharField(max_length=64, help_text="The Ed25519 public key, base64.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-tree_size"]
        get_latest_by = "tree_size"

    def __str__(self) -> str:
        return f"checkpoint at size {self.tree_size}"
