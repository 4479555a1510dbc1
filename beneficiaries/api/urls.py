from rest_framework.routers import SimpleRouter

from beneficiaries.api.views import BeneficiaryGroupViewSet, BeneficiaryViewSet, FollowUpViewSet

router = SimpleRouter()
router.register("beneficiaries", BeneficiaryViewSet, basename="beneficiary")
router.register("beneficiary-groups", BeneficiaryGroupViewSet, basename="beneficiarygroup")
router.register("follow-ups", FollowUpViewSet, basename="followup")
urlpatterns = router.urls
