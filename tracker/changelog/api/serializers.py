from rest_framework import serializers

from tracker.changelog.models import ChangeEntry


class ChangeEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = ChangeEntry
        fields = [
            "id",
            "at",
            "actor_name",
            "request_id",
            "source",
            "action",
            "model",
            "object_id",
            "object_version",
            "region_path",
            "label",
            "changes",
            "reason",
        ]


class VerifyProblemSerializer(serializers.Serializer):
    entry = serializers.IntegerField(allow_null=True)
    object = serializers.CharField()
    problem = serializers.CharField()


class VerifyResultSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    checked = serializers.IntegerField()
    problems = VerifyProblemSerializer(many=True)
