"""What the catalog announces to the apps above it (which it must not import).

`list_price_changed` is sent inside the transaction that changed our price, so a receiver that
records it (the ledger) commits or rolls back together with the change.
"""

from django.dispatch import Signal

# Sent with: product, previous (Decimal | None), source (str), user (User | None) and an
# idempotency_key (str | None) that makes a repeated announcement record once.
list_price_changed = Signal()


def announce_list_price(
    *, product, previous, source: str, user=None, idempotency_key: str | None = None
) -> None:
    """Tell listeners our price changed; a no-op when it did not."""
    if product.list_price is None or product.list_price == previous:
        return
    list_price_changed.send(
        sender=type(product),
        product=product,
        previous=previous,
        source=source,
        user=user,
        idempotency_key=idempotency_key,
    )
