from rest_framework.routers import SimpleRouter

from programs.posts.api.views import (
    AssessmentStandardViewSet,
    AssessmentViewSet,
    AssignmentViewSet,
    AttendanceViewSet,
    PersonnelChangeViewSet,
    PostStandardViewSet,
    PostViewSet,
    SubsidyRunViewSet,
)

router = SimpleRouter()
# Before `posts`, whose detail route would otherwise be tried first for `posts/subsidy-runs/`.
router.register("posts/subsidy-runs", SubsidyRunViewSet)
router.register("posts", PostViewSet)
router.register("post-standards", PostStandardViewSet)
router.register("post-assignments", AssignmentViewSet)
router.register("post-personnel-changes", PersonnelChangeViewSet)
router.register("attendance", AttendanceViewSet)
router.register("assessments", AssessmentViewSet)
router.register("assessment-standards", AssessmentStandardViewSet)
urlpatterns = router.urls
