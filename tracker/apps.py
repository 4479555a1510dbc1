from django.contrib.admin.apps import AdminConfig


class TrackerAdminConfig(AdminConfig):
    """Django's admin with tracker's site (a throttled, lock-out aware log-in); it replaces
    `django.contrib.admin` in INSTALLED_APPS, as Django's documentation shows."""

    default_site = "tracker.accounts.admin_site.TrackerAdminSite"
