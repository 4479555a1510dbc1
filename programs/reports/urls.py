from django.urls import path

from programs.reports.views import dashboard

urlpatterns = [path("", dashboard, name="reports-dashboard")]
