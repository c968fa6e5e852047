"""What the catalog announces to the apps above it (which it must not import).

`list_prices_changed` is sent inside the transaction that changed our prices, so a receiver that
records them (the ledger) commits or rolls back together with the change.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.dispatch import Signal

from catalog.models import Product


@dataclass(frozen=True)
class ListPriceChange:
    product: Product
    previous: Decimal | None
    # Makes a repeated announcement (a re-run seed, a retried task) record once.
    idempotency_key: str | None = None


# Sent with: changes (list[ListPriceChange]), source (str: "admin", "api", "csv_import", …),
# user (User | None).
list_prices_changed = Signal()


def announce_list_prices(*, changes: list[ListPriceChange], source: str, user=None) -> None:
    """Tell listeners our prices changed; changes that change nothing are left out."""
    real = [
        change
        for change in changes
        if change.product.list_price is not None and change.product.list_price != change.previous
    ]
    if real:
        list_prices_changed.send(sender=Product, changes=real, source=source, user=user)


def announce_list_price(
    *, product: Product, previous: Decimal | None, source: str, user=None, idempotency_key=None
) -> None:
    announce_list_prices(
        changes=[ListPriceChange(product, previous, idempotency_key)], source=source, user=user
    )
