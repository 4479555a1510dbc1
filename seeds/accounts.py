"""Seed step: the role groups with their admin permissions, and the demo accounts (README lists them)."""

from __future__ import annotations

from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.db import transaction

from tracker.accounts.choices import Role
from tracker.accounts.models import User
from tracker.regions.models import Region

DEMO_PASSWORD = "demo-pass-2021"

# username -> (roles, home region code, superuser)
DEMO_ACCOUNTS: dict[str, tuple[list[str], str, bool]] = {
    "admin": ([], "000000", True),
    "analyst_national": ([Role.ANALYST], "000000", False),
    "clerk_pingxiang": ([Role.CLERK], "360300", False),
    "reviewer_pingxiang": ([Role.REVIEWER], "360300", False),
    "inspector_jiangxi": ([Role.INSPECTOR], "360000", False),
    "clerk_wuzhou": ([Role.CLERK], "450400", False),
}

# Apps whose records clerks enter in the admin; everyone with a role may view every domain app.
DATA_ENTRY_APPS = {"beneficiaries", "funding"}
DOMAIN_APPS = DATA_ENTRY_APPS | {"regions", "changelog"}
# Extra codenames per role (e.g. a reviewer changes payments to approve them).
EXTRA_PERMISSIONS: dict[str, set[str]] = {Role.REVIEWER: {"change_payment"}}


def _role_permissions(role: str) -> list[Permission]:
    codenames: set[tuple[str, str]] = set()
    for model in apps.get_models():
        label = model._meta.app_label
        if label not in DOMAIN_APPS:
            continue
        name = model._meta.model_name
        codenames.add((label, f"view_{name}"))
        if role == Role.CLERK and label in DATA_ENTRY_APPS:
            codenames.update({(label, f"add_{name}"), (label, f"change_{name}")})
        for extra in EXTRA_PERMISSIONS.get(role, set()):
            if extra.endswith(f"_{name}"):
                codenames.add((label, extra))
    permissions = Permission.objects.filter(content_type__app_label__in=DOMAIN_APPS).select_related(
        "content_type"
    )
    return [p for p in permissions if (p.content_type.app_label, p.codename) in codenames]


@transaction.atomic
def seed_roles() -> None:
    for role in Role.values:
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set(_role_permissions(role))


@transaction.atomic
def seed_demo_accounts(password: str = DEMO_PASSWORD) -> list[str]:
    created = []
    for username, (roles, region_code, superuser) in DEMO_ACCOUNTS.items():
        region = Region.objects.get(code=region_code)
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(username=username)
            created.append(username)
        user.region = region
        user.is_superuser = superuser
        user.is_staff = True
        user.is_active = True
        user.set_password(password)
        user.save()
        user.groups.set(Group.objects.filter(name__in=roles))
    return created
