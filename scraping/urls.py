from django.urls import path

from scraping import views

app_name = "scraping"

urlpatterns = [
    path("products/", views.product_list, name="product-list"),
    path("products/<int:product_id>/", views.product_detail, name="product-detail"),
    path("listings/<int:listing_id>/", views.listing_detail, name="listing-detail"),
    path("listings/<int:listing_id>/probe", views.probe_now, name="probe-now"),
    path("probes/<int:probe_id>/page", views.probe_page, name="probe-page"),
]
