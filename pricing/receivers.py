"""Pricing listens to what scraping announces; scraping never imports pricing."""

import logging

from django.dispatch import receiver

from pricing.map_enforcement import map_violations_update
from scraping.signals import probe_finished

logger = logging.getLogger(__name__)


@receiver(probe_finished, dispatch_uid="pricing.map_violations_update")
def map_violations_on_probe(sender, probe_id: int, **kwargs) -> None:
    try:
        map_violations_update(probe_id=probe_id)
    except Exception:
        # The probe is committed whatever happens here, and a failure must not keep the
        # signal's other listeners (alerts) from hearing about it.
        logger.exception("MAP check of probe %s failed", probe_id)
