from django.urls import path

from alerts import views

app_name = "alerts"

urlpatterns = [
    path("alerts/", views.dashboard, name="dashboard"),
    path("alerts/resolve", views.alerts_resolve_many, name="resolve-many"),
    path("alerts/<int:alert_id>/resolve", views.alert_resolve, name="resolve"),
]
