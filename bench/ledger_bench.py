"""Ledger benchmark: append rate, full verification against bare SHA-256, proofs at 1M leaves.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/watchprice_bench \\
        .venv/bin/python bench/ledger_bench.py [--entries 100000] [--workers 2] [--profile]

On PostgreSQL the database named in DATABASE_URL is created, migrated, measured and dropped; its
name must contain "bench" so a typo cannot drop real data. Without DATABASE_URL a throwaway SQLite
file is used. Everything printed is measured in this run; see bench/README.md.
"""

import argparse
import cProfile
import gc
import hashlib
import io
import math
import os
import pstats
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

TARGET_BATCHED_APPENDS = 1_500  # entries/s, on PostgreSQL
TARGET_VERIFY = 100_000  # entries/s
TARGET_VERIFY_VS_SHA = 3.0  # verification time / bare SHA-256 time over the same bytes
TARGET_PROOF_SECONDS = 0.001
ROUNDS = 5  # verification and baseline measured in turn, best of each


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--entries", type=int, default=100_000, help="ledger size for verification (100000)"
    )
    parser.add_argument("--single", type=int, default=500, help="appends one at a time (500)")
    parser.add_argument("--batches", type=int, default=20, help="timed batches (20)")
    parser.add_argument("--batch-size", type=int, default=1_000, help="entries per batch (1000)")
    parser.add_argument(
        "--proof-leaves", type=int, default=1_000_000, help="tree size for proofs (1000000)"
    )
    parser.add_argument("--proofs", type=int, default=2_000, help="proofs to verify (2000)")
    parser.add_argument(
        "--workers",
        type=int,
        default=min(os.cpu_count() or 1, 8),
        help="verification worker processes on PostgreSQL (one per CPU)",
    )
    parser.add_argument(
        "--profile", action="store_true", help="also print where verification spends its time"
    )
    return parser.parse_args()


# --- the database: created for the run, dropped after it ------------------------------------


@contextmanager
def bench_database() -> Iterator[str]:
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        with tempfile.TemporaryDirectory(prefix="ledger-bench-") as folder:
            os.environ["DATABASE_URL"] = f"sqlite:///{folder}/bench.sqlite3"
            yield "SQLite (temporary file)"
        return
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
    with psycopg.connect(**server) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        version = admin.execute("SHOW server_version").fetchone()[0]
    try:
        yield f"PostgreSQL {version}, database {name}"
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(**server) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "watchprice.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


# --- measurements ---------------------------------------------------------------------------

START = datetime(2026, 1, 1, tzinfo=UTC)


def observation(n: int):
    """A realistic retailer observation (about 230 bytes of canonical JSON)."""
    from ledger.services import AppendRequest

    listing = n % 997 + 1
    return AppendRequest(
        kind="observation",
        listing_id=listing,
        retailer_id=listing % 13 + 1,
        product_id=listing % 331 + 1,
        payload={
            "price": Decimal(9000 + n % 5000) + Decimal("0.99"),
            "regular_price": Decimal("14950.00"),
            "currency": "USD",
            "in_stock": n % 7 != 0,
            "observed_at": START + timedelta(seconds=n),
            "url": f"https://shop{listing % 13}.example/watches/{listing}",
            "probe": n,
        },
    )


def timed(function: Callable[[], object]) -> tuple[float, object]:
    began = time.perf_counter()
    result = function()
    return time.perf_counter() - began, result


