"""The shapes of the reports' answers, for the schema (the views build the JSON themselves)."""

from __future__ import annotations

from rest_framework import serializers


class ReportSummarySerializer(serializers.Serializer):
    name = serializers.CharField(help_text="The report's name in its URL.")
    title = serializers.CharField(help_text="The report's title in the request's language.")
    href = serializers.URLField(help_text="The report's URL.")


class ReportRegionSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class ReportColumnSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    kind = serializers.ChoiceField(
        choices=["code", "text", "date", "month", "count", "money", "rate"],
        help_text="Dimensions: code (shown by its label), text, date, month (YYYY-MM). Figures: count "
        "(integer), money (decimal string, two places), rate (decimal string, four places, or null).",
    )
    labels = serializers.DictField(
        child=serializers.CharField(),
        allow_null=True,
        help_text="For code columns: each code the rows hold and its label.",
    )


class ReportSectionSerializer(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    notes = serializers.CharField(allow_blank=True)
    columns = ReportColumnSerializer(many=True)
    totals = serializers.ListField(
        child=serializers.DictField(),
        help_text="The whole region's figures, one row per value of the section's dimensions.",
    )
    breakdown = serializers.ListField(
        child=serializers.DictField(),
        help_text="The figures by child region: each row's `subregion` is the child's code (null: records "
        "held by the region itself) and `subregion_name` its name.",
    )


class ReportSerializer(serializers.Serializer):
    report = serializers.CharField()
    title = serializers.CharField()
    region = ReportRegionSerializer()
    subregions = ReportRegionSerializer(many=True)
    from_ = serializers.DateField(allow_null=True)
    to = serializers.DateField(allow_null=True)
    as_of = serializers.DateField(allow_null=True)
    sections = ReportSectionSerializer(many=True)

    def get_fields(self) -> dict:
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields
