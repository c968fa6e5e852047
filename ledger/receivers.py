from django.dispatch import receiver

from catalog.signals import list_price_changed
from ledger.models import LedgerEntry
from ledger.services import ledger_append


@receiver(list_price_changed, dispatch_uid="ledger-records-list-price")
def record_list_price(sender, *, product, previous, source, user=None, **kwargs):
    ledger_append(
        kind=LedgerEntry.Kind.LIST_PRICE_SET,
        product_id=product.pk,
        payload={
            "product": {
                "id": product.pk,
                "brand": product.brand.name,
                "reference": product.reference,
            },
            "list_price": product.list_price,
            "previous": previous,
            "currency": product.currency,
            "source": source,
            "changed_by": user.get_username() if user else None,
        },
        idempotency_key=kwargs.get("idempotency_key"),
    )
