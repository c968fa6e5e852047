"""SharedState in a SQLite file: shared by every process on one machine.

Writes run in ``BEGIN IMMEDIATE`` transactions, which take SQLite's write lock before reading,
so a read-modify-write (the next politeness slot, a breaker's half-open trial) is atomic across
processes. Times are wall-clock seconds, the one clock all processes on a machine agree on.
"""

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from scraping.fetching.state import Admission

FILE_NAME = "fetching.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS slots (key TEXT PRIMARY KEY, slot REAL NOT NULL, sent REAL NOT NULL);
CREATE TABLE IF NOT EXISTS cache (key TEXT PRIMARY KEY, value BLOB NOT NULL, expires REAL NOT NULL);
CREATE TABLE IF NOT EXISTS breakers (
    key TEXT PRIMARY KEY, failures INTEGER NOT NULL, open_until REAL
);
"""


class FileState:
    def __init__(self, directory: str | Path) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / FILE_NAME
        self._local = threading.local()
        self._db().executescript(_SCHEMA)

    def reserve(self, key: str, spacing: float) -> float:
        with self._transaction() as db:
            now = time.time()
            row = db.execute("SELECT slot, sent FROM slots WHERE key = ?", (key,)).fetchone()
            slot = now if row is None else max(now, row[0] + spacing, row[1] + spacing)
            db.execute(
                "INSERT INTO slots (key, slot, sent) VALUES (?, ?, 0) "
                "ON CONFLICT (key) DO UPDATE SET slot = excluded.slot",
                (key, slot),
            )
        return slot - now

    def confirm(self, key: str, spacing: float) -> float:
        with self._transaction() as db:
            now = time.time()
            row = db.execute("SELECT sent FROM slots WHERE key = ?", (key,)).fetchone()
            if row is not None and row[0] + spacing > now:
                return row[0] + spacing - now
            db.execute(
                "INSERT INTO slots (key, slot, sent) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET sent = excluded.sent",
                (key, now, now),
            )
        return 0.0

    def delivered(self, key: str) -> None:
        with self._transaction() as db:
            db.execute("UPDATE slots SET sent = MAX(sent, ?) WHERE key = ?", (time.time(), key))

    def cache_get(self, key: str) -> bytes | None:
        row = (
            self._db()
            .execute("SELECT value FROM cache WHERE key = ? AND expires > ?", (key, time.time()))
            .fetchone()
        )
        return None if row is None else bytes(row[0])

    def cache_set(self, key: str, value: bytes, ttl: float) -> None:
        with self._transaction() as db:
            self._put(db, key, value, time.time() + ttl)

    def claim(self, key: str, ttl: float) -> bool:
        with self._transaction() as db:
            now = time.time()
            row = db.execute("SELECT expires FROM cache WHERE key = ?", (key,)).fetchone()
            if row is not None and row[0] > now:
                return False
            self._put(db, key, b"", now + ttl)
            return True

    def release(self, key: str) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM cache WHERE key = ?", (key,))

    def breaker_admit(self, key: str, trial_timeout: float) -> Admission:
        # The common case, a closed breaker, is a plain read and takes no write lock.
        if self._open_until(self._db(), key) is None:
            return Admission("closed")
        with self._transaction() as db:
            open_until = self._open_until(db, key)
            now = time.time()
            if open_until is None:
                return Admission("closed")
            if now < open_until:
                return Admission("open", retry_in=open_until - now)
            # Half-open: this caller is the trial; everyone else waits for its verdict.
            db.execute(
                "UPDATE breakers SET open_until = ? WHERE key = ?", (now + trial_timeout, key)
            )
            return Admission("trial")

    def breaker_failure(self, key: str, threshold: int, cooldown: float) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO breakers (key, failures) VALUES (?, 1) "
                "ON CONFLICT (key) DO UPDATE SET failures = failures + 1",
                (key,),
            )
            db.execute(
                "UPDATE breakers SET open_until = ? WHERE key = ? AND failures >= ?",
                (time.time() + cooldown, key, threshold),
            )

    def breaker_success(self, key: str) -> None:
        known = self._db().execute("SELECT 1 FROM breakers WHERE key = ?", (key,)).fetchone()
        if known:
            with self._transaction() as db:
                db.execute("DELETE FROM breakers WHERE key = ?", (key,))

    def _open_until(self, db: sqlite3.Connection, key: str) -> float | None:
        row = db.execute("SELECT open_until FROM breakers WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    def _put(self, db: sqlite3.Connection, key: str, value: bytes, expires: float) -> None:
        db.execute(
            "INSERT INTO cache (key, value, expires) VALUES (?, ?, ?) ON CONFLICT (key) "
            "DO UPDATE SET value = excluded.value, expires = excluded.expires",
            (key, value, expires),
        )

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def _db(self) -> sqlite3.Connection:
        # One connection per thread and per process: SQLite connections survive neither being
        # shared between threads nor a fork.
        db = getattr(self._local, "db", None)
        if db is None or self._local.pid != os.getpid():
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            # Slots, breakers and cached robots.txt are worth nothing after a crash of the
            # machine, so nothing is flushed to disk: a busy disk never slows a fetch down.
            db.execute("PRAGMA synchronous = OFF")
            db.execute("PRAGMA journal_mode = WAL")
            self._local.db, self._local.pid = db, os.getpid()
        return db
