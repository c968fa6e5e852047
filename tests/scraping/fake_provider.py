"""A fake Oxylabs-compatible scraping provider on loopback, speaking the documented protocol.

Two servers, as the real provider has two hosts:

- realtime (``POST /v1/queries``) fetches the target page now and answers
  ``{"results": [{"content", "status_code", "url", "job_id", ...}], "job": {...}}``;
- push-pull (``POST /v1/queries``, ``POST /v1/queries/batch``, ``GET /v1/queries/{id}``,
  ``GET /v1/queries/{id}/results``) queues jobs. A job reports "pending" to its first
  ``pending_checks`` status checks and is then done; ``finish_jobs()`` finishes every pending
  job at once and POSTs each to its ``callback_url``, as the provider does.

Both check basic auth (401 otherwise). Target pages are fetched over HTTP from whatever server
the test runs (a ``LoopbackServer``), or taken from ``pages``. Nothing here imports Django.
"""

import base64
import itertools
import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from scraping.provider.client import ProviderClient

USERNAME = "watchprice"
PASSWORD = "correct-provider-password"
GAVE_UP = 613


@dataclass(frozen=True)
class Received:
    server: str
    method: str
    path: str
    payload: Any
    authorization: str


@dataclass(frozen=True)
class CallbackSent:
    job_id: str
    status: int
    answer: Any


class _Server:
    def __init__(self, name: str, provider: "FakeProvider") -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(name, provider))
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class FakeProvider:
    def __init__(self, *, pending_checks: int = 1) -> None:
        self.pending_checks = pending_checks
        self.pages: dict[str, tuple[int, str]] = {}
        """Canned target pages by URL: (status code, HTML); others are fetched."""
        self.faulty_urls: set[str] = set()
        """Jobs for these URLs fault instead of finishing."""
        self.jobs: dict[str, dict[str, Any]] = {}
        self.received: list[Received] = []
        self.callbacks: list[CallbackSent] = []
        self._failures: list[tuple[int, dict[str, str]]] = []
        self._ids = itertools.count(7_301_000_000_000_000_001)
        self._lock = threading.RLock()
        self.realtime = _Server("realtime", self)
        self.api = _Server("api", self)

    def __enter__(self) -> "FakeProvider":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.realtime.close()
        self.api.close()

    @property
    def realtime_url(self) -> str:
        return self.realtime.url

    @property
    def api_url(self) -> str:
        return self.api.url

    def client(self, *, password: str = PASSWORD, **overrides: Any) -> ProviderClient:
        options = {"max_attempts": 3, "backoff_initial": 0.01, "backoff_max": 0.05}
        return ProviderClient(
            realtime_url=self.realtime_url,
            api_url=self.api_url,
            username=USERNAME,
            password=password,
            **(options | overrides),
        )

    def fail_next(self, count: int, *, status: int = 503, headers: dict | None = None) -> None:
        """Answer the next `count` requests (to either server) with `status`."""
        with self._lock:
            self._failures.extend([(status, headers or {})] * count)

    def requests_to(self, server: str, method: str | None = None) -> list[Received]:
        with self._lock:
            return [
                r
                for r in self.received
                if r.server == server and (method is None or r.method == method)
            ]

    # --- Finishing jobs and calling back -------------------------------------------------

    def finish_jobs(self) -> list[CallbackSent]:
        """Finish every pending job; POST each one that has a callback URL to it."""
        with self._lock:
            pending = [job for job in self.jobs.values() if job["status"] == "pending"]
        for job in pending:
            self._finish(job)
        return [self.send_callback(job["id"]) for job in pending if job.get("callback_url")]

    def send_callback(self, job_id: str) -> CallbackSent:
        """POST the job, as it stands, to its callback URL (again, if it was already sent)."""
        job = self.jobs[job_id]
        response = httpx.post(job["callback_url"], json=_public(job), timeout=30)
        try:
            answer = response.json()
        except ValueError:
            answer = response.text
        sent = CallbackSent(job_id, response.status_code, answer)
        with self._lock:
            self.callbacks.append(sent)
        return sent

    def _finish(self, job: dict[str, Any]) -> None:
        status, content = self._fetch(job["url"])
        with self._lock:
            if job["status"] != "pending":
                return
            faulted = job["url"] in self.faulty_urls or status == GAVE_UP
            job["status"] = "faulted" if faulted else "done"
            job["updated_at"] = _now()
            job["result"] = {
                "content": content,
                "status_code": status,
                "url": job["url"],
                "job_id": job["id"],
                "page": 1,
                "created_at": job["created_at"],
                "updated_at": job["updated_at"],
            }

    def _fetch(self, url: str) -> tuple[int, str]:
        if url in self.pages:
            return self.pages[url]
        try:
            response = httpx.get(url, timeout=5, follow_redirects=True)
        except httpx.HTTPError:
            return GAVE_UP, ""
        return response.status_code, response.text

    # --- The API ------------------------------------------------------------------------------

    def record(self, received: Received) -> None:
        with self._lock:
            self.received.append(received)

    def handle(self, server: str, method: str, path: str, payload: Any) -> tuple[int, Any, dict]:
        with self._lock:
            if self._failures:
                status, headers = self._failures.pop(0)
                return status, {"message": "Service unavailable"}, headers
        if server == "realtime":
            if (method, path) == ("POST", "/v1/queries"):
                return self._realtime(payload)
        elif method == "POST" and path == "/v1/queries":
            return self._submit(payload)
        elif method == "POST" and path == "/v1/queries/batch":
            return self._submit_batch(payload)
        elif method == "GET" and path.startswith("/v1/queries/"):
            job_id, _, rest = path.removeprefix("/v1/queries/").partition("/")
            if rest == "results":
                return self._results(job_id)
            if not rest:
                return self._status(job_id)
        return 404, {"message": "Not found"}, {}

    def _realtime(self, payload: Any) -> tuple[int, Any, dict]:
        problem = _payload_problem(payload, url_type=str)
        if problem:
            return 400, {"message": problem}, {}
        job = self._new_job(payload, payload["url"])
        self._finish(job)
        return 200, {"results": [job["result"]], "job": _public(job)}, {}

    def _submit(self, payload: Any) -> tuple[int, Any, dict]:
        problem = _payload_problem(payload, url_type=str)
        if problem:
            return 400, {"message": problem}, {}
        return 200, _public(self._new_job(payload, payload["url"])), {}

    def _submit_batch(self, payload: Any) -> tuple[int, Any, dict]:
        problem = _payload_problem(payload, url_type=list)
        if problem:
            return 400, {"message": problem}, {}
        jobs = [_public(self._new_job(payload, url)) for url in payload["url"]]
        return 200, {"queries": jobs}, {}

    def _status(self, job_id: str) -> tuple[int, Any, dict]:
        job = self.jobs.get(job_id)
        if job is None:
            return 404, {"message": "Job not found."}, {}
        if job["status"] == "pending":
            with self._lock:
                job["checks"] += 1
                ready = job["checks"] > self.pending_checks
            if ready:
                self._finish(job)
        return 200, _public(job), {}

    def _results(self, job_id: str) -> tuple[int, Any, dict]:
        job = self.jobs.get(job_id)
        if job is None or job["status"] == "faulted":
            return 404, {"message": "Job not found."}, {}
        if job["status"] == "pending":
            return 204, None, {}
        return 200, {"results": [job["result"]]}, {}

    def _new_job(self, payload: dict[str, Any], url: str) -> dict[str, Any]:
        job_id = str(next(self._ids))
        links = [
            {"rel": "self", "href": f"{self.api_url}/v1/queries/{job_id}", "method": "GET"},
            {
                "rel": "results",
                "href": f"{self.api_url}/v1/queries/{job_id}/results",
                "method": "GET",
            },
        ]
        job = {
            "id": job_id,
            "status": "pending",
            "source": payload["source"],
            "url": url,
            "geo_location": payload.get("geo_location"),
            "render": payload.get("render"),
            "callback_url": payload.get("callback_url"),
            "created_at": _now(),
            "updated_at": _now(),
            "_links": links,
            "checks": 0,
        }
        with self._lock:
            self.jobs[job_id] = job
        return job


