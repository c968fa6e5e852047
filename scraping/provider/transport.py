"""Pages fetched by the scraping provider: the realtime transport ("Probe Now"), and the reading
of a provider result into a `PageFetch` that the batch jobs share.
"""

from typing import Any

from django.conf import settings

from scraping.models import Probe
from scraping.provider.client import ProviderAuthError, ProviderClient, ProviderError
from scraping.transports import PageFetch, PageUnavailable

SOURCE = "universal"
CONTENT_TYPE = "text/html; charset=utf-8"
# What the provider sends back when it gave up on the target after its own retries.
PROVIDER_GAVE_UP = 613


def provider_client(**overrides: Any) -> ProviderClient:
    options = {
        "realtime_url": settings.SCRAPING_PROVIDER_REALTIME_URL,
        "api_url": settings.SCRAPING_PROVIDER_API_URL,
        "username": settings.SCRAPING_PROVIDER_USERNAME,
        "password": settings.SCRAPING_PROVIDER_PASSWORD,
    }
    return ProviderClient(**(options | overrides))


def query_payload(
    *, url: str | list[str], geo_location: str = "", render: bool = False
) -> dict[str, Any]:
    payload: dict[str, Any] = {"source": SOURCE, "url": url}
    if geo_location:
        payload["geo_location"] = geo_location
    if render:
        payload["render"] = "html"
    return payload


def page_from_result(result: dict[str, Any], *, url: str, transport: str) -> PageFetch:
    """One provider result as the page it holds, or `PageUnavailable` saying why there is none.

    The status is the target's, as the provider saw it: 404 and 410 mean the product page is
    gone; 401, 403 and 429 are how bot walls answer; a captcha served with 200 is a page, which
    the extractors recognise as a bot wall.
    """
    final_url = str(result.get("url") or url)
    status = result.get("status_code")
    if not isinstance(status, int):
        raise PageUnavailable(
            "provider: the result has no status code",
            status=Probe.Status.FAILED,
            final_url=final_url,
        )
    if status in (404, 410):
        raise PageUnavailable(
            f"provider: the retailer answered HTTP {status}",
            status=Probe.Status.NOT_FOUND,
            http_status=status,
            attempts=1,
            final_url=final_url,
        )
    if status in (401, 403, 429):
        raise PageUnavailable(
            f"provider: the retailer refused the request (HTTP {status})",
            status=Probe.Status.BLOCKED,
            http_status=status,
            attempts=1,
            final_url=final_url,
        )
    if status == PROVIDER_GAVE_UP:
        raise PageUnavailable(
            "provider: gave up on the page after too many retries (613)",
            status=Probe.Status.FAILED,
            attempts=1,
            final_url=final_url,
        )
    if not 200 <= status < 300:
        raise PageUnavailable(
            f"provider: the retailer answered HTTP {status}",
            status=Probe.Status.FAILED,
            http_status=status if status < 600 else None,
            attempts=1,
            final_url=final_url,
        )
    content = result.get("content")
    if not isinstance(content, str) or not content:
        raise PageUnavailable(
            "provider: the result holds no page content",
            status=Probe.Status.FAILED,
            http_status=status,
            attempts=1,
            final_url=final_url,
        )
    return PageFetch(
        url=url,
        final_url=final_url,
        http_status=status,
        # The provider hands the page over as text; it is stored as UTF-8, and says so.
        body=content.encode("utf-8"),
        content_type=CONTENT_TYPE,
        transport=transport,
    )


def failure_from_error(error: ProviderError, *, url: str) -> PageUnavailable:
    """A provider that failed us says nothing about the retailer's page: always "failed"."""
    what = "credentials refused" if isinstance(error, ProviderAuthError) else "error"
    return PageUnavailable(
        f"provider {what}: {error}",
        status=Probe.Status.FAILED,
        attempts=error.attempts,
        final_url=url,
    )


class ProviderRealtimeTransport:
    """Fetch a page through the provider's realtime API, waiting for it.

    `render` asks the provider to run the page's JavaScript first, for retailers whose prices
    only appear in the browser.
    """

    name = "provider_realtime"

    def __init__(self, client: ProviderClient, *, render: bool = False) -> None:
        self.client = client
        self.render = render

    @classmethod
    def from_settings(cls, *, render: bool = False) -> "ProviderRealtimeTransport":
        return cls(provider_client(), render=render)

    def fetch(self, url: str, *, requests_per_minute: int, geo_location: str = "") -> PageFetch:
        # requests_per_minute is ours to keep towards retailers we fetch directly; the provider
        # spreads its requests over its own pool and enforces our account's rate limit itself.
        payload = query_payload(url=url, geo_location=geo_location, render=self.render)
        try:
            answer = self.client.realtime(payload)
        except ProviderError as error:
            raise failure_from_error(error, url=url) from error
        results = answer.get("results")
        if not isinstance(results, list) or not results or not isinstance(results[0], dict):
            raise PageUnavailable(
                "provider: the realtime answer holds no result",
                status=Probe.Status.FAILED,
                final_url=url,
            )
        return page_from_result(results[0], url=url, transport=self.name)
