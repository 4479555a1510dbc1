"""Seed step: the region tree and its designations, from seeds/data/*.yaml. Idempotent."""

from __future__ import annotations

from seeds.data_files import load
from tracker.regions.services import designation_upsert, region_upsert


def seed_regions() -> int:
    for item in load("designations.yaml")["designations"]:
        designation_upsert(code=item["code"], name_zh=item["name_zh"], name_en=item["name_en"])
    count = 0
    for item in load("regions.yaml")["regions"]:
        region_upsert(
            code=item["code"],
            name_zh=item["name_zh"],
            name_en=item.get("name_en", ""),
            level=item["level"],
            parent_code=item.get("parent"),
            local_code=bool(item.get("local_code")),
            designations=item.get("designations") or [],
        )
        count += 1
    return count
