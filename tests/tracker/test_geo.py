"""tracker.geo: great-circle distance, WGS-84 <-> GCJ-02 against published coordinate pairs, the
geofence at its edges, and what is not a position."""

from __future__ import annotations

import math

import pytest

from tracker.geo import (
    MAX_ACCURACY_ALLOWANCE_M,
    Point,
    destination,
    distance_m,
    gcj02_to_wgs84,
    to_wgs84,
    valid_coordinates,
    wgs84_to_gcj02,
    within_geofence,
)

# (WGS-84 lat, lon) -> (GCJ-02 lat, lon): the test vectors of two independent open implementations,
# googollee/eviltransform (Shanghai, Shenzhen, Beijing) and wandergis/coordtransform (Tiananmen).
KNOWN_PAIRS = [
    ((31.1774276, 121.5272106), (31.17530398364597, 121.531541859215)),
    ((22.543847, 113.912316), (22.540796131694766, 113.9171764808363)),
    ((39.911954, 116.377817), (39.91334545536069, 116.38404722455657)),
    ((39.915, 116.404), (39.91640428150164, 116.41024449916938)),
]


def test_one_degree_of_longitude_on_the_equator():
    # 2πR / 360 with the IUGG mean radius 6,371,008.8 m.
    assert distance_m(Point(0, 0), Point(0, 1)) == pytest.approx(111_195.08, abs=0.01)


def test_known_city_distance():
    # Shanghai People's Square to Beijing Tiananmen: about 1,067 km on the sphere.
    assert distance_m(Point(31.2304, 121.4737), Point(39.9087, 116.3975)) == pytest.approx(
        1_067_000, rel=0.005
    )


def test_distance_is_symmetric_and_zero_at_a_point():
    a, b = Point(27.6229, 113.8543), Point(27.63, 113.86)
    assert distance_m(a, b) == pytest.approx(distance_m(b, a))
    assert distance_m(a, a) == 0


@pytest.mark.parametrize("meters", [1, 499, 500, 501, 10_000])
@pytest.mark.parametrize("bearing", [0, 45, 90, 180, 271])
def test_destination_lies_at_its_distance(meters, bearing):
    start = Point(40.7686, 114.895)
    assert distance_m(start, destination(start, bearing, meters)) == pytest.approx(meters, abs=1e-6)


@pytest.mark.parametrize(("wgs", "gcj"), KNOWN_PAIRS)
def test_wgs84_to_gcj02_matches_published_pairs(wgs, gcj):
    converted = wgs84_to_gcj02(Point(*wgs))
    assert converted.latitude == pytest.approx(gcj[0], abs=1e-6)
    assert converted.longitude == pytest.approx(gcj[1], abs=1e-6)


@pytest.mark.parametrize(("wgs", "gcj"), KNOWN_PAIRS)
def test_gcj02_to_wgs84_inverts_to_within_a_centimetre(wgs, gcj):
    back = gcj02_to_wgs84(Point(*gcj))
    assert distance_m(back, Point(*wgs)) < 0.01
    assert to_wgs84(Point(*gcj), "gcj02") == back
    assert to_wgs84(Point(*wgs), "wgs84") == Point(*wgs)


def test_the_gcj02_shift_is_hundreds_of_metres_in_china_and_nothing_outside():
    shanghai = Point(31.2304, 121.4737)
    assert 300 < distance_m(shanghai, wgs84_to_gcj02(shanghai)) < 700
    paris = Point(48.8566, 2.3522)
    assert wgs84_to_gcj02(paris) == paris
    assert gcj02_to_wgs84(paris) == paris


def test_unknown_datum_is_refused():
    with pytest.raises(ValueError):
        to_wgs84(Point(0, 0), "bd09")


def test_geofence_at_the_radius_plus_and_minus_one_metre():
    site = Point(27.6229, 113.8543)
    inside = destination(site, 30, 499)
    edge = destination(site, 30, 500 - 1e-6)
    outside = destination(site, 30, 501)
    assert within_geofence(inside, site, radius_m=500).inside
    assert within_geofence(edge, site, radius_m=500).inside
    assert not within_geofence(outside, site, radius_m=500).inside


def test_accuracy_widens_the_fence_up_to_100_metres():
    site = Point(27.6229, 113.8543)
    at_530 = destination(site, 200, 530)
    assert not within_geofence(at_530, site, radius_m=500, accuracy_m=29).inside
    assert within_geofence(at_530, site, radius_m=500, accuracy_m=31).inside
    at_601 = destination(site, 200, 601)
    result = within_geofence(at_601, site, radius_m=500, accuracy_m=2000)
    assert not result.inside
    assert result.allowed_m == 500 + MAX_ACCURACY_ALLOWANCE_M
    assert within_geofence(destination(site, 200, 599), site, radius_m=500, accuracy_m=2000).inside
    # A negative accuracy counts as none.
    assert not within_geofence(destination(site, 0, 501), site, radius_m=500, accuracy_m=-50).inside


@pytest.mark.parametrize(
    ("lat", "lon", "ok"),
    [
        (0, 0, True),
        (90, 180, True),
        (-90, -180, True),
        (90.0000001, 0, False),
        (0, 180.0001, False),
        (math.nan, 0, False),
        (0, math.inf, False),
        (True, 0, False),
        ("31.2", "121.4", True),
        ("abc", 0, False),
        (None, 0, False),
    ],
)
def test_valid_coordinates(lat, lon, ok):
    assert valid_coordinates(lat, lon) is ok
