from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_delete
from django.utils.translation import gettext_lazy as _


def _log_delete(sender: Any, instance: Any, **kwargs: Any) -> None:
    from tracker.changelog.models import TrackedModel
    from tracker.changelog.services import record_delete

    if isinstance(instance, TrackedModel):
        record_delete(instance)


class ChangelogConfig(AppConfig):
    name = "tracker.changelog"
    label = "changelog"
    verbose_name = _("Change log")

    def ready(self) -> None:
        # A signal rather than a delete() override: Django deletes cascaded rows and querysets
        # without calling each instance's delete(), but it always sends post_delete when a receiver
        # is connected, inside its own transaction.
        post_delete.connect(_log_delete, dispatch_uid="tracker.changelog.log_delete")
        from tracker.changelog import checks  # noqa: F401  (registers the system checks)
