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

# Fictional real names (family name, given name) the admin greets each demo user with and the change
# log names them by; any likeness to a real person is unintended.
DEMO_NAMES: dict[str, tuple[str, str]] = {
    "admin": ("周", "立平"),
    "analyst_national": ("李", "思源"),
    "clerk_pingxiang": ("刘", "晓燕"),
    "reviewer_pingxiang": ("陈", "志明"),
    "inspector_jiangxi": ("黄", "文静"),
    "clerk_wuzhou": ("覃", "海涛"),
}

# Every role may view every domain app in the admin; these are the models each role may add and
# change there (the services still decide who may do what; this only shapes the admin's forms).
DOMAIN_APPS = {
    "regions",
    "changelog",
    "beneficiaries",
    "funding",
    "posts",
    "vouchers",
    "entrepreneurship",
    "targets",
    "inspections",
}
ROLE_WRITES: dict[str, dict[str, set[str]]] = {
    Role.CLERK: {
        "beneficiaries": {
            "beneficiary",
            "groupmembership",
            "statuschange",
            "followup",
            "household",
            "employmentregistration",
        },
        "funding": {"payment", "employer", "traininginstitution"},
        "entrepreneurship": {"entrepreneur", "guaranteedloan"},
        # Towns and villages set posts, hire and end holders, copy attendance and assess.
        "posts": {"post", "assignment", "attendance", "assessment", "assessmentstandard"},
        "vouchers": {"course", "coursesession", "voucher", "workertrainingprofile"},
    },
    # Reviewers set up programs and approve payments (change_payment carries the approval actions),
    # set the counties' post standards, approve personnel changes and set up voucher types and plans.
    Role.REVIEWER: {
        "funding": {"program", "payment", "traininginstitution", "allocation"},
        "targets": {"target"},
        "posts": {"poststandard", "personnelchange", "assessmentstandard", "assessment"},
        "vouchers": {"vouchertype", "voucherplan", "trainingallowance"},
    },
    Role.INSPECTOR: {},
    Role.ANALYST: {},
}


def _role_permissions(role: str) -> list[Permission]:
    wanted: set[tuple[str, str]] = set()
    for model in apps.get_models():
        label, name = model._meta.app_label, model._meta.model_name
        if label not in DOMAIN_APPS:
            continue
        wanted.add((label, f"view_{name}"))
        if name in ROLE_WRITES.get(role, {}).get(label, set()):
            wanted.update({(label, f"add_{name}"), (label, f"change_{name}")})
    permissions = Permission.objects.filter(content_type__app_label__in=DOMAIN_APPS).select_related(
        "content_type"
    )
    return [p for p in permissions if (p.content_type.app_label, p.codename) in wanted]


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
        user.last_name, user.first_name = DEMO_NAMES.get(username, ("", ""))
        user.is_superuser = superuser
        user.is_staff = True
        user.is_active = True
        user.set_password(password)
        user.save()
        user.groups.set(Group.objects.filter(name__in=roles))
    return created
