from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from tracker.api.docs import ApiIndexView, RedocView
from tracker.api.problems import problem_detail, problem_index
from tracker.api.routing import by_first_segment
from tracker.health import healthz

# The API's patterns as the apps declare them; served indexed by first segment (api_v1), so a URL is
# tried against one group, not every router's patterns.
api_v1_declared = [
    path("", ApiIndexView.as_view(), name="api-index"),
    path("", include("tracker.accounts.api.urls")),
    path("", include("tracker.api.regions")),
    path("", include("tracker.api.changes")),
    path("", include("tracker.api.jobs")),
    path("", include("beneficiaries.api.urls")),
    path("", include("programs.funding.api.urls")),
    path("", include("programs.posts.api.urls")),
    path("", include("programs.vouchers.api.urls")),
    path("", include("programs.entrepreneurship.api.urls")),
    path("", include("programs.reports.api.urls")),
    path("", include("programs.inspections.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # Swagger UI and ReDoc, every file served by this service (SPECTACULAR_SETTINGS' SIDECAR).
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("redoc/", RedocView.as_view(url_name="schema"), name="redoc"),
]
api_v1 = by_first_segment(api_v1_declared)

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("reports/", include("programs.reports.urls")),
    path("api/v1/", include(api_v1)),
    # The `type` of every problem document (tracker/api/problems.py).
    path("problems/", problem_index, name="problems"),
    path("problems/<int:status>", problem_detail, name="problem"),
]

handler404 = "tracker.api.exceptions.api_not_found"
handler500 = "tracker.api.exceptions.api_server_error"
