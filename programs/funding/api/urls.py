from rest_framework.routers import SimpleRouter

from programs.funding.api.views import EmployerViewSet, FundSourceViewSet, PaymentViewSet, ProgramViewSet

router = SimpleRouter()
router.register("fund-sources", FundSourceViewSet)
router.register("programs", ProgramViewSet)
router.register("employers", EmployerViewSet)
router.register("payments", PaymentViewSet)
urlpatterns = router.urls
