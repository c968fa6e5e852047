from rest_framework.routers import SimpleRouter

from pricing.api import views

router = SimpleRouter()
router.trailing_slash = "/?"
router.register("prices", views.PriceViewSet, basename="price")
router.register("recommendations", views.RecommendationViewSet)
router.register("map-violations", views.MapViolationViewSet)
router.register("forecasts", views.ForecastViewSet, basename="forecast")
router.register("forecast-models", views.ForecastModelRunViewSet)
urlpatterns = router.urls
