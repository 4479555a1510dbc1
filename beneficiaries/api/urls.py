from rest_framework.routers import SimpleRouter

from beneficiaries.api.household_views import EmploymentRegistrationViewSet, HouseholdViewSet
from beneficiaries.api.views import BeneficiaryGroupViewSet, BeneficiaryViewSet, FollowUpViewSet

router = SimpleRouter()
router.register("beneficiaries", BeneficiaryViewSet, basename="beneficiary")
router.register("beneficiary-groups", BeneficiaryGroupViewSet, basename="beneficiarygroup")
router.register("follow-ups", FollowUpViewSet, basename="followup")
router.register("households", HouseholdViewSet, basename="household")
router.register("employment-registrations", EmploymentRegistrationViewSet, basename="employmentregistration")
urlpatterns = router.urls
