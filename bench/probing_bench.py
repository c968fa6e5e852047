"""Probing benchmark: fetch + extract + identity + record, end to end, against loopback shops.

    .venv/bin/python bench/probing_bench.py [--pages 1500] [--concurrency 8] [--page-kb 40]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wp_bench .venv/bin/python bench/probing_bench.py

The demo marketplace runs in a process of its own on 1 + --hosts loopback ports; every request
goes to 127.0.0.1. The database is made for the run and dropped after it: a temporary SQLite
file, or with DATABASE_URL=postgres://…/<name containing "bench"> a PostgreSQL database of that
name (bench/support/database.py). Django runs with production settings (DEBUG=false) unless
DEBUG is set. Products, retailers and listings are created in bulk from the demo catalog
(bench/support/listings.py).

Part (a), politeness off, phases measured one after another in this run:
  fetch only     scraping.fetching.fetch_many over --fetch-pages URLs, --concurrency threads
  extract only   scraping.assessment.assess_page (extract + identity) on those bodies, 1 thread
  record only    scraping.services.save_probe for --record-pages of them (Probe, ProbePage,
                 listing, ledger observation, MAP check on commit), 1 thread
  baseline       services.listing_probe, one listing at a time as the Celery task runs it today
                 (claim, fetch with DirectTransport, probe_record_page, release)
  pipeline       the same work for --pages listings at once (bench/support/pipeline.py):
                 fetch_many on a fetcher thread, one writer claiming, recording and releasing
Part (b), politeness on: the pipeline over --hosts ports at --rate requests a second per port,
robots.txt obeyed, --polite-seconds pages per port; arrival times are taken by the servers.

Targets use wall time. CPU time is printed beside it because the machine is shared: of this
process (client: fetching, extraction, ORM, and SQLite's own work), of the marketplace process
(shops) and, on PostgreSQL, of the server process behind the writer's connection (db). "cores"
is their sum over wall time: how much of the machine the benchmark got.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import itertools
import math
import os
import pstats
import sys
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.support.database import (  # noqa: E402
    database_cpu_seconds,
    setup_django,
    throwaway_django,
)
from bench.support.marketplace import Marketplace  # noqa: E402
from bench.support.measure import Span, Verdicts, median, percentile, timed  # noqa: E402
from bench.support.politeness import ConfirmLog  # noqa: E402

TARGET_PAGES_PER_MINUTE = 3_000
TARGET_POLITE_SHARE = 0.9
DEMO_PAGES = 6 * 33  # the demo catalog's shops x watches: listings per copy of the shops
WARMUP = 30


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--pages", type=int, default=1500, help="pages through the pipeline (1500)")
    add("--pipeline-seconds", type=float, default=45, help="start no batch after this (45)")
    add("--fetch-pages", type=int, default=1000, help="pages for fetch and extract only (1000)")
    add("--record-pages", type=int, default=300, help="pages for record only (300)")
    add("--baseline-seconds", type=float, default=10.0, help="time given to the baseline (10)")
    add("--concurrency", type=int, default=8, help="fetch_many threads, politeness off (8)")
    add("--batch", type=int, default=64, help="URLs per fetch_many call in the pipeline (64)")
    add("--page-kb", type=int, default=40, help="pad product pages to this size; 0: as served")
    add("--hosts", type=int, default=20, help="ports for the politeness run (20)")
    add("--rate", type=float, default=1.0, help="requests a second per port, politeness on (1)")
    add("--polite-seconds", type=int, default=20, help="pages per port, politeness on (20)")
    add("--state", choices=("file", "redis"), default="file", help="fetching state (file)")
    add("--redis-url", default="redis://127.0.0.1:6379/0", help="for --state redis")
    add("--skip-polite", action="store_true", help="part (a) only")
    add("--profile", action="store_true", help="cProfile the pipeline's writer thread")
    return parser.parse_args()


class Phase:
    """Times a phase on both clocks and in both processes, and prints its line of the table."""

    HEADER = (
        f"{'phase':44} {'pages':>6} {'wall s':>7} {'pages/min':>10}   cpu ms/page: "
        f"{'client':>6} {'shops':>6} {'db':>6}  {'cores':>5}"
    )

    def __init__(self, shops: Marketplace) -> None:
        self.shops = shops
        self.span = Span()
        self.shops_cpu = 0.0
        self.db_cpu: float | None = None

    def __enter__(self) -> Phase:
        self._shops_cpu = self.shops.cpu_seconds()
        self._db_cpu = database_cpu_seconds()
        self._timer = timed()
        self.span = self._timer.__enter__()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._timer.__exit__(*exc_info)
        self.shops_cpu = self.shops.cpu_seconds() - self._shops_cpu
        db_cpu = database_cpu_seconds()
        if db_cpu is not None and self._db_cpu is not None:
            self.db_cpu = db_cpu - self._db_cpu

    def print(self, label: str, pages: int) -> float:
        rate = pages / self.span.wall * 60
        cpu = self.span.cpu + self.shops_cpu + (self.db_cpu or 0.0)
        db = "-" if self.db_cpu is None else f"{self.db_cpu / pages * 1000:.2f}"
        print(
            f"{label:44} {pages:6d} {self.span.wall:7.2f} {rate:10.0f}   {'':12} "
            f"{self.span.cpu / pages * 1000:6.2f} {self.shops_cpu / pages * 1000:6.2f} {db:>6}  "
            f"{cpu / self.span.wall:5.2f}"
        )
        return rate


def main() -> int:
    args = parse_args()
    verdicts = Verdicts()
    with (
        throwaway_django("probing-bench-") as database,
        Marketplace(hosts=1 + args.hosts, page_kb=args.page_kb) as shops,
    ):
        with timed() as migrating:
            setup_django()
        state, state_text, forget_state = fetching_state(args)
        try:
            setting = f"database: {database}; migrated in {migrating.wall:.1f} s\n{state_text}"
            part_a(args, shops, state, setting, verdicts)
            if not args.skip_polite:
                part_b(args, shops, state, verdicts)
        finally:
            forget_state()
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f} (1 min, {os.cpu_count()} CPUs)")
    verdicts.print()
    return verdicts.exit_status


def fetching_state(args):
    from django.conf import settings

    from scraping import fetching

    if args.state == "file":
        state = fetching.open_state(directory=Path(settings.VAR_DIR) / "fetching")
        return state, "fetching state: FileState, a SQLite file in the temporary var/", lambda: None

    from scraping.fetching.redis_state import RedisState

    prefix = f"watchprice-bench:{uuid.uuid4().hex}:"
    state = RedisState(args.redis_url, prefix=prefix)
    text = f"fetching state: RedisState at {args.redis_url}, keys {prefix}* (deleted at the end)"

    def forget() -> None:
        for key in state.redis.scan_iter(match=prefix + "*"):
            state.redis.delete(key)

    return state, text, forget


def part_a(args, shops: Marketplace, state, setting: str, verdicts: Verdicts) -> None:
    from django.db.models import Count

    from bench.support.listings import listings_at, products_create, shop_create, shops_create
    from bench.support.pipeline import page_fetch, probe_many
    from catalog.demo import RETAILERS
    from ledger.models import LedgerEntry
    from scraping import fetching
    from scraping.assessment import assess_page
    from scraping.models import Probe, ProbePage
    from scraping.services import listing_identifiers, listing_probe, save_probe
    from scraping.transports import DirectTransport

    main_origin, polite_origins = shops.origins[0], shops.origins[1:]
    copies = math.ceil((WARMUP + args.fetch_pages + args.pages) / DEMO_PAGES)
    with timed() as creating:
        products = products_create()
        shops_create(origin=main_origin, copies=copies, products=products)
        for number, origin in enumerate(polite_origins):
            spec = RETAILERS[number % len(RETAILERS)]
            label = origin.rsplit(":", 1)[1]
            shop_create(spec=spec, origin=origin, label=label, products=products)
        listings = listings_at([main_origin])
    # Shops and watches in turn rather than one shop's pages in a row.
    count = len(listings)
    listings.sort(key=lambda listing: listing.pk * 7919 % count)
    warmup = listings[:WARMUP]
    fetch_slice = listings[WARMUP : WARMUP + args.fetch_pages]
    pipeline_slice = listings[WARMUP + args.fetch_pages :][: args.pages]

    print(
        f"Probing benchmark: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} (1 min)"
    )
    print(setting)
    print(
        f"catalog: {len(products)} products; {len(listings)} listings at {main_origin} "
        f"({copies} copies of the 6 demo shops) and {33 * len(polite_origins)} at "
        f"{len(polite_origins)} more ports; created in {creating.wall:.1f} s"
    )
    pages_are = f"padded to ~{args.page_kb} KB" if args.page_kb else "as the demo shops write them"
    print(f"product pages: {pages_are}; politeness off, robots.txt obeyed")

    allow = frozenset(("127.0.0.1", int(o.rsplit(":", 1)[1])) for o in shops.origins)
    policy = fetching.FetchPolicy(politeness=False, allow=allow)
    # Imports, SQL compilation, the robots.txt cache: paid once, before anything is timed.
    probe_many(warmup, policy=policy, state=state, concurrency=4, batch_size=10)

    print("\n" + Phase.HEADER)
    with Phase(shops) as phase:
        results = fetching.fetch_many(
            [listing.url for listing in fetch_slice],
            policy=policy,
            state=state,
            concurrency=args.concurrency,
        )
    fetch_rate = phase.print(f"fetch only (fetch_many, {args.concurrency} threads)", len(results))
    fetched = [
        (listing, result)
        for listing, result in zip(fetch_slice, results, strict=True)
        if isinstance(result, fetching.FetchResult)
    ]

    with Phase(shops) as phase:
        assessed = [
            (
                listing,
                result,
                assess_page(
                    result.body,
                    url=listing.url,
                    final_url=result.final_url,
                    retailer_currency=listing.retailer.currency,
                    extractor=listing.retailer.extractor,
                    selectors=listing.retailer.selectors,
                    identifiers=listing_identifiers(listing),
                ),
            )
            for listing, result in fetched
        ]
    extract_rate = phase.print("extract only (extract + identity, 1 thread)", len(assessed))

    recorded = assessed[: args.record_pages]
    with Phase(shops) as phase:
        for listing, result, assessment in recorded:
            save_probe(
                listing=listing,
                page=page_fetch(listing.url, result),
                assessment=assessment,
                trigger=Probe.Trigger.SCHEDULE,
            )
    record_rate = phase.print("record only (save_probe, 1 thread)", len(recorded))

    transport = DirectTransport(policy=policy, state=state)
    baseline_pages = 0
    with Phase(shops) as phase:
        stop_at = time.perf_counter() + args.baseline_seconds
        for listing in pipeline_slice:
            listing_probe(listing_id=listing.pk, transport=transport)
            baseline_pages += 1
            if time.perf_counter() > stop_at:
                break
    baseline_rate = phase.print("baseline: listing_probe, one at a time", baseline_pages)

    observations = LedgerEntry.objects.filter(kind=LedgerEntry.Kind.OBSERVATION)
    last_probe = Probe.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    observations_before, pages_before = observations.count(), ProbePage.objects.count()
    profiler = cProfile.Profile() if args.profile else None
    with Phase(shops) as phase:
        if profiler:
            profiler.enable()
        run = probe_many(
            pipeline_slice,
            policy=policy,
            state=state,
            concurrency=args.concurrency,
            batch_size=args.batch,
            seconds=args.pipeline_seconds,
        )
        if profiler:
            profiler.disable()
    label = f"pipeline ({args.concurrency} fetch threads, 1 writer)"
    pipeline_rate = phase.print(label, run.pages)

    probes = Probe.objects.filter(pk__gt=last_probe)
    by_status = dict(probes.values_list("status").annotate(n=Count("pk")).order_by("status"))
    successes = by_status.get(Probe.Status.SUCCESS, 0)
    added_observations = observations.count() - observations_before
    added_pages = ProbePage.objects.count() - pages_before
    accessible = probes.filter(page_accessible=True).count()
    sizes = [len(result.body) for _, result in fetched]
    print(
        f"\npages fetched: median {median(sizes) / 1024:.1f} KB "
        f"(min {min(sizes) / 1024:.1f}, max {max(sizes) / 1024:.1f})"
    )
    print(
        f"pipeline: the writer waited {run.writer_waiting:.2f} s of {run.span.wall:.2f} s for "
        f"fetched batches; it sent {run.statements / run.pages:.1f} SQL statements per page"
    )
    print(f"pipeline probes by status: {by_status}")
    if run.fetch_errors:
        print(f"pipeline fetch errors: {dict(run.fetch_errors)}")
    print(
        f"pipeline / baseline: {pipeline_rate / baseline_rate:.2f}x; per minute, one thread: "
        f"fetch {fetch_rate:.0f} ({args.concurrency} threads), extract {extract_rate:.0f}, "
        f"record {record_rate:.0f}"
    )
    if run.claimed < len(pipeline_slice):
        print(
            f"pipeline: no batch started after {args.pipeline_seconds:g} s: "
            f"{run.claimed} pages of {len(pipeline_slice)}"
        )
    verdicts.check(
        probes.count() == run.pages == run.claimed
        and added_observations == successes
        and added_pages == accessible,
        f"pipeline recorded every page: {probes.count()} probes for {run.claimed} listings, "
        f"{added_observations} ledger observations for {successes} successes, "
        f"{added_pages} stored pages for {accessible} pages read",
    )
    verdicts.check(
        pipeline_rate >= TARGET_PAGES_PER_MINUTE,
        f"pipeline, politeness off: {pipeline_rate:.0f} pages/min >= {TARGET_PAGES_PER_MINUTE} "
        f"(baseline, one at a time: {baseline_rate:.0f}/min)",
    )
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(40)
        print("\nThe pipeline's writer thread (cProfile, cumulative):\n" + out.getvalue())


def part_b(args, shops: Marketplace, state, verdicts: Verdicts) -> None:
    from bench.support.listings import listings_at
    from bench.support.pipeline import probe_many
    from scraping import fetching

    origins = shops.origins[1:]
    spacing = 1 / args.rate
    by_origin = defaultdict(list)
    for listing in listings_at(origins):
        by_origin[listing.url.split("/", 3)[2]].append(listing)
    per_host = [group[: args.polite_seconds] for group in by_origin.values()]
    # One page of each host in turn, so that every batch has work for every host.
    listings = [listing for row in itertools.zip_longest(*per_host) for listing in row if listing]
    policy = fetching.FetchPolicy(
        politeness=True,
        requests_per_minute=60 * args.rate,
        connections_per_host=1,
        obey_robots=True,
        allow=frozenset(("127.0.0.1", int(o.rsplit(":", 1)[1])) for o in origins),
    )
    log = ConfirmLog(state)
    shops.forget_arrivals()
    print(
        f"\nPoliteness on: {len(origins)} hosts (127.0.0.1, a port each) at {args.rate:g} "
        f"request/s each, robots.txt obeyed, {args.polite_seconds} pages per host\n"
    )
    print(Phase.HEADER)
    with Phase(shops) as phase:
        run = probe_many(
            listings,
            policy=policy,
            state=log,
            concurrency=len(origins),
            # A page per host per batch: the writer records one batch while the next is
            # fetched, and only the last batch is recorded after the last request.
            batch_size=len(origins),
        )
    phase.print(f"pipeline, politeness on ({len(origins)} hosts)", run.pages)

    ports = {int(o.rsplit(":", 1)[1]) for o in origins}
    arrivals = defaultdict(list)
    for arrival in shops.arrivals():
        if arrival.port in ports:
            arrivals[arrival.port].append(arrival)
    print(
        f"\narrivals at the servers\n{'host':16} {'requests':>8} {'robots':>6} "
        f"{'first-last s':>12} {'min gap s':>10} {'mean gap s':>10}"
    )
    smallest = math.inf
    for port in sorted(arrivals):
        times = sorted(a.at for a in arrivals[port])
        gaps = [b - a for a, b in itertools.pairwise(times)]
        robots = sum(a.path.endswith("/robots.txt") for a in arrivals[port])
        smallest = min(smallest, *gaps)
        print(
            f"127.0.0.1:{port:<6} {len(times):8d} {robots:6d} {times[-1] - times[0]:12.3f} "
            f"{min(gaps):10.4f} {sum(gaps) / len(gaps):10.4f}"
        )

    # The k-th request the fetcher let go to a host is the k-th that host saw arrive.
    delays = [
        arrival.at - sent
        for port, hits in arrivals.items()
        for arrival, sent in zip(
            sorted(hits, key=lambda a: a.at), log.sent[f"polite:127.0.0.1:{port}"], strict=False
        )
    ]
    print(
        f"\nfrom confirm() letting a request go to its arrival at the server: median "
        f"{median(delays) * 1000:.1f} ms, p95 {percentile(delays, 95) * 1000:.1f} ms, max "
        f"{max(delays) * 1000:.1f} ms"
    )
    requests = sum(len(hits) for hits in arrivals.values())
    # In T seconds a host spaced by s takes at most 1 + T / s requests: the first goes at once.
    ideal = len(origins) * (1 + phase.span.wall / spacing)
    share = requests / ideal
    print(
        f"requests at the servers: {requests} in {phase.span.wall:.2f} s, at most "
        f"{len(origins)} x (1 + {phase.span.wall:.2f} / {spacing:g}) = {ideal:.1f}: {share:.3f} "
        f"of the ideal rate; probes by status {dict(Counter(run.statuses))}"
    )
    verdicts.check(
        share >= TARGET_POLITE_SHARE,
        f"politeness on: {share:.3f} of the ideal rate >= {TARGET_POLITE_SHARE} "
        f"({len(origins)} hosts at {args.rate:g}/s, requests counted at the servers)",
    )
    verdicts.check(
        smallest >= spacing,
        f"politeness on: smallest gap between two requests to one host, at the server: "
        f"{smallest:.4f} s >= {spacing:g} s",
    )


if __name__ == "__main__":
    sys.exit(main())
