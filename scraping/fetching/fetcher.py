"""fetch(): one URL, politely and safely, with every rule of the package applied.

For each request, redirect hops and robots.txt included, in this order: the SSRF guard (no
network), the host's circuit breaker (no network), robots.txt (from the shared cache, or one
request), the host's politeness slot, then the request itself, sent to the address the guard
pinned. Statuses 408, 429 and 5xx and network errors are retried; redirects are followed by
hand so that every hop goes through all of the above.
"""

import ipaddress
import itertools
import logging
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import tenacity

from scraping.fetching.destination import Destination, check_destination
from scraping.fetching.errors import (
    Blocked,
    CircuitOpen,
    FetchFailed,
    Refused,
    ResponseTooLarge,
    RobotsDisallowed,
    TooManyRedirects,
    UnacceptableContentType,
    Unresolvable,
)
from scraping.fetching.policy import FetchPolicy
from scraping.fetching.retrying import (
    RETRYABLE_STATUSES,
    Backoff,
    RetryableStatus,
    is_retryable,
    parse_retry_after,
)
from scraping.fetching.robots import MAX_ROBOTS_BYTES, RobotsRules
from scraping.fetching.state import SharedState
from scraping.fetching.transport import PinnedTransport, pinned, proxy_address, proxy_label

logger = logging.getLogger(__name__)

ACCEPT = "text/html,application/xhtml+xml,application/json;q=0.9"
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
ROBOTS_MAX_REDIRECTS = 5
ROBOTS_POLL_SECONDS = 0.05


@dataclass(frozen=True)
class FetchResult:
    final_url: str
    status: int
    headers: Mapping[str, str]
    """Lower-case names; repeated headers joined with ", "."""
    body: bytes
    elapsed: float
    """Seconds for the whole fetch, politeness waits and retries included."""
    attempts: int
    """Requests sent for the page: retries and redirect hops count, robots.txt does not."""
    redirects: list[str] = field(default_factory=list)
    """The URLs that answered with a redirect, in order; final_url is where the chain ended."""
    transport: str = "direct"
    """"direct", or "proxy:<proxy URL without credentials>" for the final request."""

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def text(self) -> str:
        # Decoded with the charset the server declared, else UTF-8 (the body is already
        # decompressed, so only the content type is passed on).
        content_type = self.headers.get("content-type", "")
        return httpx.Response(200, headers={"content-type": content_type}, content=self.body).text


class FetchClient:
    """What fetches share within a process: connection pools (one per proxy), the rotation
    counters and a local copy of robots verdicts. Thread-safe; reuse one per worker process.

    ``transport`` replaces the pinned transport, for tests that must see no connection at all.
    """

    def __init__(
        self, *, transport: httpx.BaseTransport | None = None, max_connections: int = 100
    ) -> None:
        self._transport = transport
        self._limits = httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        )
        self._clients: dict[str | None, httpx.Client] = {}
        self._lock = threading.Lock()
        self._agent_turns = itertools.count()
        self._proxy_turns = itertools.count()
        self.robots: dict[str, RobotsRules] = {}

    def http(self, proxy: str | None) -> httpx.Client:
        with self._lock:
            client = self._clients.get(proxy)
            if client is None:
                transport = self._transport or PinnedTransport(proxy=proxy, limits=self._limits)
                client = httpx.Client(transport=transport, follow_redirects=False, trust_env=False)
                self._clients[proxy] = client
            return client

    def next_agent(self) -> int:
        return next(self._agent_turns)

    def next_proxy(self) -> int:
        return next(self._proxy_turns)

    def close(self) -> None:
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()

    def __enter__(self) -> "FetchClient":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def fetch(
    url: str, *, policy: FetchPolicy, state: SharedState, client: FetchClient | None = None
) -> FetchResult:
    """Fetch ``url`` (GET) and return its 2xx answer, or raise a ``FetchError`` subclass."""
    if client is not None:
        return Fetch(policy, state, client).run(url)
    with FetchClient() as own_client:
        return Fetch(policy, state, own_client).run(url)


@contextmanager
def polite_turn(
    url: str, *, policy: FetchPolicy, state: SharedState, client: FetchClient
) -> Iterator[None]:
    """Hold ``url``'s politeness slot while someone else sends the request (the local browser).

    The same rules as fetch() before it sends: the SSRF guard, robots.txt (``RobotsDisallowed``)
    and the host's slot, which counts from the moment the block ends, as when fetch() receives
    an answer, so the gap holds at the server whoever sends.
    """
    attempt = Fetch(policy, state, client)
    destination = attempt._check(url)
    rules = attempt._robots(destination) if policy.obey_robots else None
    if rules is not None and not rules.allows(url, policy.robots_agent):
        reason = f" ({rules.reason})" if rules.reason else ""
        raise RobotsDisallowed(f"robots.txt disallows {url}{reason}", url=url)
    polite_key = attempt._wait_turn(destination, rules)
    try:
        yield
    finally:
        if polite_key is not None:
            state.delivered(polite_key)


