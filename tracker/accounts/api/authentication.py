"""Token authentication (`Authorization: Token <key>`) whose tokens expire after TOKEN_IDLE_SECONDS
without use.

Every API request starts here, so it is one query: the token, its user, its last use, the user's
role names and their region's path come back in one row (a hand-written SELECT; through the ORM this
was two queries and a good share of a short request's time). The user's `roles` and the region path
cache are filled from it, so the permission check and the scope need no query of their own."""

from __future__ import annotations

from typing import Any

from django.db import connection
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


def _query(vendor: str) -> str:
    """The one SELECT, per database engine (the string aggregate is spelled differently)."""
    if vendor not in _sql:
        quote = connection.ops.quote_name
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


_converters: dict[tuple[str, Any], tuple[Any, list[Any]]] = {}


def _convert(field: Any, value: Any) -> Any:
    """What the ORM would make of a column's raw value (SQLite keeps datetimes as text); the
    converters of each column looked up once per engine, not on every request."""
    key = (connection.vendor, field)
    if key not in _converters:
        column = field.get_col(field.model._meta.db_table)
        _converters[key] = (
            column,
            connection.ops.get_db_converters(column) + field.get_db_converters(connection),
        )
    column, converters = _converters[key]
    for converter in converters:
        value = converter(value, column, connection)
    return value


def _load(key: str) -> tuple[User, Token] | None:
    with connection.cursor() as cursor:
        cursor.execute(_query(connection.vendor), [key])
        row = cursor.fetchone()
    if row is None:
        return None
    token_key, created, last_used, path, group_names = row[:5]
    values = list(row[5:])
    for index, field in enumerate(_USER_FIELDS):
        values[index] = _convert(field, values[index])
    user = User.from_db(connection.alias, [f.attname for f in _USER_FIELDS], values)
    user.__dict__["roles"] = frozenset(set((group_names or "").split(",")) & _ROLES)
    if user.region_id is not None and path:
        Region._path_cache.setdefault(user.region_id, path)
    created_field = Token._meta.get_field("created")
    created = _convert(created_field, created)
    if last_used is not None:
        last_used = _convert(created_field, last_used)
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
