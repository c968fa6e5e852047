"""How to fetch: one frozen value the Django side builds from settings and retailer rows."""

import socket
from collections.abc import Mapping
from dataclasses import dataclass, field

from scraping.fetching.destination import STANDARD_PORTS, Destination, Resolver

ROBOTS_AGENT = "WatchPriceBot"
DEFAULT_USER_AGENT = f"{ROBOTS_AGENT}/1.0 (+https://watchprice.example/bot)"

ACCEPTED_CONTENT_TYPES = (
    "text/html",
    "application/xhtml+xml",
    "application/json",
    "application/ld+json",
)


@dataclass(frozen=True)
class FetchPolicy:
    # Who we say we are. robots.txt is always read for ``robots_agent``, whichever user agent
    # string a request carries.
    user_agent: str = DEFAULT_USER_AGENT
    user_agents: tuple[str, ...] = ()
    """When set, requests rotate through these instead of ``user_agent``."""
    robots_agent: str = ROBOTS_AGENT

    # Politeness, per host and port: at most requests_per_minute, and never faster than the
    # site's robots.txt Crawl-delay (capped at max_crawl_delay). Off only for benchmarks.
    politeness: bool = True
    requests_per_minute: float = 30.0
    host_requests_per_minute: Mapping[str, float] = field(default_factory=dict)
    """Overrides by "host:port" or by host name, e.g. a retailer's own setting for its domain."""
    max_crawl_delay: float = 120.0
    connections_per_host: int = 1
    """How many of a batch's requests to one host may be under way at once (politeness on)."""

    obey_robots: bool = True
    robots_ttl: float = 3600.0
    robots_error_ttl: float = 600.0
    """How long an unreachable robots.txt (5xx, network error) keeps the whole site disallowed."""

    proxies: tuple[str, ...] = ()
    """http(s) proxy URLs, used in turn; a proxy failing proxy_failures times rests."""
    proxy_failures: int = 3
    proxy_rest: float = 300.0

    connect_timeout: float = 5.0
    read_timeout: float = 15.0
    total_timeout: float = 30.0
    """Per request, from sending it to the last byte of the body."""
    max_bytes: int = 5 * 1024 * 1024
    accepted_content_types: tuple[str, ...] = ACCEPTED_CONTENT_TYPES
    """Also accepted: any ``+json`` type."""

    max_attempts: int = 3
    backoff_initial: float = 1.0
    backoff_max: float = 30.0
    backoff_jitter: float = 1.0
    max_retry_after: float = 120.0
    """A Retry-After longer than this ends the fetch (FetchFailed.retry_after says when)."""

    breaker_failures: int = 5
    breaker_cooldown: float = 60.0

    max_redirects: int = 5
    allow: frozenset[tuple[str, int]] = frozenset()
    """(host, port) pairs let through the SSRF guard as written, e.g. the demo marketplace."""
    ports: frozenset[int] = STANDARD_PORTS
    resolver: Resolver = field(default=socket.getaddrinfo, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.requests_per_minute <= 0 or self.max_attempts < 1 or self.max_bytes < 1:
            raise ValueError("requests_per_minute, max_attempts and max_bytes must be positive")

    def spacing(self, destination: Destination, crawl_delay: float | None = None) -> float:
        """Seconds between two requests to the destination's host and port; 0 with politeness
        off."""
        if not self.politeness:
            return 0.0
        rates = self.host_requests_per_minute
        rate = rates.get(destination.authority) or rates.get(destination.host.rstrip("."))
        interval = 60.0 / (rate or self.requests_per_minute)
        return max(interval, min(crawl_delay or 0.0, self.max_crawl_delay))