def robots_allow(url: str, *, policy: FetchPolicy, state: SharedState, client: FetchClient) -> bool:
    """Whether robots.txt lets us request ``url`` (a page's script or data), without waiting."""
    if not policy.obey_robots:
        return True
    attempt = Fetch(policy, state, client)
    return attempt._robots(attempt._check(url)).allows(url, policy.robots_agent)


@dataclass
class _Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    transport: str

    @property
    def location(self) -> str | None:
        return self.headers.get("location") if self.status in REDIRECT_STATUSES else None


class Fetch:
    """One call of fetch()."""

    def __init__(self, policy: FetchPolicy, state: SharedState, client: FetchClient) -> None:
        self.policy = policy
        self.state = state
        self.client = client
        self.attempts = 0

    def run(self, url: str) -> FetchResult:
        started = time.monotonic()
        redirects: list[str] = []
        current = str(url)
        while True:
            reply = self._with_retries(current)
            location = reply.location
            if location is None:
                return FetchResult(
                    final_url=current,
                    status=reply.status,
                    headers=reply.headers,
                    body=reply.body,
                    elapsed=time.monotonic() - started,
                    attempts=self.attempts,
                    redirects=redirects,
                    transport=reply.transport,
                )
            if len(redirects) >= self.policy.max_redirects:
                raise TooManyRedirects(
                    f"more than {self.policy.max_redirects} redirects", url=current
                )
            redirects.append(current)
            current = _join(current, location)

    def _with_retries(self, url: str) -> _Reply:
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.policy.max_attempts),
            wait=Backoff(self.policy),
            retry=tenacity.retry_if_exception(is_retryable),
            before_sleep=_log_retry,
            reraise=True,
        )
        try:
            return retrying(self._attempt, url)
        except RetryableStatus as exc:
            raise FetchFailed(
                f"{url} answered {exc.status} to {self.attempts} attempt(s)",
                url=url,
                status=exc.status,
                attempts=self.attempts,
                retry_after=exc.retry_after,
            ) from None
        except httpx.TransportError as exc:
            raise FetchFailed(
                f"{url} failed after {self.attempts} attempt(s): {exc!r}",
                url=url,
                attempts=self.attempts,
            ) from exc
        except Unresolvable as exc:
            exc.attempts = self.attempts
            raise

    def _attempt(self, url: str) -> _Reply:
        policy = self.policy
        destination = self._check(url)
        breaker = _breaker_key(destination)
        # A trial request that never reports back (its worker died) must not keep the circuit
        # open forever: another trial is let through once this one would have finished.
        trial_timeout = policy.connect_timeout + policy.total_timeout + policy.spacing(destination)
        admission = self.state.breaker_admit(breaker, trial_timeout)
        if admission.state == "open":
            raise CircuitOpen(
                f"{destination.authority} failed repeatedly; circuit open for "
                f"{admission.retry_in:.1f}s more",
                url=url,
                retry_in=admission.retry_in,
            )
        rules = self._robots(destination) if policy.obey_robots else None
        if rules is not None and not rules.allows(url, policy.robots_agent):
            reason = f" ({rules.reason})" if rules.reason else ""
            raise RobotsDisallowed(f"robots.txt disallows {url}{reason}", url=url)
        proxy = self._pick_proxy(url)
        self.attempts += 1
        try:
            reply = self._send(destination, proxy, rules=rules)
        except httpx.TransportError as exc:
            self._blame(exc, destination, proxy)
            raise
        except httpx.DecodingError as exc:
            raise FetchFailed(
                f"{url} sent a body that does not decode: {exc}", url=url, attempts=self.attempts
            ) from exc
        except Refused:
            self.state.breaker_success(breaker)
            raise
        if reply.status in RETRYABLE_STATUSES or (proxy and reply.status == 407):
            if proxy and reply.status == 407:
                self._proxy_failed(proxy)
            else:
                self._host_failed(destination)
            retry_after = parse_retry_after(reply.headers.get("retry-after"))
            if retry_after is not None and retry_after > policy.max_retry_after:
                raise FetchFailed(
                    f"{url} answered {reply.status} and asked us to wait {retry_after:.0f}s, "
                    f"longer than the {policy.max_retry_after:.0f}s we wait",
                    url=url,
                    status=reply.status,
                    attempts=self.attempts,
                    retry_after=retry_after,
                )
            raise RetryableStatus(reply.status, retry_after)
        self.state.breaker_success(breaker)
        if reply.location is None and not 200 <= reply.status < 300:
            raise FetchFailed(
                f"{url} answered {reply.status}",
                url=url,
                status=reply.status,
                attempts=self.attempts,
            )
        return reply

    def _check(self, url: str) -> Destination:
        policy = self.policy
        return check_destination(
            url, resolver=policy.resolver, allow=policy.allow, ports=policy.ports
        )

    def _send(
        self,
        destination: Destination,
        proxy: str | None,
        *,
        rules: RobotsRules | None = None,
        robots: bool = False,
    ) -> _Reply:
        """One request, sent in the host's next politeness slot. A 2xx body is read (up to the
        cap) and checked; other bodies are not."""
        policy = self.policy
        agents = policy.user_agents or (policy.user_agent,)
        http = self.client.http(proxy)
        request = http.build_request(
            "GET",
            destination.url,
            headers={
                "User-Agent": agents[self.client.next_agent() % len(agents)],
                "Accept": "text/plain,*/*;q=0.1" if robots else ACCEPT,
            },
            timeout=httpx.Timeout(
                connect=policy.connect_timeout,
                read=min(policy.read_timeout, policy.total_timeout),
                write=policy.read_timeout,
                pool=policy.total_timeout,
            ),
        )
        pins = {(destination.host, destination.port): destination.addresses[0]}
        if proxy is not None:
            pins[proxy_address(proxy)] = self._proxy_ip(proxy)
        transport = "direct" if proxy is None else f"proxy:{proxy_label(proxy)}"
        # Everything is ready before the slot is claimed: time spent between claiming a slot
        # and sending would shorten the gap to whoever claimed the next one.
        polite_key = self._wait_turn(destination, rules)
        deadline = time.monotonic() + policy.total_timeout
        with pinned(pins):
            response = http.send(request, stream=True)
        if polite_key is not None:
            self.state.delivered(polite_key)
        try:
            if proxy is not None and response.status_code != 407:
                self.state.breaker_success(_proxy_key(proxy))
            headers = dict(response.headers.items())
            if not 200 <= response.status_code < 300:
                return _Reply(response.status_code, headers, b"", transport)
            if not robots:
                _check_content_type(headers.get("content-type", ""), policy, destination)
            limit = MAX_ROBOTS_BYTES if robots else policy.max_bytes
            body = _read_body(response, limit, deadline, truncate=robots, url=str(request.url))
            return _Reply(response.status_code, headers, body, transport)
        finally:
            response.close()

    def _wait_turn(self, destination: Destination, rules: RobotsRules | None) -> str | None:
        """Wait for this host's next slot; return its politeness key (None with politeness off)."""
        crawl_delay = rules.crawl_delay(self.policy.robots_agent) if rules else None
        spacing = self.policy.spacing(destination, crawl_delay)
        if spacing <= 0:
            return None
        key = f"polite:{destination.authority}"
        time.sleep(self.state.reserve(key, spacing))
        while (late := self.state.confirm(key, spacing)) > 0:
            time.sleep(late)
        return key

    def _robots(self, destination: Destination) -> RobotsRules:
        origin = destination.origin
        rules = self.client.robots.get(origin)
        if rules is not None and rules.fresh:
            return rules
        key = f"robots:{origin}"
        blob = self.state.cache_get(key)
        if blob is None:
            blob = self._robots_once(destination, key)
        rules = RobotsRules.decode(blob)
        self.client.robots[origin] = rules
        return rules

    def _robots_once(self, destination: Destination, key: str) -> bytes:
        """Fetch robots.txt unless another worker already is; then wait for its verdict."""
        policy = self.policy
        lease = f"robots-lease:{destination.origin}"
        # Long enough for the holder to wait its turn and fetch; if it dies, the lease lapses.
        lease_ttl = policy.connect_timeout + policy.total_timeout + policy.spacing(destination)
        while True:
            if self.state.claim(lease, lease_ttl):
                try:
                    blob = self._fetch_robots(destination).encode()
                    ttl = RobotsRules.decode(blob).ttl
                    self.state.cache_set(key, blob, ttl)
                    return blob
                finally:
                    self.state.release(lease)
            time.sleep(ROBOTS_POLL_SECONDS)
            blob = self.state.cache_get(key)
            if blob is not None:
                return blob

    def _fetch_robots(self, destination: Destination) -> RobotsRules:
        policy = self.policy
        url = f"{destination.origin}/robots.txt"
        for _hop in range(ROBOTS_MAX_REDIRECTS + 1):
            try:
                hop = self._check(url)
            except (Blocked, Unresolvable) as exc:
                return RobotsRules.disallow_all(f"robots.txt: {exc}", ttl=policy.robots_error_ttl)
            proxy = self._pick_proxy(url)
            try:
                reply = self._send(hop, proxy, robots=True)
            except httpx.TransportError as exc:
                self._blame(exc, hop, proxy)
                reason = f"robots.txt unreachable: {exc!r}"
                return RobotsRules.disallow_all(reason, ttl=policy.robots_error_ttl)
            if reply.status == 429 or reply.status >= 500:
                self._host_failed(hop)
                reason = f"robots.txt answered {reply.status}"
                return RobotsRules.disallow_all(reason, ttl=policy.robots_error_ttl)
            self.state.breaker_success(_breaker_key(hop))
            if reply.location is None:
                break
            url = _join(url, reply.location)
        else:
            return RobotsRules.allow_all("robots.txt redirects too often", ttl=policy.robots_ttl)
        if 200 <= reply.status < 300:
            return RobotsRules.parse(reply.body, ttl=policy.robots_ttl)
        # RFC 9309: a robots.txt that is "unavailable" (4xx) puts no restriction on crawling.
        return RobotsRules.allow_all(f"robots.txt answered {reply.status}", ttl=policy.robots_ttl)

    def _pick_proxy(self, url: str) -> str | None:
        proxies = self.policy.proxies
        if not proxies:
            return None
        start = self.client.next_proxy()
        for offset in range(len(proxies)):
            proxy = proxies[(start + offset) % len(proxies)]
            admission = self.state.breaker_admit(_proxy_key(proxy), self.policy.total_timeout)
            if admission.state != "open":
                return proxy
        raise FetchFailed("every proxy is resting after repeated failures", url=url)

    def _proxy_ip(self, proxy: str) -> str:
        # Proxies are ours, named in the configuration, and may well live on a private network:
        # they are resolved but not judged by the guard.
        host, port = proxy_address(proxy)
        if _is_ip(host):
            return host
        try:
            return str(self.policy.resolver(host, port)[0][4][0])
        except (OSError, IndexError) as exc:
            raise httpx.ConnectError(f"proxy {proxy_label(proxy)} does not resolve") from exc

    def _blame(self, exc: Exception, destination: Destination, proxy: str | None) -> None:
        # Through a proxy, failing to connect is the proxy's fault; anything later, the host's.
        proxy_fault = httpx.ConnectError | httpx.ConnectTimeout | httpx.ProxyError
        if proxy is not None and isinstance(exc, proxy_fault):
            self._proxy_failed(proxy)
        else:
            self._host_failed(destination)

    def _host_failed(self, destination: Destination) -> None:
        policy = self.policy
        self.state.breaker_failure(
            _breaker_key(destination), policy.breaker_failures, policy.breaker_cooldown
        )

    def _proxy_failed(self, proxy: str) -> None:
        policy = self.policy
        self.state.breaker_failure(_proxy_key(proxy), policy.proxy_failures, policy.proxy_rest)


