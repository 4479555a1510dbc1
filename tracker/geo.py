"""Positions on the Earth: great-circle distance, the GCJ-02 datum Chinese map apps report, and the
geofence test of a located check-in (定位打卡签到).

A core module, not an app's: training vouchers check a trainee's position against a course site, and
public-welfare posts can check a holder's attendance against a post's site with the same code. It
imports nothing from the project.

Datums. GPS receivers and most of the world's maps give WGS-84. Maps published in mainland China
(AMap/高德, Tencent, and the coordinates their SDKs hand to apps) must use GCJ-02, WGS-84 moved by a
published, deterministic obfuscation of a few hundred metres. Mixing the two puts a trainee who is
standing at the site 300-600 m away from it, so every position is converted to WGS-84 before any
distance is measured, and stored beside the reported one. The forward formula (WGS-84 -> GCJ-02) is
the one every open implementation agrees on (Krasovsky 1940 ellipsoid constants); the inverse has no
closed form and is solved by fixed-point iteration to well under a centimetre. Outside China's rough
bounding box GCJ-02 equals WGS-84, as the apps behave.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

# Mean radius of the Earth (IUGG R1, metres): the sphere's error against the ellipsoid is under 0.5%
# of the distance, a few metres at a 500 m geofence, which the GPS accuracy margin covers anyway.
EARTH_RADIUS_M = 6_371_008.8

# GCJ-02 constants: the Krasovsky 1940 ellipsoid's semi-major axis and first eccentricity squared.
_GCJ_A = 6_378_245.0
_GCJ_EE = 0.006_693_421_622_965_943_23
# Where the apps apply GCJ-02 (a rough box around mainland China; outside it they report WGS-84).
_CHINA_LAT = (0.8293, 55.8271)
_CHINA_LON = (72.004, 137.8347)


class Datum(StrEnum):
    WGS84 = "wgs84"
    GCJ02 = "gcj02"


@dataclass(frozen=True)
class Point:
    """A position in decimal degrees, WGS-84 unless said otherwise."""

    latitude: float
    longitude: float


def valid_coordinates(latitude: object, longitude: object) -> bool:
    """Finite numbers (float, int or Decimal; not booleans) within -90..90 and -180..180: NaN and
    infinities are not positions."""
    try:
        if isinstance(latitude, bool) or isinstance(longitude, bool):
            return False
        lat, lon = float(latitude), float(longitude)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return False
    return math.isfinite(lat) and math.isfinite(lon) and -90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0


def distance_m(a: Point, b: Point) -> float:
    """Great-circle distance in metres (haversine, which stays exact for the short distances of a
    geofence where the spherical law of cosines loses precision)."""
    phi1, phi2 = math.radians(a.latitude), math.radians(b.latitude)
    dphi = phi2 - phi1
    dlambda = math.radians(b.longitude - a.longitude)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def destination(start: Point, bearing_deg: float, meters: float) -> Point:
    """The point `meters` away from `start` along the initial bearing (degrees clockwise from north),
    on the same sphere as distance_m (so a point made here lies at exactly that distance)."""
    delta = meters / EARTH_RADIUS_M
    theta = math.radians(bearing_deg)
    phi1, lambda1 = math.radians(start.latitude), math.radians(start.longitude)
    phi2 = math.asin(math.sin(phi1) * math.cos(delta) + math.cos(phi1) * math.sin(delta) * math.cos(theta))
    lambda2 = lambda1 + math.atan2(
        math.sin(theta) * math.sin(delta) * math.cos(phi1), math.cos(delta) - math.sin(phi1) * math.sin(phi2)
    )
    return Point(math.degrees(phi2), (math.degrees(lambda2) + 540.0) % 360.0 - 180.0)


def in_china(point: Point) -> bool:
    return (
        _CHINA_LAT[0] <= point.latitude <= _CHINA_LAT[1] and _CHINA_LON[0] <= point.longitude <= _CHINA_LON[1]
    )


def _gcj_offset(point: Point) -> tuple[float, float]:
    """The GCJ-02 shift (degrees of latitude, longitude) at a WGS-84 position."""
    x = point.longitude - 105.0
    y = point.latitude - 35.0
    wave = 20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    dlat += (wave + 20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    dlat += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    dlon += (wave + 20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    dlon += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    rad_lat = math.radians(point.latitude)
    magic = 1 - _GCJ_EE * math.sin(rad_lat) ** 2
    sqrt_magic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_GCJ_A * (1 - _GCJ_EE)) / (magic * sqrt_magic) * math.pi)
    dlon = (dlon * 180.0) / (_GCJ_A / sqrt_magic * math.cos(rad_lat) * math.pi)
    return dlat, dlon


def wgs84_to_gcj02(point: Point) -> Point:
    if not in_china(point):
        return point
    dlat, dlon = _gcj_offset(point)
    return Point(point.latitude + dlat, point.longitude + dlon)


def gcj02_to_wgs84(point: Point, *, tolerance_deg: float = 1e-10, max_steps: int = 20) -> Point:
    """The WGS-84 position whose GCJ-02 image is `point`: iterate wgs = gcj - offset(wgs), which
    converges because the offset changes by well under a metre per hundred metres moved."""
    if not in_china(point):
        return point
    guess = point
    for _ in range(max_steps):
        dlat, dlon = _gcj_offset(guess)
        nxt = Point(point.latitude - dlat, point.longitude - dlon)
        if (
            abs(nxt.latitude - guess.latitude) < tolerance_deg
            and abs(nxt.longitude - guess.longitude) < tolerance_deg
        ):
            return nxt
        guess = nxt
    return guess


def to_wgs84(point: Point, datum: str) -> Point:
    """A reported position in `datum` as WGS-84."""
    if datum == Datum.GCJ02:
        return gcj02_to_wgs84(point)
    if datum == Datum.WGS84:
        return point
    raise ValueError(f"unknown datum {datum!r}")


# Accuracy counted in a trainee's favour is capped: a phone reporting ±2 km has not located anyone.
MAX_ACCURACY_ALLOWANCE_M = 100.0


@dataclass(frozen=True)
class FenceResult:
    inside: bool
    distance_m: float
    allowed_m: float


def within_geofence(
    position: Point, site: Point, *, radius_m: float, accuracy_m: float | None = None
) -> FenceResult:
    """Whether a (WGS-84) position is at the (WGS-84) site: the great-circle distance is at most the
    radius plus the reported accuracy, the accuracy counted up to MAX_ACCURACY_ALLOWANCE_M (a
    position known to ±30 m 520 m from the site may well be within a 500 m fence; one known to
    ±2 km tells nothing)."""
    allowance = min(max(accuracy_m or 0.0, 0.0), MAX_ACCURACY_ALLOWANCE_M)
    allowed = radius_m + allowance
    distance = distance_m(position, site)
    return FenceResult(inside=distance <= allowed, distance_m=distance, allowed_m=allowed)


__all__ = [
    "EARTH_RADIUS_M",
    "MAX_ACCURACY_ALLOWANCE_M",
    "Datum",
    "FenceResult",
    "Point",
    "destination",
    "distance_m",
    "gcj02_to_wgs84",
    "in_china",
    "to_wgs84",
    "valid_coordinates",
    "wgs84_to_gcj02",
    "within_geofence",
]
