"""The SSRF guard: may we connect to this URL, and to which addresses?

``check_destination`` is pure apart from the resolver it is handed, so it is tested with a
resolver that answers whatever a hostile DNS server would. It is asked again for every redirect
hop, and the transport then connects to the address it returned (see ``transport.py``), so a
name that resolves differently a moment later (DNS rebinding) changes nothing.

The allow-list names a literal host and port as written in the URL, e.g. ("127.0.0.1", 8001) or
("demo.test", 8001). It never means "every address of this kind": a name that is not on the
list is judged by the addresses it resolves to, so "evil.test" resolving to 127.0.0.1 stays
blocked even while ("127.0.0.1", 8001) is allowed.
"""

import ipaddress
import re
import socket
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import httpx

from scraping.fetching.errors import Blocked, Unresolvable

Resolver = Callable[..., Sequence[tuple]]
"""Called like ``socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)``."""

DEFAULT_PORTS = {"http": 80, "https": 443}
STANDARD_PORTS = frozenset(DEFAULT_PORTS.values())

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_V4_BLOCKED = [
    (ipaddress.IPv4Network(net), reason)
    for net, reason in [
        ("169.254.169.254/32", "cloud metadata service"),
        ("100.100.100.200/32", "cloud metadata service"),
        ("0.0.0.0/8", "unspecified ('this network')"),
        ("10.0.0.0/8", "private"),
        ("100.64.0.0/10", "shared address space (CGNAT)"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link-local"),
        ("172.16.0.0/12", "private"),
        ("192.0.0.0/24", "IETF protocol assignments"),
        ("192.0.2.0/24", "documentation"),
        ("192.31.196.0/24", "AS112"),
        ("192.52.193.0/24", "AMT"),
        ("192.88.99.0/24", "6to4 relay anycast"),
        ("192.168.0.0/16", "private"),
        ("192.175.48.0/24", "AS112"),
        ("198.18.0.0/15", "benchmarking"),
        ("198.51.100.0/24", "documentation"),
        ("203.0.113.0/24", "documentation"),
        ("224.0.0.0/4", "multicast"),
        ("240.0.0.0/4", "reserved"),
    ]
]
_V6_BLOCKED = [
    (ipaddress.IPv6Network(net), reason)
    for net, reason in [
        ("fd00:ec2::254/128", "cloud metadata service"),
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("::ffff:0:0/96", "IPv4-mapped"),
        ("::/96", "IPv4-compatible"),
        ("64:ff9b:1::/48", "local-use NAT64"),
        ("100::/64", "discard-only"),
        ("2001:2::/48", "benchmarking"),
        ("2001:10::/28", "ORCHID"),
        ("2001:db8::/32", "documentation"),
        ("3fff::/20", "documentation"),
        ("fc00::/7", "unique local (private)"),
        ("fe80::/10", "link-local"),
        ("fec0::/10", "site-local"),
        ("ff00::/8", "multicast"),
    ]
]
_V6_GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")

# Names that only mean something inside a network or a cloud. Their addresses would be refused
# anyway; refusing the name first means we never even ask DNS about them.
_INTERNAL_NAMES = {"localhost", "metadata", "metadata.goog", "instance-data", "localdomain"}
_INTERNAL_SUFFIXES = (".localhost", ".internal", ".local", ".home.arpa", ".localdomain")

_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")
# WHATWG URL parsers read a host whose last label is numeric as an IPv4 address ("127.1",
# "0x7f.1", "2130706433"); resolvers disagree on those, so only canonical dotted quads pass.
_NUMERIC_LABEL = re.compile(r"^(?:0x[0-9a-f]*|[0-9]+)$")


@dataclass(frozen=True)
class Destination:
    """A URL that passed the guard, with the addresses the connection may go to."""

    url: httpx.URL
    scheme: str
    host: str
    """As the connection sees it: lower case, IDNA-encoded, IPv6 without brackets."""
    port: int
    addresses: tuple[str, ...]
    allow_listed: bool

    @property
    def authority(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def origin(self) -> str:
        return f"{self.scheme}://{self.authority}"


def check_destination(
    url: str | httpx.URL,
    *,
    resolver: Resolver = socket.getaddrinfo,
    allow: Iterable[tuple[str, int]] = (),
    ports: Iterable[int] = STANDARD_PORTS,
) -> Destination:
    """Return where ``url`` may be fetched from, or raise ``Blocked`` saying why not.

    Raises ``Unresolvable`` when the resolver finds no address. ``ports`` are the ports allowed
    for any public host; an allow-listed (host, port) needs no other permission.
    """
    text = str(url)
    try:
        parsed = url if isinstance(url, httpx.URL) else httpx.URL(url)
        raw_host = parsed.raw_host.decode("ascii").lower()
    except (httpx.InvalidURL, TypeError, UnicodeError) as exc:
        raise Blocked(f"malformed URL: {exc}", url=text) from None
    if parsed.scheme not in DEFAULT_PORTS:
        raise Blocked(f"scheme {parsed.scheme!r} is not http or https", url=text)
    if parsed.userinfo:
        raise Blocked("URLs with credentials are not fetched", url=text)
    if not raw_host:
        raise Blocked("URL has no host", url=text)
    port = DEFAULT_PORTS[parsed.scheme] if parsed.port is None else parsed.port
    if not 0 < port < 65536:
        raise Blocked(f"port {port} is out of range", url=text)

    name = raw_host.rstrip(".")
    literal = _ip_literal(name)
    if literal is None:
        _check_host_name(name, text)

    def destination(addresses: tuple[str, ...], allow_listed: bool) -> Destination:
        return Destination(parsed, parsed.scheme, raw_host, port, addresses, allow_listed)

    if (name, port) in {_allow_entry(host, entry_port) for host, entry_port in allow}:
        if literal is not None:
            return destination((str(literal),), allow_listed=True)
        return destination(_resolve(name, port, resolver, text), allow_listed=True)

    if port not in set(ports):
        raise Blocked(f"port {port} is not allowed for {name}", url=text)
    if literal is not None:
        addresses: tuple[str, ...] = (str(literal),)
    else:
        if name in _INTERNAL_NAMES or name.endswith(_INTERNAL_SUFFIXES):
            raise Blocked(f"{name} is an internal host name", url=text)
        addresses = _resolve(name, port, resolver, text)
    for address in addresses:
        try:
            problem = address_problem(address)
        except ValueError:
            problem = "not an IP address"
        if problem:
            shown = name if literal is not None else f"{name} resolves to {address}, which"
            raise Blocked(f"{shown} is not a public address: {problem}", url=text)
    return destination(addresses, allow_listed=False)


def address_problem(address: str | IPAddress) -> str | None:
    """Why we will not connect to ``address``, or None for a public unicast address."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv4Address):
        return _v4_problem(ip)
    if ip.scope_id:
        return "scoped IPv6 address"
    embedded = _embedded_ipv4(ip)
    if embedded is not None:
        kind, v4 = embedded
        problem = _v4_problem(v4)
        if problem:
            return f"{kind} address embedding {v4}, which is {problem}"
    for network, reason in _V6_BLOCKED:
        if ip in network:
            return reason
    if ip not in _V6_GLOBAL_UNICAST:
        return "not a global unicast address"
    return None


def parse_allow_list(text: str) -> frozenset[tuple[str, int]]:
    """Read "127.0.0.1:8001, [::1]:8001, demo.test:8001" into allow-list entries."""
    entries = set()
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        host, _, port = item.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"allow-list entry {item!r} must be host:port")
        entries.add(_allow_entry(host, int(port)))
    return frozenset(entries)


def static_resolver(table: Mapping[str, Sequence[str]]) -> Resolver:
    """A getaddrinfo look-alike answering from ``table`` (name -> addresses) and nothing else."""

    def resolve(host: str, port: int, *args, **kwargs) -> list[tuple]:
        addresses = table.get(host.lower().rstrip("."))
        if not addresses:
            raise socket.gaierror(socket.EAI_NONAME, f"{host} is not in the static table")
        return [
            (
                socket.AF_INET6 if ":" in a else socket.AF_INET,
                socket.SOCK_STREAM,
                socket.IPPROTO_TCP,
                "",
                (a, port),
            )
            for a in addresses
        ]

    return resolve


def _allow_entry(host: str, port: int) -> tuple[str, int]:
    return host.strip().strip("[]").lower().rstrip("."), int(port)


def _ip_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _check_host_name(name: str, url: str) -> None:
    labels = name.split(".")
    if len(name) > 253 or not all(_LABEL.match(label) for label in labels):
        raise Blocked(f"{name!r} is not a valid host name", url=url)
    if _NUMERIC_LABEL.match(labels[-1]):
        raise Blocked(f"{name!r} looks like an IP address but is not a canonical one", url=url)


def _resolve(name: str, port: int, resolver: Resolver, url: str) -> tuple[str, ...]:
    try:
        answers = resolver(name, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise Unresolvable(f"{name} does not resolve: {exc}", url=url) from None
    addresses: list[str] = []
    for *_, sockaddr in answers:
        address = str(sockaddr[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise Unresolvable(f"{name} resolves to no address", url=url)
    return tuple(addresses)


def _v4_problem(ip: ipaddress.IPv4Address) -> str | None:
    for network, reason in _V4_BLOCKED:
        if ip in network:
            return reason
    return None


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> tuple[str, ipaddress.IPv4Address] | None:
    if ip.sixtofour is not None:
        return "6to4", ip.sixtofour
    if ip.teredo is not None:
        server, client = ip.teredo
        return "Teredo", client if _v4_problem(client) else server
    if ip in _NAT64:
        return "NAT64", ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None
