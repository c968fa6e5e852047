from django.urls import path

from scraping.provider import views

app_name = "provider"

urlpatterns = [
    path("provider/callback", views.provider_callback_view, name="callback"),
]
