from rest_framework.routers import SimpleRouter

from programs.inspections.api.views import (
    ComplaintViewSet,
    ConfirmationSampleViewSet,
    ConfirmationViewSet,
    FindingViewSet,
    InspectionViewSet,
)

router = SimpleRouter()
router.register("audit/inspections", InspectionViewSet)
router.register("audit/findings", FindingViewSet)
router.register("audit/complaints", ComplaintViewSet)
router.register("audit/confirmation-samples", ConfirmationSampleViewSet)
router.register("audit/confirmations", ConfirmationViewSet)
urlpatterns = router.urls
