"""fetch_many(): many URLs at once, in order, each host at its own pace."""

import itertools
import time

from scraping.fetching import Blocked, FetchFailed, FetchResult, fetch_many
from tests.scraping.conftest import Reply, html, policy_for

TOLERANCE = 0.03


def test_it_answers_in_the_order_asked_with_errors_in_place(shop, file_state):
    shop.route("/a", html("a"))
    shop.route("/b", html("b"))
    urls = [shop.url("/a"), shop.url("/missing"), "http://10.0.0.1/", shop.url("/b")]

    results = fetch_many(urls, policy=policy_for(shop), state=file_state)

    assert isinstance(results[0], FetchResult) and b"a" in results[0].body
    assert isinstance(results[1], FetchFailed) and results[1].status == 404
    assert isinstance(results[2], Blocked)
    assert isinstance(results[3], FetchResult) and b"b" in results[3].body


def test_with_politeness_off_it_fetches_concurrently(make_loopback_server, file_state):
    slow = make_loopback_server(html(delay=0.3))
    urls = [slow.url(f"/watch/{n}") for n in range(8)]

    started = time.monotonic()
    results = fetch_many(
        urls, policy=policy_for(slow, obey_robots=False), state=file_state, concurrency=8
    )

    assert all(result.status == 200 for result in results)
    # One after another they would take 2.4 s.
    assert time.monotonic() - started < 1.0


def test_with_politeness_on_each_host_goes_at_its_own_pace(make_loopback_server, file_state):
    hosts = [make_loopback_server(html()) for _ in range(3)]
    urls = [host.url(f"/watch/{n}") for n in range(4) for host in hosts]
    policy = policy_for(*hosts, politeness=True, requests_per_minute=300, obey_robots=False)

    started = time.monotonic()
    results = fetch_many(urls, policy=policy, state=file_state)
    elapsed = time.monotonic() - started

    assert all(result.status == 200 for result in results)
    for host in hosts:
        times = [hit.at for hit in host.hits]
        assert min(b - a for a, b in itertools.pairwise(times)) >= 0.2 - TOLERANCE
    # Four requests per host 0.2 s apart: 0.6 s if the hosts proceed side by side.
    assert 0.6 - TOLERANCE <= elapsed < 1.0


def test_a_slow_host_does_not_hold_up_the_others(make_loopback_server, file_state):
    # The quick host needs about 0.2 s for its three requests; the slow host's 2 s reply leaves a
    # wide margin for a loaded machine while still failing if the quick host waits on the slow one.
    slow, quick = make_loopback_server(html(delay=2.0)), make_loopback_server(Reply())
    urls = [slow.url("/a"), slow.url("/b"), quick.url("/a"), quick.url("/b"), quick.url("/c")]
    policy = policy_for(slow, quick, politeness=True, requests_per_minute=600, obey_robots=False)

    fetch_many(urls, policy=policy, state=file_state, concurrency=4)

    assert max(hit.at for hit in quick.hits) < max(hit.at for hit in slow.hits)
