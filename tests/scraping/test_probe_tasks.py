"""The probe tasks run by a real Celery worker, on the configured broker (files or Redis)."""

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import transaction

from scraping.demo_marketplace import serve_in_thread
from scraping.models import Probe
from scraping.tasks import probe_all, probe_listing
from tests.factories import BrandFactory, ListingFactory, ProductFactory, RetailerFactory
from watchprice.celery import app

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def marketplace(settings):
    server, base_url = serve_in_thread(port=0)
    settings.FETCH_ALLOWED_HOSTS = [base_url.removeprefix("http://")]
    yield base_url
    server.shutdown()
    server.server_close()


@pytest.fixture
def worker():
    """A worker thread on the configured broker; `./bin/test` gives each run its own folder
    (or Redis database), and leftovers of earlier tests are purged first."""
    app.control.purge()
    with start_worker(app, perform_ping_check=False, loglevel="WARNING", shutdown_timeout=30):
        yield app


def wait_for(condition, seconds: float = 30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError("the worker did not finish in time")


def demo_listing(base_url: str, reference: str, *, enabled: bool = True):
    retailer = RetailerFactory(
        name="Meridian Boutique",
        slug="meridian-boutique",
        base_url=f"{base_url}/meridian-boutique",
        requests_per_minute=600,
        external_price_checks_enabled=enabled,
    )
    product = ProductFactory(
        brand=BrandFactory(name="Omega", slug="omega"), reference=reference, mpn=reference
    )
    path = f"/watches/omega/{reference.replace('.', '-')}"
    return ListingFactory(product=product, retailer=retailer, url=f"{retailer.base_url}{path}")


def test_the_probe_task_records_a_probe_through_a_real_worker(marketplace, worker):
    listing = demo_listing(marketplace, "310.30.42.50.01.002")

    with transaction.atomic():
        transaction.on_commit(lambda: probe_listing.delay(listing.pk))

    wait_for(lambda: Probe.objects.filter(listing=listing).exists())
    probe = Probe.objects.get(listing=listing)
    assert probe.status == Probe.Status.SUCCESS
    assert probe.price is not None


def test_probe_all_queues_every_enabled_listing_and_the_worker_probes_them(marketplace, worker):
    enabled = demo_listing(marketplace, "310.30.42.50.01.002")
    disabled_retailer = RetailerFactory(name="Quiet Shop", external_price_checks_enabled=False)
    skipped = ListingFactory(retailer=disabled_retailer)

    probe_all.delay()

    wait_for(lambda: Probe.objects.filter(listing=enabled).exists())
    time.sleep(1)  # time enough for a wrongly queued second probe to show up
    assert not Probe.objects.filter(listing=skipped).exists()
    assert Probe.objects.filter(listing=enabled).count() == 1
