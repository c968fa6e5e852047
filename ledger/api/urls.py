from django.urls import re_path
from rest_framework.routers import SimpleRouter

from ledger.api import views

router = SimpleRouter()
router.trailing_slash = "/?"
router.register("ledger/entries", views.LedgerEntryViewSet)
router.register("ledger/checkpoints", views.CheckpointViewSet)

urlpatterns = [
    re_path(
        r"^prices/history/(?P<watch_id>[0-9]+)/?$",
        views.PriceHistoryView.as_view(),
        name="price-history",
    ),
    *router.urls,
]
