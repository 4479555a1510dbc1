from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "programs.reports"
    label = "reports"
    verbose_name = _("Audit reports")

    def ready(self) -> None:
        # The reports of the issue, named with their titles (a report whose parts are not built yet
        # answers with no sections), and the sections of the apps that existed before this one.
        from programs.reports import sections
        from tracker.reporting import register_report

        for order, (name, title) in enumerate(
            (
                ("overview", _("Overview")),
                ("employment", _("Employment")),
                ("posts", _("Public-welfare posts")),
                ("vouchers", _("Training vouchers")),
                ("payments", _("Payments")),
                ("households", _("Households")),
                ("entrepreneurship", _("Entrepreneurship and guaranteed loans")),
                ("findings", _("Audit findings")),
            )
        ):
            register_report(name, title, order=order)
        sections.register()
