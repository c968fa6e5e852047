"""A host that keeps failing is left alone for a while: its circuit opens, then lets one trial
request through, and closes again when that succeeds."""

import threading
import time

import pytest

from scraping.fetching import CircuitOpen, FetchFailed, fetch
from tests.scraping.conftest import Reply, html, policy_for


@pytest.fixture
def policy(shop):
    return policy_for(
        shop, breaker_failures=2, breaker_cooldown=0.4, max_attempts=1, obey_robots=False
    )


def fail_twice(shop, policy, state) -> None:
    for _ in range(2):
        with pytest.raises(FetchFailed):
            fetch(shop.url("/watch"), policy=policy, state=state)


def test_it_fails_fast_without_a_request_once_the_circuit_opens(shop, file_state, policy):
    shop.route("/watch", Reply(status=503))
    fail_twice(shop, policy, file_state)

    with pytest.raises(CircuitOpen) as caught:
        fetch(shop.url("/watch"), policy=policy, state=file_state)

    assert 0 < caught.value.retry_in <= 0.4
    assert len(shop.hits_for("/watch")) == 2


def test_client_errors_do_not_count_as_failures(shop, file_state, policy):
    shop.route("/watch", Reply(status=404))

    for _ in range(3):
        with pytest.raises(FetchFailed):
            fetch(shop.url("/watch"), policy=policy, state=file_state)

    assert len(shop.hits_for("/watch")) == 3


def test_a_success_resets_the_count_of_failures(shop, file_state, policy):
    shop.route("/watch", Reply(status=503), html(), Reply(status=503))

    with pytest.raises(FetchFailed):
        fetch(shop.url("/watch"), policy=policy, state=file_state)
    fetch(shop.url("/watch"), policy=policy, state=file_state)
    with pytest.raises(FetchFailed):
        fetch(shop.url("/watch"), policy=policy, state=file_state)

    assert len(shop.hits_for("/watch")) == 3


def test_retries_stop_when_the_circuit_opens(shop, file_state):
    shop.route("/watch", Reply(status=503))
    policy = policy_for(shop, breaker_failures=2, max_attempts=5, obey_robots=False)

    with pytest.raises(CircuitOpen):
        fetch(shop.url("/watch"), policy=policy, state=file_state)

    assert len(shop.hits_for("/watch")) == 2


def test_after_the_cooldown_a_successful_trial_closes_the_circuit(shop, file_state, policy):
    shop.route("/watch", Reply(status=503), Reply(status=503), html())
    fail_twice(shop, policy, file_state)
    time.sleep(0.45)

    assert fetch(shop.url("/watch"), policy=policy, state=file_state).status == 200
    assert fetch(shop.url("/watch"), policy=policy, state=file_state).status == 200


def test_a_failed_trial_opens_the_circuit_again(shop, file_state, policy):
    shop.route("/watch", Reply(status=503))
    fail_twice(shop, policy, file_state)
    time.sleep(0.45)

    with pytest.raises(FetchFailed):
        fetch(shop.url("/watch"), policy=policy, state=file_state)
    with pytest.raises(CircuitOpen):
        fetch(shop.url("/watch"), policy=policy, state=file_state)

    assert len(shop.hits_for("/watch")) == 3


def test_a_half_open_circuit_lets_only_one_trial_through(shop, file_state, policy):
    shop.route("/watch", Reply(status=503), Reply(status=503), html(delay=0.5))
    fail_twice(shop, policy, file_state)
    time.sleep(0.45)

    trial = threading.Thread(
        target=fetch, args=(shop.url("/watch"),), kwargs={"policy": policy, "state": file_state}
    )
    trial.start()
    time.sleep(0.15)
    with pytest.raises(CircuitOpen):
        fetch(shop.url("/watch"), policy=policy, state=file_state)
    trial.join()

    assert len(shop.hits_for("/watch")) == 3
    assert fetch(shop.url("/watch"), policy=policy, state=file_state).status == 200


def test_network_errors_open_the_circuit(file_state, unused_loopback_port):
    url = f"http://127.0.0.1:{unused_loopback_port}/watch"
    policy = policy_for(
        allow=frozenset({("127.0.0.1", unused_loopback_port)}),
        breaker_failures=2,
        max_attempts=1,
        obey_robots=False,
    )
    for _ in range(2):
        with pytest.raises(FetchFailed):
            fetch(url, policy=policy, state=file_state)

    with pytest.raises(CircuitOpen):
        fetch(url, policy=policy, state=file_state)


def test_each_host_has_its_own_circuit(make_loopback_server, file_state):
    failing, healthy = make_loopback_server(Reply(status=503)), make_loopback_server(html())
    policy = policy_for(failing, healthy, breaker_failures=1, max_attempts=1, obey_robots=False)
    with pytest.raises(FetchFailed):
        fetch(failing.url("/"), policy=policy, state=file_state)

    assert fetch(healthy.url("/"), policy=policy, state=file_state).status == 200
