"""Real probes of the demo marketplace on loopback, and loopback servers that receive alerts."""

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

START = datetime(2026, 11, 2, 12, tzinfo=UTC)
JEWEL = "jewel-discount"


@pytest.fixture
def clock():
    return {"now": START}


def allow(settings, authority: str) -> None:
    settings.FETCH_ALLOWED_HOSTS = [*settings.FETCH_ALLOWED_HOSTS, authority]


def demo_listing(base_url: str, shop: str, reference: str):
    """The demo shop's listing of the demo watch, with the demo's MSRP (so MAP applies)."""
    from scraping.demo_marketplace import JEWEL_DISCOUNT_SELECTORS
    from scraping.demo_marketplace.inventory import inventory
    from tests.factories import BrandFactory, ListingFactory, ProductFactory, RetailerFactory

    watch = inventory().watch(reference)
    product = ProductFactory(
        brand=BrandFactory(name=watch.brand, slug=watch.brand_part),
        reference=reference,
        mpn=reference,
        sku=watch.sku,
        msrp=watch.msrp,
        category=watch.category,
    )
    retailer = RetailerFactory(
        name=shop.replace("-", " ").title(),
        slug=shop,
        base_url=f"{base_url}/{shop}",
        selectors=JEWEL_DISCOUNT_SELECTORS if shop == JEWEL else {},
    )
    return ListingFactory(product=product, retailer=retailer, url=f"{base_url}/{shop}{watch.path}")


def another_listing(base_url: str, shop: str, product):
    """The same product at another demo shop."""
    from scraping.demo_marketplace import JEWEL_DISCOUNT_SELECTORS
    from scraping.demo_marketplace.inventory import inventory
    from tests.factories import ListingFactory, RetailerFactory

    watch = inventory().watch(product.reference)
    retailer = RetailerFactory(
        name=shop.replace("-", " ").title(),
        slug=shop,
        base_url=f"{base_url}/{shop}",
        selectors=JEWEL_DISCOUNT_SELECTORS if shop == JEWEL else {},
    )
    return ListingFactory(product=product, retailer=retailer, url=f"{base_url}/{shop}{watch.path}")


def first_days(
    shop: str, reference: str, *conditions, after_day: datetime | None = None
) -> list[datetime]:
    """The first run of consecutive days from START (or the day after `after_day`) whose pages
    meet the conditions in turn."""
    from scraping.demo_marketplace import offer_for

    origin = START if after_day is None else after_day + timedelta(days=1)
    for start in range(90):
        days = [origin + timedelta(days=start + n) for n in range(len(conditions))]
        if all(
            condition(offer_for(shop, reference, day))
            for condition, day in zip(conditions, days, strict=True)
        ):
            return days
    raise AssertionError(f"the demo never shows {shop} {reference} that way")


def first_hours(shop: str, reference: str, condition, count: int) -> list[datetime]:
    """The first `count` hours from START at which the page is in the wanted state."""
    from scraping.demo_marketplace import offer_for

    found = []
    for hours in range(24 * 90):
        moment = START + timedelta(hours=hours)
        if condition(offer_for(shop, reference, moment)):
            found.append(moment)
            if len(found) == count:
                return found
    raise AssertionError(f"the demo never shows {shop} {reference} that way")


def shown(offer) -> Decimal | None:
    return offer.shown_price


@pytest.fixture
def probe_at(transport, clock):
    """Probe the listing with the demo clock at `moment`, then do what the probe's commit
    announces: MAP enforcement (pricing), then alert evaluation."""
    from alerts.services import alerts_evaluate_probe
    from pricing.map_enforcement import map_violations_update
    from scraping.services import listing_probe

    def probe(listing, moment: datetime, *, expect: str | None = None):
        clock["now"] = moment
        result = listing_probe(listing_id=listing.pk, transport=transport)
        if expect is not None:
            assert result.status == expect, result.error_message
        map_violations_update(probe_id=result.pk)
        alerts_evaluate_probe(probe_id=result.pk)
        return result

    return probe


# --- Loopback receivers ----------------------------------------------------------------------


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body)


@dataclass
class Receiver:
    """A real HTTP server on 127.0.0.1 recording every POST; `answer` decides the status."""

    server: ThreadingHTTPServer
    requests: list[Received] = field(default_factory=list)
    answer: Callable[[Received], int] = lambda request: 204

    @property
    def authority(self) -> str:
        host, port = self.server.server_address[:2]
        return f"{host}:{port}"

    def url(self, path: str = "/hooks/alerts") -> str:
        return f"http://{self.authority}{path}"


def start_receiver() -> Receiver:
    receiver: Receiver

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length", 0))
            request = Received(self.path, dict(self.headers.items()), self.rfile.read(length))
            receiver.requests.append(request)
            status = receiver.answer(request)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver = Receiver(server)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return receiver


@pytest.fixture
def receiver(settings):
    receiver = start_receiver()
    allow(settings, receiver.authority)
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


@pytest.fixture
def second_receiver(settings):
    receiver = start_receiver()
    allow(settings, receiver.authority)
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()
