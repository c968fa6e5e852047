"""The SSRF guard decides without connecting: a table of hostile URLs, and the allow-list.

Allow-list entries name a literal host and port. A host name that is not on the list is judged
by the addresses it resolves to, so ("127.0.0.1", 8001) never lets "evil.test:8001" through.
"""

import socket

import httpx
import pytest

from scraping.fetching import (
    Blocked,
    FetchClient,
    FetchPolicy,
    Unresolvable,
    check_destination,
    fetch,
    parse_allow_list,
    static_resolver,
)

PUBLIC = "93.184.216.34"


def resolver_answering(addresses: list[str] | None):
    """A resolver giving ``addresses`` for any name; with None, being asked fails the test."""
    if addresses is None:

        def refuse(host, *args, **kwargs):
            raise AssertionError(f"the guard asked DNS about {host!r}")

        return refuse
    return lambda host, port, *args, **kwargs: static_resolver({host: addresses})(host, port)


HOSTILE = [
    # (URL, what the resolver answers (None: it must not be asked), words in the reason)
    ("http://10.0.0.1/", None, "private"),
    ("http://172.16.5.4/", None, "private"),
    ("http://172.31.255.255/", None, "private"),
    ("http://192.168.1.1/", None, "private"),
    ("http://127.0.0.1/", None, "loopback"),
    ("http://127.255.0.1/", None, "loopback"),
    ("http://[::1]/", None, "loopback"),
    ("http://169.254.169.254/latest/meta-data/", None, "metadata"),
    ("http://169.254.10.1/", None, "link-local"),
    ("http://[fe80::1]/", None, "link-local"),
    ("http://[fe80::1%25eth0]/", None, "scoped"),
    ("http://[fd00:ec2::254]/latest/meta-data/", None, "metadata"),
    ("http://100.100.100.200/", None, "metadata"),
    ("http://100.64.0.1/", None, "CGNAT"),
    ("http://224.0.0.1/", None, "multicast"),
    ("http://[ff02::1]/", None, "multicast"),
    ("http://0.0.0.0/", None, "unspecified"),
    ("http://[::]/", None, "unspecified"),
    ("http://240.0.0.1/", None, "reserved"),
    ("http://255.255.255.255/", None, "reserved"),
    ("http://192.0.2.10/", None, "documentation"),
    ("http://198.18.0.1/", None, "benchmarking"),
    ("http://[fc00::1]/", None, "unique local"),
    ("http://[2001:db8::1]/", None, "documentation"),
    ("http://[::ffff:10.0.0.1]/", None, "IPv4-mapped"),
    ("http://[::ffff:8.8.8.8]/", None, "IPv4-mapped"),
    ("http://[::10.0.0.1]/", None, "IPv4-compatible"),
    ("http://[2002:a00:1::]/", None, "6to4 address embedding 10.0.0.1"),
    ("http://[2001:0:4136:e378:8000:63bf:f5ff:fffe]/", None, "Teredo address embedding 10.0.0.1"),
    ("http://[64:ff9b::a00:1]/", None, "NAT64 address embedding 10.0.0.1"),
    ("http://2130706433/", None, "canonical"),
    ("http://0x7f000001/", None, "canonical"),
    ("http://017700000001/", None, "canonical"),
    ("http://127.1/", None, "canonical"),
    ("http://0x7f.0.0.1/", None, "canonical"),
    ("http://127.0.0.01/", None, "Invalid IPv4"),
    ("http://localhost/", None, "internal host name"),
    ("http://LOCALHOST./", None, "internal host name"),
    ("http://shop.localhost/", None, "internal host name"),
    ("http://metadata.google.internal/computeMetadata/v1/", None, "internal host name"),
    ("http://metadata/", None, "internal host name"),
    ("http://metadata.goog/", None, "internal host name"),
    ("http://printer.local/", None, "internal host name"),
    ("http://evil.test/", ["10.0.0.1"], "evil.test resolves to 10.0.0.1"),
    ("http://evil.test/", ["127.0.0.1"], "loopback"),
    ("http://evil.test/", ["169.254.169.254"], "metadata"),
    ("http://evil.test/", [PUBLIC, "10.0.0.1"], "private"),
    ("http://evil.test/", ["::1"], "loopback"),
    ("http://evil.test/", ["::ffff:127.0.0.1"], "IPv4-mapped"),
    ("http://evil.test/", ["fd00:ec2::254"], "metadata"),
    ("http://evil.test/", ["100.64.1.1"], "CGNAT"),
    ("ftp://example.com/", None, "scheme"),
    ("file:///etc/passwd", None, "scheme"),
    ("gopher://example.com/", None, "scheme"),
    ("javascript:alert(1)", None, "scheme"),
    ("data:text/html,hi", None, "scheme"),
    ("http://user:secret@example.com/", None, "credentials"),
    ("http://user@example.com/", None, "credentials"),
    ("http://example.com\\@10.0.0.1/", None, "credentials"),
    ("http://example.com:22/", None, "port 22"),
    ("http://example.com:6379/", None, "port 6379"),
    ("https://example.com:8443/", None, "port 8443"),
    ("http://example.com:0/", None, "port 0"),
    ("http:///path", None, "no host"),
    ("http://exa mple.com/", None, "not a valid host name"),
    ("http://-bad-.example/", None, "not a valid host name"),
]


