from rest_framework import serializers

from tracker.accounts.models import User
from tracker.api.regions import RegionBriefSerializer


class MeSerializer(serializers.ModelSerializer):
    roles = serializers.SerializerMethodField()
    region = RegionBriefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = User
        fields = ["username", "first_name", "last_name", "roles", "region", "is_superuser"]

    def get_roles(self, user: User) -> list[str]:
        return sorted(user.roles)
