from celery import shared_task

from pricing.services import recommendations_refresh


@shared_task(acks_late=True, ignore_result=True)
def refresh_recommendations() -> int:
    return recommendations_refresh().raised
