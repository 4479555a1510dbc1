from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TargetsConfig(AppConfig):
    name = "programs.targets"
    label = "targets"
    verbose_name = _("Targets")

    def ready(self) -> None:
        from programs.targets.reports import register_sections

        register_sections()
