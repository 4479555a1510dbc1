"""Token authentication (`Authorization: Token <key>`) whose tokens expire after TOKEN_IDLE_SECONDS
without use.

Every API request starts here, so it is one query: the token, its user, its last use, the user's
role names and their region's path come back in one row (a hand-written SELECT; through the ORM this
was two queries and a good share of a short request's time). The user's `roles` and the region path
cache are filled from it, so the permission check and the scope need no query of their own."""

from __future__ import annotations

from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed

from tracker.accounts.choices import Role
from tracker.accounts.models import TokenActivity, User
from tracker.accounts.tokens import security_log, token_is_idle, token_touch
from tracker.regions.models import Region

_USER_FIELDS = [field for field in User._meta.concrete_fields]
_ROLES = frozenset(Role.values)
_sql: dict[str, str] = {}


def _query(db: Any) -> str:
    """The one SELECT, per database engine (the string aggregate is spelled differently)."""
    vendor = db.vendor
    if vendor not in _sql:
        quote = db.ops.quote_name
        user_columns = ", ".join(f"u.{quote(field.column)}" for field in _USER_FIELDS)
        aggregate = "string_agg(g.name, ',')" if vendor == "postgresql" else "group_concat(g.name, ',')"
        _sql[vendor] = (
            f"SELECT t.key, t.created, a.last_used_at, r.path, "
            f"(SELECT {aggregate} FROM auth_group g JOIN accounts_user_groups ug ON ug.group_id = g.id "
            f"WHERE ug.user_id = u.id), {user_columns} "
            f"FROM authtoken_token t JOIN accounts_user u ON u.id = t.user_id "
            f"LEFT JOIN accounts_tokenactivity a ON a.token_id = t.key "
            f"LEFT JOIN regions_region r ON r.id = u.region_id WHERE t.key = %s"
        )
    return _sql[vendor]


_USER_NAMES = [field.attname for field in _USER_FIELDS]
_CREATED = Token._meta.get_field("created")
# Per engine: the columns whose raw value the ORM converts (SQLite keeps datetimes as text, ...),
# each with its converters, looked up once rather than on every request.
_converters: dict[str, list[tuple[int, Any, list[Any]]]] = {}


def _conversions(db: Any) -> list[tuple[int, Any, list[Any]]]:
    if db.vendor not in _converters:
        found = []
        for index, field in enumerate([*_USER_FIELDS, _CREATED, _CREATED]):
            column = field.get_col(field.model._meta.db_table)
            converters = db.ops.get_db_converters(column) + field.get_db_converters(db)
            if converters:
                found.append((index, column, converters))
        _converters[db.vendor] = found
    return _converters[db.vendor]


def _load(key: str) -> tuple[User, Token] | None:
    db = connections[DEFAULT_DB_ALIAS]
    with db.cursor() as cursor:
        cursor.execute(_query(db), [key])
        row = cursor.fetchone()
    if row is None:
        return None
    token_key, created, last_used, path, group_names = row[:5]
    # The user's columns, then the token's creation and last use, as the ORM would read them.
    values = [*row[5:], created, last_used]
    for index, column, converters in _conversions(db):
        value = values[index]
        if value is not None:
            for converter in converters:
                value = converter(value, column, db)
            values[index] = value
    user = User.from_db(db.alias, _USER_NAMES, values[: len(_USER_NAMES)])
    created, last_used = values[len(_USER_NAMES) :]
    user.__dict__["roles"] = frozenset(set((group_names or "").split(",")) & _ROLES)
    if user.region_id is not None and path:
        Region._path_cache.setdefault(user.region_id, path)
    token = Token(key=token_key, user_id=user.pk, created=created)
    token._state.adding = False
    token._state.fields_cache["user"] = user
    if last_used is not None:
        activity = TokenActivity(token_id=token_key, last_used_at=last_used)
        activity._state.adding = False
        token._state.fields_cache["activity"] = activity
    else:
        token._state.fields_cache["activity"] = None
    return user, token


class ExpiringTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key: str) -> tuple[Any, Token]:
        found = _load(key)
        if found is None:
            raise AuthenticationFailed(_("Invalid token."))
        user, token = found
        if not user.is_active:
            raise AuthenticationFailed(_("User inactive or deleted."))
        now = timezone.now()
        if token_is_idle(token, now=now):
            token.delete()
            security_log.info("API token expired after inactivity: username=%s", user.get_username())
            raise AuthenticationFailed(_("The token has expired after a period of inactivity; log in again."))
        token_touch(token=token, now=now)
        return user, token
