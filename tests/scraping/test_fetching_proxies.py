"""Requests rotate through the configured proxies; a proxy that keeps failing is rested.

The proxies here are loopback servers that answer for the target themselves, so nothing
leaves the machine and the target server seeing no request proves the proxy was used.
"""

import pytest

from scraping.fetching import FetchFailed, fetch
from tests.scraping.conftest import html, policy_for


@pytest.fixture
def target(make_loopback_server):
    return make_loopback_server(html("direct"))


@pytest.fixture
def proxies(make_loopback_server):
    return make_loopback_server(html("via A")), make_loopback_server(html("via B"))


def test_requests_rotate_through_the_proxies(target, proxies, file_state, fetch_client):
    first, second = proxies
    policy = policy_for(target, proxies=(first.url(""), second.url("")), obey_robots=False)

    results = [
        fetch(target.url("/watch"), policy=policy, state=file_state, client=fetch_client)
        for _ in range(4)
    ]

    assert [result.transport for result in results] == [
        f"proxy:{first.url('')}",
        f"proxy:{second.url('')}",
    ] * 2
    assert [hit.path for hit in first.hits] == [target.url("/watch")] * 2
    assert len(second.hits) == 2
    assert target.hits == []


def test_a_proxy_that_fails_is_rested_and_the_next_one_used(
    target, proxies, file_state, fetch_client, unused_loopback_port
):
    working, _ = proxies
    dead = f"http://127.0.0.1:{unused_loopback_port}"
    policy = policy_for(
        target, proxies=(dead, working.url("")), proxy_failures=1, obey_robots=False
    )

    results = [
        fetch(target.url("/watch"), policy=policy, state=file_state, client=fetch_client)
        for _ in range(3)
    ]

    assert {result.transport for result in results} == {f"proxy:{working.url('')}"}
    assert [result.attempts for result in results] == [2, 1, 1]
    assert target.hits == []


def test_with_every_proxy_resting_the_fetch_fails_without_going_direct(
    target, file_state, unused_loopback_port
):
    dead = f"http://127.0.0.1:{unused_loopback_port}"
    policy = policy_for(target, proxies=(dead,), proxy_failures=1, obey_robots=False)
    with pytest.raises(FetchFailed):
        fetch(target.url("/watch"), policy=policy, state=file_state)

    with pytest.raises(FetchFailed, match="every proxy is resting"):
        fetch(target.url("/watch"), policy=policy, state=file_state)

    assert target.hits == []


def test_proxy_credentials_are_sent_to_the_proxy_but_never_reported(target, proxies, file_state):
    proxy, _ = proxies
    policy = policy_for(
        target, proxies=(f"http://scraper:s3cret@127.0.0.1:{proxy.port}",), obey_robots=False
    )

    result = fetch(target.url("/watch"), policy=policy, state=file_state)

    assert result.transport == f"proxy:http://127.0.0.1:{proxy.port}"
    (hit,) = proxy.hits
    assert hit.headers["Proxy-Authorization"].startswith("Basic ")
