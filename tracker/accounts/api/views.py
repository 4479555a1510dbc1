from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import Throttled, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from tracker.accounts.api.serializers import MeSerializer
from tracker.accounts.lockout import lockout_remaining
from tracker.accounts.throttles import LOGIN_THROTTLES, attempted_username
from tracker.accounts.tokens import token_issue, tokens_revoke
from tracker.api.parsers import DepthLimitedJSONParser

TOKEN_RESPONSE = inline_serializer("TokenResponse", {"token": serializers.CharField()})


class TokenView(ObtainAuthToken):
    """POST username and password (JSON) to log in: get the token to send as `Authorization: Token <key>`.
    DELETE (with the token) to log out. Log-in attempts are throttled per client address and per
    username, and a username is locked for a while after repeated failures (429 with Retry-After)."""

    parser_classes = [DepthLimitedJSONParser]

    def initialize_request(self, request: Any, *args: Any, **kwargs: Any) -> Request:
        self.logging_in = request.method == "POST"
        return super().initialize_request(request, *args, **kwargs)

    def get_authenticators(self) -> list[Any]:
        # A log-in carries credentials, not a token; a stale token header must not stand in its way.
        return [] if self.logging_in else super().get_authenticators()

    def get_permissions(self) -> list[Any]:
        if self.request.method == "POST":
            return []
        return [IsAuthenticated()]

    def get_throttles(self) -> list[Any]:
        if self.request.method == "POST":
            return [throttle() for throttle in LOGIN_THROTTLES]
        return [throttle() for throttle in api_settings.DEFAULT_THROTTLE_CLASSES]

    def throttled(self, request: Request, wait: float | None) -> None:
        if request.method == "POST":
            raise Throttled(wait, detail=_("Too many log-in attempts."))
        super().throttled(request, wait)

    # The way in: no credentials needed (documented with an empty security requirement).
    @extend_schema(request=AuthTokenSerializer, responses=TOKEN_RESPONSE, auth=[])
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        username = attempted_username(request)
        self._refuse_if_locked(username)
        serializer = self.get_serializer(data=request.data)
        if not serializer.is_valid():
            self._refuse_if_locked(username)  # this failure may have set the lock
            raise ValidationError(serializer.errors)
        token = token_issue(user=serializer.validated_data["user"])
        return Response({"token": token.key})

    @extend_schema(request=None, responses={204: OpenApiResponse(description="Logged out")})
    def delete(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        tokens_revoke(user=request.user, reason="logged out")
        return Response(status=status.HTTP_204_NO_CONTENT)

    @staticmethod
    def _refuse_if_locked(username: str) -> None:
        # The same answer whether or not an account has this username.
        wait = lockout_remaining(username)
        if wait:
            raise Throttled(wait, detail=_("Too many failed log-in attempts for this username."))


class MeView(APIView):
    """Who is calling: username, name, roles and home region (the subtree the caller sees and changes)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        return Response(MeSerializer(request.user).data)