def cpu_timed(function: Callable[[], object]) -> tuple[float, float, object]:
    """Wall and CPU seconds: wall well above CPU means the shared machine was busy elsewhere."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = function()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def measure_appends(args, counter: Iterator[int]) -> tuple[float, float]:
    from ledger.services import ledger_append, ledger_append_many

    def single() -> None:
        for _ in range(args.single):
            request = observation(next(counter))
            ledger_append(
                kind=request.kind,
                payload=request.payload,
                product_id=request.product_id,
                listing_id=request.listing_id,
                retailer_id=request.retailer_id,
            )

    single_seconds, _ = timed(single)

    batches = [
        [observation(next(counter)) for _ in range(args.batch_size)] for _ in range(args.batches)
    ]

    def batched() -> None:
        for batch in batches:
            ledger_append_many(requests=batch)

    batched_seconds, _ = timed(batched)
    return args.single / single_seconds, args.batches * args.batch_size / batched_seconds


def fill(args, counter: Iterator[int]) -> None:
    """Append untimed up to --entries, signing a checkpoint every 20,000 entries and at the end."""
    from ledger.models import LedgerHead
    from ledger.services import ledger_append_many, ledger_checkpoint_create

    size = LedgerHead.objects.get().seq
    while size < args.entries:
        step = min(5_000, args.entries - size, 20_000 - size % 20_000)
        ledger_append_many(requests=[observation(next(counter)) for _ in range(step)])
        size += step
        if size % 20_000 == 0:
            ledger_checkpoint_create()
    ledger_checkpoint_create()  # returns the last one when nothing was appended since


def verification_messages() -> tuple[list[bytes], dict[str, int]]:
    """Every message full verification hashes, built in memory: the bare-SHA-256 baseline's input.

    Per entry its payload bytes and its entry header bytes (ledger.chain's format), its Merkle
    leaf input 0x00 || entry hash, and for every node the entries complete (n - popcount(n) of
    them over n leaves) its input 0x01 || left || right: the same bytes, in the same number of
    SHA-256 calls, as `ledger_verify()` hashes.
    """
    from ledger.chain import entry_header
    from ledger.models import LedgerEntry

    payloads, headers, leaf_inputs = [], [], []
    for seq, kind, subject, recorded_at, payload, payload_hash, prev_hash, entry_hash in (
        LedgerEntry.objects.order_by("seq")
        .values_list(
            "seq",
            "kind",
            "subject",
            "recorded_at",
            "payload",
            "payload_hash",
            "prev_hash",
            "entry_hash",
        )
        .iterator(chunk_size=5_000)
    ):
        payloads.append(payload.encode())
        headers.append(
            entry_header(
                seq=seq,
                kind=kind,
                subject=subject,
                recorded_at=recorded_at,
                payload_hash=payload_hash,
                prev_hash=prev_hash,
            )
        )
        leaf_inputs.append(b"\x00" + bytes.fromhex(entry_hash))
    node_inputs = []
    level = [hashlib.sha256(data).digest() for data in leaf_inputs]
    while len(level) > 1:
        pairs = [
            b"\x01" + left + right for left, right in zip(level[::2], level[1::2], strict=False)
        ]
        node_inputs += pairs
        level = [hashlib.sha256(data).digest() for data in pairs]
    counts = {
        "payloads": len(payloads),
        "headers": len(headers),
        "leaves": len(leaf_inputs),
        "nodes": len(node_inputs),
        "bytes": sum(map(len, payloads + headers + leaf_inputs + node_inputs)),
    }
    return payloads + headers + leaf_inputs + node_inputs, counts


def bare_sha256_seconds(messages: list[bytes]) -> float:
    """hashlib.sha256 over pre-built messages in a tight loop, one thread, GC off as timeit does."""
    sha256 = hashlib.sha256
    gc.disable()
    try:
        began = time.perf_counter()
        for message in messages:
            sha256(message).digest()
        return time.perf_counter() - began
    finally:
        gc.enable()


def children_cpu_seconds() -> float:
    """CPU of this process's finished children (the verification workers)."""
    times = os.times()
    return times.children_user + times.children_system


def measure_verification(args) -> dict:
    from ledger.verification import ledger_verify

    def run(workers: int) -> tuple[float, float, float, object]:
        wall, cpu, children = time.perf_counter(), time.process_time(), children_cpu_seconds()
        report = ledger_verify(workers=workers)
        own = time.process_time() - cpu
        return (
            time.perf_counter() - wall,
            own,
            own + children_cpu_seconds() - children,
            report,
        )

    from django.db import connection

    # Worker processes are for PostgreSQL; SQLite is always checked sequentially.
    modes = (1, args.workers) if connection.vendor == "postgresql" else (1,)
    modes = tuple(dict.fromkeys(modes))
    messages, counts = verification_messages()
    # A first run of each warms the database's cache, as a nightly run on a live server would
    # find it. Then rounds that take each measurement in turn, keeping the best of each: the
    # machine is shared, so the baseline and the verification must see the same moments.
    for workers in modes:
        run(workers)
    best: dict[int, tuple] = {}
    sha_seconds = math.inf
    for _ in range(ROUNDS):
        for workers in modes:
            result = run(workers)
            if not result[3].ok:
                sys.exit(f"verification failed on the benchmark ledger: {result[3].problem}")
            if workers not in best or result[0] < best[workers][0]:
                best[workers] = result
        sha_seconds = min(sha_seconds, bare_sha256_seconds(messages))
    if args.profile:
        profile = cProfile.Profile()
        profile.runcall(ledger_verify, workers=1)
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(14)
        print(out.getvalue())
    runs = {
        workers: (report.entries_checked, wall, own_cpu, all_cpu)
        for workers, (wall, own_cpu, all_cpu, report) in best.items()
    }
    return {"runs": runs, "sha_seconds": sha_seconds, "counts": counts}


def measure_proofs(args) -> dict:
    """Inclusion proofs from an in-memory tree of --proof-leaves leaves (ledger.merkle)."""
    from ledger import merkle

    n = args.proof_leaves
    build_seconds, tree = timed(
        lambda: merkle.MerkleTree(
            hashlib.sha256(b"\x00" + i.to_bytes(8, "big")).digest() for i in range(n)
        )
    )
    rng = random.Random(9162)
    indexes = [0, n - 1, n // 2, (1 << (n.bit_length() - 1)) - 1] + [
        rng.randrange(n) for _ in range(args.proofs - 4)
    ]
    root = tree.root()
    # The proof code the API runs, reading complete subtrees from memory instead of the table.
    began = time.perf_counter()
    proofs = [(i, merkle.inclusion_proof(i, n, tree.perfect_subtree)) for i in indexes]
    build_proof_seconds = (time.perf_counter() - began) / len(indexes)
    timings = []
    # As timeit does: no garbage collection while timing (a full collection walks the 2M
    # hashes of the tree), and the best of 3 runs per proof, so scheduler noise on a busy
    # machine is not counted as verification time.
    gc.disable()
    try:
        for index, proof in proofs:
            leaf = tree.perfect_subtree(0, index)
            best = math.inf
            for _ in range(3):
                began = time.perf_counter()
                ok = merkle.verify_inclusion(
                    leaf_hash=leaf, index=index, size=n, proof=proof, root=root
                )
                best = min(best, time.perf_counter() - began)
            if not ok:
                sys.exit(f"inclusion proof for leaf {index} did not verify")
            timings.append(best)
    finally:
        gc.enable()
    timings.sort()
    lengths = [len(proof) for _, proof in proofs]
    return {
        "n": n,
        "build_seconds": build_seconds,
        "bound": math.ceil(math.log2(n)),
        "min": min(lengths),
        "max": max(lengths),
        "bytes": max(lengths) * merkle.HASH_SIZE,
        "median": timings[len(timings) // 2],
        "worst": timings[-1],
        "count": len(proofs),
        "build_proof": build_proof_seconds,
    }


def measure_stored_proof() -> tuple[int, int, float]:
    """One proof served from the table, as GET /api/ledger/entries/{seq} does, timed end to end."""
    from ledger import merkle
    from ledger.models import LedgerEntry
    from ledger.selectors import entry_inclusion_proof, latest_checkpoint

    checkpoint = latest_checkpoint()
    entry = LedgerEntry.objects.get(seq=checkpoint.tree_size // 3)
    runs = sorted(
        (
            timed(lambda: entry_inclusion_proof(entry=entry, checkpoint=checkpoint))
            for _ in range(21)
        ),
        key=lambda run: run[0],
    )
    seconds, proof = runs[len(runs) // 2]
    assert merkle.verify_inclusion(
        leaf_hash=merkle.leaf_hash(bytes.fromhex(entry.entry_hash)),
        index=proof.leaf_index,
        size=proof.tree_size,
        proof=[bytes.fromhex(h) for h in proof.hashes],
        root=bytes.fromhex(checkpoint.root_hash),
    )
    return checkpoint.tree_size, len(proof.hashes), seconds


def main() -> None:
    args = parse_args()
    began = time.perf_counter()
    with bench_database() as database:
        setup_django()
        from django.db import connection

        print(f"ledger benchmark on {database}, Python {sys.version.split()[0]}")
        counter = iter(range(1, 10**9))
        single_rate, batched_rate = measure_appends(args, counter)
        postgres = connection.vendor == "postgresql"
        print(f"appends, one at a time:   {single_rate:9,.0f} entries/s  ({args.single} appends)")
        print(
            f"appends, batched:         {batched_rate:9,.0f} entries/s  "
            f"({args.batches} x {args.batch_size} via ledger_append_many)  "
            f"target >= {TARGET_BATCHED_APPENDS:,} on PostgreSQL: "
            + (verdict(batched_rate >= TARGET_BATCHED_APPENDS) if postgres else "n/a on SQLite")
        )

        fill_seconds, _ = timed(lambda: fill(args, counter))
        print(f"filled to {args.entries:,} entries in {fill_seconds:.1f} s")
        verification = measure_verification(args)
        sha_seconds, counts = verification["sha_seconds"], verification["counts"]
        entries = counts["leaves"]
        print(
            f"bare SHA-256, same bytes: {entries / sha_seconds:9,.0f} entries/s  "
            f"({sha_seconds:.3f} s, one thread: hashlib.sha256(m).digest() over "
            f"{counts['payloads']:,} payloads + {counts['headers']:,} entry headers + "
            f"{counts['leaves']:,} leaf inputs 0x00||hash + {counts['nodes']:,} node inputs "
            f"0x01||l||r = {counts['bytes'] / 1e6:.1f} MB, pre-built in memory; "
            f"best of {ROUNDS} rounds)"
        )
        for workers, (checked, wall, own_cpu, all_cpu) in verification["runs"].items():
            rate, ratio = checked / wall, wall / sha_seconds
            how = "sequential, 1 process" if workers == 1 else f"parallel, workers={workers}"
            print(
                f"full verification ({how}): {rate:9,.0f} entries/s  ({checked:,} entries in "
                f"{wall:.3f} s wall; CPU {own_cpu:.2f} s in this process, {all_cpu:.2f} s with "
                f"its worker processes, database server not counted; best of {ROUNDS} rounds)"
            )
            print(
                f"  vs bare SHA-256: {ratio:5.2f} x  "
                f"target >= {TARGET_VERIFY:,} entries/s: {verdict(rate >= TARGET_VERIFY)}, "
                f"target <= {TARGET_VERIFY_VS_SHA:g}x: {verdict(ratio <= TARGET_VERIFY_VS_SHA)}"
                + ("  (informational: the default uses the parallel path)" if workers == 1 else "")
            )

        size, hashes, seconds = measure_stored_proof()
        print(
            f"stored proof at {size:,}:   {hashes} hashes, read from the table and built in "
            f"{seconds * 1000:.2f} ms (median of 21)"
        )

    proofs = measure_proofs(args)
    print(
        f"proofs at {proofs['n']:,} leaves (tree built in memory with ledger.merkle.MerkleTree "
        f"in {proofs['build_seconds']:.1f} s; {proofs['count']:,} proofs):"
    )
    print(
        f"  size:   {proofs['min']}..{proofs['max']} hashes ({proofs['bytes']} bytes), "
        f"ceil(log2 n) = {proofs['bound']}: "
        + verdict(proofs["max"] == proofs["bound"] and proofs["min"] >= 1)
    )
    print(f"  build:  {proofs['build_proof'] * 1e6:.1f} us per proof (mean)")
    print(
        f"  verify: median {proofs['median'] * 1e6:.1f} us, worst {proofs['worst'] * 1e6:.1f} us "
        "(best of 3 per proof, GC off)  "
        f"target < 1 ms: {verdict(proofs['worst'] < TARGET_PROOF_SECONDS)}"
    )
    print(f"total {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
