"""The WSGI app that serves every demo shop under /{slug}/, and the loopback server around it."""

from __future__ import annotations

import ipaddress
import socket
import socketserver
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer
from wsgiref.util import application_uri

from .inventory import Shop, inventory
from .offers import offer_for
from .pages import (
    captcha_page,
    home_page,
    marketplace_index,
    not_found_page,
    robots_txt,
    search_page,
    sitemap_xml,
)
from .product_pages import product_page

Clock = Callable[[], datetime]
StartResponse = Callable[..., object]

# The one shop that asks crawlers to slow down.
CRAWL_DELAYS = {"megamart": 1}
# Every page is far below this; the cap keeps a bug from flooding a probe.
MAX_PAGE_BYTES = 100_000


def utc_now() -> datetime:
    return datetime.now(tz=UTC)


class Response:
    def __init__(
        self,
        body: str = "",
        *,
        status: str = "200 OK",
        content_type: str = "text/html; charset=utf-8",
        location: str | None = None,
    ) -> None:
        self.status = status
        self.content = body.encode()[:MAX_PAGE_BYTES]
        self.headers = [
            ("Content-Type", content_type),
            ("Content-Length", str(len(self.content))),
            ("Cache-Control", "no-store"),
        ]
        if location:
            self.headers.append(("Location", location))


class DemoMarketplace:
    """A WSGI app; `clock` decides what hour every shop is living in."""

    def __init__(self, clock: Clock = utc_now) -> None:
        self.clock = clock

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        if method not in {"GET", "HEAD"}:
            response = Response("Method not allowed\n", status="405 Method Not Allowed")
            response.headers.append(("Allow", "GET, HEAD"))
        else:
            response = self.respond(environ)
        start_response(response.status, response.headers)
        return [b""] if method == "HEAD" else [response.content]

    def respond(self, environ: dict) -> Response:
        origin = application_uri(environ).rstrip("/")
        parts = [part for part in environ.get("PATH_INFO", "/").lower().split("/") if part]
        shops = list(inventory().shops.values())
        if not parts:
            return Response(marketplace_index(shops))
        if parts == ["robots.txt"]:
            return Response(robots_txt(origin, shops), content_type="text/plain; charset=utf-8")
        shop = inventory().shops.get(parts[0])
        if shop is None:
            return Response("Not found\n", status="404 Not Found", content_type="text/plain")
        at = self.clock()
        match parts[1:]:
            case []:
                return Response(home_page(shop, at))
            case ["robots.txt"]:
                text = robots_txt(origin, [shop], crawl_delay=CRAWL_DELAYS.get(shop.slug))
                return Response(text, content_type="text/plain; charset=utf-8")
            case ["sitemap.xml"]:
                return Response(sitemap_xml(shop, origin, at), content_type="application/xml")
            case ["search"]:
                query = parse_qs(environ.get("QUERY_STRING", "")).get("q", [""])[0]
                return Response(search_page(shop, query[:200], at))
            case ["watches", brand_part, reference_part]:
                return self.product(shop, brand_part, reference_part, origin, at)
        return Response(not_found_page(shop), status="404 Not Found")

    def product(
        self, shop: Shop, brand_part: str, reference_part: str, origin: str, at: datetime
    ) -> Response:
        stock = inventory()
        watch = stock.watch_at(brand_part, reference_part)
        if watch is None:
            return Response(not_found_page(shop), status="404 Not Found")
        offer = offer_for(shop.slug, watch.reference, at)
        if offer.redirect_to:
            target = stock.watch(offer.redirect_to)
            return Response(status="302 Found", location=f"{origin}/{shop.slug}{target.path}")
        if offer.blocked:
            return Response(captcha_page(shop))
        url = f"{origin}/{shop.slug}{watch.path}"
        return Response(product_page(shop, watch, offer, at, url))


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Server(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks the host up in DNS for a name nobody reads here.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]
        self.setup_environ()


class _Server6(_Server):
    address_family = socket.AF_INET6


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def make_server(
    host: str = "127.0.0.1", port: int = 8001, *, clock: Clock = utc_now, quiet: bool = False
) -> WSGIServer:
    """Bind the demo marketplace to a loopback address; it refuses any other."""
    if not is_loopback(host):
        raise ValueError(f"The demo marketplace serves only on loopback, not on {host!r}.")
    server_class = _Server6 if ":" in host else _Server
    server = server_class((host, port), _QuietHandler if quiet else WSGIRequestHandler)
    server.set_app(DemoMarketplace(clock))
    return server


def serve_in_thread(
    port: int = 0, *, host: str = "127.0.0.1", clock: Clock = utc_now
) -> tuple[WSGIServer, str]:
    """Serve from a daemon thread; stop with server.shutdown() then server.server_close()."""
    inventory()  # Load the catalog here, so a missing Django setup fails in the caller.
    server = make_server(host, port, clock=clock, quiet=True)
    threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name="demo-marketplace",
        daemon=True,
    ).start()
    shown_host = f"[{host}]" if ":" in host else host
    return server, f"http://{shown_host}:{server.server_port}"
