"""Probing many listings at once with the project's own pieces, the way a batch worker would.

Two stages. A fetcher thread runs scraping.fetching.fetch_many over one batch of URLs at a time
(its thread pool does the fetching); the calling thread is the single writer: it claims each
batch's listings (services.listing_claim, one conditional UPDATE each), and records every page
through services.probe_record_page (extract, identity, Probe + ProbePage rows, the listing, and
the ledger observation on success) or a fetch failure through services.probe_record_failure,
then releases the listing: what services.listing_probe does for one listing, per page. While
the writer records batch n, the fetcher already fetches batch n + 1.

Only the writer touches the database, so SQLite never makes two threads of this process wait
for its write lock.
"""

from __future__ import annotations

import math
import queue
import threading
import time
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import islice

from django.db import connection

from catalog.models import Listing
from scraping import fetching
from scraping.models import Probe
from scraping.services import (
    listing_claim,
    listing_probe_url,
    listing_release,
    probe_record_failure,
    probe_record_page,
)
from scraping.transports import PageFetch, PageUnavailable, status_for_failure

from .measure import Span, timed

# Batches handed to the fetcher before the writer waits for the first: one being fetched, one
# queued, so the fetcher never waits for the writer to claim the next.
IN_FLIGHT = 2


@dataclass
class PipelineRun:
    statuses: Counter = field(default_factory=Counter)
    span: Span = field(default_factory=Span)
    # The writer's time waiting for fetched batches: near zero means recording is the bottleneck.
    writer_waiting: float = 0.0
    fetch_errors: Counter = field(default_factory=Counter)
    # Listings this run claimed, so recorded; fewer than asked when the deadline came first.
    claimed: int = 0
    # SQL statements the writer sent (claims and releases included).
    statements: int = 0

    @property
    def pages(self) -> int:
        return sum(self.statuses.values())


def probe_many(
    listings: Sequence[Listing],
    *,
    policy: fetching.FetchPolicy,
    state: fetching.SharedState,
    concurrency: int,
    batch_size: int,
    trigger: str = Probe.Trigger.SCHEDULE,
    seconds: float = math.inf,
) -> PipelineRun:
    """Probe `listings`; after `seconds`, batches already handed to the fetcher are finished and
    no more are started."""
    run = PipelineRun()
    deadline = time.monotonic() + seconds
    jobs: queue.Queue[list[Listing] | None] = queue.Queue()
    done: queue.Queue[list | BaseException] = queue.Queue()
    client = fetching.FetchClient(max_connections=max(concurrency, 10))

    def fetcher() -> None:
        while (batch := jobs.get()) is not None:
            try:
                urls = [listing_probe_url(listing) for listing in batch]
                done.put(
                    fetching.fetch_many(
                        urls, policy=policy, state=state, client=client, concurrency=concurrency
                    )
                )
            except BaseException as exc:  # the writer raises it
                done.put(exc)

    def claimed(batch: Sequence[Listing]) -> list[Listing]:
        taken = [listing for listing in batch if listing_claim(listing_id=listing.pk)]
        run.claimed += len(taken)
        return taken

    batches = (listings[i : i + batch_size] for i in range(0, len(listings), batch_size))

    def count(execute, sql, params, many, context):
        run.statements += 1
        return execute(sql, params, many, context)

    thread = threading.Thread(target=fetcher, name="bench-fetcher", daemon=True)
    with timed() as run.span, connection.execute_wrapper(count):
        thread.start()
        in_flight: deque[list[Listing]] = deque()
        try:
            for batch in islice(batches, IN_FLIGHT):
                in_flight.append(claimed(batch))
                jobs.put(in_flight[-1])
            while in_flight:
                batch = in_flight.popleft()
                waited = time.perf_counter()
                results = done.get()
                run.writer_waiting += time.perf_counter() - waited
                if isinstance(results, BaseException):
                    raise results
                following = next(batches, None) if time.monotonic() < deadline else None
                if following is not None:
                    in_flight.append(claimed(following))
                    jobs.put(in_flight[-1])
                for listing, result in zip(batch, results, strict=True):
                    run.statuses[record(listing, result, trigger=trigger).status] += 1
                    if isinstance(result, fetching.FetchError):
                        run.fetch_errors[type(result).__name__] += 1
        finally:
            jobs.put(None)
            thread.join()
            client.close()
    return run


def record(listing: Listing, result, *, trigger: str) -> Probe:
    """Record one fetched page or fetch failure, as listing_probe does, and release the listing."""
    try:
        url = listing_probe_url(listing)
        if isinstance(result, fetching.FetchError):
            status, http_status = status_for_failure(result)
            failure = PageUnavailable(
                f"{type(result).__name__}: {result}",
                status=status,
                http_status=http_status,
                attempts=getattr(result, "attempts", 0),
                final_url=result.url,
            )
            return probe_record_failure(
                listing=listing, url=url, failure=failure, transport="direct", trigger=trigger
            )
        return probe_record_page(
            listing=listing,
            page=page_fetch(url, result),
            trigger=trigger,
            duration_ms=round(result.elapsed * 1000),
        )
    finally:
        listing_release(listing_id=listing.pk)


def page_fetch(url: str, result: fetching.FetchResult) -> PageFetch:
    """What DirectTransport makes of a fetch result."""
    return PageFetch(
        url=url,
        final_url=result.final_url,
        http_status=result.status,
        body=result.body,
        content_type=result.content_type,
        transport="direct",
        attempts=result.attempts,
        redirects=list(result.redirects),
    )
