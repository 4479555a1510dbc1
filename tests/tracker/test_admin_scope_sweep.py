"""The admin scope sweep: every registered admin, whichever app added it, offers in its forms and
inlines only choices in the user's region (tests/tracker/test_admin_scope.py probes the pages)."""

from __future__ import annotations

from tests.posts.conftest import fund, hire, make_post, make_post_program, person_in, post, post_program  # noqa: F401
from tests.tracker.test_admin_scope import pingxiang  # noqa: F401


def test_every_admin_form_offers_only_choices_in_the_users_region(outsider, pingxiang, post, person_in, hire):  # noqa: F811
    """A sweep over every registered admin (and its inlines): each choice field of a form the outsider
    can open lists nothing outside the outsider's region, whichever app added the admin. Pingxiang
    has a person, an employer, a program, a post and a holding to leak."""
    from django.contrib import admin
    from django.test import RequestFactory

    from tracker.scope import scope_field

    hire(post, person_in())
    leaks, checked = [], 0
    for model, model_admin in admin.site._registry.items():
        request = RequestFactory().get("/admin/")
        request.user = outsider
        if not (model_admin.has_add_permission(request) or model_admin.has_change_permission(request)):
            continue
        forms = [model_admin.get_form(request)()]
        forms += [
            formset.form()
            for formset, _inline in model_admin.get_formsets_with_inlines(request)
            if hasattr(formset, "form")
        ]
        for form in forms:
            for name, field in form.fields.items():
                queryset = getattr(field, "queryset", None)
                if queryset is None or scope_field(queryset.model) is None:
                    continue
                checked += 1
                visible = queryset.model.objects.visible_to(outsider).values("pk")
                if queryset.exclude(pk__in=visible).exists():
                    leaks.append(f"{model._meta.label}.{name}")
    assert checked > 10
    assert leaks == []
