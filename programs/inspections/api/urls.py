from django.urls import path
from rest_framework.routers import SimpleRouter

from programs.inspections.api.views import (
    CheckListView,
    CheckRunViewSet,
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
router.register("audit/check-runs", CheckRunViewSet)
urlpatterns = [path("audit/checks/", CheckListView.as_view(), name="check-list"), *router.urls]
