"""State every worker process shares: politeness slots, robots.txt cache, circuit breakers.

Two backends implement ``SharedState``: ``RedisState`` (atomic Lua scripts, for many machines)
and ``FileState`` (a SQLite file, for the embedded default on one machine). Each operation is
atomic across processes, so "never two requests to a host closer than its spacing" holds for
all workers together, not just within one.

Politeness takes two steps: ``reserve`` hands out slots in turn, so waiting workers wake one
after another instead of all at once, and ``confirm``, just before sending, checks the actual
time of the last request, so a worker that woke up late for its slot pushes the next one back
instead of landing right before it.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol


@dataclass(frozen=True)
class Admission:
    """A circuit breaker's answer: go ahead (closed), go ahead as the one trial request of a
    half-open breaker (trial), or fail fast (open, for ``retry_in`` more seconds)."""

    state: Literal["closed", "trial", "open"]
    retry_in: float = 0.0


class SharedState(Protocol):
    def reserve(self, key: str, spacing: float) -> float:
        """Claim the next slot for ``key``, at least ``spacing`` seconds after the last slot
        claimed and the last request sent by anyone; return the seconds to wait for it."""

    def confirm(self, key: str, spacing: float) -> float:
        """Record that a request for ``key`` goes now, and return 0; or, when the last one went
        less than ``spacing`` ago (its sender was late for its slot), record nothing and return
        the seconds still to wait."""

    def delivered(self, key: str) -> None:
        """Record that the request for ``key`` has reached the server (its answer is here):
        the next one waits ``spacing`` from now, so the gap holds where the server sees it,
        however late the request left."""

    def cache_get(self, key: str) -> bytes | None: ...

    def cache_set(self, key: str, value: bytes, ttl: float) -> None: ...

    def claim(self, key: str, ttl: float) -> bool:
        """True for exactly one caller until ``ttl`` passes or ``release`` is called."""

    def release(self, key: str) -> None: ...

    def breaker_admit(self, key: str, trial_timeout: float) -> Admission:
        """Whether a request may go; a half-open breaker admits one trial per trial_timeout."""

    def breaker_failure(self, key: str, threshold: int, cooldown: float) -> None:
        """Count a failure; the threshold-th consecutive one opens the breaker for cooldown."""

    def breaker_success(self, key: str) -> None:
        """Close the breaker and forget its failures."""


def open_state(*, redis_url: str = "", directory: str | Path = "") -> SharedState:
    """Redis when a URL is given, else the SQLite file in ``directory``."""
    if redis_url:
        from scraping.fetching.redis_state import RedisState

        return RedisState(redis_url)
    if not directory:
        raise ValueError("open_state needs a redis_url or a directory for the state file")
    from scraping.fetching.file_state import FileState

    return FileState(directory)
