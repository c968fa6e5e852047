from django.urls import path

from pricing import views
from pricing.market import views as market_views

app_name = "pricing"

urlpatterns = [
    path("review/", views.review, name="review"),
    path("review/decide", views.recommendations_decide, name="decide"),
    path("review/recompute", views.recommendations_recompute, name="recompute"),
    path(
        "review/<int:recommendation_id>/approve",
        views.recommendation_approve,
        name="approve",
    ),
    path("review/<int:recommendation_id>/reject", views.recommendation_reject, name="reject"),
    path("review/<int:recommendation_id>/why", views.recommendation_why, name="why"),
    path("market/", market_views.market, name="market"),
    path("map-violations/", views.map_violations, name="map-violations"),
    path("map-violations/export.csv", views.map_violations_export, name="map-violations-export"),
    # Takes over scraping's product page: the project includes these urls before scraping's.
    path("products/<int:product_id>/", views.product_detail, name="product-detail"),
]
