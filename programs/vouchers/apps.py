from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VouchersConfig(AppConfig):
    name = "programs.vouchers"
    label = "vouchers"
    verbose_name = _("Training vouchers")

    def ready(self) -> None:
        # The one-person-one-file view (一人一档) shows the person's lifelong training record; the
        # registry lives in the lower app, we plug into it.
        from beneficiaries.file_sections import register_file_section
        from programs.vouchers.selectors import training_record_for_file

        register_file_section("training_record", _("Training record"), training_record_for_file, order=60)
