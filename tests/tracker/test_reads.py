"""The lean read path answers exactly what the serializers would: for every list resource, the rows
read from `.values()` render to the same bytes as DRF's serializer over model instances. Also: a
serializer the compiler cannot read fails loudly."""

from __future__ import annotations

import io

import orjson
import pytest
from django.urls import get_resolver
from rest_framework import serializers

from seeds.management.commands.seed import Command as SeedCommand
from tracker.api.reads import ORJSONRenderer, plan_for
from tracker.api.viewsets import ScopedViewSetMixin
from tracker.statements import compile_statement


def _viewsets() -> list[type]:
    found: dict[str, type] = {}

    def walk(patterns):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                walk(pattern.url_patterns)
                continue
            cls = getattr(getattr(pattern, "callback", None), "cls", None)
            if cls is not None and issubclass(cls, ScopedViewSetMixin):
                found[cls.__name__] = cls

    walk(get_resolver().url_patterns)
    return [found[name] for name in sorted(found)]


VIEWSETS = _viewsets()


def test_every_list_resource_is_covered():
    names = {cls.__name__ for cls in VIEWSETS}
    assert {"BeneficiaryViewSet", "PaymentViewSet", "ChangeEntryViewSet", "RegionViewSet"} <= names


@pytest.mark.parametrize("viewset", VIEWSETS, ids=lambda cls: cls.__name__)
def test_lean_rows_render_the_same_bytes_as_the_serializer(viewset, regions):
    SeedCommand(stdout=io.StringIO()).handle(password="pw-for-tests", if_empty=False)
    if viewset.__name__ == "JobViewSet":
        from tracker.accounts.models import User
        from tracker.jobs.services import job_enqueue

        job_enqueue(kind="changes_verify", actor=User.objects.get(username="admin"))
    serializer_class = viewset.serializer_class
    queryset = viewset.queryset.all().order_by("-id")[:200]
    plan = plan_for(serializer_class)
    lean = plan.rows(list(plan.values(viewset.queryset.all().order_by("-id")[:200])))
    instances = list(queryset)
    if viewset.__name__ == "BeneficiaryViewSet":
        from django.db.models import prefetch_related_objects

        from beneficiaries.selectors import current_memberships_prefetch

        prefetch_related_objects(instances, current_memberships_prefetch())
    classic = serializer_class(instances, many=True).data
    assert instances, "no seeded rows to compare"
    renderer = ORJSONRenderer()
    assert renderer.render(lean) == renderer.render(classic)
    # A compiled page is built straight from the fetched tuples (ReadPlan.fuse): the same bytes.
    statement = compile_statement(plan.values(viewset.queryset.all().order_by("-id")[:200]))
    assert plan.fuse(statement.names, statement.converters) is not None
    assert renderer.render(plan.fill(statement.run(shape=plan))) == renderer.render(classic)


def test_a_method_field_without_a_lean_twin_fails_loudly():
    class Loose(serializers.Serializer):
        id = serializers.IntegerField()
        odd = serializers.SerializerMethodField()

        def get_odd(self, obj):
            return 1

    with pytest.raises(TypeError, match="read_odd"):
        plan_for(Loose)


def test_orjson_renderer_keeps_money_as_strings():
    import decimal

    assert ORJSONRenderer().render({"amount": decimal.Decimal("500.00")}) == b'{"amount":"500.00"}'
    assert orjson.loads(ORJSONRenderer().render({"name": "张三"})) == {"name": "张三"}


def test_a_plan_without_an_id_reads_its_page_through_the_values_dicts(regions):
    from tracker.api.regions import RegionBriefSerializer
    from tracker.regions.models import Region

    plan = plan_for(RegionBriefSerializer)
    statement = compile_statement(plan.values(Region.objects.order_by("-id")))
    assert plan.fuse(statement.names, statement.converters) is None
    shaped = statement.run(shape=plan)
    assert shaped == plan.from_values(statement.run()) and shaped[0].keys() == {
        "code",
        "name_zh",
        "name_en",
        "level",
    }


def test_a_list_whose_rows_have_no_id_pages_by_the_values_dicts(regions, superuser):
    from rest_framework.test import APIRequestFactory, force_authenticate

    from tracker.api.regions import RegionBriefSerializer, RegionViewSet

    class BriefRegions(RegionViewSet):
        serializer_class = RegionBriefSerializer

    assert not plan_for(RegionBriefSerializer).reads_id()
    view = BriefRegions.as_view({"get": "list"})
    seen, cursor = [], ""
    for _ in range(3):
        request = APIRequestFactory().get(f"/api/v1/regions/?page_size=2{cursor}")
        force_authenticate(request, superuser)
        body = orjson.loads(view(request).render().content)
        assert [set(row) for row in body["results"]] == [{"code", "name_zh", "name_en", "level"}] * 2
        seen += [row["code"] for row in body["results"]]
        cursor = f"&cursor={body['next_cursor']}"
    assert len(set(seen)) == 6
