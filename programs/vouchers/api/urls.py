from django.urls import path
from rest_framework.routers import SimpleRouter

from programs.vouchers.api.views import (
    CertificateViewSet,
    CourseSessionViewSet,
    CourseViewSet,
    PersonTrainingViewSet,
    TrainingInstitutionViewSet,
    VoucherPlanViewSet,
    VoucherTypeViewSet,
    VoucherViewSet,
)

router = SimpleRouter()
router.register("voucher-types", VoucherTypeViewSet)
router.register("voucher-plans", VoucherPlanViewSet)
router.register("training-institutions", TrainingInstitutionViewSet)
router.register("courses", CourseViewSet)
router.register("course-sessions", CourseSessionViewSet)
router.register("vouchers", VoucherViewSet)
router.register("certificates", CertificateViewSet)

# The person's training record and profile live under the registry's path, served from this app so
# the registry's views stay as they are (beneficiaries imports nothing from programs).
urlpatterns = [
    *router.urls,
    path(
        "beneficiaries/<int:beneficiary_id>/training-record/",
        PersonTrainingViewSet.as_view({"get": "training_record"}),
        name="beneficiary-training-record",
    ),
    path(
        "beneficiaries/<int:beneficiary_id>/training-profile/",
        PersonTrainingViewSet.as_view({"get": "training_profile", "put": "training_profile"}),
        name="beneficiary-training-profile",
    ),
]
