"""Batch probes through the provider's push-pull API: submitting, polling, and recording each
job's page exactly once."""

import threading
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection

from ledger.models import LedgerEntry
from scraping.models import Probe, ProviderJob
from scraping.provider.batch import (
    JobOutcome,
    provider_batch_submit,
    provider_job_process,
    provider_jobs_poll,
)
from scraping.provider.tokens import AUDIENCE, callback_token_verify
from scraping.services import probes_queue
from tests.factories import ListingFactory, ProductFactory, RetailerFactory
from tests.scraping.conftest import Reply
from tests.scraping.fake_provider import PASSWORD, USERNAME, FakeProvider, product_page

pytestmark = pytest.mark.django_db


@pytest.fixture
def provider():
    with FakeProvider(pending_checks=1) as fake:
        yield fake


@pytest.fixture
def retailer(shop):
    return RetailerFactory(base_url=shop.url("").rstrip("/"), geo_location="10001")


def watch_listing(shop, retailer, reference: str, *, price: str = "8450.00"):
    path = f"/watches/{reference.lower()}"
    shop.route(path, Reply(body=product_page(reference, price=price)))
    product = ProductFactory(reference=reference)
    return ListingFactory(retailer=retailer, product=product, url=shop.url(path))


@pytest.fixture
def listings(shop, retailer):
    return [
        watch_listing(shop, retailer, "RX-4120", price="8450.00"),
        watch_listing(shop, retailer, "RX-5200", price="9100.00"),
    ]


def submit(provider, listings):
    return provider_batch_submit(
        listing_ids=[listing.pk for listing in listings], client=provider.client()
    )


def poll(provider, **kwargs):
    return provider_jobs_poll(older_than_seconds=0, client=provider.client(), **kwargs)


def test_submitting_records_one_job_per_listing_from_one_batch(provider, listings):
    submitted = submit(provider, listings)

    [batch] = provider.requests_to("api", "POST")
    assert batch.path == "/v1/queries/batch"
    assert batch.payload["url"] == [listing.url for listing in listings]
    assert batch.payload["geo_location"] == "10001"
    jobs = ProviderJob.objects.order_by("listing_id")
    assert [job.listing_id for job in jobs] == [listing.pk for listing in listings]
    assert {job.job_id for job in jobs} == set(provider.jobs)
    assert {job.status for job in jobs} == {ProviderJob.Status.SUBMITTED}
    assert len(submitted.jobs) == 2


def test_without_a_callback_base_url_the_batch_asks_for_no_callback(settings, provider, listings):
    settings.SCRAPING_CALLBACK_BASE_URL = ""

    submit(provider, listings)

    [batch] = provider.requests_to("api", "POST")
    assert "callback_url" not in batch.payload


def test_with_a_callback_base_url_the_batch_carries_our_webhook_and_a_valid_token(
    settings, provider, listings
):
    settings.SCRAPING_CALLBACK_BASE_URL = "https://prices.example.com/"

    submit(provider, listings)

    [batch] = provider.requests_to("api", "POST")
    callback = urlsplit(batch.payload["callback_url"])
    assert f"{callback.scheme}://{callback.netloc}{callback.path}" == (
        "https://prices.example.com/api/provider/callback"
    )
    [token] = parse_qs(callback.query)["token"]
    assert callback_token_verify(token)["aud"] == AUDIENCE


def test_listings_in_different_geo_locations_go_in_separate_batches(provider, shop, listings):
    toronto = RetailerFactory(base_url=shop.url("").rstrip("/"), geo_location="M5V")
    canadian = watch_listing(shop, toronto, "RX-7000")

    submit(provider, [*listings, canadian])

    batches = {
        r.payload["geo_location"]: r.payload["url"] for r in provider.requests_to("api", "POST")
    }
    assert batches == {"10001": [listings[0].url, listings[1].url], "M5V": [canadian.url]}
    assert ProviderJob.objects.count() == 3


def test_a_listing_without_a_url_is_left_for_a_single_probe_to_discover(
    provider, retailer, listings
):
    unknown = ListingFactory(retailer=retailer, url="")

    submitted = submit(provider, [*listings, unknown])

    assert submitted.needs_discovery == [unknown.pk]
    [batch] = provider.requests_to("api", "POST")
    assert batch.payload["url"] == [listing.url for listing in listings]
    assert not ProviderJob.objects.filter(listing=unknown).exists()
    assert not Probe.objects.exists()


def test_a_batch_the_provider_refuses_records_no_job_and_says_why(provider, listings):
    provider.fail_next(1, status=400)

    submitted = submit(provider, listings)

    assert submitted.jobs == []
    assert "HTTP 400" in submitted.errors[0]
    assert not ProviderJob.objects.exists()


def test_polling_records_the_jobs_that_are_done_and_leaves_the_pending_ones(provider, listings):
    submit(provider, listings)

    first = poll(provider)
    assert (first.checked, first.recorded, first.pending) == (2, 0, 2)
    assert not Probe.objects.exists()

    second = poll(provider)
    assert (second.checked, second.recorded, second.pending) == (2, 2, 0)
    prices = dict(Probe.objects.values_list("listing_id", "price"))
    assert prices == {listings[0].pk: Decimal("8450.00"), listings[1].pk: Decimal("9100.00")}
    assert set(Probe.objects.values_list("transport", flat=True)) == {"provider_batch"}
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.OBSERVATION).count() == 2
    for job in ProviderJob.objects.all():
        assert job.status == ProviderJob.Status.DONE
        assert job.probe.listing_id == job.listing_id
        assert job.finished_at is not None

    assert poll(provider).checked == 0


