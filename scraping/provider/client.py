"""An HTTP client for an Oxylabs-compatible scraping provider: plain Python, no Django.

    client = ProviderClient(realtime_url=..., api_url=..., username=..., password=...)
    result = client.realtime({"source": "universal", "url": "https://shop.example/p/1"})
    jobs = client.submit_batch({"source": "universal", "url": [...], "callback_url": ...})
    client.job_status(jobs[0]["id"])["status"]  # "pending", "done" or "faulted"
    client.job_results(jobs[0]["id"])           # None while the job is still running

Answers the provider may give differently a moment later (429, 5xx, a dropped connection) are
asked again with backoff; anything else raises ``ProviderError`` at once.
"""

import re
from collections.abc import Callable
from typing import Any

import httpx
import tenacity

from scraping.fetching import parse_retry_after

RETRYABLE_STATUSES = frozenset({429, *range(500, 700)})
"""Rate limits and server errors, including the provider's own 524, 612 and 613."""
JOB_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


class ProviderError(Exception):
    """The provider did not give us what we asked for."""

    def __init__(self, message: str, *, status_code: int | None = None, attempts: int = 1):
        super().__init__(message)
        self.status_code = status_code
        self.attempts = attempts


class ProviderAuthError(ProviderError):
    """The provider refused our credentials (HTTP 401)."""


class _Retryable(Exception):
    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response
        self.retry_after = parse_retry_after(response.headers.get("Retry-After"))


class _Backoff(tenacity.wait.wait_base):
    """The provider's Retry-After when it sent one (never more than `maximum`), else
    exponential backoff with jitter."""

    def __init__(self, *, initial: float, maximum: float) -> None:
        self.maximum = maximum
        self.exponential = tenacity.wait_exponential_jitter(
            multiplier=initial, max=maximum, jitter=initial
        )

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(exc, _Retryable) and exc.retry_after is not None:
            return min(exc.retry_after, self.maximum)
        return self.exponential(retry_state)


def _retry_any_transport_error(exc: BaseException) -> bool:
    return isinstance(exc, _Retryable | httpx.TransportError)


def _retry_unsent_only(exc: BaseException) -> bool:
    # A submission that timed out may have created jobs; only one that never connected is
    # safe to send again.
    return isinstance(exc, _Retryable | httpx.ConnectError | httpx.ConnectTimeout)


