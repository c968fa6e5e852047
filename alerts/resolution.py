"""People resolving alerts: one or many, recorded with who and when."""

from django.db import transaction
from django.utils import timezone

from alerts.models import Alert


def alerts_resolve(*, alert_ids, user) -> int:
    """Mark the alerts resolved; alerts already resolved are left as they were. Returns how
    many were resolved now."""
    with transaction.atomic():
        return Alert.objects.filter(pk__in=list(alert_ids), resolved=False).update(
            resolved=True, resolved_at=timezone.now(), resolved_by=user
        )
