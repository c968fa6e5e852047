"""Celery entry points: thin, take ids, safe to run twice (see alerts.services)."""

from decimal import Decimal

from celery import shared_task

from alerts import services


@shared_task(acks_late=True, ignore_result=True)
def evaluate_probe(probe_id: int) -> None:
    services.alerts_evaluate_probe(probe_id=probe_id)


@shared_task(acks_late=True, ignore_result=True)
def evaluate_list_prices(changes: list[list]) -> None:
    """`changes`: [product id, previous list price as a string or None] pairs."""
    services.alerts_evaluate_list_prices(
        previous_prices={
            int(product_id): None if previous is None else Decimal(previous)
            for product_id, previous in changes
        }
    )


@shared_task(acks_late=True, ignore_result=True)
def evaluate_time_based() -> None:
    services.alerts_evaluate_waiting_recommendations()


# Retries are counted by the delivery itself (ALERT_DELIVERY_MAX_ATTEMPTS), not by Celery.
@shared_task(bind=True, acks_late=True, ignore_result=True, max_retries=None)
def deliver(self, delivery_id: int) -> None:
    attempt = services.delivery_attempt(delivery_id=delivery_id)
    if attempt.retry_in is not None:
        raise self.retry(countdown=attempt.retry_in)


@shared_task(bind=True, acks_late=True, ignore_result=True, max_retries=None)
def send_digest(self, channel_id: int) -> None:
    attempt = services.digest_send(channel_id=channel_id)
    if attempt.retry_in is not None:
        raise self.retry(countdown=attempt.retry_in)


@shared_task(acks_late=True, ignore_result=True)
def send_digests() -> int:
    """Daily: one message per channel bundling the alerts its digest rules raised; a channel
    that fails gets its own task to retry it."""
    channel_ids = services.digest_channels_due()
    for channel_id in channel_ids:
        attempt = services.digest_send(channel_id=channel_id)
        if attempt.retry_in is not None:
            send_digest.apply_async(args=[channel_id], countdown=attempt.retry_in)
    return len(channel_ids)


@shared_task(acks_late=True, ignore_result=True)
def deliver_due() -> int:
    """Every few minutes: deliveries whose retry is due, or whose task was lost, and digests
    whose retry is due."""
    delivery_ids = services.deliveries_due()
    for delivery_id in delivery_ids:
        deliver.delay(delivery_id)
    for channel_id in services.digest_retries_due():
        send_digest.delay(channel_id)
    return len(delivery_ids)
