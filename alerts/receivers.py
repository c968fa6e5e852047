"""Alerts listen to what scraping and the catalog announce; neither imports alerts."""

from django.db import transaction
from django.dispatch import receiver

from alerts.services import queue_task
from catalog.signals import list_prices_changed
from scraping.signals import probe_finished


@receiver(probe_finished, dispatch_uid="alerts.evaluate_probe")
def evaluate_probe_after_commit(sender, probe_id: int, **kwargs) -> None:
    transaction.on_commit(lambda: queue_task("alerts.tasks.evaluate_probe", probe_id))


@receiver(list_prices_changed, dispatch_uid="alerts.evaluate_list_prices")
def evaluate_list_prices_after_commit(sender, changes, **kwargs) -> None:
    # Sent inside the transaction that changed the prices: read them once it has committed.
    pairs = [
        [change.product.pk, None if change.previous is None else str(change.previous)]
        for change in changes
    ]
    transaction.on_commit(lambda: queue_task("alerts.tasks.evaluate_list_prices", pairs))