def test_polling_leaves_jobs_younger_than_the_threshold_alone(provider, listings):
    submit(provider, listings)

    assert provider_jobs_poll(older_than_seconds=60, client=provider.client()).checked == 0
    assert provider.requests_to("api", "GET") == []


def test_a_faulted_job_becomes_a_failed_probe(provider, listings):
    provider.faulty_urls.add(listings[0].url)
    submit(provider, listings)
    provider.finish_jobs()

    poll(provider)

    job = ProviderJob.objects.get(listing=listings[0])
    assert job.status == ProviderJob.Status.FAILED
    assert job.probe.status == Probe.Status.FAILED
    assert "faulted" in job.probe.error_message
    assert job.probe.transport == "provider_batch"
    assert ProviderJob.objects.get(listing=listings[1]).probe.status == Probe.Status.SUCCESS


def test_a_job_whose_page_is_gone_is_done_with_a_not_found_probe(provider, shop, listings):
    shop.route("/watches/rx-4120", Reply(status=404, body=b"gone"))
    submit(provider, listings)
    provider.finish_jobs()

    poll(provider)

    job = ProviderJob.objects.get(listing=listings[0])
    assert job.status == ProviderJob.Status.DONE
    assert job.probe.status == Probe.Status.NOT_FOUND
    assert job.probe.http_status == 404


def test_a_job_the_provider_no_longer_knows_is_failed(provider, listings):
    ProviderJob.objects.create(job_id="7000000000000000001", listing=listings[0])

    outcome = provider_job_process(job_id="7000000000000000001", client=provider.client())

    assert outcome == JobOutcome.RECORDED
    job = ProviderJob.objects.get(job_id="7000000000000000001")
    assert job.status == ProviderJob.Status.FAILED
    assert "no longer has the job" in job.probe.error_message


def test_a_provider_that_cannot_be_reached_leaves_the_job_for_the_next_poll(provider, listings):
    submit(provider, listings[:1])
    provider.finish_jobs()
    provider.fail_next(3, status=503)

    failed = poll(provider)
    assert (failed.checked, failed.recorded, len(failed.errors)) == (1, 0, 1)
    assert ProviderJob.objects.get().status == ProviderJob.Status.SUBMITTED

    assert poll(provider).recorded == 1


def test_processing_a_job_again_records_nothing_more(provider, listings):
    submit(provider, listings[:1])
    provider.finish_jobs()
    [job_id] = provider.jobs

    assert provider_job_process(job_id=job_id, client=provider.client()) == JobOutcome.RECORDED
    assert (
        provider_job_process(job_id=job_id, client=provider.client()) == JobOutcome.ALREADY_FINISHED
    )

    assert Probe.objects.count() == 1
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.OBSERVATION).count() == 1


class RacingClient:
    """A client that waits, after fetching a job's results, until every racer has them."""

    def __init__(self, client, barrier: threading.Barrier) -> None:
        self.client, self.barrier = client, barrier

    def job_status(self, job_id):
        return self.client.job_status(job_id)

    def job_results(self, job_id):
        results = self.client.job_results(job_id)
        self.barrier.wait(timeout=10)
        return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_workers_racing_for_the_same_job_record_one_probe(provider, listings):
    if connection.vendor != "postgresql":
        # The in-memory SQLite test database locks whole tables and fails instead of waiting.
        pytest.skip("needs PostgreSQL: run with DATABASE_URL=postgres://…")
    submit(provider, listings[:1])
    provider.finish_jobs()
    [job_id] = provider.jobs
    racers = 4
    barrier = threading.Barrier(racers)
    outcomes: list = []

    def work() -> None:
        try:
            client = RacingClient(provider.client(), barrier)
            outcomes.append(provider_job_process(job_id=job_id, client=client))
        except Exception as exc:  # reported to the test, which fails on it
            outcomes.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(map(str, outcomes)) == sorted(["recorded"] + ["already_finished"] * (racers - 1))
    assert Probe.objects.count() == 1
    assert ProviderJob.objects.get().probe == Probe.objects.get()


def test_the_daily_run_sends_provider_retailers_listings_as_one_batch(
    provider, listings, retailer, settings
):
    settings.SCRAPING_PROVIDER_API_URL = provider.api_url
    settings.SCRAPING_PROVIDER_REALTIME_URL = provider.realtime_url
    settings.SCRAPING_PROVIDER_USERNAME = USERNAME
    settings.SCRAPING_PROVIDER_PASSWORD = PASSWORD
    retailer.fetch_method = "provider"
    retailer.external_price_checks_enabled = True
    retailer.save()

    queued = probes_queue()

    assert (queued.provider_jobs, queued.tasks) == (2, 0)
    [batch] = provider.requests_to("api", "POST")
    assert batch.payload["url"] == [listing.url for listing in listings]
