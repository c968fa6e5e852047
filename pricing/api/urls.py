from rest_framework.routers import SimpleRouter

from pricing.api import views

router = SimpleRouter()
router.trailing_slash = "/?"
router.register("prices", views.PriceViewSet, basename="price")
urlpatterns = router.urls
