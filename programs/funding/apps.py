from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FundingConfig(AppConfig):
    name = "programs.funding"
    label = "funding"
    verbose_name = _("Programs and payments")

    def ready(self) -> None:
        # The one-person-one-file view (一人一档) shows the subsidies a person received; the registry
        # lives in the lower app, we plug into it.
        from beneficiaries.file_sections import register_file_section
        from programs.funding import jobs
        from programs.funding.selectors import payments_for_file

        register_file_section("payments", _("Subsidies received"), payments_for_file, order=50)
        jobs.register()
        # Report sections (tracker.reporting): money allocated vs committed vs paid by program.
        from programs.funding import allocation_reports

        allocation_reports.register_sections()
