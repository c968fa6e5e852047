from django.dispatch import receiver

from catalog.signals import list_prices_changed
from ledger.models import LedgerEntry
from ledger.services import AppendRequest, ledger_append_many


@receiver(list_prices_changed, dispatch_uid="ledger-records-list-prices")
def record_list_prices(sender, *, changes, source, user=None, **kwargs):
    changed_by = user.get_username() if user else None
    ledger_append_many(
        requests=[
            AppendRequest(
                kind=LedgerEntry.Kind.LIST_PRICE_SET,
                product_id=change.product.pk,
                payload={
                    "product": {
                        "id": change.product.pk,
                        "brand": change.product.brand.name,
                        "reference": change.product.reference,
                    },
                    "list_price": change.product.list_price,
                    "previous": change.previous,
                    "currency": change.product.currency,
                    "source": source,
                    "changed_by": changed_by,
                },
                idempotency_key=change.idempotency_key,
            )
            for change in changes
        ]
    )
