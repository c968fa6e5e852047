"""The provider's HTTP client against the fake provider on loopback: auth, retries, shapes."""

import base64
import time

import pytest

from scraping.provider.client import ProviderAuthError, ProviderClient, ProviderError
from tests.scraping.conftest import Reply
from tests.scraping.fake_provider import PASSWORD, USERNAME, FakeProvider


@pytest.fixture
def provider():
    with FakeProvider() as fake:
        yield fake


def test_a_realtime_query_returns_the_page_the_provider_fetched(provider, shop):
    shop.route("/p/1", Reply(body=b"<html>the page</html>"))

    answer = provider.client().realtime({"source": "universal", "url": shop.url("/p/1")})

    assert answer["results"][0]["content"] == "<html>the page</html>"
    assert answer["results"][0]["status_code"] == 200
    assert len(shop.hits_for("/p/1")) == 1


def test_it_authenticates_with_basic_auth(provider, shop):
    provider.client().realtime({"source": "universal", "url": shop.url("/")})

    [received] = provider.requests_to("realtime")
    credentials = base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
    assert received.authorization == f"Basic {credentials}"


def test_refused_credentials_raise_at_once_with_a_message_naming_the_settings(provider, shop):
    with pytest.raises(ProviderAuthError) as refused:
        provider.client(password="wrong").realtime({"source": "universal", "url": shop.url("/")})

    assert refused.value.status_code == 401
    assert "SCRAPING_PROVIDER_PASSWORD" in str(refused.value)
    assert len(provider.requests_to("realtime")) == 1, "a refusal is not retried"
    assert shop.hits == []


def test_server_errors_and_rate_limits_are_asked_again(provider, shop):
    provider.fail_next(1, status=503)
    provider.fail_next(1, status=429, headers={"Retry-After": "0"})

    answer = provider.client().realtime({"source": "universal", "url": shop.url("/")})

    assert answer["results"][0]["status_code"] == 404
    assert len(provider.requests_to("realtime")) == 3


def test_it_gives_up_after_its_attempts_and_says_what_the_provider_answered(provider, shop):
    provider.fail_next(5, status=502)

    with pytest.raises(ProviderError) as failed:
        provider.client(max_attempts=3).realtime({"source": "universal", "url": shop.url("/")})

    assert failed.value.status_code == 502
    assert failed.value.attempts == 3
    assert "HTTP 502" in str(failed.value)
    assert len(provider.requests_to("realtime")) == 3


def test_a_long_retry_after_is_capped_at_the_longest_backoff(provider, shop):
    provider.fail_next(1, status=429, headers={"Retry-After": "3600"})
    started = time.monotonic()

    provider.client(backoff_max=0.05).realtime({"source": "universal", "url": shop.url("/")})

    assert time.monotonic() - started < 2


def test_a_bad_request_is_not_retried(provider):
    with pytest.raises(ProviderError) as refused:
        provider.client().realtime({"source": "google_search", "url": "https://example.com"})

    assert refused.value.status_code == 400
    assert "unsupported source" in str(refused.value)
    assert len(provider.requests_to("realtime")) == 1


def test_an_unreachable_provider_is_reported_after_every_attempt(unused_loopback_port):
    client = ProviderClient(
        realtime_url=f"http://127.0.0.1:{unused_loopback_port}",
        api_url=f"http://127.0.0.1:{unused_loopback_port}",
        username=USERNAME,
        password=PASSWORD,
        backoff_initial=0.01,
        backoff_max=0.01,
    )

    with pytest.raises(ProviderError) as failed:
        client.submit_batch({"source": "universal", "url": ["https://example.com"]})

    assert "could not reach the provider" in str(failed.value)
    assert failed.value.attempts == 3


def test_a_batch_returns_one_pending_job_per_url(provider):
    urls = ["https://shop.example/p/1", "https://shop.example/p/2"]

    jobs = provider.client().submit_batch({"source": "universal", "url": urls})

    assert [job["url"] for job in jobs] == urls
    assert {job["status"] for job in jobs} == {"pending"}
    assert len({job["id"] for job in jobs}) == 2


def test_a_job_is_pending_then_done_with_its_results(provider, shop):
    shop.route("/p/1", Reply(body=b"<html>one</html>"))
    with provider.client() as client:
        job = client.submit_job({"source": "universal", "url": shop.url("/p/1")})

        assert client.job_results(job["id"]) is None
        assert client.job_status(job["id"])["status"] == "pending"
        assert client.job_status(job["id"])["status"] == "done"
        [result] = client.job_results(job["id"])

    assert result["content"] == "<html>one</html>"
    assert result["job_id"] == job["id"]


def test_a_job_the_provider_does_not_know_is_a_404(provider):
    with pytest.raises(ProviderError) as missing:
        provider.client().job_status("1234567890")

    assert missing.value.status_code == 404


def test_a_job_id_that_could_reach_another_endpoint_is_refused_before_any_request(provider):
    with pytest.raises(ProviderError, match="not a job id"):
        provider.client().job_results("../batch")

    assert provider.received == []
