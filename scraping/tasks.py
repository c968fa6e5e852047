"""Celery entry points: thin, take ids, safe to run twice (a claimed listing is skipped)."""

from celery import shared_task

from scraping import services
from scraping.models import Probe


@shared_task(acks_late=True, ignore_result=True)
def probe_listing(listing_id: int, trigger: str = Probe.Trigger.SCHEDULE) -> None:
    services.listing_probe(listing_id=listing_id, trigger=trigger)


@shared_task(acks_late=True, ignore_result=True)
def probe_retailer(retailer_id: int) -> int:
    """Queue a probe of every active listing of one retailer."""
    return services.probes_queue(retailer_id=retailer_id).tasks


@shared_task(acks_late=True, ignore_result=True)
def probe_all() -> int:
    """Queue a probe of every active listing at every retailer with checks enabled."""
    return services.probes_queue().tasks


@shared_task(acks_late=True, ignore_result=True)
def purge_probe_pages() -> int:
    return services.probe_pages_purge().pages_deleted


@shared_task(acks_late=True, ignore_result=True)
def poll_provider_jobs(older_than_seconds: int = 60) -> int:
    """Record finished provider jobs whose callback never came (or cannot come, in development)."""
    from scraping.provider.batch import provider_jobs_poll

    return provider_jobs_poll(older_than_seconds=older_than_seconds).recorded
