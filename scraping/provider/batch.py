"""Batch probes through the provider's push-pull API: submit, then record each job's page once.

A job's page is recorded by whoever claims the job first (its callback, a replay of the
callback, or the poller): the conditional UPDATE that moves it out of "submitted" runs in the
same transaction as the probe it records, so either both happen once or neither does, and
nothing slow (no HTTP) happens while that transaction is open.
"""

import json
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from urllib.parse import urlencode

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from catalog.models import Listing
from scraping.models import Probe, ProviderCallback, ProviderJob
from scraping.provider.client import ProviderClient, ProviderError
from scraping.provider.tokens import callback_token_issue
from scraping.provider.transport import page_from_result, provider_client, query_payload
from scraping.services import listing_probe_url, probe_record_failure, probe_record_page
from scraping.transports import PageUnavailable

logger = logging.getLogger(__name__)

TRANSPORT = Probe.Transport.PROVIDER_BATCH


# --- Submitting ------------------------------------------------------------------------------


@dataclass
class BatchSubmitted:
    jobs: list[ProviderJob] = field(default_factory=list)
    needs_discovery: list[int] = field(default_factory=list)
    """Listings with no URL yet: only a single probe (`listing_probe`) can search for one."""
    errors: list[str] = field(default_factory=list)
    """Batches the provider refused; their listings were not submitted."""


def provider_callback_url() -> str:
    """Where the provider should report finished jobs, or "" to poll for them instead."""
    base = settings.SCRAPING_CALLBACK_BASE_URL
    if not base:
        return ""
    path = reverse("provider:callback")
    return f"{base.rstrip('/')}{path}?{urlencode({'token': callback_token_issue()})}"


def provider_batch_submit(
    *,
    listing_ids: Iterable[int],
    render: bool = False,
    client: ProviderClient | None = None,
) -> BatchSubmitted:
    """Ask the provider for every listing's page in one batch and record a job for each.

    The batch API takes a list of URLs but one value for every other parameter, so listings
    are sent in one batch per geo-location (usually one).
    """
    client = client or provider_client()
    submitted = BatchSubmitted()
    by_geo: dict[str, list[tuple[Listing, str]]] = defaultdict(list)
    listings = Listing.objects.select_related("retailer", "product__brand").filter(
        pk__in=list(listing_ids)
    )
    for listing in listings.order_by("pk"):
        url = listing_probe_url(listing)
        if url is None:
            submitted.needs_discovery.append(listing.pk)
        else:
            by_geo[listing.retailer.geo_location].append((listing, url))
    callback_url = provider_callback_url()
    for geo_location, items in by_geo.items():
        payload = query_payload(
            url=[url for _, url in items], geo_location=geo_location, render=render
        )
        if callback_url:
            payload["callback_url"] = callback_url
        try:
            jobs = client.submit_batch(payload)
        except ProviderError as exc:
            logger.error("provider refused a batch of %d pages: %s", len(items), exc)
            submitted.errors.append(str(exc))
            continue
        submitted.jobs.extend(jobs_record(items=items, jobs=jobs))
    return submitted


def jobs_record(*, items: list[tuple[Listing, str]], jobs: list[dict]) -> list[ProviderJob]:
    """One ProviderJob per job the provider created, matched to its listing by URL."""
    waiting: dict[str, list[Listing]] = defaultdict(list)
    for listing, url in items:
        waiting[url].append(listing)
    recorded = []
    with transaction.atomic():
        for job in jobs:
            url, job_id = job.get("url"), job.get("id")
            if not job_id or not waiting.get(url):
                logger.error("provider returned a job we cannot match: %r", job)
                continue
            recorded.append(
                ProviderJob.objects.create(job_id=str(job_id), listing=waiting[url].pop(0))
            )
    return recorded


# --- Processing ------------------------------------------------------------------------------


class JobOutcome(StrEnum):
    RECORDED = "recorded"
    PENDING = "pending"
    ALREADY_FINISHED = "already_finished"


def provider_job_process(*, job_id: str, client: ProviderClient | None = None) -> JobOutcome:
    """Fetch a job's state and results from the provider and record its probe, once.

    Only the provider's own API is believed, never a callback's body. Raises `ProviderError`
    when the provider cannot be asked; the job then stays submitted for the next try.
    """
    job = ProviderJob.objects.select_related("listing__retailer", "listing__product__brand").get(
        job_id=job_id
    )
    if job.status != ProviderJob.Status.SUBMITTED:
        return JobOutcome.ALREADY_FINISHED
    client = client or provider_client()
    url = job_asked_url(job)
    try:
        state = client.job_status(job_id)
    except ProviderError as exc:
        if exc.status_code != 404:
            raise
        # Results are kept for 24 hours; a job the provider has forgotten will never finish.
        return job_finish_failed(job=job, url=url, message=f"provider no longer has the job: {exc}")
    url = job_asked_url(job, state)
    status = state.get("status")
    if status == "pending":
        return JobOutcome.PENDING
    if status == "faulted":
        return job_finish_failed(job=job, url=url, message="provider: the job faulted")
    if status != "done":
        raise ProviderError(f"provider: job {job_id} has an unknown status {status!r}")
    results = client.job_results(job_id)
    if results is None:
        return JobOutcome.PENDING
    if not results:
        return job_finish_failed(job=job, url=url, message="provider: the job has no results")
    try:
        page = page_from_result(results[0], url=url, transport=TRANSPORT)
    except PageUnavailable as failure:
        # The job did its work; the retailer's answer (404, a refusal) is the probe's result.
        return job_finish_unavailable(job=job, url=url, failure=failure)
    return job_finish(
        job=job,
        status=ProviderJob.Status.DONE,
        record=lambda: probe_record_page(
            listing=job.listing, page=page, trigger=Probe.Trigger.SCHEDULE
        ),
    )


