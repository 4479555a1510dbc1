from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EntrepreneurshipConfig(AppConfig):
    name = "programs.entrepreneurship"
    label = "entrepreneurship"
    verbose_name = _("Entrepreneurship and guaranteed loans")

    def ready(self) -> None:
        from programs.entrepreneurship.reports import register_sections

        register_sections()
