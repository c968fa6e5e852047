"""Probe Now through the provider's realtime API: the fake provider fetches the retailer's page
from a loopback shop, and the probe service records what it says."""

import json
import zlib
from decimal import Decimal
from pathlib import Path

import pytest

from ledger.models import LedgerEntry
from scraping.models import Probe
from scraping.provider.transport import ProviderRealtimeTransport
from scraping.services import listing_probe, transport_for
from tests.factories import ListingFactory, ProductFactory, RetailerFactory
from tests.scraping.conftest import Reply
from tests.scraping.fake_provider import PASSWORD, USERNAME, FakeProvider, product_page

pytestmark = pytest.mark.django_db

CAPTCHA = Path(__file__).parent / "fixtures" / "extraction" / "amazon-captcha.html"


@pytest.fixture
def provider():
    with FakeProvider() as fake:
        yield fake


@pytest.fixture
def listing(shop):
    retailer = RetailerFactory(base_url=shop.url("").rstrip("/"), geo_location="10001")
    product = ProductFactory(reference="RX-4120")
    return ListingFactory(retailer=retailer, product=product, url=shop.url("/watches/rx-4120"))


def probe_now(listing, transport) -> Probe:
    probe = listing_probe(listing_id=listing.pk, trigger=Probe.Trigger.MANUAL, transport=transport)
    assert probe is not None
    return probe


def test_probe_now_records_the_price_the_provider_read_and_a_ledger_entry(provider, shop, listing):
    page = product_page("RX-4120", price="8450.00")
    shop.route("/watches/rx-4120", Reply(body=page))

    probe = probe_now(listing, ProviderRealtimeTransport(provider.client()))

    assert probe.status == Probe.Status.SUCCESS
    assert probe.transport == "provider_realtime"
    assert probe.price == Decimal("8450.00")
    assert probe.http_status == 200
    assert zlib.decompress(probe.page.body) == page
    entry = LedgerEntry.objects.get(seq=probe.ledger_seq)
    assert entry.idempotency_key == f"probe:{probe.pk}"
    assert json.loads(entry.payload)["price"] == "8450.00"
    listing.refresh_from_db()
    assert listing.last_price == Decimal("8450.00")
    assert len(shop.hits_for("/watches/rx-4120")) == 1


def test_the_provider_is_asked_for_the_page_in_the_retailers_geo_location(provider, shop, listing):
    probe_now(listing, ProviderRealtimeTransport(provider.client()))

    [query] = provider.requests_to("realtime", "POST")
    assert query.payload == {
        "source": "universal",
        "url": shop.url("/watches/rx-4120"),
        "geo_location": "10001",
    }


def test_a_retailer_that_needs_javascript_is_rendered_by_the_provider(provider, listing):
    probe_now(listing, ProviderRealtimeTransport(provider.client(), render=True))

    [query] = provider.requests_to("realtime", "POST")
    assert query.payload["render"] == "html"


def test_refused_credentials_record_a_failed_probe_that_says_so(provider, shop, listing):
    shop.route("/watches/rx-4120", Reply(body=product_page("RX-4120")))

    probe = probe_now(listing, ProviderRealtimeTransport(provider.client(password="wrong")))

    assert probe.status == Probe.Status.FAILED
    assert "credentials refused" in probe.error_message
    assert "HTTP 401" in probe.error_message
    assert probe.price is None
    assert shop.hits == []
    listing.refresh_from_db()
    assert listing.last_price is None


def test_a_page_the_retailer_no_longer_has_is_not_found(provider, shop, listing):
    shop.route("/watches/rx-4120", Reply(status=404, body=b"<html>No such watch</html>"))

    probe = probe_now(listing, ProviderRealtimeTransport(provider.client()))

    assert probe.status == Probe.Status.NOT_FOUND
    assert probe.http_status == 404
    assert probe.ledger_seq is None


def test_a_retailer_refusing_the_provider_is_blocked(provider, shop, listing):
    shop.route("/watches/rx-4120", Reply(status=403, body=b"<html>Access denied</html>"))

    probe = probe_now(listing, ProviderRealtimeTransport(provider.client()))

    assert probe.status == Probe.Status.BLOCKED
    assert probe.http_status == 403


def test_a_captcha_the_provider_brings_back_is_blocked_and_has_no_price(provider, shop, listing):
    shop.route("/watches/rx-4120", Reply(body=CAPTCHA.read_bytes()))

    probe = probe_now(listing, ProviderRealtimeTransport(provider.client()))

    assert probe.status == Probe.Status.BLOCKED
    assert probe.price is None


def test_a_page_the_provider_gave_up_on_is_a_failed_probe(provider, listing, unused_loopback_port):
    listing.url = f"http://127.0.0.1:{unused_loopback_port}/watches/rx-4120"
    listing.save()

    probe = probe_now(listing, ProviderRealtimeTransport(provider.client()))

    assert probe.status == Probe.Status.FAILED
    assert "613" in probe.error_message


def test_a_provider_that_keeps_failing_records_a_failed_probe_after_every_attempt(
    provider, listing
):
    provider.fail_next(3, status=500)

    probe = probe_now(listing, ProviderRealtimeTransport(provider.client(max_attempts=3)))

    assert probe.status == Probe.Status.FAILED
    assert "HTTP 500" in probe.error_message
    assert probe.attempts == 3


def test_a_provider_that_recovers_on_the_next_attempt_gives_the_page(provider, shop, listing):
    shop.route("/watches/rx-4120", Reply(body=product_page("RX-4120")))
    provider.fail_next(1, status=524)

    probe = probe_now(listing, ProviderRealtimeTransport(provider.client()))

    assert probe.status == Probe.Status.SUCCESS
    assert len(provider.requests_to("realtime")) == 2


def test_the_default_transport_is_the_provider_when_settings_say_so(settings, provider):
    settings.SCRAPING_TRANSPORT = "provider"
    settings.SCRAPING_PROVIDER_REALTIME_URL = provider.realtime_url
    settings.SCRAPING_PROVIDER_USERNAME = USERNAME
    settings.SCRAPING_PROVIDER_PASSWORD = PASSWORD

    transport = transport_for(RetailerFactory())

    assert isinstance(transport, ProviderRealtimeTransport)
    assert transport.name == "provider_realtime"
    assert transport.client.realtime_url == provider.realtime_url
    assert transport.render is False


def test_a_retailer_that_needs_javascript_is_fetched_rendered_by_the_provider(settings, provider):
    settings.SCRAPING_PROVIDER_REALTIME_URL = provider.realtime_url
    settings.SCRAPING_PROVIDER_USERNAME = USERNAME
    settings.SCRAPING_PROVIDER_PASSWORD = PASSWORD

    transport = transport_for(RetailerFactory(fetch_method="provider_render"))

    assert isinstance(transport, ProviderRealtimeTransport)
    assert transport.render is True


def test_a_retailer_left_on_the_default_is_fetched_directly_by_default(settings):
    settings.SCRAPING_TRANSPORT = "direct"

    assert transport_for(RetailerFactory()).name == "direct"
