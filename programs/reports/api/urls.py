from django.urls import path

from programs.reports.api.views import ReportDetailView, ReportListView

urlpatterns = [
    path("audit/reports/", ReportListView.as_view(), name="report-list"),
    path("audit/reports/<str:name>/", ReportDetailView.as_view(), name="report-detail"),
]
