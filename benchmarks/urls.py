"""The worker's URL configuration: the whole application (tracker.urls) plus the hand-written
baselines (benchmarks.baselines) under /bench/v1/, mirroring the API's paths."""

from django.urls import include, path

from benchmarks import baselines
from tracker.urls import handler404, handler500  # noqa: F401  (the API's error handlers stay)
from tracker.urls import urlpatterns as app_urls

bench = [
    path("beneficiaries/", baselines.beneficiaries),
    path("beneficiaries/<int:pk>/", baselines.beneficiary),
    path("beneficiaries/<int:pk>/file/", baselines.person_file),
    path("payments/", baselines.payments),
    path("payments/<int:pk>/", baselines.payment),
    path("follow-ups/", baselines.follow_ups),
    path("audit/changes/", baselines.changes),
    path("audit/changes/<int:pk>/", baselines.change),
    path("regions/", baselines.regions),
    path("regions/<str:code>/", baselines.region),
    path("programs/", baselines.programs),
    path("programs/<int:pk>/", baselines.program),
    path("posts/", baselines.posts),
    path("posts/<int:pk>/", baselines.post),
    path("post-assignments/", baselines.post_assignments),
    path("post-assignments/<int:pk>/", baselines.post_assignment),
]

urlpatterns = [*app_urls, path("bench/v1/", include(bench))]
