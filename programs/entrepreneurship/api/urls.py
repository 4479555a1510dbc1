from rest_framework.routers import SimpleRouter

from programs.entrepreneurship.api.views import EntrepreneurViewSet, GuaranteedLoanViewSet

router = SimpleRouter()
router.register("entrepreneurs", EntrepreneurViewSet)
router.register("guaranteed-loans", GuaranteedLoanViewSet)
urlpatterns = router.urls
