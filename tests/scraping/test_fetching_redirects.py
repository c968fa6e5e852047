"""Redirects are followed by hand, and every hop passes the SSRF guard before any connection;
connections go to the address the guard approved, never to a second DNS answer."""

import httpx
import pytest

from scraping.fetching import Blocked, FetchClient, TooManyRedirects, fetch, static_resolver
from scraping.fetching.transport import pinned
from tests.scraping.conftest import html, policy_for, redirect


def test_it_follows_redirects_and_records_the_chain(shop, file_state):
    shop.route("/old", redirect("/older", status=301))
    shop.route("/older", redirect(shop.url("/watch"), status=308))
    shop.route("/watch", html())

    result = fetch(shop.url("/old"), policy=policy_for(shop), state=file_state)

    assert result.final_url == shop.url("/watch")
    assert result.redirects == [shop.url("/old"), shop.url("/older")]
    assert result.attempts == 3


def test_it_stops_after_max_redirects(shop, file_state):
    shop.route("/loop", redirect("/loop"))

    with pytest.raises(TooManyRedirects):
        fetch(shop.url("/loop"), policy=policy_for(shop, max_redirects=3), state=file_state)

    assert len(shop.hits_for("/loop")) == 4


def test_a_redirect_to_a_loopback_port_not_on_the_allow_list_is_blocked(
    make_loopback_server, file_state
):
    shop, internal = make_loopback_server(), make_loopback_server(html("admin panel"))
    shop.route("/watch", redirect(internal.url("/admin")))
    # Even with its port allowed for public hosts, the loopback address is refused.
    policy = policy_for(shop, ports=frozenset({80, 443, internal.port}))

    with pytest.raises(Blocked, match="loopback") as caught:
        fetch(shop.url("/watch"), policy=policy, state=file_state)

    assert caught.value.url == internal.url("/admin")
    assert internal.hits == []


def test_a_redirect_to_a_name_resolving_to_loopback_is_blocked(shop, file_state):
    shop.route("/watch", redirect(f"http://evil.test:{shop.port}/secret"))
    policy = policy_for(
        shop,
        resolver=static_resolver({"evil.test": ["127.0.0.1"]}),
        ports=frozenset({80, 443, shop.port}),
    )

    with pytest.raises(Blocked, match=r"evil\.test resolves to 127\.0\.0\.1"):
        fetch(shop.url("/watch"), policy=policy, state=file_state)

    assert shop.hits_for("/secret") == []


@pytest.mark.parametrize(
    "location",
    [
        "file:///etc/passwd",
        "gopher://127.0.0.1:70/",
        "http://169.254.169.254/latest/meta-data/",
        "http://user:pw@127.0.0.1/",
        "http://[::ffff:127.0.0.1]/",
    ],
)
def test_a_redirect_to_a_forbidden_destination_is_blocked(shop, file_state, location):
    shop.route("/watch", redirect(location))

    with pytest.raises(Blocked):
        fetch(shop.url("/watch"), policy=policy_for(shop), state=file_state)


def test_a_name_resolving_to_an_allow_listed_ip_is_still_blocked(shop, file_state):
    shop.route("/watch", html())
    policy = policy_for(
        shop,
        resolver=static_resolver({"evil.test": ["127.0.0.1"]}),
        ports=frozenset({80, 443, shop.port}),
    )

    with pytest.raises(Blocked, match=r"evil\.test resolves to 127\.0\.0\.1"):
        fetch(f"http://evil.test:{shop.port}/watch", policy=policy, state=file_state)

    assert shop.hits == []


def test_it_connects_to_the_address_the_guard_resolved_and_never_resolves_again(shop, file_state):
    shop.route("/watch", html())
    answers = iter([["127.0.0.1"], ["127.0.0.2"]])
    asked = []

    def rebinding_resolver(host, port, *args, **kwargs):
        asked.append(host)
        return static_resolver({host: next(answers)})(host, port)

    policy = policy_for(
        allow=frozenset({("shop.test", shop.port)}), resolver=rebinding_resolver, obey_robots=False
    )

    result = fetch(f"http://shop.test:{shop.port}/watch", policy=policy, state=file_state)

    assert result.status == 200
    assert asked == ["shop.test"]
    (hit,) = shop.hits_for("/watch")
    assert hit.headers["Host"] == f"shop.test:{shop.port}"


def test_the_transport_refuses_any_connection_the_guard_did_not_pin(shop, fetch_client):
    http = fetch_client.http(None)

    with pytest.raises(httpx.ConnectError, match="did not pin"):
        http.get(shop.url("/watch"))
    with pinned({("127.0.0.1", shop.port + 1): "127.0.0.1"}), pytest.raises(httpx.ConnectError):
        http.get(shop.url("/watch"))

    assert shop.hits == []


def test_the_transport_connects_where_the_pin_says(shop):
    shop.route("/watch", html())

    with FetchClient() as client, pinned({("shop.test", shop.port): "127.0.0.1"}):
        response = client.http(None).get(f"http://shop.test:{shop.port}/watch")

    assert response.status_code == 200
