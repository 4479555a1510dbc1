from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PostsConfig(AppConfig):
    name = "programs.posts"
    label = "posts"
    verbose_name = _("Public-welfare posts")

    def ready(self) -> None:
        # The one-person-one-file view (一人一档) shows the posts a person held; the registry lives in
        # the lower app, we plug into it.
        from beneficiaries.file_sections import register_file_section
        from programs.posts.selectors import posts_for_file

        register_file_section("posts", _("Public-welfare posts"), posts_for_file, order=45)

        # A province's subsidy run is a background job above SUBSIDY_RUN_JOB_THRESHOLD holdings.
        from programs.posts import jobs

        jobs.register()
