from rest_framework.routers import SimpleRouter

from catalog.api import views

router = SimpleRouter()
# Both /api/watches and /api/watches/ answer. The constructor only takes a yes or no (it turns
# trailing_slash="/?" into "/"), so the optional slash is set on the router itself.
router.trailing_slash = "/?"
router.register("brands", views.BrandViewSet)
router.register("watches", views.WatchViewSet)
router.register("retailers", views.RetailerViewSet)
router.register("listings", views.ListingViewSet)
router.register("reviews", views.ReviewViewSet)
urlpatterns = router.urls
