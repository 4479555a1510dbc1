from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InspectionsConfig(AppConfig):
    name = "programs.inspections"
    label = "inspections"
    verbose_name = _("Inspections and findings")

    def ready(self) -> None:
        # The compliance rules this app knows (other apps register theirs in the same registry,
        # programs.inspections.checks), the check run as a background job kind, and the findings
        # sections of the audit reports (tracker.reporting).
        from programs.inspections import compliance, jobs, reports

        compliance.register()
        jobs.register()
        reports.register()
