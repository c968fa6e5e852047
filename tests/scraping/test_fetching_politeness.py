"""Politeness: requests to one host are spaced by 60 / requests_per_minute, or the site's
Crawl-delay when longer, across every worker process that shares the state.

Gaps are measured where the server sees the requests arrive. The spacing is counted from the
moment the previous answer came back, which is after the server saw that request, so the gap
holds at the server however late a request leaves; TOLERANCE only absorbs float rounding.
"""

import itertools
import multiprocessing
import time

import pytest

from scraping.fetching import fetch
from tests.scraping.conftest import (
    REDIS_URL,
    Reply,
    fetch_in_worker,
    html,
    picklable,
    policy_for,
)

TOLERANCE = 0.001


def gaps(hits) -> list[float]:
    times = sorted(hit.at for hit in hits)
    return [later - earlier for earlier, later in itertools.pairwise(times)]


def test_it_spaces_requests_to_a_host_by_its_rate(shop, file_state, fetch_client):
    shop.route("/watch", html())
    policy = policy_for(shop, politeness=True, requests_per_minute=300, obey_robots=False)

    for _ in range(4):
        fetch(shop.url("/watch"), policy=policy, state=file_state, client=fetch_client)

    assert min(gaps(shop.hits)) >= 0.2 - TOLERANCE


def test_a_hosts_own_rate_overrides_the_default(shop, file_state, fetch_client):
    shop.route("/watch", html())
    policy = policy_for(
        shop,
        politeness=True,
        requests_per_minute=6000,
        host_requests_per_minute={f"127.0.0.1:{shop.port}": 200},
        obey_robots=False,
    )

    for _ in range(3):
        fetch(shop.url("/watch"), policy=policy, state=file_state, client=fetch_client)

    assert min(gaps(shop.hits)) >= 0.3 - TOLERANCE


def test_a_longer_crawl_delay_in_robots_txt_wins(shop, file_state, fetch_client):
    shop.route("/robots.txt", Reply(body=b"User-agent: *\nCrawl-delay: 0.4\n"))
    shop.route("/watch", html())
    policy = policy_for(shop, politeness=True, requests_per_minute=6000)

    for _ in range(3):
        fetch(shop.url("/watch"), policy=policy, state=file_state, client=fetch_client)

    assert min(gaps(shop.hits_for("/watch"))) >= 0.4 - TOLERANCE


def test_robots_txt_and_redirect_hops_wait_their_turn_too(shop, file_state, fetch_client):
    shop.route("/robots.txt", Reply(body=b"User-agent: *\nAllow: /\n"))
    shop.route("/old", Reply(status=301, headers={"Location": "/watch"}))
    shop.route("/watch", html())
    policy = policy_for(shop, politeness=True, requests_per_minute=300)

    fetch(shop.url("/old"), policy=policy, state=file_state, client=fetch_client)

    assert [hit.path for hit in shop.hits] == ["/robots.txt", "/old", "/watch"]
    assert min(gaps(shop.hits)) >= 0.2 - TOLERANCE


def test_different_hosts_do_not_wait_for_each_other(make_loopback_server, file_state):
    first, second = make_loopback_server(html()), make_loopback_server(html())
    policy = policy_for(first, second, politeness=True, requests_per_minute=6, obey_robots=False)

    started = time.monotonic()
    fetch(first.url("/watch"), policy=policy, state=file_state)
    fetch(second.url("/watch"), policy=policy, state=file_state)

    assert time.monotonic() - started < 1.0


def test_politeness_can_be_switched_off(shop, file_state, fetch_client):
    shop.route("/watch", html())
    policy = policy_for(shop, politeness=False, requests_per_minute=6, obey_robots=False)

    started = time.monotonic()
    for _ in range(3):
        fetch(shop.url("/watch"), policy=policy, state=file_state, client=fetch_client)

    assert time.monotonic() - started < 1.0


def run_two_workers(shop, policy, state_spec) -> list[int | str]:
    """Two processes fetch four pages each from ``shop`` at the same time."""
    spawn = multiprocessing.get_context("spawn")
    barrier, results = spawn.Barrier(3), spawn.Queue()
    workers = [
        spawn.Process(
            target=fetch_in_worker,
            args=(
                [shop.url(f"/{name}/{n}") for n in range(4)],
                policy,
                state_spec,
                barrier,
                results,
            ),
        )
        for name in ("a", "b")
    ]
    for worker in workers:
        worker.start()
    barrier.wait(timeout=30)
    outcomes = [results.get(timeout=30) for _ in workers]
    for worker in workers:
        worker.join(timeout=10)
    return [outcome for _, statuses in outcomes for outcome in statuses]


def assert_spaced_across_both_workers(shop, spacing: float) -> None:
    pages = [hit for hit in shop.hits if hit.path != "/robots.txt"]
    first_b = min(hit.at for hit in pages if hit.path.startswith("/b/"))
    last_a = max(hit.at for hit in pages if hit.path.startswith("/a/"))
    first_a = min(hit.at for hit in pages if hit.path.startswith("/a/"))
    last_b = max(hit.at for hit in pages if hit.path.startswith("/b/"))
    assert first_b < last_a and first_a < last_b, "the workers did not run side by side"
    assert len(shop.hits_for("/robots.txt")) == 1
    arrivals = sorted(shop.hits, key=lambda hit: hit.at)
    assert min(gaps(arrivals)) >= spacing - TOLERANCE, [
        (hit.path, round(hit.at - arrivals[0].at, 3)) for hit in arrivals
    ]


def test_two_worker_processes_sharing_the_state_file_keep_the_spacing(shop, tmp_path):
    shop.default = html()
    shop.route("/robots.txt", Reply(body=b"User-agent: *\nAllow: /\n"))
    policy = picklable(policy_for(shop, politeness=True, requests_per_minute=200))

    outcomes = run_two_workers(shop, policy, ("file", str(tmp_path / "state")))

    assert outcomes == [200] * 8
    assert_spaced_across_both_workers(shop, spacing=0.3)


@pytest.mark.redis
def test_two_worker_processes_sharing_redis_keep_the_spacing(shop, redis_state):
    shop.default = html()
    shop.route("/robots.txt", Reply(body=b"User-agent: *\nAllow: /\n"))
    policy = picklable(policy_for(shop, politeness=True, requests_per_minute=200))

    outcomes = run_two_workers(shop, policy, ("redis", REDIS_URL, redis_state.prefix))

    assert outcomes == [200] * 8
    assert_spaced_across_both_workers(shop, spacing=0.3)
