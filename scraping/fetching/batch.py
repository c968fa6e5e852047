"""fetch_many(): many URLs at once on threads, each host in its own lane.

Threads rather than asyncio: fetch() is synchronous all the way down (httpx.Client, SQLite,
redis-py), and a politeness wait is a sleep, which costs a thread nothing but memory. With
politeness on, each host gets ``connections_per_host`` lanes that take its URLs in turn, so a
slow or rate-limited host never holds up the others; with politeness off, all threads share
one queue. ``concurrency`` is the number of threads: with politeness on, give it at least one
per host lane, or lanes wait for a thread and their hosts go slower than they allow.
"""

from collections import defaultdict, deque
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import httpx

from scraping.fetching.errors import FetchError
from scraping.fetching.fetcher import Fetch, FetchClient, FetchResult
from scraping.fetching.policy import FetchPolicy
from scraping.fetching.state import SharedState


def fetch_many(
    urls: Sequence[str],
    *,
    policy: FetchPolicy,
    state: SharedState,
    client: FetchClient | None = None,
    concurrency: int = 16,
) -> list[FetchResult | FetchError]:
    """Fetch every URL; the answer at index i is URL i's result or the error it raised."""
    urls = list(urls)
    results: list[FetchResult | FetchError | None] = [None] * len(urls)
    lanes: dict[str, deque[int]] = defaultdict(deque)
    if policy.politeness:
        for index, url in enumerate(urls):
            lanes[_host(url)].append(index)
        width = policy.connections_per_host
    else:
        lanes[""].extend(range(len(urls)))
        width = concurrency

    def work(lane: deque[int]) -> None:
        while True:
            try:
                index = lane.popleft()
            except IndexError:
                return
            try:
                results[index] = Fetch(policy, state, shared_client).run(urls[index])
            except FetchError as exc:
                results[index] = exc

    workers = [lane for lane in lanes.values() for _ in range(min(width, len(lane)))]
    shared_client = client or FetchClient(max_connections=max(concurrency, 10))
    try:
        with ThreadPoolExecutor(max_workers=max(1, min(len(workers), concurrency))) as pool:
            for future in [pool.submit(work, lane) for lane in workers]:
                future.result()
    finally:
        if client is None:
            shared_client.close()
    return results  # type: ignore[return-value]  # every slot is filled by now


def _host(url: str) -> str:
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return ""
    return f"{parsed.host}:{parsed.port}"
