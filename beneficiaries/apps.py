from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BeneficiariesConfig(AppConfig):
    name = "beneficiaries"
    verbose_name = _("Beneficiaries")

    def ready(self) -> None:
        from beneficiaries import jobs
        from beneficiaries.person_file import register_sections

        register_sections()
        jobs.register()
        # Report sections (tracker.reporting): households, registrations, re-employment.
        from beneficiaries import reports

        reports.register_sections()