def _public(job: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in job.items() if key not in ("checks", "result")}


def _payload_problem(payload: Any, *, url_type: type) -> str:
    if not isinstance(payload, dict):
        return "payload must be a JSON object"
    if payload.get("source") != "universal":
        return f"unsupported source {payload.get('source')!r}"
    if not isinstance(payload.get("url"), url_type) or not payload["url"]:
        return "url is missing or of the wrong type"
    if payload.get("render") not in (None, "html", "png"):
        return "render must be html or png"
    return ""


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _handler(server_name: str, provider: FakeProvider) -> type[BaseHTTPRequestHandler]:
    expected = "Basic " + base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def _serve(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                payload, valid = (json.loads(raw) if raw else None), True
            except ValueError:
                payload, valid = raw, False
            authorization = self.headers.get("Authorization", "")
            provider.record(Received(server_name, method, self.path, payload, authorization))
            if authorization != expected:
                self._answer(401, {"message": "Client not found"}, {})
            elif not valid:
                self._answer(422, {"message": "Payload is not valid JSON"}, {})
            else:
                self._answer(*provider.handle(server_name, method, self.path, payload))

        def _answer(self, status: int, data: Any, headers: dict[str, str]) -> None:
            body = b"" if status == 204 else json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


def product_page(reference: str, *, price: str = "8450.00", currency: str = "USD") -> bytes:
    """A retailer's product page for the watch `reference`, with its price in JSON-LD."""
    data = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": f"Chronograph {reference}",
        "mpn": reference,
        "offers": {
            "@type": "Offer",
            "price": price,
            "priceCurrency": currency,
            "availability": "https://schema.org/InStock",
        },
    }
    return (
        f'<html><head><script type="application/ld+json">{json.dumps(data)}</script></head>'
        f"<body><h1>Chronograph {reference}</h1><p>Reference {reference}</p></body></html>"
    ).encode()
