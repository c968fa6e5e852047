"""When to try a request again, and how long to wait first."""

import email.utils
from datetime import UTC, datetime

import httpx
import tenacity

from scraping.fetching.errors import Unresolvable
from scraping.fetching.policy import FetchPolicy

RETRYABLE_STATUSES = frozenset({408, 429, *range(500, 600)})


class RetryableStatus(Exception):
    """An answer worth asking again for (408, 429, 5xx); fetch() turns the last one into
    FetchFailed."""

    def __init__(self, status: int, retry_after: float | None) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.retry_after = retry_after


def is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, RetryableStatus | httpx.TransportError | Unresolvable)


class Backoff(tenacity.wait.wait_base):
    """The server's Retry-After when it sent one, else exponential backoff with jitter."""

    def __init__(self, policy: FetchPolicy) -> None:
        self.exponential = tenacity.wait_exponential_jitter(
            multiplier=policy.backoff_initial, max=policy.backoff_max, jitter=policy.backoff_jitter
        )

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(exc, RetryableStatus) and exc.retry_after is not None:
            return exc.retry_after
        return self.exponential(retry_state)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delay-seconds or an HTTP-date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
