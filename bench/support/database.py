"""A database and a var/ directory made for one benchmark run, migrated, and gone afterwards.

Without DATABASE_URL the database is a SQLite file in a temporary directory, the embedded
default's engine. With DATABASE_URL=postgres://…/<name> the database <name> is created (dropped
first if a previous run left it), migrated, and dropped at the end; the name must contain
"bench" so that a typo cannot drop real data.
"""

from __future__ import annotations

import base64
import os
import secrets
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def throwaway_django(prefix: str) -> Iterator[str]:
    """Set the environment Django will read (call before django.setup()); yield a description of
    the database."""
    with tempfile.TemporaryDirectory(prefix=prefix) as folder:
        os.environ["WATCHPRICE_VAR_DIR"] = folder
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "watchprice.settings")
        # Production settings unless DEBUG is set: with DEBUG on, Django keeps every query.
        os.environ.setdefault("DEBUG", "false")
        os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(64))
        os.environ.setdefault("ALLOWED_HOSTS", "localhost")
        os.environ.setdefault("LEDGER_SIGNING_KEY", base64.b64encode(os.urandom(32)).decode())
        os.environ.setdefault("ALERT_WEBHOOK_SECRET", secrets.token_urlsafe(32))
        # The Celery broker and the cache stay in the temporary var/ directory too.
        os.environ.pop("REDIS_URL", None)
        url = os.environ.get("DATABASE_URL", "")
        if not url:
            os.environ["DATABASE_URL"] = f"sqlite:///{folder}/bench.sqlite3"
            yield "SQLite, a temporary file (WAL, synchronous=NORMAL: the embedded default)"
            return
        with _postgres_database(url) as description:
            yield description


@contextmanager
def _postgres_database(url: str) -> Iterator[str]:
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("DATABASE_URL must be postgres://… (or unset for a temporary SQLite file)")
    import dj_database_url
    import psycopg
    from psycopg import sql

    config = dj_database_url.parse(url)
    name = config["NAME"]
    if "bench" not in name:
        sys.exit(f"refusing to create and drop database {name!r}: its name must contain 'bench'")
    server = {
        "host": config["HOST"] or None,
        "port": config["PORT"] or None,
        "user": config["USER"] or None,
        "password": config["PASSWORD"] or None,
        "dbname": "postgres",
        "autocommit": True,
    }
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    with psycopg.connect(**server) as admin:
        admin.execute(drop)
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        version = admin.execute("SHOW server_version").fetchone()[0]
    try:
        yield f"PostgreSQL {version}, database {name} (created for this run, dropped after it)"
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(**server) as admin:
            admin.execute(drop)


def setup_django() -> None:
    """django.setup() and migrate, in the environment throwaway_django() prepared."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def database_cpu_seconds() -> float | None:
    """CPU time of the PostgreSQL backend serving this thread's connection; None for SQLite,
    whose work is done in this process and counted in its own CPU time."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None  # a server on another machine, or one we may not look at
    # utime and stime, fields 14 and 15 of stat(5), counted after the ")" closing the name.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
