"""`GET /healthz`: 200 when the database answers, 503 (with Retry-After) when it does not. No
authentication."""

from django.conf import settings
from django.db import connection
from django.db.utils import Error as DatabaseError
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_safe


@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        response = JsonResponse({"status": "unavailable", "database": "unreachable"}, status=503)
        response["Retry-After"] = str(settings.DATABASE_RETRY_AFTER)
        return response
    return JsonResponse({"status": "ok", "database": "ok"})
