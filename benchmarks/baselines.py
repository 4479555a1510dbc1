"""Hand-written baselines for the read benchmarks: what the fastest plain Django view would do.

Each view authenticates the same `Authorization: Token <key>` header (one query: the token, its
user, the user's region path, the last use and whether the user holds a role; the last use is
written at most once a minute, like the API), applies the same region scope, runs ONE hand-written
SQL query for the page, builds the same dicts and renders them with orjson. Lists answer DRF's
cursor-pagination envelope with `next`/`previous` built as CursorPagination builds them (ordering
`-id`, unique positions), pointing at the API's URLs. The benchmark asserts the bytes equal the API's
before it times anything, so a baseline that does less than the API cannot go unnoticed.

No DRF, no serializers, no ORM on the request path: only `connection.cursor()`.
"""

from __future__ import annotations

import datetime as dt
import decimal
import zoneinfo
from collections.abc import Callable, Sequence
from typing import Any
from urllib import parse

import orjson
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext

UTC = dt.UTC
ROLES = ("clerk", "reviewer", "inspector", "analyst")
PAGE_SIZE, MAX_PAGE_SIZE = 50, 500
IDLE = dt.timedelta(seconds=settings.TOKEN_IDLE_SECONDS)
TOUCH = dt.timedelta(seconds=60)
CENT = decimal.Decimal("0.01")
FLOAT_CONTEXT = decimal.Context(prec=15)
API_PREFIX, BENCH_PREFIX = "/api/v1/", "/bench/v1/"


# -- values as the database hands them (either engine) to what the API prints ---------------------


