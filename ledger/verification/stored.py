"""Reading the stored ledger for verification, straight through the database driver.

Rows come back as plain tuples (no model instances, no ORM row conversion), the payload as the
UTF-8 bytes of the stored text, ready to hash. Stored Merkle nodes are read one level's index
range at a time, which the (level, index) unique index serves in order without a sort.
(Aggregating them in the database, string_agg(hash ORDER BY index), costs the server more
than the driver spends building the rows.)
"""

from __future__ import annotations

from collections.abc import Iterator

# PostgreSQL: every string column but the payload as varchar (loaded as str), the payload as
# text, which these cursors load as its raw UTF-8 bytes: no decoding to str and encoding back.
POSTGRES_COLUMNS = (
    "seq, kind::varchar, subject::varchar, recorded_at::varchar, payload::text, "
    "payload_hash::varchar, prev_hash::varchar, entry_hash::varchar"
)
SQLITE_COLUMNS = (
    "seq, kind, subject, recorded_at, CAST(payload AS BLOB), payload_hash, prev_hash, entry_hash"
)
FETCH = 10_000


def text_as_bytes(cursor):
    from psycopg.types.string import ByteaBinaryLoader

    cursor.adapters.register_loader("text", ByteaBinaryLoader)
    return cursor


class Store:
    """Verification's reads on one DB-API connection (psycopg 3 or sqlite3), in its transaction."""

    def __init__(self, raw_connection, vendor: str) -> None:
        self.raw = raw_connection
        self.postgres = vendor == "postgresql"
        self.columns = POSTGRES_COLUMNS if self.postgres else SQLITE_COLUMNS

    def sql(self, text: str) -> str:
        return text if self.postgres else text.replace("%s", "?")

    def cursor(self):
        if self.postgres:
            import psycopg

            # Django's connections make client-side-binding cursors, which return text only.
            cursor = psycopg.Cursor(self.raw)
            cursor.format = psycopg.pq.Format.BINARY
            return text_as_bytes(cursor)
        return self.raw.cursor()

    def query(self, text: str, params: list | tuple = ()) -> list[tuple]:
        cursor = self.cursor()
        try:
            cursor.execute(self.sql(text), params)
            return cursor.fetchall()
        finally:
            cursor.close()

    # --- entries ---------------------------------------------------------------------------

    def entry_batches(self, *, after_seq: int) -> Iterator[list[tuple]]:
        """Every entry after `after_seq` in storage order (by primary key), in batches; from 0,
        every row, whatever its seq (a forged row numbered 0 or below must be seen)."""
        where, params = after(after_seq)
        text = f"SELECT {self.columns} FROM ledger_ledgerentry{where} ORDER BY id"  # noqa: S608
        if self.postgres:
            # A server-side cursor: the rows stream instead of arriving all at once.
            cursor = text_as_bytes(self.raw.cursor(name="ledger_verify_entries", binary=True))
        else:
            cursor = self.raw.cursor()
        try:
            cursor.execute(self.sql(text), params)
            while batch := cursor.fetchmany(FETCH):
                yield batch
        finally:
            cursor.close()

    def entries_between(self, *, after_seq: int, low_id: int | None, high_id: int | None):
        """The entries after `after_seq` with low_id <= id < high_id (bounds optional), by id."""
        conditions, params = [], []
        if after_seq:
            conditions.append("seq > %s")
            params.append(after_seq)
        if low_id is not None:
            conditions.append("id >= %s")
            params.append(low_id)
        if high_id is not None:
            conditions.append("id < %s")
            params.append(high_id)
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        return self.query(
            f"SELECT {self.columns} FROM ledger_ledgerentry{where} ORDER BY id",  # noqa: S608
            params,
        )

    def last_seq(self) -> int:
        return self.query("SELECT COALESCE(MAX(seq), 0) FROM ledger_ledgerentry")[0][0]

    def ids_of(self, seqs: list[int]) -> dict[int, int]:
        if not seqs:
            return {}
        marks = ", ".join(["%s"] * len(seqs))
        rows = self.query(
            f"SELECT seq, id FROM ledger_ledgerentry WHERE seq IN ({marks})",  # noqa: S608
            seqs,
        )
        found: dict[int, int] = {}
        for seq, row_id in rows:
            if seq in found:
                found[seq] = -1  # the same seq twice: no single row starts the slice
            else:
                found[seq] = row_id
        return found

    # --- Merkle nodes ----------------------------------------------------------------------

    def level_nodes(self, level: int, low: int, high: int) -> list[tuple[int, bytes]]:
        return self.query(
            'SELECT "index", hash FROM ledger_merklenode '
            'WHERE level = %s AND "index" >= %s AND "index" < %s ORDER BY "index"',
            (level, low, high),
        )

    @staticmethod
    def newer_condition(size: int) -> tuple[str, list[int]]:
        """Nodes completed by a leaf at or after `size`: index >= size >> level."""
        bits = size.bit_length()
        parts, params = ["level >= %s"], [bits]
        for level in range(bits):
            parts.append('(level = %s AND "index" >= %s)')
            params += [level, size >> level]
        return " OR ".join(parts), params

    def nodes_newer(self, size: int) -> list[tuple[int, int]]:
        """(level, index) of the stored nodes that only a leaf at or after `size` completes."""
        condition, params = self.newer_condition(size)
        return self.query(
            f'SELECT level, "index" FROM ledger_merklenode WHERE {condition}',  # noqa: S608
            params,
        )


def after(after_seq: int) -> tuple[str, tuple]:
    """The WHERE clause for the entries after `after_seq`: none at all from the start."""
    return (" WHERE seq > %s", (after_seq,)) if after_seq else ("", ())
