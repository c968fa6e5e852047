"""The provider's callback webhook: only a valid token gets in; every authenticated callback is
kept; a job's page is recorded once however often the provider calls back."""

import json
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlencode

import jwt
import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from scraping.models import Probe, ProviderCallback, ProviderJob
from scraping.provider.batch import provider_batch_submit
from scraping.provider.tokens import AUDIENCE, callback_signing_key, callback_token_issue
from tests.factories import ListingFactory, ProductFactory, RetailerFactory
from tests.scraping.conftest import Reply
from tests.scraping.fake_provider import PASSWORD, USERNAME, FakeProvider, product_page


@pytest.fixture
def provider(settings):
    with FakeProvider() as fake:
        settings.SCRAPING_PROVIDER_REALTIME_URL = fake.realtime_url
        settings.SCRAPING_PROVIDER_API_URL = fake.api_url
        settings.SCRAPING_PROVIDER_USERNAME = USERNAME
        settings.SCRAPING_PROVIDER_PASSWORD = PASSWORD
        yield fake


@pytest.fixture
def listing(shop):
    shop.route("/watches/rx-4120", Reply(body=product_page("RX-4120", price="8450.00")))
    retailer = RetailerFactory(base_url=shop.url("").rstrip("/"))
    product = ProductFactory(reference="RX-4120")
    return ListingFactory(retailer=retailer, product=product, url=shop.url("/watches/rx-4120"))


@pytest.fixture
def finished_job(provider, listing) -> str:
    """A job submitted for the listing, which the provider has finished."""
    provider_batch_submit(listing_ids=[listing.pk], client=provider.client())
    provider.finish_jobs()
    [job_id] = provider.jobs
    return job_id


def job_body(job_id: str) -> bytes:
    return json.dumps({"id": job_id, "status": "done", "_links": []}).encode()


def post_callback(body: bytes, token: str | None = None):
    # CSRF checks on, and no session: the token is all the callback has.
    query = urlencode({"token": token}) if token is not None else ""
    return Client(enforce_csrf_checks=True).post(
        reverse("provider:callback"),
        data=body,
        content_type="application/json",
        QUERY_STRING=query,
    )


def signed(claims: dict, *, algorithm: str = "HS256") -> str:
    """Claims signed with our own callback key, with any algorithm."""
    return jwt.encode(claims, callback_signing_key(settings.SECRET_KEY), algorithm=algorithm)


def fresh_claims() -> dict:
    now = timezone.now()
    return {"aud": AUDIENCE, "iat": now, "exp": now + timedelta(hours=1)}


BAD_TOKENS = {
    "missing": lambda: None,
    "empty": lambda: "",
    "expired": lambda: callback_token_issue(now=timezone.now() - timedelta(hours=25)),
    "wrong secret": lambda: jwt.encode(
        fresh_claims(), callback_signing_key("someone-elses-secret"), algorithm="HS256"
    ),
    "alg none": lambda: jwt.encode(fresh_claims(), None, algorithm="none"),
    "HS512": lambda: signed(fresh_claims(), algorithm="HS512"),
    "wrong audience": lambda: signed(fresh_claims() | {"aud": "someone-else"}),
}


# --- Refused ---------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
@pytest.mark.parametrize("kind", BAD_TOKENS)
def test_a_callback_without_a_valid_token_is_refused_and_nothing_is_kept(
    kind, provider, finished_job
):
    asked_before = len(provider.received)

    response = post_callback(job_body(finished_job), token=BAD_TOKENS[kind]())

    assert response.status_code == 401
    assert response.json() == {"error": "missing, invalid or expired callback token"}
    assert not ProviderCallback.objects.exists()
    assert not Probe.objects.exists()
    assert ProviderJob.objects.get().status == ProviderJob.Status.SUBMITTED
    assert len(provider.received) == asked_before, "the provider is not asked about the job"


@pytest.mark.django_db
def test_a_refused_callback_is_logged_with_the_reason(caplog, finished_job):
    response = post_callback(job_body(finished_job), token=BAD_TOKENS["alg none"]())

    assert response.status_code == 401
    assert "InvalidAlgorithmError" in caplog.text


@pytest.mark.django_db
def test_a_token_in_a_header_instead_of_the_url_is_not_enough(finished_job):
    response = Client().post(
        reverse("provider:callback"),
        data=job_body(finished_job),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {callback_token_issue()}",
    )

    assert response.status_code == 401


@pytest.mark.django_db
def test_the_callback_only_accepts_post():
    response = Client().get(reverse("provider:callback"), {"token": callback_token_issue()})

    assert response.status_code == 405
    assert not ProviderCallback.objects.exists()


# --- Kept, but not processed -----------------------------------------------------------------


@pytest.mark.django_db
def test_a_body_that_is_not_json_is_kept_as_malformed():
    body = b'{"id": "7301000000000000001", "status": "do'

    response = post_callback(body, token=callback_token_issue())

    assert response.status_code == 400
    assert response.json()["outcome"] == "malformed"
    assert "not JSON" in response.json()["error"]
    callback = ProviderCallback.objects.get()
    assert callback.outcome == ProviderCallback.Outcome.MALFORMED
    assert callback.body == body.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("payload", [{"status": "done"}, {"id": ""}, {"id": None}, ["7301"]])
