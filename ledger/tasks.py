from celery import shared_task

from ledger.services import ledger_checkpoint_create


@shared_task(acks_late=True)
def make_checkpoint() -> int:
    return ledger_checkpoint_create().tree_size
