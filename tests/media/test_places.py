"""Where a photo was taken: GPS read from EXIF (and XMP) written by Pillow into real photos,
every hemisphere, and GPS that is missing or broken (no position, a reason, no crash); the
reverse geocoding of known places; ``near`` values parsed, or refused by name."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, TiffImagePlugin

from sensorium.errors import NotFoundError, UsageError
from sensorium.media.metadata import PhotoMeta, photo_meta
from sensorium.media.places import Gazetteer, gazetteer, haversine_km
from sensorium.search.near import MAX_KM, MAX_NEAR, NEAR_KM, NEAR_PATTERN, parse_near

GPS = 0x8825


def dms(degrees: float) -> tuple[TiffImagePlugin.IFDRational, ...]:
    """Unsigned degrees as EXIF writes them: degrees, minutes, seconds (1/100 s)."""
    d = abs(degrees)
    minutes = (d - int(d)) * 60
    seconds = round((minutes - int(minutes)) * 60 * 100)
    R = TiffImagePlugin.IFDRational
    return R(int(d), 1), R(int(minutes), 1), R(seconds, 100)


def with_gps(photo: Path, out: Path, gps: dict[int, object]) -> Path:
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Apple", "iPhone 12"
    exif[GPS] = gps
    Image.open(photo).save(out, exif=exif)
    return out


def at(lat: float, lon: float) -> dict[int, object]:
    return {1: "N" if lat >= 0 else "S", 2: dms(lat), 3: "E" if lon >= 0 else "W", 4: dms(lon)}


@pytest.mark.parametrize(
    ("lat", "lon"),
    [(48.8584, 2.2945), (-33.8568, 151.2153), (40.6892, -74.0445), (-22.9519, -43.2105)],
)
def test_gps_in_every_hemisphere(
    tmp_path: Path, photos: dict[str, Path], lat: float, lon: float
) -> None:
    meta = photo_meta(with_gps(photos["chelsea"], tmp_path / "cat.jpg", at(lat, lon)))
    assert meta.camera == "Apple iPhone 12" and not meta.gps_problem
    assert meta.latitude is not None and meta.longitude is not None
    # 1/100 s of arc is 0.3 m: what EXIF keeps
    assert abs(meta.latitude - lat) < 1e-5 and abs(meta.longitude - lon) < 1e-5


def test_missing_and_broken_gps_leave_no_position(tmp_path: Path, photos: dict[str, Path]) -> None:
    assert photo_meta(photos["coffee"]) == PhotoMeta()  # no EXIF at all
    R = TiffImagePlugin.IFDRational
    broken = {
        "zero denominator": {**at(48.8, 2.3), 2: (R(48, 0), R(1, 1), R(0, 1))},
        "no hemisphere": {2: dms(48.8), 4: dms(2.3)},
        "out of range": {**at(48.8, 2.3), 2: (R(95, 1), R(0, 1), R(0, 1))},
        "no fix": at(0.0, 0.0),
        "void": {**at(48.8, 2.3), 9: "V"},
        "minutes past 60": {**at(48.8, 2.3), 4: (R(2, 1), R(75, 1), R(0, 1))},
    }
    for name, gps in broken.items():
        meta = photo_meta(with_gps(photos["chelsea"], tmp_path / "x.jpg", gps))
        assert meta.latitude is None and meta.longitude is None, name
        assert meta.gps_problem.startswith(("GPS", "XMP GPS")), name
        assert meta.camera == "Apple iPhone 12", name  # the rest of the EXIF is still read
    only_version = photo_meta(with_gps(photos["chelsea"], tmp_path / "v.jpg", {0: b"\2\2\0\0"}))
    assert only_version.latitude is None and only_version.gps_problem == ""


def test_gps_from_xmp(tmp_path: Path, photos: dict[str, Path]) -> None:
    packet = (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
        b'xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="33,52.0N" '
        b'exif:GPSLongitude="151,12,55.08W"/></rdf:RDF></x:xmpmeta>'
    )
    Image.open(photos["chelsea"]).save(tmp_path / "x.jpg", xmp=packet)
    meta = photo_meta(tmp_path / "x.jpg")
    assert meta.latitude is not None and meta.longitude is not None
    assert abs(meta.latitude - (33 + 52 / 60)) < 1e-9
    assert abs(meta.longitude + (151 + 12 / 60 + 55.08 / 3600)) < 1e-9
    Image.open(photos["chelsea"]).save(tmp_path / "y.jpg", xmp=packet.replace(b"52.0N", b"52.0"))
    bad = photo_meta(tmp_path / "y.jpg")
    assert bad.latitude is None and "GPS" in bad.gps_problem


@pytest.mark.parametrize(
    ("lat", "lon", "city", "country"),
    [
        (48.8584, 2.2945, "Paris", "France"),  # the Eiffel Tower
        (40.7580, -73.9855, "New York City", "United States"),  # Times Square: a district
        (-33.8568, 151.2153, "Sydney", "Australia"),  # the Opera House
        (35.5308, 139.7029, "Kawasaki", "Japan"),  # 19 km from Tokyo's point: its own city
        (48.8049, 2.1204, "Versailles", "France"),  # 17 km from Paris: its own town
        (-34.6037, -58.3816, "Buenos Aires", "Argentina"),
    ],
)
def test_reverse_geocode_known_places(lat: float, lon: float, city: str, country: str) -> None:
    place = gazetteer().reverse(lat, lon)
    assert (place.city, place.country) == (city, country)
    assert city in place.words() and country in place.words()


def test_nearest_is_the_great_circle_nearest() -> None:
    """The tree over unit vectors agrees with a brute-force haversine over the same list,
    where a tree over degrees does not (high latitudes, the antimeridian)."""
    g = gazetteer()
    rng = np.random.default_rng(0)
    lat, lon = rng.uniform(-70, 75, 300), rng.uniform(-180, 180, 300)
    want = [int(np.argmin(haversine_km(g.lat, g.lon, a, b))) for a, b in zip(lat, lon)]
    found = g.nearest(lat, lon)
    km = [haversine_km(g.lat[[w, f]], g.lon[[w, f]], a, b) for w, f, a, b in
          zip(want, found, lat, lon)]  # fmt: skip
    assert all(abs(d[0] - d[1]) < 1e-9 for d in km)  # the same place, or one as near


def test_find_by_name() -> None:
    g = gazetteer()
    assert g.find("paris")[0].country == "France"
    assert g.find("Paris", "Texas")[0].region == "Texas"
    assert g.find("Paris", "US")[0].country_code == "US"
    assert g.find("New York")[0].city == "New York City"  # whole words that go on
    assert g.find("zurich")[0].city == "Zürich"  # accents aside
    assert g.find("no such place anywhere") == []


def test_parse_near() -> None:
    paris = parse_near("Paris")
    assert paris.km == NEAR_KM and paris.place.startswith("Paris, Île-de-France")
    assert "most populous" in paris.note
    assert parse_near("Paris, Texas, 5km").place == "Paris, Texas, United States"
    assert parse_near("Paris, 5km").km == 5.0
    point = parse_near("48.85,2.35,10km")
    assert (point.latitude, point.longitude, point.km, point.place) == (48.85, 2.35, 10.0, "")
    assert parse_near("-33.86, 151.21").km == NEAR_KM
    assert parse_near("-33.86,151.21,500m").km == 0.5
    assert parse_near("1,2,3").km == 3.0  # a bare radius is km
    assert abs(parse_near("51.5,-0.12,1mi").km - 1.609344) < 1e-9
    assert parse_near("48,2,0km").km == 0.0 and parse_near("48,2,99999km").km == MAX_KM
    for bad in ["", "91,0", "0,181", "48,2,-5", "48,2,-5km", "48,2,x", "Paris,,", "48.85,",
                "Paris, 48", "48.85, 10km", "x" * (MAX_NEAR + 1)]:  # fmt: skip
        with pytest.raises(UsageError, match="near"):
            parse_near(bad)
    with pytest.raises(NotFoundError, match="no place called 'Atlantis of the deep'"):
        parse_near("Atlantis of the deep")


@settings(max_examples=300, deadline=None)
@given(st.from_regex(NEAR_PATTERN, fullmatch=True).filter(lambda v: len(v) <= 200))
def test_what_the_pattern_admits_is_parsed_or_no_place(value: str) -> None:
    """The API's schema says ``NEAR_PATTERN``: a value it admits never gets a 400."""
    try:
        near = parse_near(value)
    except NotFoundError:
        return
    assert 0.0 <= near.km <= MAX_KM


def test_unreadable_data_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "geocode.gz").write_bytes(b"not gzip")
    with pytest.raises(Exception, match="places data is unreadable"):
        Gazetteer(tmp_path)