def test_a_body_without_a_job_id_is_kept_as_malformed(payload):
    body = json.dumps(payload).encode()

    response = post_callback(body, token=callback_token_issue())

    assert response.status_code == 400
    assert response.json() == {"outcome": "malformed", "job_id": "", "error": "body has no job id"}
    assert ProviderCallback.objects.get().body == body.decode()


@pytest.mark.django_db
def test_a_callback_for_a_job_we_never_submitted_is_kept_as_unknown(provider):
    response = post_callback(job_body("7999999999999999999"), token=callback_token_issue())

    assert response.status_code == 400
    assert response.json()["outcome"] == "unknown_job"
    callback = ProviderCallback.objects.get()
    assert (callback.outcome, callback.job_id) == ("unknown_job", "7999999999999999999")
    assert provider.requests_to("api", "GET") == []


# --- Processed -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_valid_callback_records_the_page_and_a_replay_records_nothing_more(finished_job):
    token = callback_token_issue()

    first = post_callback(job_body(finished_job), token=token)
    replay = post_callback(job_body(finished_job), token=token)

    assert first.status_code == 200
    assert first.json() == {"outcome": "processed", "job_id": finished_job}
    assert replay.status_code == 200
    assert replay.json() == {"outcome": "duplicate", "job_id": finished_job}
    probe = Probe.objects.get()
    assert (probe.status, probe.price) == (Probe.Status.SUCCESS, Decimal("8450.00"))
    outcomes = list(ProviderCallback.objects.order_by("pk").values_list("outcome", flat=True))
    assert outcomes == ["processed", "duplicate"]


@pytest.mark.django_db
def test_the_callback_body_is_not_believed_over_the_providers_api(provider, finished_job):
    forged = json.dumps(
        {"id": finished_job, "status": "done", "content": "<html>$1.00</html>"}
    ).encode()

    post_callback(forged, token=callback_token_issue())

    assert Probe.objects.get().price == Decimal("8450.00")
    assert [r.path for r in provider.requests_to("api", "GET")] == [
        f"/v1/queries/{finished_job}",
        f"/v1/queries/{finished_job}/results",
    ]


@pytest.mark.django_db
def test_when_the_provider_cannot_be_asked_the_callback_fails_and_can_be_sent_again(
    provider, finished_job
):
    provider.fail_next(3, status=503, headers={"Retry-After": "0"})

    failed = post_callback(job_body(finished_job), token=callback_token_issue())

    assert failed.status_code == 503
    assert failed.json()["outcome"] == "failed"
    assert not Probe.objects.exists()
    assert ProviderJob.objects.get().status == ProviderJob.Status.SUBMITTED

    again = post_callback(job_body(finished_job), token=callback_token_issue())

    assert again.json()["outcome"] == "processed"
    assert Probe.objects.count() == 1


# --- End to end: the fake provider calls our live server ---------------------------------------


@pytest.fixture
def calling_back(settings, provider, live_server):
    settings.SCRAPING_CALLBACK_BASE_URL = live_server.url
    return provider


@pytest.mark.django_db(transaction=True)
def test_the_provider_calls_back_and_the_page_is_recorded_once(calling_back, listing):
    provider_batch_submit(listing_ids=[listing.pk])

    [sent] = calling_back.finish_jobs()

    assert (sent.status, sent.answer["outcome"]) == (200, "processed")
    job = ProviderJob.objects.get()
    assert job.status == ProviderJob.Status.DONE
    assert job.probe.status == Probe.Status.SUCCESS
    assert job.probe.price == Decimal("8450.00")
    assert job.probe.transport == "provider_batch"
    assert ProviderCallback.objects.get().outcome == ProviderCallback.Outcome.PROCESSED


@pytest.mark.django_db(transaction=True)
def test_a_callback_the_provider_sends_again_is_a_duplicate(calling_back, listing):
    provider_batch_submit(listing_ids=[listing.pk])
    [first] = calling_back.finish_jobs()

    again = calling_back.send_callback(first.job_id)

    assert (again.status, again.answer["outcome"]) == (200, "duplicate")
    assert Probe.objects.count() == 1
    assert ProviderJob.objects.get().probe == Probe.objects.get()


@pytest.mark.django_db(transaction=True)
def test_a_faulted_job_reported_by_callback_is_a_failed_probe(calling_back, listing):
    calling_back.faulty_urls.add(listing.url)
    provider_batch_submit(listing_ids=[listing.pk])

    [sent] = calling_back.finish_jobs()

    assert sent.answer["outcome"] == "processed"
    job = ProviderJob.objects.get()
    assert job.status == ProviderJob.Status.FAILED
    assert job.probe.status == Probe.Status.FAILED
    assert "faulted" in job.probe.error_message


@pytest.mark.django_db(transaction=True)
def test_a_callback_with_an_expired_token_reaches_nothing(calling_back, listing):
    provider_batch_submit(listing_ids=[listing.pk])
    [job] = calling_back.jobs.values()
    expired = callback_token_issue(now=timezone.now() - timedelta(hours=25))
    job["callback_url"] = f"{job['callback_url'].split('?')[0]}?token={expired}"

    [sent] = calling_back.finish_jobs()

    assert sent.status == 401
    assert not ProviderCallback.objects.exists()
    assert not Probe.objects.exists()