class ProviderClient:
    """Realtime queries, push-pull jobs and batches, with basic auth, timeouts and retries.

    Used as a context manager it keeps one connection pool for every call; otherwise each call
    opens and closes its own connection.
    """

    def __init__(
        self,
        *,
        realtime_url: str,
        api_url: str,
        username: str,
        password: str,
        realtime_timeout: float = 180.0,
        api_timeout: float = 30.0,
        connect_timeout: float = 10.0,
        max_attempts: int = 3,
        backoff_initial: float = 1.0,
        backoff_max: float = 30.0,
    ) -> None:
        self.realtime_url = realtime_url.rstrip("/")
        self.api_url = api_url.rstrip("/")
        self.auth = httpx.BasicAuth(username, password)
        # The provider renders and retries on its side, so a realtime answer can take minutes.
        self.realtime_timeout = httpx.Timeout(realtime_timeout, connect=connect_timeout)
        self.api_timeout = httpx.Timeout(api_timeout, connect=connect_timeout)
        self.max_attempts = max_attempts
        self.backoff = _Backoff(initial=backoff_initial, maximum=backoff_max)
        self._http: httpx.Client | None = None

    def __enter__(self) -> "ProviderClient":
        self._http = self._new_http()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    # --- The provider's API -----------------------------------------------------------------

    def realtime(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Scrape one page now and wait for it: {"results": [{"content", "status_code", …}]}."""
        data = self._request(
            "POST",
            f"{self.realtime_url}/v1/queries",
            json=payload,
            timeout=self.realtime_timeout,
            retry=_retry_any_transport_error,
        )
        return _expect_dict(data, "realtime answer")

    def submit_job(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Queue one job; returns the job ({"id", "status": "pending", "_links", …})."""
        data = self._request(
            "POST", f"{self.api_url}/v1/queries", json=payload, retry=_retry_unsent_only
        )
        return _expect_dict(data, "job")

    def submit_batch(self, payload: dict[str, Any]) -> list[dict[str, Any]]:
        """Queue one job per URL in payload["url"]; returns the jobs."""
        data = self._request(
            "POST", f"{self.api_url}/v1/queries/batch", json=payload, retry=_retry_unsent_only
        )
        queries = _expect_dict(data, "batch answer").get("queries")
        if not isinstance(queries, list) or not all(isinstance(q, dict) for q in queries):
            raise ProviderError("the provider's batch answer has no list of queries")
        return queries

    def job_status(self, job_id: str) -> dict[str, Any]:
        data = self._request("GET", f"{self.api_url}/v1/queries/{_job_path(job_id)}")
        return _expect_dict(data, "job")

    def job_results(self, job_id: str) -> list[dict[str, Any]] | None:
        """The job's results, or None while it is still running (the provider answers 204)."""
        data = self._request("GET", f"{self.api_url}/v1/queries/{_job_path(job_id)}/results")
        if data is None:
            return None
        results = _expect_dict(data, "results answer").get("results")
        if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
            raise ProviderError(f"the provider's results for job {job_id} are not a list")
        return results

    # --- HTTP -------------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        url: str,
        *,
        json: dict[str, Any] | None = None,
        timeout: httpx.Timeout | None = None,
        retry: Callable[[BaseException], bool] = _retry_any_transport_error,
    ) -> Any:
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.max_attempts),
            wait=self.backoff,
            retry=tenacity.retry_if_exception(retry),
            reraise=True,
        )
        attempts = 0

        def send() -> httpx.Response:
            nonlocal attempts
            attempts += 1
            response = self._send(method, url, json=json, timeout=timeout or self.api_timeout)
            if response.status_code in RETRYABLE_STATUSES:
                raise _Retryable(response)
            return response

        try:
            response = retrying(send)
        except _Retryable as exc:
            response = exc.response
        except httpx.TransportError as exc:
            raise ProviderError(
                f"could not reach the provider at {url}: {type(exc).__name__}: {exc}",
                attempts=attempts,
            ) from exc
        return _read(response, attempts=attempts)

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        if self._http is not None:
            return self._http.request(method, url, **kwargs)
        with self._new_http() as http:
            return http.request(method, url, **kwargs)

    def _new_http(self) -> httpx.Client:
        return httpx.Client(
            auth=self.auth,
            timeout=self.api_timeout,
            headers={"Accept": "application/json"},
            follow_redirects=False,
        )


def _read(response: httpx.Response, *, attempts: int) -> Any:
    where = f"{response.request.method} {response.request.url.copy_with(query=None)}"
    if response.status_code == 204:
        return None
    if response.status_code == 401:
        raise ProviderAuthError(
            f"the provider refused our credentials (HTTP 401, {_message(response)}): check "
            "SCRAPING_PROVIDER_USERNAME and SCRAPING_PROVIDER_PASSWORD",
            status_code=401,
            attempts=attempts,
        )
    if not response.is_success:
        raise ProviderError(
            f"the provider answered HTTP {response.status_code} to {where}: {_message(response)}",
            status_code=response.status_code,
            attempts=attempts,
        )
    try:
        return response.json()
    except ValueError:
        raise ProviderError(
            f"the provider's answer to {where} is not JSON", attempts=attempts
        ) from None


def _message(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    if isinstance(data, dict):
        return str(data.get("message") or data.get("detail") or data)[:200]
    return str(data)[:200]


def _expect_dict(data: Any, what: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ProviderError(f"the provider's {what} is not a JSON object")
    return data


def _job_path(job_id: str) -> str:
    # Job ids are digits; whatever else arrives must not be able to walk to another endpoint.
    if not JOB_ID.fullmatch(job_id):
        raise ProviderError(f"{job_id!r} is not a job id")
    return job_id