@pytest.mark.parametrize(("url", "answers", "reason"), HOSTILE)
def test_it_blocks_a_hostile_url_without_connecting(url, answers, reason):
    with pytest.raises(Blocked) as caught:
        check_destination(url, resolver=resolver_answering(answers))

    assert reason in str(caught.value)


@pytest.mark.parametrize(
    ("url", "answers", "host", "port", "addresses"),
    [
        ("http://example.com/", [PUBLIC], "example.com", 80, (PUBLIC,)),
        ("https://example.com/p?q=1", [PUBLIC], "example.com", 443, (PUBLIC,)),
        ("HTTP://EXAMPLE.COM./", [PUBLIC], "example.com.", 80, (PUBLIC,)),
        (f"http://{PUBLIC}/", None, PUBLIC, 80, (PUBLIC,)),
        ("http://[2606:4700::6810:85e5]/", None, "2606:4700::6810:85e5", 80, None),
        ("http://bücher.example/", [PUBLIC], "xn--bcher-kva.example", 80, (PUBLIC,)),
        ("http://[2002:808:808::1]/", None, "2002:808:808::1", 80, None),
    ],
)
def test_it_lets_a_public_destination_through_with_the_addresses_to_connect_to(
    url, answers, host, port, addresses
):
    destination = check_destination(url, resolver=resolver_answering(answers))

    assert (destination.host, destination.port) == (host, port)
    assert destination.addresses == (addresses or (host,))
    assert not destination.allow_listed


def test_an_allow_list_entry_lets_exactly_its_host_and_port_through():
    allow = {("127.0.0.1", 8001)}

    destination = check_destination(
        "http://127.0.0.1:8001/watch", resolver=resolver_answering(None), allow=allow
    )

    assert destination.addresses == ("127.0.0.1",)
    assert destination.allow_listed


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8002/",
        "http://127.0.0.2:8001/",
        "http://[::1]:8001/",
        "http://localhost:8001/",
        "http://evil.test:8001/",
    ],
)
def test_an_allow_listed_ip_does_not_let_other_ports_or_names_for_it_through(url):
    with pytest.raises(Blocked):
        check_destination(
            url, resolver=resolver_answering(["127.0.0.1"]), allow={("127.0.0.1", 8001)}
        )


def test_an_allow_listed_name_may_resolve_to_a_loopback_address():
    destination = check_destination(
        "http://demo.test:8001/",
        resolver=static_resolver({"demo.test": ["127.0.0.1"]}),
        allow={("Demo.Test", 8001)},
    )

    assert destination.addresses == ("127.0.0.1",)


@pytest.mark.parametrize(
    "url", ["http://user:pw@127.0.0.1:8001/", "ftp://127.0.0.1:8001/", "ws://127.0.0.1:8001/"]
)
def test_the_allow_list_does_not_excuse_credentials_or_other_schemes(url):
    with pytest.raises(Blocked):
        check_destination(url, resolver=resolver_answering(None), allow={("127.0.0.1", 8001)})


def test_other_ports_can_be_allowed_for_every_public_host():
    destination = check_destination(
        "https://example.com:8443/", resolver=resolver_answering([PUBLIC]), ports={443, 8443}
    )

    assert destination.port == 8443


def test_a_name_that_does_not_resolve_is_unresolvable_not_blocked():
    with pytest.raises(Unresolvable):
        check_destination("http://nowhere.test/", resolver=static_resolver({}))


def test_a_resolver_answering_nothing_is_unresolvable():
    with pytest.raises(Unresolvable):
        check_destination("http://nowhere.test/", resolver=lambda *args, **kwargs: [])


def test_the_resolver_is_asked_for_a_stream_socket_on_the_urls_port():
    calls = []

    def resolver(host, port, *args, **kwargs):
        calls.append((host, port, kwargs.get("type")))
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (PUBLIC, port))]

    check_destination("https://shop.example/", resolver=resolver)

    assert calls == [("shop.example", 443, socket.SOCK_STREAM)]


def test_an_allow_list_is_read_from_a_setting():
    allow = parse_allow_list("127.0.0.1:8001, [::1]:8001 ,Demo.Test.:8001,")

    assert allow == {("127.0.0.1", 8001), ("::1", 8001), ("demo.test", 8001)}


def test_an_allow_list_entry_without_a_port_is_an_error():
    with pytest.raises(ValueError, match="host:port"):
        parse_allow_list("127.0.0.1")


class NoConnections(httpx.BaseTransport):
    def handle_request(self, request):
        raise AssertionError(f"a connection was attempted to {request.url}")


@pytest.mark.parametrize(
    ("url", "answers"),
    [
        ("http://169.254.169.254/latest/meta-data/", None),
        ("http://[::ffff:10.0.0.1]/", None),
        ("http://evil.test/", ["10.0.0.1"]),
        ("http://metadata.google.internal/", None),
        ("gopher://example.com/", None),
    ],
)
def test_fetch_refuses_a_hostile_url_before_any_connection(file_state, url, answers):
    policy = FetchPolicy(resolver=resolver_answering(answers))

    with FetchClient(transport=NoConnections()) as client, pytest.raises(Blocked):
        fetch(url, policy=policy, state=file_state, client=client)
