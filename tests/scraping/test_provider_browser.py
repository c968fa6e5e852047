"""The local headless browser: Debian's Chromium renders a loopback shop's JavaScript page, and
nothing the page asks for reaches a destination the SSRF guard refuses."""

import shutil
import socket
import threading
from dataclasses import replace
from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured

from scraping.fetching import static_resolver
from scraping.models import Probe
from scraping.provider.browser import BrowserTransport
from scraping.services import listing_probe
from scraping.transports import PageUnavailable, base_policy
from tests.conftest import skip_or_fail
from tests.factories import ListingFactory, ProductFactory, RetailerFactory
from tests.scraping.conftest import Reply, redirect

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

CHROMIUM = "/usr/bin/chromium"

JSON_LD_FROM_API = """
<script>
fetch("/api/price").then((r) => r.json()).then((data) => {
  const s = document.createElement("script");
  s.type = "application/ld+json";
  s.textContent = JSON.stringify({
    "@context": "https://schema.org", "@type": "Product", "name": "Chronograph RX-4120",
    "mpn": "RX-4120",
    "offers": {"@type": "Offer", "price": data.price, "priceCurrency": "USD",
               "availability": "https://schema.org/InStock"}});
  document.head.appendChild(s);
});
</script>
"""


class ConnectionCounter:
    """A TCP port that counts the connections made to it, whatever protocol they speak."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            connection.close()

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def chromium() -> str:
    if not shutil.which(CHROMIUM):
        skip_or_fail("Debian's chromium is not installed at /usr/bin/chromium")
    return CHROMIUM


@pytest.fixture
def internal(make_loopback_server):
    """A server standing in for the private network: nothing may reach it."""
    return make_loopback_server(default=Reply(body=b"<html>internal secrets</html>"))


@pytest.fixture
def counter():
    counter = ConnectionCounter()
    yield counter
    counter.close()


@pytest.fixture
def transport(chromium, shop, file_state):
    policy = replace(base_policy(), allow=frozenset({shop.address}), resolver=static_resolver({}))
    return BrowserTransport(
        executable_path=chromium, policy=policy, state=file_state, settle_ms=500
    )


@pytest.fixture
def listing(shop):
    retailer = RetailerFactory(base_url=shop.url("").rstrip("/"))
    product = ProductFactory(reference="RX-4120")
    return ListingFactory(retailer=retailer, product=product, url=shop.url("/watches/rx-4120"))


def shop_page(shop, body: str, path: str = "/watches/rx-4120") -> None:
    page = f"<html><head><title>RX-4120</title></head><body>{body}</body></html>"
    shop.route(path, Reply(body=page.encode()))
    shop.route("/api/price", Reply(body=b'{"price": "8450.00"}', headers={}))


def test_a_price_only_javascript_shows_is_read_from_the_rendered_page(transport, shop, listing):
    shop_page(shop, f"<h1>Chronograph RX-4120</h1>{JSON_LD_FROM_API}")

    probe = listing_probe(listing_id=listing.pk, transport=transport)

    assert probe.status == Probe.Status.SUCCESS
    assert probe.transport == "browser"
    assert probe.price == Decimal("8450.00")
    assert len(shop.hits_for("/api/price")) == 1


def test_nothing_on_the_page_reaches_a_refused_destination(
    transport, shop, listing, internal, counter
):
    elsewhere = internal.url("")
    shop_page(
        shop,
        f"""
        <link rel="preconnect" href="http://127.0.0.1:{counter.port}">
        <script src="{elsewhere}/evil.js"></script>
        <iframe src="{elsewhere}/frame"></iframe>
        <img src="{elsewhere}/pixel.gif">
        <script>
          fetch("{elsewhere}/steal").catch(() => {{}});
          try {{ new WebSocket("ws://127.0.0.1:{counter.port}/"); }} catch (e) {{}}
        </script>
        <h1>Chronograph RX-4120</h1>{JSON_LD_FROM_API}
        """,
    )

    probe = listing_probe(listing_id=listing.pk, transport=transport)

    assert probe.status == Probe.Status.SUCCESS, probe.error_message
    assert internal.hits == []
    assert counter.accepted == 0


def test_a_redirect_within_the_shop_is_followed(transport, shop, listing):
    shop_page(shop, f"<h1>Chronograph RX-4120</h1>{JSON_LD_FROM_API}", path="/catalog/rx-4120")
    shop.route("/watches/rx-4120", redirect("/catalog/rx-4120", status=301))

    probe = listing_probe(listing_id=listing.pk, transport=transport)

    assert probe.status == Probe.Status.SUCCESS, probe.error_message
    assert probe.final_url == shop.url("/catalog/rx-4120")
    assert probe.price == Decimal("8450.00")


def test_a_redirect_to_a_refused_destination_is_not_followed(transport, shop, listing, internal):
    shop.route("/watches/rx-4120", redirect(internal.url("/admin")))

    probe = listing_probe(listing_id=listing.pk, transport=transport)

    assert probe.status == Probe.Status.FAILED
    assert "refused" in probe.error_message
    assert internal.hits == []


def test_a_url_the_guard_refuses_is_never_opened(transport, internal):
    with pytest.raises(PageUnavailable, match="Blocked") as refused:
        transport.fetch(internal.url("/"), requests_per_minute=30)

    assert refused.value.status == Probe.Status.FAILED
    assert internal.hits == []


def test_a_page_the_retailer_no_longer_has_is_not_found(transport, shop, listing):
    shop.route("/watches/rx-4120", Reply(status=404, body=b"<html>No such watch</html>"))

    probe = listing_probe(listing_id=listing.pk, transport=transport)

    assert probe.status == Probe.Status.NOT_FOUND
    assert probe.http_status == 404


def test_a_page_robots_txt_disallows_is_never_rendered(transport, shop, listing):
    shop.route("/robots.txt", Reply(body=b"User-agent: *\nDisallow: /watches/\n"))
    shop_page(shop, f"<h1>Chronograph RX-4120</h1>{JSON_LD_FROM_API}")

    probe = listing_probe(listing_id=listing.pk, transport=transport)

    assert probe.status == Probe.Status.BLOCKED
    assert "robots.txt disallows" in probe.error_message
    assert shop.hits_for("/watches/rx-4120") == []


def test_a_script_robots_txt_disallows_is_not_requested(transport, shop, listing):
    shop.route("/robots.txt", Reply(body=b"User-agent: *\nDisallow: /api/\n"))
    shop_page(shop, f"<h1>Chronograph RX-4120</h1>{JSON_LD_FROM_API}")

    probe = listing_probe(listing_id=listing.pk, transport=transport)

    assert len(shop.hits_for("/watches/rx-4120")) == 1
    assert shop.hits_for("/api/price") == []
    assert probe.price is None


def test_pages_wait_for_the_hosts_politeness_slot(transport, shop):
    shop_page(shop, "<h1>Chronograph RX-4120</h1>")

    for _ in range(2):
        transport.fetch(shop.url("/watches/rx-4120"), requests_per_minute=20)

    first, second = shop.hits_for("/watches/rx-4120")
    assert second.at - first.at >= 3.0


def test_without_a_browser_path_the_transport_cannot_be_built(settings):
    settings.SCRAPING_BROWSER_PATH = ""

    with pytest.raises(ImproperlyConfigured, match="SCRAPING_BROWSER_PATH"):
        BrowserTransport.from_settings()
