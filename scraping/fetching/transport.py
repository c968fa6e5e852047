"""An httpx transport that only connects to addresses the destination guard approved.

httpx resolves host names inside httpcore, after our check, which would let a name resolve to
a public address for the check and to 10.0.0.1 for the connection (DNS rebinding). Rewriting
the URL to the IP with a Host header would fix plain http but breaks TLS: the connection pool
is keyed by origin, so a connection opened with one name's SNI and certificate would be reused
for another name on the same IP. Instead the URL keeps its host name (so the pool key, the Host
header, SNI and certificate checks are all the name's) and the network backend maps that name
to the address the guard pinned for this request. A connection to anything not pinned is
refused, so the transport cannot be talked into an unchecked connection by any code path.

Through a proxy, the proxy opens the connection to the site and resolves its name itself: the
guard has checked the name, but the proxy must enforce its own egress rules against rebinding.
"""

import functools
import ssl
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar

import httpcore
import httpx

Pins = Mapping[tuple[str, int], str]

_pins: ContextVar[Pins | None] = ContextVar("scraping_fetching_pins", default=None)


@contextmanager
def pinned(pins: Pins) -> Iterator[None]:
    """Within this block, connections to (host, port) go to ``pins[(host, port)]`` only."""
    token = _pins.set(pins)
    try:
        yield
    finally:
        _pins.reset(token)


class PinnedBackend(httpcore.SyncBackend):
    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        address = (_pins.get() or {}).get((host.lower(), port))
        if address is None:
            raise httpcore.ConnectError(
                f"refusing to connect to {host}:{port}: the destination guard did not pin it"
            )
        return super().connect_tcp(address, port, timeout, local_address, socket_options)

    def connect_unix_socket(self, path, timeout=None, socket_options=None):
        raise httpcore.ConnectError("unix sockets are never used for fetching")


class PinnedTransport(httpx.HTTPTransport):
    """``httpx.HTTPTransport`` whose connections go through ``PinnedBackend``.

    httpx has no argument for the network backend, so this builds the httpcore pool that
    HTTPTransport would, plus ours, and skips HTTPTransport.__init__, which would only build
    one to throw away. Proxies are http(s) only.
    """

    def __init__(self, *, proxy: str | None = None, limits: httpx.Limits) -> None:
        common = {
            "ssl_context": _ssl_context(),
            "max_connections": limits.max_connections,
            "max_keepalive_connections": limits.max_keepalive_connections,
            "keepalive_expiry": limits.keepalive_expiry,
            "network_backend": PinnedBackend(),
        }
        if proxy is None:
            self._pool = httpcore.ConnectionPool(**common)
            return
        config = httpx.Proxy(proxy)
        if config.url.scheme not in ("http", "https"):
            raise ValueError(f"proxy {proxy_label(proxy)} must be an http:// or https:// URL")
        self._pool = httpcore.HTTPProxy(
            proxy_url=httpcore.URL(
                scheme=config.url.raw_scheme,
                host=config.url.raw_host,
                port=config.url.port,
                target=config.url.raw_path,
            ),
            proxy_auth=config.raw_auth,
            proxy_headers=config.headers.raw,
            proxy_ssl_context=config.ssl_context,
            **common,
        )


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    # Loading the CA bundle takes tens of milliseconds; one verifying context serves all.
    return httpx.create_ssl_context(trust_env=False)


def proxy_label(proxy: str) -> str:
    """The proxy URL without its credentials, fit for logs and results."""
    url = httpx.URL(proxy)
    return str(url.copy_with(username=None, password=None)).rstrip("/")


def proxy_address(proxy: str) -> tuple[str, int]:
    """The (host, port) the pinned backend is asked to connect to for this proxy."""
    url = httpx.URL(proxy)
    default_port = 443 if url.scheme == "https" else 80
    return url.raw_host.decode("ascii").lower(), default_port if url.port is None else url.port
