from django.db import models
from django.utils.translation import gettext_lazy as _


class RegionLevel(models.TextChoices):
    """Levels of the GB/T 2260 tree: 6-digit codes down to county, 9 for township, 12 for village."""

    COUNTRY = "country", _("Country")
    PROVINCE = "province", _("Province")
    CITY = "city", _("City (prefecture)")
    COUNTY = "county", _("County / district")
    TOWNSHIP = "township", _("Township")
    VILLAGE = "village", _("Village")


# Depth of each level in the tree; a child is always exactly one level deeper than its parent
# except where a municipality skips the city level (e.g. 天津市 → 津南区).
LEVEL_DEPTH = {
    RegionLevel.COUNTRY: 0,
    RegionLevel.PROVINCE: 1,
    RegionLevel.CITY: 2,
    RegionLevel.COUNTY: 3,
    RegionLevel.TOWNSHIP: 4,
    RegionLevel.VILLAGE: 5,
}

# Length of a real GB/T 2260 (or statistical) code at each level.
LEVEL_CODE_LENGTH = {
    RegionLevel.PROVINCE: 6,
    RegionLevel.CITY: 6,
    RegionLevel.COUNTY: 6,
    RegionLevel.TOWNSHIP: 9,
    RegionLevel.VILLAGE: 12,
}
