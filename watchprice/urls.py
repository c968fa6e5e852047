from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from watchprice import health

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/health", health.health_view, name="health"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("pricing.urls")),
    path("", include("scraping.urls")),
    path("", include("alerts.urls")),
    path("api/", include("scraping.provider.urls")),
    path("api/", include("catalog.api.urls")),
    path("api/", include("ledger.api.urls")),
    path("api/", include("pricing.api.urls")),
    path("api/", include("alerts.api.urls")),
]