def _breaker_key(destination: Destination) -> str:
    return f"breaker:{destination.authority}"


def _proxy_key(proxy: str) -> str:
    return f"proxy:{proxy_label(proxy)}"


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _join(url: str, location: str) -> str:
    try:
        return str(httpx.URL(url).join(location))
    except httpx.InvalidURL as exc:
        raise Blocked(f"unusable redirect to {location!r}: {exc}", url=url) from None


def _check_content_type(content_type: str, policy: FetchPolicy, destination: Destination) -> None:
    mime = content_type.split(";")[0].strip().lower()
    if mime not in policy.accepted_content_types and not mime.endswith("+json"):
        raise UnacceptableContentType(
            f"content type {mime or 'missing'!r} is not HTML or JSON", url=str(destination.url)
        )


def _read_body(
    response: httpx.Response, limit: int, deadline: float, *, truncate: bool, url: str
) -> bytes:
    declared = response.headers.get("content-length", "")
    if not truncate and declared.isdigit() and int(declared) > limit:
        raise ResponseTooLarge(f"body of {declared} bytes is over the {limit}-byte cap", url=url)
    body = bytearray()
    for chunk in response.iter_bytes():
        body += chunk
        if len(body) > limit:
            if truncate:
                return bytes(body[:limit])
            raise ResponseTooLarge(f"body is over the {limit}-byte cap", url=url)
        if time.monotonic() > deadline:
            raise httpx.ReadTimeout("the response took longer than the total timeout")
    return bytes(body)


def _log_retry(retry_state: tenacity.RetryCallState) -> None:
    exc: Any = retry_state.outcome.exception() if retry_state.outcome else None
    wait = retry_state.next_action.sleep if retry_state.next_action else 0
    logger.info("Retrying %s in %.1fs after %r", retry_state.args[0], wait, exc)