def _tz() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def aware(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def local_iso(value: Any) -> str | None:
    """A datetime as DRF prints it: in the local time zone, ISO 8601, `Z` for UTC."""
    value = aware(value)
    if value is None:
        return None
    text = value.astimezone(_tz()).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def utc_iso(value: Any) -> str | None:
    value = aware(value)
    return None if value is None else value.astimezone(UTC).isoformat()


def day(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else value.isoformat()


def money(value: Any) -> str | None:
    """A 2-place decimal as a string: SQLite hands back ints, floats or text, PostgreSQL Decimals."""
    if value is None:
        return None
    if isinstance(value, float):
        number = FLOAT_CONTEXT.create_decimal_from_float(value)
    else:
        number = decimal.Decimal(value)
    return format(number.quantize(CENT), "f")


def flag(value: Any) -> bool:
    if isinstance(value, str):
        return value in ("1", "true", "t")
    return bool(value)


def js(value: Any) -> Any:
    if value is None:
        return None
    return orjson.loads(value) if isinstance(value, (str, bytes)) else value


def render(data: Any, status: int = 200) -> HttpResponse:
    return HttpResponse(orjson.dumps(data), status=status, content_type="application/json")


def _like(path: str) -> str:
    return path.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


LIKE = "LIKE %s ESCAPE '\\'"


# -- authentication and scope ---------------------------------------------------------------------

AUTH_SQL = f"""
SELECT u.id, u.is_active, u.is_superuser, r.path, t.created, a.last_used_at,
       EXISTS (SELECT 1 FROM accounts_user_groups ug JOIN auth_group g ON g.id = ug.group_id
               WHERE ug.user_id = u.id AND g.name IN ({", ".join(["%s"] * len(ROLES))}))
FROM authtoken_token t
JOIN accounts_user u ON u.id = t.user_id
LEFT JOIN regions_region r ON r.id = u.region_id
LEFT JOIN accounts_tokenactivity a ON a.token_id = t.key
WHERE t.key = %s
"""


class Denied(Exception):
    def __init__(self, status: int) -> None:
        self.status = status


def authenticate(request: HttpRequest, cursor: Any) -> tuple[int, str | None]:
    """(user id, scope path: '' everything, None nothing) for the request's token."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    kind, _, key = header.partition(" ")
    if kind != "Token" or not key:
        raise Denied(401)
    cursor.execute(AUTH_SQL, [*ROLES, key])
    row = cursor.fetchone()
    if row is None:
        raise Denied(401)
    user_id, active, superuser, path, created, last_used = row[:6]
    has_role = flag(row[6])
    if not flag(active):
        raise Denied(401)
    now = timezone.now()
    last = aware(last_used) or aware(created)
    if now - last > IDLE:
        raise Denied(401)
    if now - last >= TOUCH:
        if last_used is None:
            cursor.execute(
                "INSERT INTO accounts_tokenactivity (token_id, last_used_at) VALUES (%s, %s)", [key, now]
            )
        else:
            cursor.execute(
                "UPDATE accounts_tokenactivity SET last_used_at = %s WHERE token_id = %s AND last_used_at < %s",
                [now, key, now - TOUCH],
            )
    if flag(superuser):
        return user_id, ""
    if not has_role:
        raise Denied(403)
    return user_id, path or None


def scope_sql(column: str, scope: str | None, *, ancestors: bool = False) -> tuple[str, list[Any]]:
    if scope == "":
        return "1 = 1", []
    if scope is None:
        return "1 = 0", []
    condition, params = f"{column} {LIKE}", [_like(scope)]
    if ancestors:
        codes = [code for code in scope.split("/") if code]
        above = ["/".join(codes[:n]) + "/" for n in range(1, len(codes))]
        if above:
            condition = f"({condition} OR {column} IN ({', '.join(['%s'] * len(above))}))"
            params += above
    return condition, params


# -- cursor pagination as DRF's CursorPagination builds it (ordering -id) ----------------------------


def _replace_query_param(url: str, key: str, value: str) -> str:
    scheme, netloc, path, query, fragment = parse.urlsplit(url)
    query_dict = parse.parse_qs(query, keep_blank_values=True)
    query_dict[key] = [value]
    query = parse.urlencode(sorted(query_dict.items()), doseq=True)
    return parse.urlunsplit((scheme, netloc, path, query, fragment))


def _cursor_token(*, reverse: bool, position: Any) -> str:
    """The API's plain cursor (tracker/api/pagination.py): `r` for backwards, `p<id>` the position."""
    return f"{'r' if reverse else ''}p{position}"


def _cursor_link(base_url: str, *, reverse: bool, position: Any) -> str:
    return _replace_query_param(base_url, "cursor", _cursor_token(reverse=reverse, position=position))


class Page:
    """The page requested: size, position (`id < position`), and the URL the API would answer for."""

    def __init__(self, request: HttpRequest) -> None:
        try:
            size = int(request.GET.get("page_size", PAGE_SIZE))
            self.size = min(size, MAX_PAGE_SIZE) if size > 0 else PAGE_SIZE
        except ValueError:
            self.size = PAGE_SIZE
        self.position: str | None = None
        raw = request.GET.get("cursor")
        if raw is not None:
            if not raw.startswith("p"):
                raise ValueError("the baseline pages forward only")
            self.position = raw[1:]
        self.base_url = request.build_absolute_uri().replace(BENCH_PREFIX, API_PREFIX, 1)

    def where(self, column: str) -> tuple[str, list[Any]]:
        if self.position is None:
            return "", []
        return f" AND {column} < %s", [int(self.position)]

    def envelope(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        """`rows` holds up to size + 1 rows (the extra one says a next page exists)."""
        results = rows[: self.size]
        has_next = len(rows) > self.size
        following = following_cursor = None
        if has_next:
            following_cursor = _cursor_token(reverse=False, position=results[-1]["id"])
            following = _replace_query_param(self.base_url, "cursor", following_cursor)
        previous = previous_cursor = None
        if self.position is not None:
            position = results[0]["id"] if results else self.position
            previous_cursor = _cursor_token(reverse=True, position=position)
            previous = _replace_query_param(self.base_url, "cursor", previous_cursor)
        return {
            "next": following,
            "previous": previous,
            "next_cursor": following_cursor,
            "previous_cursor": previous_cursor,
            "results": results,
        }


def view(handler: Callable[..., Any]) -> Callable[..., HttpResponse]:
    """Open a cursor, authenticate, run the handler; answers what it returns (a dict is JSON)."""

    def wrapped(request: HttpRequest, **kwargs: Any) -> HttpResponse:
        with connection.cursor() as cursor:
            try:
                user_id, scope = authenticate(request, cursor)
                result = handler(request, cursor, user_id, scope, **kwargs)
            except Denied as exc:
                return render({"status": exc.status}, exc.status)
        if isinstance(result, HttpResponse):
            return result
        return render(result)

    return wrapped


def not_found() -> HttpResponse:
    return render({"status": 404}, 404)


def _dicts(cursor: Any, build: Callable[[Sequence[Any]], dict[str, Any]]) -> list[dict[str, Any]]:
    return [build(row) for row in cursor.fetchall()]


# -- beneficiaries ------------------------------------------------------------------------------------


def _groups_today_sql() -> str:
    """Codes of the groups a person holds today, comma-joined in code order (a correlated subquery)."""
    inner = (
        "FROM beneficiaries_groupmembership m JOIN beneficiaries_beneficiarygroup g ON g.id = m.group_id "
        "WHERE m.beneficiary_id = b.id AND m.valid_from <= %s AND (m.valid_to IS NULL OR m.valid_to >= %s)"
    )
    if connection.vendor == "postgresql":
        return f"(SELECT string_agg(DISTINCT g.code, ',' ORDER BY g.code) {inner})"
    return f"(SELECT group_concat(code, ',') FROM (SELECT DISTINCT g.code AS code {inner} ORDER BY g.code))"


PERSON_COLUMNS = """
b.id, b.name, b.id_number_masked, b.gender, b.birth_date, b.phone_masked, b.social_security_card,
r.code, {groups}, b.willing_to_work, b.status, b.status_verified_on, b.active, b.address, b.notes,
b.registered_at, b.deactivated_on, b.deactivation_reason, b.version
"""


def _person(row: Sequence[Any]) -> dict[str, Any]:
    return {
        "id": row[0],
        "name": row[1],
        "id_number": row[2],
        "gender": row[3],
        "birth_date": day(row[4]),
        "phone": row[5],
        "social_security_card": row[6],
        "region": row[7],
        "groups": row[8].split(",") if row[8] else [],
        "willing_to_work": flag(row[9]),
        "status": row[10],
        "status_verified_on": day(row[11]),
        "active": flag(row[12]),
        "address": row[13],
        "notes": row[14],
        "registered_at": local_iso(row[15]),
        "deactivated_on": day(row[16]),
        "deactivation_reason": row[17],
        "version": row[18],
    }


def _today() -> str:
    return timezone.localdate().isoformat()


@view
def beneficiaries(request: HttpRequest, cursor: Any, user_id: int, scope: str | None) -> Any:
    page = Page(request)
    where, params = scope_sql("r.path", scope)
    after, after_params = page.where("b.id")
    today = _today()
    cursor.execute(
        f"SELECT {PERSON_COLUMNS.format(groups=_groups_today_sql())} "
        "FROM beneficiaries_beneficiary b JOIN regions_region r ON r.id = b.region_id "
        f"WHERE {where}{after} ORDER BY b.id DESC LIMIT %s",
        [today, today, *params, *after_params, page.size + 1],
    )
    return page.envelope(_dicts(cursor, _person))


@view
def beneficiary(request: HttpRequest, cursor: Any, user_id: int, scope: str | None, pk: int) -> Any:
    where, params = scope_sql("r.path", scope)
    today = _today()
    cursor.execute(
        f"SELECT {PERSON_COLUMNS.format(groups=_groups_today_sql())} "
        "FROM beneficiaries_beneficiary b JOIN regions_region r ON r.id = b.region_id "
        f"WHERE b.id = %s AND {where}",
        [today, today, pk, *params],
    )
    row = cursor.fetchone()
    if row is None:
        return not_found()
    response = render(_person(row))
    response["ETag"] = f'"beneficiaries.beneficiary:{row[0]}:{row[18]}"'
    return response


# -- the one-person-one-file view: five sections and the status as of today in ONE query -------------

FILE_SECTIONS = ("person", "groups", "status_history", "follow_ups", "posts", "payments", "training_record")
FILE_TITLES = {
    "person": "Person",
    "groups": "Groups",
    "status_history": "Employment status history",
    "follow_ups": "Follow-ups",
    "posts": "Public-welfare posts",
    "payments": "Subsidies received",
    "training_record": "Training record",
}


def _file_sql(scope_where: str, payment_scope: str, assignment_scope: str) -> str:
    """UNION ALL of the file's parts, every value as text in c1..c11; `part` and `seq` order them."""
    t = "CAST({} AS TEXT)".format
    groups = _groups_today_sql()
    person_cols = [
        "b.name", "b.id_number_masked", "b.gender", t("b.birth_date"), "b.phone_masked",
        "b.social_security_card", "r.code", groups, t("b.willing_to_work"), "b.status",
        t("b.status_verified_on"), t("b.active"), "b.address", "b.notes", t("b.registered_at"),
        t("b.deactivated_on"), "b.deactivation_reason", t("b.version"),
    ]  # fmt: skip
    width = len(person_cols)

    def pad(cols: list[str]) -> str:
        return ", ".join([*cols, *(["NULL"] * (width - len(cols)))])

    as_of = (
        "SELECT s.status FROM beneficiaries_statuschange s WHERE s.beneficiary_id = b.id "
        "AND s.effective_on <= %s ORDER BY s.effective_on DESC, s.id DESC LIMIT 1"
    )
    return f"""
SELECT 0 AS part, 0 AS seq, b.id AS id, ({as_of}) AS extra, {", ".join(person_cols)}
FROM beneficiaries_beneficiary b JOIN regions_region r ON r.id = b.region_id
WHERE b.id = %s AND {scope_where}
UNION ALL
SELECT 1, ROW_NUMBER() OVER (ORDER BY m.valid_from, g.code), m.id, NULL,
       {pad(["g.code", "g.name_zh", "g.name_en", t("m.valid_from"), t("m.valid_to")])}
FROM beneficiaries_groupmembership m JOIN beneficiaries_beneficiarygroup g ON g.id = m.group_id
WHERE m.beneficiary_id = %s
UNION ALL
SELECT 2, ROW_NUMBER() OVER (ORDER BY s.effective_on DESC, s.id DESC), s.id, NULL,
       {pad(["s.status", t("s.effective_on"), "s.employer_or_place", "s.source", "s.note", "u.username"])}
FROM beneficiaries_statuschange s LEFT JOIN accounts_user u ON u.id = s.recorded_by_id
WHERE s.beneficiary_id = %s
UNION ALL
SELECT 3, ROW_NUMBER() OVER (ORDER BY f.opened_on DESC, f.id DESC), f.id, NULL,
       {pad([t("f.opened_on"), t("f.due_on"), "f.status", "f.service", t("f.service_on")])}
FROM beneficiaries_followup f
WHERE f.beneficiary_id = %s
UNION ALL
SELECT * FROM (
SELECT 4 AS part, ROW_NUMBER() OVER (ORDER BY p.period_start DESC, p.id DESC) AS seq, p.id, NULL,
       {pad(["pr.code", "pr.name_zh", "p.payee_kind", t("p.period_start"), t("p.period_end"),
             t("p.quantity"), t("p.amount"), "fs.code", "p.status", t("p.paid_at")])}
FROM funding_payment p
JOIN funding_program pr ON pr.id = p.program_id
JOIN regions_region pr_r ON pr_r.id = p.region_id
LEFT JOIN funding_fundsource fs ON fs.id = p.fund_source_id
WHERE p.beneficiary_id = %s AND {payment_scope}
ORDER BY p.period_start DESC, p.id DESC LIMIT 500) payments
UNION ALL
SELECT * FROM (
SELECT 5 AS part, ROW_NUMBER() OVER (ORDER BY a.start_date DESC, a.id DESC) AS seq, a.id, NULL,
       {pad([t("a.post_id"), "po.title", "ar.code", "ar.name_zh", "po.category", t("a.start_date"),
             t("a.end_date"), "a.end_reason", "a.contract_kind", t("a.contract_signed_on"),
             "a.payee_account_masked"])}
FROM posts_assignment a
JOIN posts_post po ON po.id = a.post_id
JOIN regions_region ar ON ar.id = a.region_id
WHERE a.beneficiary_id = %s AND {assignment_scope}
ORDER BY a.start_date DESC, a.id DESC LIMIT 200) holdings
UNION ALL
SELECT 6, 0, v.id, NULL, {pad([])}
FROM vouchers_voucher v WHERE v.holder_id = %s
ORDER BY part, seq
"""  # fmt: skip


@view
def person_file(request: HttpRequest, cursor: Any, user_id: int, scope: str | None, pk: int) -> Any:
    scope_where, scope_params = scope_sql("r.path", scope)
    payment_scope, payment_params = scope_sql("pr_r.path", scope)
    assignment_scope, assignment_params = scope_sql("ar.path", scope)
    today_date = timezone.localdate()
    today = today_date.isoformat()
    cursor.execute(
        _file_sql(scope_where, payment_scope, assignment_scope),
        [today, today, today, pk, *scope_params, pk, pk, pk, pk, *payment_params, pk, *assignment_params, pk],
    )
    rows = cursor.fetchall()
    if not rows or rows[0][0] != 0:
        return not_found()
    head = rows[0]
    v = head[4:]
    person = {
        "id": head[2],
        "name": v[0],
        "id_number": v[1],
        "gender": v[2],
        "birth_date": v[3],
        "phone": v[4],
        "social_security_card": v[5],
        "region": v[6],
        "groups": sorted(set(v[7].split(","))) if v[7] else [],
        "willing_to_work": flag(v[8]),
        "status": v[9],
        "status_verified_on": v[10],
        "active": flag(v[11]),
        "address": v[12],
        "notes": v[13],
        "registered_at": local_iso(v[14]),
        "deactivated_on": v[15],
        "deactivation_reason": v[16],
        "version": int(v[17]),
    }
    sections: dict[str, Any] = {"person": person, "groups": [], "status_history": [], "follow_ups": []}
    sections["payments"] = []
    sections["posts"] = []
    sections["training_record"] = []
    for row in rows[1:]:
        part, pk_, c = row[0], row[2], row[4:]
        if part == 6:
            # The benchmark's data holds no vouchers; the lifelong record's five look-ups are not
            # written out here, and a person with vouchers would make the comparison fail loudly.
            raise ValueError("the file baseline does not cover training vouchers")
        if part == 5:
            sections["posts"].append(
                {
                    "assignment": pk_,
                    "post": int(c[0]),
                    "post_title": c[1],
                    "region": c[2],
                    "region_name": c[3],
                    "category": c[4],
                    "start_date": c[5],
                    "end_date": c[6],
                    "end_reason": c[7],
                    "contract_kind": c[8],
                    "contract_signed_on": c[9],
                    "payee_account": c[10],
                }
            )
            continue
        if part == 1:
            current = c[3] <= today and (c[4] is None or c[4] >= today)
            sections["groups"].append(
                {
                    "group": c[0],
                    "name_zh": c[1],
                    "name_en": c[2],
                    "valid_from": c[3],
                    "valid_to": c[4],
                    "current": current,
                }
            )
        elif part == 2:
            sections["status_history"].append(
                {
                    "id": pk_,
                    "status": c[0],
                    "effective_on": c[1],
                    "employer_or_place": c[2],
                    "source": c[3],
                    "note": c[4],
                    "recorded_by": c[5],
                }
            )
        elif part == 3:
            sections["follow_ups"].append(
                {
                    "id": pk_,
                    "opened_on": c[0],
                    "due_on": c[1],
                    "status": c[2],
                    "overdue": c[2] == "open" and c[1] < today,
                    "service": c[3],
                    "service_on": c[4],
                }
            )
        else:
            sections["payments"].append(
                {
                    "id": pk_,
                    "program": c[0],
                    "program_name": c[1],
                    "payee_kind": c[2],
                    "period_start": c[3],
                    "period_end": c[4],
                    "quantity": money(c[5]),
                    "amount": money(c[6]),
                    "fund_source": c[7],
                    "status": c[8],
                    "paid_at": utc_iso(c[9]),  # the section prints the stored UTC time
                }
            )
    return {
        "id": head[2],
        "as_of": today,
        "status_as_of": head[3] or "",
        "sections": [
            {"key": key, "title": gettext(FILE_TITLES[key]), "data": sections[key]} for key in FILE_SECTIONS
        ],
    }


# -- payments -------------------------------------------------------------------------------------------

# The users' names and the fund's code by scalar sub-select, as an expert writes it for PostgreSQL
# (and as the API reads them, tracker/api/reads.py): twelve joins cost ~100 ms of planning a page.
PAYMENT_SQL = """
SELECT p.id, pr.code, pr.name_zh, p.payee_kind, b.id, b.name, b.id_number_masked, e.id, e.name, e.uscc,
       i.id, i.name, i.uscc, r.code, p.period_start, p.period_end, p.application_date, p.contract_start,
       p.contract_performed_to, p.quantity, p.unit_amount, p.amount,
       (SELECT fs.code FROM funding_fundsource fs WHERE fs.id = p.fund_source_id), p.status,
       (SELECT u.username FROM accounts_user u WHERE u.id = p.created_by_id), p.created_at,
       (SELECT u.username FROM accounts_user u WHERE u.id = p.submitted_by_id), p.submitted_at,
       (SELECT u.username FROM accounts_user u WHERE u.id = p.approved_by_id), p.approved_at,
       (SELECT u.username FROM accounts_user u WHERE u.id = p.paid_by_id), p.paid_at,
       p.external_reference, p.reason, p.rejection_reason, p.cause_label, p.cause_object_id,
       p.reverses_id, rv.id, p.version
FROM funding_payment p
JOIN funding_program pr ON pr.id = p.program_id
LEFT JOIN beneficiaries_beneficiary b ON b.id = p.beneficiary_id
LEFT JOIN funding_employer e ON e.id = p.employer_id
LEFT JOIN funding_traininginstitution i ON i.id = p.institution_id
JOIN regions_region r ON r.id = p.region_id
LEFT JOIN funding_payment rv ON rv.reverses_id = p.id
"""


def _payment(row: Sequence[Any]) -> dict[str, Any]:
    return {
        "id": row[0],
        "program": row[1],
        "program_name": row[2],
        "payee_kind": row[3],
        "beneficiary": None if row[4] is None else {"id": row[4], "name": row[5], "id_number_masked": row[6]},
        "employer": None if row[7] is None else {"id": row[7], "name": row[8], "uscc": row[9]},
        "institution": None if row[10] is None else {"id": row[10], "name": row[11], "uscc": row[12]},
        "region": row[13],
        "period_start": day(row[14]),
        "period_end": day(row[15]),
        "application_date": day(row[16]),
        "contract_start": day(row[17]),
        "contract_performed_to": day(row[18]),
        "quantity": money(row[19]),
        "unit_amount": money(row[20]),
        "amount": money(row[21]),
        "fund_source": row[22],
        "status": row[23],
        "created_by": row[24],
        "created_at": local_iso(row[25]),
        "submitted_by": row[26],
        "submitted_at": local_iso(row[27]),
        "approved_by": row[28],
        "approved_at": local_iso(row[29]),
        "paid_by": row[30],
        "paid_at": local_iso(row[31]),
        "external_reference": row[32],
        "reason": row[33],
        "rejection_reason": row[34],
        "cause": {"type": row[35], "id": row[36]} if row[35] else None,
        "reverses": row[37],
        "reversal": row[38],
        "version": row[39],
    }


@view
def payments(request: HttpRequest, cursor: Any, user_id: int, scope: str | None) -> Any:
    page = Page(request)
    where, params = scope_sql("r.path", scope)
    after, after_params = page.where("p.id")
    cursor.execute(
        f"{PAYMENT_SQL} WHERE {where}{after} ORDER BY p.id DESC LIMIT %s",
        [*params, *after_params, page.size + 1],
    )
    return page.envelope(_dicts(cursor, _payment))


@view
def payment(request: HttpRequest, cursor: Any, user_id: int, scope: str | None, pk: int) -> Any:
    where, params = scope_sql("r.path", scope)
    cursor.execute(f"{PAYMENT_SQL} WHERE p.id = %s AND {where}", [pk, *params])
    row = cursor.fetchone()
    if row is None:
        return not_found()
    response = render(_payment(row))
    response["ETag"] = f'"funding.payment:{row[0]}:{row[39]}"'
    return response


# -- follow-ups -----------------------------------------------------------------------------------------


def _follow_up(row: Sequence[Any], today: dt.date) -> dict[str, Any]:
    due = row[6] if isinstance(row[6], dt.date) else dt.date.fromisoformat(row[6])
    return {
        "id": row[0],
        "beneficiary": row[1],
        "beneficiary_name": row[2],
        "region": row[3],
        "status_change": row[4],
        "opened_on": day(row[5]),
        "due_on": due.isoformat(),
        "status": row[7],
        "overdue": row[7] == "open" and due < today,
        "service": row[8],
        "service_on": day(row[9]),
        "service_note": row[10],
        "closed_by": row[11],
        "version": row[12],
    }


@view
def follow_ups(request: HttpRequest, cursor: Any, user_id: int, scope: str | None) -> Any:
    page = Page(request)
    where, params = scope_sql("r.path", scope)
    after, after_params = page.where("f.id")
    cursor.execute(
        "SELECT f.id, f.beneficiary_id, b.name, r.code, f.status_change_id, f.opened_on, f.due_on, f.status, "
        "f.service, f.service_on, f.service_note, u.username, f.version "
        "FROM beneficiaries_followup f JOIN beneficiaries_beneficiary b ON b.id = f.beneficiary_id "
        "JOIN regions_region r ON r.id = b.region_id LEFT JOIN accounts_user u ON u.id = f.closed_by_id "
        f"WHERE {where}{after} ORDER BY f.id DESC LIMIT %s",
        [*params, *after_params, page.size + 1],
    )
    today = timezone.localdate()
    return page.envelope([_follow_up(row, today) for row in cursor.fetchall()])


# -- the change log ---------------------------------------------------------------------------------------

ENTRY_SQL = (
    "SELECT e.id, e.at, e.actor_name, e.request_id, e.source, e.action, e.model, e.object_id, "
    "e.object_version, e.region_path, e.label, e.changes, e.reason FROM changelog_changeentry e"
)


def _entry(row: Sequence[Any]) -> dict[str, Any]:
    return {
        "id": row[0],
        "at": local_iso(row[1]),
        "actor_name": row[2],
        "request_id": row[3],
        "source": row[4],
        "action": row[5],
        "model": row[6],
        "object_id": row[7],
        "object_version": row[8],
        "region_path": row[9],
        "label": row[10],
        "changes": js(row[11]),
        "reason": row[12],
    }


@view
def changes(request: HttpRequest, cursor: Any, user_id: int, scope: str | None) -> Any:
    page = Page(request)
    where, params = scope_sql("e.region_path", scope)
    after, after_params = page.where("e.id")
    cursor.execute(
        f"{ENTRY_SQL} WHERE {where}{after} ORDER BY e.id DESC LIMIT %s",
        [*params, *after_params, page.size + 1],
    )
    return page.envelope(_dicts(cursor, _entry))


@view
def change(request: HttpRequest, cursor: Any, user_id: int, scope: str | None, pk: int) -> Any:
    where, params = scope_sql("e.region_path", scope)
    cursor.execute(f"{ENTRY_SQL} WHERE e.id = %s AND {where}", [pk, *params])
    row = cursor.fetchone()
    return not_found() if row is None else render(_entry(row))


# -- regions ---------------------------------------------------------------------------------------------

REGION_SQL = (
    "SELECT r.id, r.code, r.name_zh, r.name_en, r.level, pa.code, r.path, r.local_code, r.designations, "
    "r.version FROM regions_region r LEFT JOIN regions_region pa ON pa.id = r.parent_id"
)


def _region(row: Sequence[Any]) -> dict[str, Any]:
    return {
        "id": row[0],
        "code": row[1],
        "name_zh": row[2],
        "name_en": row[3],
        "level": row[4],
        "parent": row[5],
        "path": row[6],
        "local_code": flag(row[7]),
        "designations": js(row[8]),
    }


@view
def regions(request: HttpRequest, cursor: Any, user_id: int, scope: str | None) -> Any:
    page = Page(request)
    where, params = scope_sql("r.path", scope, ancestors=True)
    after, after_params = page.where("r.id")
    cursor.execute(
        f"{REGION_SQL} WHERE {where}{after} ORDER BY r.id DESC LIMIT %s",
        [*params, *after_params, page.size + 1],
    )
    return page.envelope(_dicts(cursor, _region))


@view
def region(request: HttpRequest, cursor: Any, user_id: int, scope: str | None, code: str) -> Any:
    where, params = scope_sql("r.path", scope, ancestors=True)
    cursor.execute(f"{REGION_SQL} WHERE r.code = %s AND {where}", [code, *params])
    row = cursor.fetchone()
    if row is None:
        return not_found()
    response = render(_region(row))
    response["ETag"] = f'"regions.region:{row[0]}:{row[9]}"'
    return response


# -- programs --------------------------------------------------------------------------------------------

PROGRAM_SQL = """
SELECT pr.id, pr.code, pr.name_zh, pr.name_en, r.code, pr.kind, pr.payee_kind, fs.code, pr.unit,
       pr.standard_amount, pr.min_amount, pr.max_amount, pr.max_units, pr.once_per_person,
       pr.eligible_groups, pr.valid_from, pr.valid_to, pr.application_deadline, pr.payment_deadline,
       pr.annual_budget, pr.uplifts, pr.mutually_exclusive_with, pr.employer_sizes,
       pr.employer_industries, pr.required_employment_statuses, pr.excludes_prior_work_for_training,
       pr.min_contract_months, pr.rural_posts_exclude_urban_insured, pr.policy_reference, pr.notes,
       pr.assumption, r.name_zh, pr.version
FROM funding_program pr
JOIN regions_region r ON r.id = pr.region_id
LEFT JOIN funding_fundsource fs ON fs.id = pr.fund_source_id
"""


def _strings(value: Any) -> list[str] | None:
    items = js(value)
    return None if items is None else [str(item) for item in items]


def _program(row: Sequence[Any]) -> dict[str, Any]:
    uplifts = js(row[20])
    return {
        "id": row[0],
        "code": row[1],
        "name_zh": row[2],
        "name_en": row[3],
        "region": row[4],
        "kind": row[5],
        "payee_kind": row[6],
        "fund_source": row[7],
        "unit": row[8],
        "standard_amount": money(row[9]),
        "min_amount": money(row[10]),
        "max_amount": money(row[11]),
        "max_units": row[12],
        "once_per_person": flag(row[13]),
        "eligible_groups": _strings(row[14]),
        "valid_from": day(row[15]),
        "valid_to": day(row[16]),
        "application_deadline": day(row[17]),
        "payment_deadline": day(row[18]),
        "annual_budget": money(row[19]),
        "uplifts": None if uplifts is None else {str(k): str(v) for k, v in (uplifts or {}).items()},
        "mutually_exclusive_with": _strings(row[21]),
        "employer_sizes": _strings(row[22]),
        "employer_industries": _strings(row[23]),
        "required_employment_statuses": _strings(row[24]),
        "excludes_prior_work_for_training": flag(row[25]),
        "min_contract_months": row[26],
        "rural_posts_exclude_urban_insured": flag(row[27]),
        "policy_reference": row[28],
        "notes": row[29],
        "assumption": row[30],
        "region_name": row[31],
        "version": row[32],
    }


@view
def programs(request: HttpRequest, cursor: Any, user_id: int, scope: str | None) -> Any:
    page = Page(request)
    where, params = scope_sql("r.path", scope, ancestors=True)
    after, after_params = page.where("pr.id")
    cursor.execute(
        f"{PROGRAM_SQL} WHERE {where}{after} ORDER BY pr.id DESC LIMIT %s",
        [*params, *after_params, page.size + 1],
    )
    return page.envelope(_dicts(cursor, _program))


@view
def program(request: HttpRequest, cursor: Any, user_id: int, scope: str | None, pk: int) -> Any:
    where, params = scope_sql("r.path", scope, ancestors=True)
    cursor.execute(f"{PROGRAM_SQL} WHERE pr.id = %s AND {where}", [pk, *params])
    row = cursor.fetchone()
    if row is None:
        return not_found()
    response = render(_program(row))
    response["ETag"] = f'"funding.program:{row[0]}:{row[31]}"'
    return response


# -- public-welfare posts ---------------------------------------------------------------------------

# `filled` (positions held today) as a correlated count in the page's own query; the API reads it
# with a second query for the page (PostSerializer.read_filled, a PageColumn).
POST_SQL = """
SELECT p.id, r.code, r.name_zh, p.employing_unit, e.id, e.name, e.uscc, p.category, p.urban_rural,
       p.title, p.duties, p.headcount,
       (SELECT COUNT(*) FROM posts_assignment a WHERE a.post_id = p.id AND a.start_date <= %s
        AND (a.end_date IS NULL OR a.end_date >= %s)),
       p.monthly_standard, pr.code, p.opened_on, p.closed_on, p.status, p.justification, p.version
FROM posts_post p
JOIN regions_region r ON r.id = p.region_id
LEFT JOIN funding_employer e ON e.id = p.employer_id
JOIN funding_program pr ON pr.id = p.program_id
"""


def _post(row: Sequence[Any]) -> dict[str, Any]:
    return {
        "id": row[0],
        "region": row[1],
        "region_name": row[2],
        "employing_unit": row[3],
        "employer": None if row[4] is None else {"id": row[4], "name": row[5], "uscc": row[6]},
        "category": row[7],
        "urban_rural": row[8],
        "title": row[9],
        "duties": row[10],
        "headcount": row[11],
        "filled": row[12],
        "monthly_standard": money(row[13]),
        "program": row[14],
        "opened_on": day(row[15]),
        "closed_on": day(row[16]),
        "status": row[17],
        "justification": row[18],
        "version": row[19],
    }


@view
def posts(request: HttpRequest, cursor: Any, user_id: int, scope: str | None) -> Any:
    page = Page(request)
    # Scoped by the post's own stored region path (tracker.scope: Post.scope_path_field).
    where, params = scope_sql("p.region_path", scope)
    after, after_params = page.where("p.id")
    today = _today()
    cursor.execute(
        f"{POST_SQL} WHERE {where}{after} ORDER BY p.id DESC LIMIT %s",
        [today, today, *params, *after_params, page.size + 1],
    )
    return page.envelope(_dicts(cursor, _post))


@view
def post(request: HttpRequest, cursor: Any, user_id: int, scope: str | None, pk: int) -> Any:
    where, params = scope_sql("p.region_path", scope)
    today = _today()
    cursor.execute(f"{POST_SQL} WHERE p.id = %s AND {where}", [today, today, pk, *params])
    row = cursor.fetchone()
    if row is None:
        return not_found()
    response = render(_post(row))
    response["ETag"] = f'"posts.post:{row[0]}:{row[19]}"'
    return response


ASSIGNMENT_SQL = """
SELECT a.id, a.post_id, po.title, r.code, b.id, b.name, b.id_number_masked, a.start_date, a.end_date,
       a.end_reason, a.contract_kind, a.contract_number, a.contract_signed_on, a.contract_from,
       a.contract_to, a.urban_employee_insured, a.payee_account_kind, a.payee_account_masked, a.version
FROM posts_assignment a
JOIN posts_post po ON po.id = a.post_id
JOIN regions_region r ON r.id = a.region_id
JOIN beneficiaries_beneficiary b ON b.id = a.beneficiary_id
"""


def _assignment(row: Sequence[Any]) -> dict[str, Any]:
    return {
        "id": row[0],
        "post": row[1],
        "post_title": row[2],
        "region": row[3],
        "beneficiary": {"id": row[4], "name": row[5], "id_number_masked": row[6]},
        "start_date": day(row[7]),
        "end_date": day(row[8]),
        "end_reason": row[9],
        "contract_kind": row[10],
        "contract_number": row[11],
        "contract_signed_on": day(row[12]),
        "contract_from": day(row[13]),
        "contract_to": day(row[14]),
        "urban_employee_insured": flag(row[15]),
        "payee_account_kind": row[16],
        "payee_account": row[17],
        "version": row[18],
    }


@view
def post_assignments(request: HttpRequest, cursor: Any, user_id: int, scope: str | None) -> Any:
    page = Page(request)
    # Scoped by the holding's own stored region path (the post's, copied; Assignment.scope_path_field).
    where, params = scope_sql("a.region_path", scope)
    after, after_params = page.where("a.id")
    cursor.execute(
        f"{ASSIGNMENT_SQL} WHERE {where}{after} ORDER BY a.id DESC LIMIT %s",
        [*params, *after_params, page.size + 1],
    )
    return page.envelope(_dicts(cursor, _assignment))


@view
def post_assignment(request: HttpRequest, cursor: Any, user_id: int, scope: str | None, pk: int) -> Any:
    where, params = scope_sql("a.region_path", scope)
    cursor.execute(f"{ASSIGNMENT_SQL} WHERE a.id = %s AND {where}", [pk, *params])
    row = cursor.fetchone()
    if row is None:
        return not_found()
    response = render(_assignment(row))
    response["ETag"] = f'"posts.assignment:{row[0]}:{row[18]}"'
    return response
