from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tracker.accounts.api.serializers import MeSerializer
from tracker.api.parsers import DepthLimitedJSONParser


@extend_schema_view(post=extend_schema(auth=[]))  # the way in: no credentials needed
class TokenView(ObtainAuthToken):
    """POST username and password (JSON); get the token to send as `Authorization: Token <key>`."""

    parser_classes = [DepthLimitedJSONParser]


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        return Response(MeSerializer(request.user).data)
