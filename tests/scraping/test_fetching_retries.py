"""Which answers are asked again, how long fetch() waits first, and when it gives up."""

import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from scraping.fetching import FetchFailed, fetch, parse_retry_after
from tests.scraping.conftest import Reply, html, policy_for


def test_it_retries_a_503_and_returns_the_answer_that_follows(shop, file_state):
    shop.route("/watch", Reply(status=503), html("back"))

    result = fetch(shop.url("/watch"), policy=policy_for(shop), state=file_state)

    assert result.status == 200
    assert b"back" in result.body
    assert result.attempts == 2
    assert len(shop.hits_for("/watch")) == 2


@pytest.mark.parametrize("status", [408, 429, 500, 502, 504])
def test_it_retries_timeouts_throttling_and_server_errors(shop, file_state, status):
    shop.route("/watch", Reply(status=status), html())

    result = fetch(shop.url("/watch"), policy=policy_for(shop), state=file_state)

    assert result.attempts == 2


def test_it_gives_up_after_max_attempts_with_the_last_status(shop, file_state):
    shop.route("/watch", Reply(status=503))

    with pytest.raises(FetchFailed) as caught:
        fetch(shop.url("/watch"), policy=policy_for(shop, max_attempts=4), state=file_state)

    assert caught.value.status == 503
    assert caught.value.attempts == 4
    assert len(shop.hits_for("/watch")) == 4


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 451])
def test_it_does_not_retry_other_client_errors(shop, file_state, status):
    shop.route("/watch", Reply(status=status))

    with pytest.raises(FetchFailed) as caught:
        fetch(shop.url("/watch"), policy=policy_for(shop), state=file_state)

    assert caught.value.status == status
    assert caught.value.attempts == 1
    assert len(shop.hits_for("/watch")) == 1


def test_it_backs_off_exponentially_between_attempts(shop, file_state):
    shop.route("/watch", Reply(status=503), Reply(status=503), html())
    policy = policy_for(shop, backoff_initial=0.2, backoff_jitter=0.0)

    fetch(shop.url("/watch"), policy=policy, state=file_state)

    first, second, third = (hit.at for hit in shop.hits_for("/watch"))
    assert second - first >= 0.2
    assert third - second >= 0.4


def test_it_waits_as_long_as_retry_after_seconds_asks(shop, file_state):
    shop.route("/watch", Reply(status=429, headers={"Retry-After": "1"}), html())

    result = fetch(shop.url("/watch"), policy=policy_for(shop), state=file_state)

    first, second = (hit.at for hit in shop.hits_for("/watch"))
    assert second - first >= 1.0
    assert 1.0 <= result.elapsed < 2.0


def test_it_waits_until_a_retry_after_http_date(shop, file_state):
    when = datetime.now(UTC) + timedelta(seconds=2)
    shop.route("/watch", Reply(status=503, headers={"Retry-After": format_datetime(when, True)}))
    shop.routes["/watch"].append(html())

    fetch(shop.url("/watch"), policy=policy_for(shop), state=file_state)

    first, second = (hit.at for hit in shop.hits_for("/watch"))
    # HTTP dates have whole seconds, so the wait is between one and two seconds.
    assert second - first >= 1.0


def test_it_gives_up_at_once_when_retry_after_is_longer_than_it_waits(shop, file_state):
    shop.route("/watch", Reply(status=503, headers={"Retry-After": "3600"}), html())

    with pytest.raises(FetchFailed) as caught:
        fetch(shop.url("/watch"), policy=policy_for(shop, max_retry_after=60), state=file_state)

    assert caught.value.retry_after == 3600
    assert caught.value.attempts == 1
    assert len(shop.hits_for("/watch")) == 1


def test_it_retries_network_errors_and_then_fails_without_a_status(
    file_state, unused_loopback_port
):
    policy = policy_for(
        allow=frozenset({("127.0.0.1", unused_loopback_port)}), max_attempts=3, obey_robots=False
    )

    started = time.monotonic()
    with pytest.raises(FetchFailed) as caught:
        fetch(f"http://127.0.0.1:{unused_loopback_port}/", policy=policy, state=file_state)

    assert caught.value.status is None
    assert caught.value.attempts == 3
    assert "ConnectError" in str(caught.value)
    assert time.monotonic() - started < 2


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 0 ", 0.0),
        ("Wed, 21 Oct 2015 07:28:30 GMT", 30.0),
        ("Wednesday, 21-Oct-15 07:28:30 GMT", 30.0),
        ("Wed, 21 Oct 2015 07:27:00 GMT", 0.0),
        ("soon", None),
        ("-5", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_is_read_as_seconds_or_an_http_date(value, seconds):
    now = datetime(2015, 10, 21, 7, 28, tzinfo=UTC)

    assert parse_retry_after(value, now=now) == seconds
