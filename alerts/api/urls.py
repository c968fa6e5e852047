from rest_framework.routers import SimpleRouter

from alerts.api import views

router = SimpleRouter()
# Both /api/alerts and /api/alerts/ answer, like the other apps' routes.
router.trailing_slash = "/?"
router.register("alerts", views.AlertViewSet)
urlpatterns = router.urls
