"""Pages rendered by a local headless Chromium, for retailers whose prices need JavaScript.

Chromium gets no network of its own: it is pointed at a proxy that does not exist, and every
request it makes (the page, its scripts, their XHRs) is intercepted with ``route`` and fetched
by us through the SSRF guard and the pinned transport, then handed back to it. So a page cannot
reach a private address by any path Chromium offers: a redirect, a script, an iframe, a
WebSocket, a preconnect, or a host name that resolves differently the second time.

Chromium does not follow a redirect it is handed, so redirects are followed here, each hop
checked: a sub-request's within the one request, the page's by navigating to the new address.
Images, media and fonts are never fetched; prices do not need them.

The retailer's robots.txt and politeness hold as for the direct transport: a page or a script
that robots.txt disallows is not requested, and each page (each hop of its redirects) waits
for the host's politeness slot in the state every worker shares. Sub-requests are not paced:
they are one page load, as a shopper's browser makes them.
"""

import contextlib
import logging
import time
from dataclasses import dataclass, field, replace
from urllib.parse import urljoin

import httpx
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from scraping import fetching
from scraping.fetching.transport import PinnedTransport, pinned
from scraping.models import Probe
from scraping.transports import PageFetch, PageUnavailable, base_policy, shared_state

logger = logging.getLogger(__name__)

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--dns-prefetch-disable",
    # Loopback is otherwise exempt from the proxy; nothing is.
    "--proxy-bypass-list=<-loopback>",
    "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
]
# A port nothing listens on: whatever escapes interception fails instead of connecting.
DEAD_PROXY = "http://127.0.0.1:9"
SKIPPED_RESOURCES = frozenset({"image", "media", "font"})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Set by the client or the connection, never forwarded as received.
REQUEST_HEADERS_DROPPED = frozenset(
    {"host", "connection", "content-length", "accept-encoding", "transfer-encoding", "keep-alive"}
)
# httpx has decoded the body; its length and encoding are no longer what these headers say.
RESPONSE_HEADERS_DROPPED = frozenset(
    {"content-encoding", "content-length", "transfer-encoding", "connection", "keep-alive"}
)


@dataclass
class _Visit:
    """What one rendering asked for and what became of it."""

    policy: fetching.FetchPolicy
    """The transport's policy at the retailer's pace."""
    robots: fetching.FetchClient
    refused: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    requests: int = 0
    redirect_to: str | None = None
    """Where the page's own request was redirected; the next navigation goes there."""


@dataclass(frozen=True)
class _Answer:
    status: int
    headers: dict[str, str]
    body: bytes


