"""A Django app installed by the test settings only: job kinds the tests need (a slow job to kill a
worker in the middle of)."""

from django.apps import AppConfig


class TestSupportConfig(AppConfig):
    name = "tests.support"
    label = "test_support"

    def ready(self) -> None:
        from tests.support import jobs

        jobs.register()
