"""Both shared-state backends keep the same promises, also when many callers race.

Slot tests use a long spacing and never wait for the slots: a delay is measured from the
moment of the call, and on a busy machine calls made "at once" are milliseconds apart.
"""

import itertools
import threading
import time

import pytest

from scraping.fetching.file_state import FileState
from scraping.fetching.redis_state import RedisState
from tests.scraping.conftest import REDIS_URL


@pytest.fixture(params=["file", pytest.param("redis", marks=pytest.mark.redis)])
def backend(request, tmp_path):
    """A state, and a function opening another handle on it, as another process would."""
    if request.param == "file":
        state = request.getfixturevalue("file_state")
        return state, lambda: FileState(state.path.parent)
    state = request.getfixturevalue("redis_state")
    return state, lambda: RedisState(REDIS_URL, prefix=state.prefix)


def in_threads(count: int, work) -> list:
    results: list = [None] * count
    start = threading.Barrier(count)

    def run(index: int) -> None:
        start.wait()
        results[index] = work()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_slots_for_a_key_are_handed_out_spacing_apart(backend):
    state, _ = backend

    delays = [state.reserve("polite:shop", 10) for _ in range(3)]

    assert delays == pytest.approx([0, 10, 20], abs=0.5)
    assert state.reserve("polite:other", 10) == 0


def test_racing_callers_all_get_different_slots(backend):
    _, another = backend

    delays = sorted(in_threads(8, lambda: another().reserve("polite:shop", 10)))

    steps = [later - earlier for earlier, later in itertools.pairwise(delays)]
    assert steps == pytest.approx([10] * 7, abs=0.5)


def test_a_request_confirmed_within_the_spacing_of_the_last_one_must_wait(backend):
    state, _ = backend

    assert state.confirm("polite:shop", 10) == 0
    assert state.confirm("polite:shop", 10) == pytest.approx(10, abs=0.5)


def test_a_late_request_pushes_the_next_slot_back(backend):
    state, _ = backend
    assert state.reserve("polite:shop", 10) == 0
    time.sleep(0.3)
    state.confirm("polite:shop", 10)

    # Sent 0.3 s after its slot: the next slot is 10 s after the sending, not after the slot.
    assert state.reserve("polite:shop", 10) == pytest.approx(10, abs=0.1)


def test_a_slot_left_unused_long_ago_does_not_delay_anyone(backend):
    state, _ = backend
    state.reserve("polite:shop", 0.1)
    time.sleep(0.15)

    assert state.reserve("polite:shop", 0.1) == 0


def test_a_claim_goes_to_one_caller_until_released(backend):
    state, another = backend

    winners = in_threads(6, lambda: another().claim("lease", 5))

    assert winners.count(True) == 1
    assert not state.claim("lease", 5)
    state.release("lease")
    assert state.claim("lease", 5)


def test_a_claim_lapses_after_its_ttl(backend):
    state, _ = backend
    assert state.claim("lease", 0.1)
    time.sleep(0.15)

    assert state.claim("lease", 0.1)


def test_cached_values_expire(backend):
    state, _ = backend
    assert state.cache_get("robots") is None

    state.cache_set("robots", b"User-agent: *", 0.1)

    assert state.cache_get("robots") == b"User-agent: *"
    time.sleep(0.15)
    assert state.cache_get("robots") is None


def test_a_breaker_opens_at_the_threshold_and_half_opens_after_the_cooldown(backend):
    state, _ = backend
    state.breaker_failure("breaker:shop", threshold=2, cooldown=0.2)
    assert state.breaker_admit("breaker:shop", trial_timeout=5).state == "closed"

    state.breaker_failure("breaker:shop", threshold=2, cooldown=0.2)
    admission = state.breaker_admit("breaker:shop", trial_timeout=5)
    assert admission.state == "open"
    assert 0 < admission.retry_in <= 0.2

    time.sleep(0.25)
    assert state.breaker_admit("breaker:shop", trial_timeout=5).state == "trial"
    assert state.breaker_admit("breaker:shop", trial_timeout=5).state == "open"

    state.breaker_success("breaker:shop")
    assert state.breaker_admit("breaker:shop", trial_timeout=5).state == "closed"


def test_a_half_open_breaker_admits_one_trial_among_racing_callers(backend):
    state, another = backend
    state.breaker_failure("breaker:shop", threshold=1, cooldown=0.1)
    time.sleep(0.15)

    states = in_threads(8, lambda: another().breaker_admit("breaker:shop", trial_timeout=5).state)

    assert sorted(states) == ["open"] * 7 + ["trial"]


def test_a_trial_that_never_reports_back_lets_another_trial_through(backend):
    state, _ = backend
    state.breaker_failure("breaker:shop", threshold=1, cooldown=0.1)
    time.sleep(0.15)
    assert state.breaker_admit("breaker:shop", trial_timeout=0.1).state == "trial"
    time.sleep(0.15)

    assert state.breaker_admit("breaker:shop", trial_timeout=0.1).state == "trial"
