from rest_framework import serializers

from tracker.regions.models import Region


class RegionSerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = Region
        fields = ["id", "code", "name_zh", "name_en", "level", "parent", "path", "local_code", "designations"]


class RegionBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Region
        fields = ["code", "name_zh", "name_en", "level"]


class RegionCodeField(serializers.SlugRelatedField):
    """A region given by its code. Any real region is accepted here; whether the caller may write
    there is checked after the write, in the transaction (403 outside their scope)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("slug_field", "code")
        kwargs.setdefault("queryset", Region.objects.all())
        super().__init__(**kwargs)
