from rest_framework.routers import SimpleRouter

from tracker.changelog.api.views import ChangeEntryViewSet

router = SimpleRouter()
router.register("audit/changes", ChangeEntryViewSet, basename="changeentry")
urlpatterns = router.urls
