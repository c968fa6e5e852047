"""What fetch() accepts from a server: in time, not too big, HTML or JSON, and who it says it is."""

import gzip
import json
import time

import pytest

from scraping.fetching import (
    DEFAULT_USER_AGENT,
    FetchFailed,
    ResponseTooLarge,
    UnacceptableContentType,
    fetch,
)
from tests.scraping.conftest import Reply, html, policy_for


def test_it_returns_the_page_with_its_headers_and_timings(shop, file_state):
    shop.route("/watch", html("Speedmaster <b>€7,400</b>"))

    result = fetch(shop.url("/watch"), policy=policy_for(shop), state=file_state)

    assert result.final_url == shop.url("/watch")
    assert result.status == 200
    assert result.content_type == "text/html"
    assert "€7,400" in result.text
    assert result.headers["content-length"] == str(len(result.body))
    assert result.redirects == []
    assert result.transport == "direct"
    assert result.attempts == 1
    assert 0 < result.elapsed < 1


def test_it_gives_up_on_a_server_slower_than_the_read_timeout(shop, file_state):
    shop.route("/watch", html(delay=1.5))
    policy = policy_for(shop, read_timeout=0.3, max_attempts=1, obey_robots=False)

    started = time.monotonic()
    with pytest.raises(FetchFailed) as caught:
        fetch(shop.url("/watch"), policy=policy, state=file_state)

    assert "ReadTimeout" in str(caught.value)
    assert time.monotonic() - started < 1.0


def test_it_gives_up_on_a_body_trickling_past_the_total_timeout(shop, file_state):
    # Each piece arrives well within the read timeout; the whole takes two seconds.
    shop.route("/watch", html("x" * 1000, drip=0.2))
    policy = policy_for(
        shop, read_timeout=1.0, total_timeout=0.5, max_attempts=1, obey_robots=False
    )

    started = time.monotonic()
    with pytest.raises(FetchFailed, match="total timeout"):
        fetch(shop.url("/watch"), policy=policy, state=file_state)

    assert time.monotonic() - started < 1.2


def test_it_refuses_a_body_that_announces_it_is_over_the_cap(shop, file_state):
    shop.route("/watch", html("x" * 2000))

    with pytest.raises(ResponseTooLarge, match="over the 1000-byte cap"):
        fetch(shop.url("/watch"), policy=policy_for(shop, max_bytes=1000), state=file_state)


def test_it_stops_reading_a_body_without_a_length_once_it_passes_the_cap(shop, file_state):
    shop.route("/watch", Reply(stream_bytes=200 * 1024 * 1024))
    policy = policy_for(shop, max_bytes=1024 * 1024)

    started = time.monotonic()
    with pytest.raises(ResponseTooLarge):
        fetch(shop.url("/watch"), policy=policy, state=file_state)

    # Reading all 200 MiB through the loopback would take seconds.
    assert time.monotonic() - started < 1.0


def test_the_cap_applies_to_the_decompressed_body(shop, file_state):
    bomb = gzip.compress(b"0" * (20 * 1024 * 1024))
    shop.route(
        "/watch",
        Reply(body=bomb, headers={"Content-Type": "text/html", "Content-Encoding": "gzip"}),
    )

    with pytest.raises(ResponseTooLarge):
        fetch(shop.url("/watch"), policy=policy_for(shop, max_bytes=1024 * 1024), state=file_state)


def test_a_body_exactly_at_the_cap_is_fine(shop, file_state):
    shop.route("/watch", Reply(body=b"x" * 1000))

    result = fetch(shop.url("/watch"), policy=policy_for(shop, max_bytes=1000), state=file_state)

    assert len(result.body) == 1000


def test_a_body_that_does_not_decompress_is_a_failure_not_a_crash(shop, file_state):
    shop.route(
        "/watch",
        Reply(body=b"not gzip", headers={"Content-Type": "text/html", "Content-Encoding": "gzip"}),
    )

    with pytest.raises(FetchFailed, match="does not decode"):
        fetch(shop.url("/watch"), policy=policy_for(shop), state=file_state)


def test_a_compressed_body_is_returned_decompressed(shop, file_state):
    page = b"<html><body>" + b"Speedmaster " * 1000 + b"</body></html>"
    shop.route(
        "/watch",
        Reply(
            body=gzip.compress(page),
            headers={"Content-Type": "text/html", "Content-Encoding": "gzip"},
        ),
    )

    result = fetch(shop.url("/watch"), policy=policy_for(shop), state=file_state)

    assert result.body == page


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/ld+json",
        "application/vnd.api+json; charset=utf-8",
        "application/xhtml+xml",
        "TEXT/HTML",
    ],
)
def test_it_accepts_html_and_json(shop, file_state, content_type):
    shop.route(
        "/api/price",
        Reply(
            body=json.dumps({"price": "7400.00"}).encode(), headers={"Content-Type": content_type}
        ),
    )

    result = fetch(shop.url("/api/price"), policy=policy_for(shop), state=file_state)

    assert json.loads(result.body) == {"price": "7400.00"}


@pytest.mark.parametrize(
    "content_type", ["image/png", "application/pdf", "application/octet-stream", "text/csv", ""]
)
def test_it_refuses_other_content_types(shop, file_state, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    shop.route("/watch", Reply(body=b"\x89PNG", headers=headers))

    with pytest.raises(UnacceptableContentType):
        fetch(shop.url("/watch"), policy=policy_for(shop), state=file_state)


def test_it_introduces_itself_with_the_honest_user_agent(shop, file_state):
    shop.route("/watch", html())

    fetch(shop.url("/watch"), policy=policy_for(shop), state=file_state)

    (hit,) = shop.hits_for("/watch")
    assert hit.headers["User-Agent"] == DEFAULT_USER_AGENT
    assert DEFAULT_USER_AGENT.startswith("WatchPriceBot/1.0 (+http")


def test_it_rotates_through_configured_user_agents(shop, file_state, fetch_client):
    shop.route("/watch", html())
    policy = policy_for(shop, user_agents=("AgentA/1", "AgentB/1"), obey_robots=False)

    for _ in range(4):
        fetch(shop.url("/watch"), policy=policy, state=file_state, client=fetch_client)

    agents = [hit.headers["User-Agent"] for hit in shop.hits_for("/watch")]
    assert agents == ["AgentA/1", "AgentB/1", "AgentA/1", "AgentB/1"]
