"""Token authentication (`Authorization: Token <key>`) whose tokens expire after TOKEN_IDLE_SECONDS
without use."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed

from tracker.accounts.tokens import security_log, token_is_idle, token_touch


class ExpiringTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key: str) -> tuple[Any, Token]:
        try:
            token = Token.objects.select_related("user", "activity").get(key=key)
        except Token.DoesNotExist:
            raise AuthenticationFailed(_("Invalid token.")) from None
        if not token.user.is_active:
            raise AuthenticationFailed(_("User inactive or deleted."))
        now = timezone.now()
        if token_is_idle(token, now=now):
            token.delete()
            security_log.info("API token expired after inactivity: username=%s", token.user.get_username())
            raise AuthenticationFailed(_("The token has expired after a period of inactivity; log in again."))
        token_touch(token=token, now=now)
        return token.user, token