class BrowserTransport:
    name = "browser"

    def __init__(
        self,
        *,
        executable_path: str,
        policy: fetching.FetchPolicy | None = None,
        state: fetching.SharedState | None = None,
        settle_ms: int = 2000,
    ) -> None:
        self.executable_path = executable_path
        self.policy = policy or base_policy()
        self.state = state
        self.settle_ms = settle_ms

    @classmethod
    def from_settings(cls) -> "BrowserTransport":
        if not settings.SCRAPING_BROWSER_PATH:
            raise ImproperlyConfigured(
                "SCRAPING_BROWSER_PATH must name a Chromium executable (e.g. /usr/bin/chromium) "
                "to render pages in a local browser."
            )
        return cls(executable_path=settings.SCRAPING_BROWSER_PATH)

    def fetch(self, url: str, *, requests_per_minute: int, geo_location: str = "") -> PageFetch:
        # geo_location needs a proxy in that country, which we do not have here.
        visit = _Visit(
            policy=replace(self.policy, requests_per_minute=float(requests_per_minute)),
            robots=fetching.FetchClient(),
        )
        with visit.robots:
            try:
                self._check(url)
                allowed = fetching.robots_allow(
                    url, policy=visit.policy, state=self._state(), client=visit.robots
                )
            except fetching.FetchError as exc:
                raise PageUnavailable(
                    f"{type(exc).__name__}: {exc}", status=Probe.Status.FAILED, final_url=url
                ) from exc
            if not allowed:
                raise PageUnavailable(
                    f"RobotsDisallowed: robots.txt disallows {url}",
                    status=Probe.Status.BLOCKED,
                    final_url=url,
                )
            return self._visit(url, visit)

    def _state(self) -> fetching.SharedState:
        return self.state or shared_state()

    def _visit(self, url: str, visit: _Visit) -> PageFetch:
        started = time.monotonic()
        status, final_url, body, redirects = self._render(url, visit)
        logger.info(
            "rendered %s in %.1fs: %d requests, %d refused",
            url,
            time.monotonic() - started,
            visit.requests,
            len(visit.refused),
        )
        return self._page(url, final_url, status, body, redirects, visit)

    # --- The browser ------------------------------------------------------------------------

    def _render(self, url: str, visit: _Visit) -> tuple[int | None, str, bytes, list[str]]:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright

        http = httpx.Client(
            transport=PinnedTransport(limits=httpx.Limits(max_connections=10)),
            follow_redirects=False,
            trust_env=False,
        )
        with http, sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=self.executable_path,
                headless=True,
                args=CHROMIUM_ARGS,
                proxy={"server": DEAD_PROXY},
            )
            try:
                context = browser.new_context(
                    user_agent=self.policy.user_agents[0] if self.policy.user_agents else None,
                    service_workers="block",
                    accept_downloads=False,
                )
                context.set_default_timeout(self.policy.total_timeout * 1000)
                context.route("**/*", lambda route: self._intercept(route, http, visit))
                context.route_web_socket("**/*", lambda socket: socket.close())
                page = context.new_page()
                redirects: list[str] = []
                target = url
                while True:
                    visit.redirect_to = None
                    try:
                        response = page.goto(target, wait_until="load")
                    except PlaywrightError as exc:
                        if visit.redirect_to is None:
                            raise self._unavailable(
                                f"browser: {exc.message.splitlines()[0]}", target, visit
                            ) from None
                    if visit.redirect_to is None:
                        break
                    if len(redirects) >= self.policy.max_redirects:
                        raise self._unavailable(
                            f"browser: more than {self.policy.max_redirects} redirects",
                            target,
                            visit,
                        )
                    redirects.append(target)
                    target = visit.redirect_to
                with contextlib.suppress(PlaywrightError):
                    # A page that never stops polling is read as it stands.
                    page.wait_for_load_state("networkidle", timeout=self.settle_ms)
                status = response.status if response is not None else None
                return status, page.url, page.content().encode("utf-8"), redirects
            finally:
                browser.close()

    def _intercept(self, route, http: httpx.Client, visit: _Visit) -> None:
        try:
            self._forward(route, http, visit)
        except Exception:
            # Left unanswered, Chromium would wait for this request until it times out.
            logger.exception("browser could not forward %s", route.request.url)
            visit.failed.append(route.request.url)
            route.abort("failed")

    def _forward(self, route, http: httpx.Client, visit: _Visit) -> None:
        request = route.request
        if request.resource_type in SKIPPED_RESOURCES:
            route.abort("blockedbyclient")
            return
        visit.requests += 1
        page_itself = request.is_navigation_request() and request.frame.parent_frame is None
        method, url, content = request.method, request.url, request.post_data_buffer
        headers = {
            name: value
            for name, value in request.all_headers().items()
            if name.lower() not in REQUEST_HEADERS_DROPPED and not name.startswith(":")
        }
        for _ in range(self.policy.max_redirects + 1):
            try:
                destination = self._check(url)
            except fetching.FetchError as exc:
                logger.warning("browser refused %s: %s", url, exc)
                visit.refused.append(f"{url} ({exc})")
                route.abort("blockedbyclient")
                return
            try:
                if page_itself:
                    with fetching.polite_turn(
                        url, policy=visit.policy, state=self._state(), client=visit.robots
                    ):
                        answer = self._send(http, destination, method, url, headers, content)
                elif fetching.robots_allow(
                    url, policy=visit.policy, state=self._state(), client=visit.robots
                ):
                    answer = self._send(http, destination, method, url, headers, content)
                else:
                    raise fetching.RobotsDisallowed(f"robots.txt disallows {url}", url=url)
            except fetching.RobotsDisallowed as exc:
                visit.refused.append(f"{url} ({exc})")
                route.abort("blockedbyclient")
                return
            except (httpx.HTTPError, fetching.FetchError) as exc:
                visit.failed.append(f"{url} ({type(exc).__name__}: {exc})")
                route.abort("failed")
                return
            location = answer.headers.get("location")
            if answer.status not in REDIRECT_STATUSES or not location:
                route.fulfill(status=answer.status, headers=answer.headers, body=answer.body)
                return
            url = urljoin(url, location)
            if page_itself:
                visit.redirect_to = url
                route.abort("aborted")
                return
            if answer.status in (301, 302, 303):
                method, content = "GET", None
        visit.failed.append(f"{request.url} (more than {self.policy.max_redirects} redirects)")
        route.abort("failed")

    def _check(self, url: str) -> fetching.Destination:
        policy = self.policy
        return fetching.check_destination(
            url, resolver=policy.resolver, allow=policy.allow, ports=policy.ports
        )

    def _send(
        self,
        http: httpx.Client,
        destination: fetching.Destination,
        method: str,
        url: str,
        headers: dict[str, str],
        content: bytes | None,
    ) -> _Answer:
        policy = self.policy
        request = http.build_request(
            method,
            url,
            headers=headers,
            content=content,
            timeout=httpx.Timeout(policy.read_timeout, connect=policy.connect_timeout),
        )
        with pinned({(destination.host, destination.port): destination.addresses[0]}):
            response = http.send(request, stream=True)
        try:
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > policy.max_bytes:
                    raise fetching.ResponseTooLarge(
                        f"larger than {policy.max_bytes} bytes", url=url
                    )
        finally:
            response.close()
        return _Answer(response.status_code, _response_headers(response), bytes(body))

    # --- The result -------------------------------------------------------------------------

    def _page(
        self,
        url: str,
        final_url: str,
        status: int | None,
        body: bytes,
        redirects: list[str],
        visit: _Visit,
    ) -> PageFetch:
        if status in (404, 410):
            raise self._unavailable(
                f"browser: {final_url} answered {status}",
                final_url,
                visit,
                status=Probe.Status.NOT_FOUND,
                http_status=status,
            )
        if status in (401, 403, 429):
            raise self._unavailable(
                f"browser: {final_url} refused the request ({status})",
                final_url,
                visit,
                status=Probe.Status.BLOCKED,
                http_status=status,
            )
        if status is None or not 200 <= status < 300:
            raise self._unavailable(
                f"browser: {final_url} answered {status}", final_url, visit, http_status=status
            )
        if len(body) > self.policy.max_bytes:
            raise self._unavailable(
                f"browser: the rendered page is larger than {self.policy.max_bytes} bytes",
                final_url,
                visit,
                http_status=status,
            )
        return PageFetch(
            url=url,
            final_url=final_url,
            http_status=status,
            body=body,
            content_type="text/html; charset=utf-8",
            transport=self.name,
            redirects=redirects,
        )

    @staticmethod
    def _unavailable(
        message: str,
        final_url: str,
        visit: _Visit,
        *,
        status: str = Probe.Status.FAILED,
        http_status: int | None = None,
    ) -> PageUnavailable:
        if visit.refused:
            message += f"; refused: {', '.join(visit.refused[:5])}"
        return PageUnavailable(
            message, status=status, http_status=http_status, attempts=1, final_url=final_url
        )


def _response_headers(response: httpx.Response) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in response.headers.multi_items():
        name = name.lower()
        if name in RESPONSE_HEADERS_DROPPED:
            continue
        # Playwright takes several Set-Cookie values separated by newlines.
        separator = "\n" if name == "set-cookie" else ", "
        headers[name] = f"{headers[name]}{separator}{value}" if name in headers else value
    return headers