def job_asked_url(job: ProviderJob, state: dict | None = None) -> str:
    """The URL the job was for: as the provider has it, else as the listing has it now."""
    if state and isinstance(state.get("url"), str) and state["url"]:
        return state["url"]
    return listing_probe_url(job.listing) or job.listing.retailer.base_url


def job_finish_failed(*, job: ProviderJob, url: str, message: str) -> JobOutcome:
    failure = PageUnavailable(message, status=Probe.Status.FAILED, final_url=url)
    return job_finish_unavailable(
        job=job, url=url, failure=failure, status=ProviderJob.Status.FAILED
    )


def job_finish_unavailable(
    *,
    job: ProviderJob,
    url: str,
    failure: PageUnavailable,
    status: str = ProviderJob.Status.DONE,
) -> JobOutcome:
    return job_finish(
        job=job,
        status=status,
        error_message=str(failure),
        record=lambda: probe_record_failure(
            listing=job.listing,
            url=url,
            failure=failure,
            transport=TRANSPORT,
            trigger=Probe.Trigger.SCHEDULE,
        ),
    )


def job_finish(
    *, job: ProviderJob, status: str, record: Callable[[], Probe], error_message: str = ""
) -> JobOutcome:
    """Claim the job and record its probe in one transaction; whoever claims second does
    nothing."""
    with transaction.atomic():
        claimed = ProviderJob.objects.filter(pk=job.pk, status=ProviderJob.Status.SUBMITTED).update(
            status=status, finished_at=timezone.now(), error_message=error_message
        )
        if not claimed:
            return JobOutcome.ALREADY_FINISHED
        probe = record()
        ProviderJob.objects.filter(pk=job.pk).update(probe=probe)
    return JobOutcome.RECORDED


# --- Polling (development, and a sweep for callbacks that never came) -------------------------


@dataclass
class PollResult:
    checked: int = 0
    recorded: int = 0
    pending: int = 0
    errors: list[str] = field(default_factory=list)


def provider_jobs_poll(
    *, older_than_seconds: int = 30, limit: int = 500, client: ProviderClient | None = None
) -> PollResult:
    """Ask the provider about every job still submitted after `older_than_seconds`, and record
    those that are done."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    job_ids = list(
        ProviderJob.objects.filter(status=ProviderJob.Status.SUBMITTED, submitted_at__lte=cutoff)
        .order_by("submitted_at")
        .values_list("job_id", flat=True)[:limit]
    )
    result = PollResult()
    if not job_ids:
        return result
    with ExitStack() as stack:
        if client is None:
            client = stack.enter_context(provider_client())
        for job_id in job_ids:
            result.checked += 1
            try:
                outcome = provider_job_process(job_id=job_id, client=client)
            except ProviderError as exc:
                logger.warning("could not check provider job %s: %s", job_id, exc)
                result.errors.append(f"{job_id}: {exc}")
                continue
            if outcome == JobOutcome.RECORDED:
                result.recorded += 1
            elif outcome == JobOutcome.PENDING:
                result.pending += 1
    return result


# --- Callbacks -------------------------------------------------------------------------------


def provider_callback_receive(
    *, body: bytes, client: ProviderClient | None = None
) -> ProviderCallback:
    """Keep an authenticated callback as received, and record the job it reports.

    The caller has checked the callback token. The body is only trusted for a job id: the
    job's state and page are asked of the provider's API.
    """
    text = body.decode("utf-8", errors="replace")
    try:
        payload = json.loads(text)
    except ValueError as exc:
        return callback_store(text, ProviderCallback.Outcome.MALFORMED, f"body is not JSON: {exc}")
    job_id = payload.get("id") if isinstance(payload, dict) else None
    if isinstance(job_id, bool) or not isinstance(job_id, str | int) or str(job_id) == "":
        return callback_store(text, ProviderCallback.Outcome.MALFORMED, "body has no job id")
    job_id = str(job_id)[:64]
    job = ProviderJob.objects.filter(job_id=job_id).first()
    if job is None:
        return callback_store(
            text, ProviderCallback.Outcome.UNKNOWN_JOB, "no such job", job_id=job_id
        )
    if job.status != ProviderJob.Status.SUBMITTED:
        return callback_store(text, ProviderCallback.Outcome.DUPLICATE, job_id=job_id)
    # Kept before processing, so the body survives whatever processing does.
    callback = callback_store(text, ProviderCallback.Outcome.PROCESSED, job_id=job_id)
    try:
        outcome = provider_job_process(job_id=job_id, client=client)
    except Exception as exc:
        logger.exception("provider callback for job %s could not be processed", job_id)
        return callback_update(callback, ProviderCallback.Outcome.FAILED, str(exc))
    if outcome == JobOutcome.PENDING:
        return callback_update(
            callback,
            ProviderCallback.Outcome.FAILED,
            "the provider still reports the job pending; polling will record it",
        )
    if outcome == JobOutcome.ALREADY_FINISHED:
        return callback_update(callback, ProviderCallback.Outcome.DUPLICATE)
    return callback


def callback_store(
    text: str, outcome: str, error_message: str = "", *, job_id: str = ""
) -> ProviderCallback:
    return ProviderCallback.objects.create(
        job_id=job_id, body=text, outcome=outcome, error_message=error_message
    )


def callback_update(
    callback: ProviderCallback, outcome: str, error_message: str = ""
) -> ProviderCallback:
    callback.outcome, callback.error_message = outcome, error_message
    callback.save(update_fields=["outcome", "error_message"])
    return callback
