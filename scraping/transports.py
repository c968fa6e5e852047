"""How a probe gets a page: fetched by us (direct) or by the scraping provider.

Each transport returns a `PageFetch` or raises `PageUnavailable` with the probe status it means,
so the probe service treats every way of fetching alike.
"""

from dataclasses import dataclass, field, replace
from functools import cache
from typing import Protocol

from django.conf import settings

from scraping import fetching


@dataclass(frozen=True)
class PageFetch:
    url: str
    final_url: str
    http_status: int | None
    body: bytes
    content_type: str
    transport: str
    attempts: int = 1
    redirects: list[str] = field(default_factory=list)


class PageUnavailable(Exception):
    """No page to read. `status` is the Probe.Status it stands for."""

    def __init__(
        self,
        message: str,
        *,
        status: str,
        http_status: int | None = None,
        attempts: int = 0,
        final_url: str = "",
    ) -> None:
        super().__init__(message)
        self.status = status
        self.http_status = http_status
        self.attempts = attempts
        self.final_url = final_url


class Transport(Protocol):
    name: str

    def fetch(self, url: str, *, requests_per_minute: int, geo_location: str) -> PageFetch: ...


def base_policy() -> fetching.FetchPolicy:
    return fetching.FetchPolicy(
        user_agents=tuple(settings.FETCH_USER_AGENTS),
        proxies=tuple(settings.FETCH_PROXIES),
        max_bytes=settings.FETCH_MAX_BYTES,
        total_timeout=float(settings.FETCH_TIMEOUT_SECONDS),
        max_attempts=settings.FETCH_MAX_ATTEMPTS,
        allow=fetching.parse_allow_list(",".join(settings.FETCH_ALLOWED_HOSTS)),
    )


@cache
def shared_state() -> fetching.SharedState:
    """Politeness and circuit-breaker state that every worker process on this deployment sees."""
    return fetching.open_state(
        redis_url=settings.REDIS_URL, directory=settings.VAR_DIR / "fetching"
    )


def status_for_failure(error: fetching.FetchError) -> tuple[str, int | None]:
    """Which probe status a fetch failure stands for, and the HTTP status behind it."""
    http_status = getattr(error, "status", None)
    if isinstance(error, fetching.FetchFailed):
        if http_status in (404, 410):
            return "not_found", http_status
        if http_status in (401, 403, 429):
            # Refusals and rate limits are how bot walls answer; they say nothing about stock.
            return "blocked", http_status
        return "failed", http_status
    if isinstance(error, fetching.RobotsDisallowed):
        return "blocked", None
    return "failed", http_status


class DirectTransport:
    name = "direct"

    def __init__(self, *, policy: fetching.FetchPolicy | None = None, state=None) -> None:
        self.policy = policy or base_policy()
        self.state = state

    def fetch(self, url: str, *, requests_per_minute: int, geo_location: str = "") -> PageFetch:
        policy = replace(self.policy, requests_per_minute=float(requests_per_minute))
        try:
            result = fetching.fetch(url, policy=policy, state=self.state or shared_state())
        except fetching.FetchError as error:
            status, http_status = status_for_failure(error)
            raise PageUnavailable(
                f"{type(error).__name__}: {error}",
                status=status,
                http_status=http_status,
                attempts=getattr(error, "attempts", 0),
                final_url=error.url,
            ) from error
        return PageFetch(
            url=url,
            final_url=result.final_url,
            http_status=result.status,
            body=result.body,
            content_type=result.content_type,
            transport="direct",
            attempts=result.attempts,
            redirects=list(result.redirects),
        )
