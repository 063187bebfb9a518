"""``near:``: a place name or a point, and a radius, into the filter ``Filter(near=...)``.

    "Paris"                  the most populous place called so (GeoNames), 25 km around it
    "Paris, Texas"           a place in that region or country (its name or ISO code: "US")
    "Paris, 10km"            with a radius: km, m or mi
    "48.85,2.35"             a point, latitude and longitude in degrees (south, west negative)
    "48.85,2.35,10km"        a point and a radius (a bare number: km)

Names are looked up in the same GeoNames places that name where photos were taken
(``media/places.py``), so ``near:Paris`` and a search for "paris" find the same photos. A
value that is none of these is a ``UsageError`` naming it; a name that is no known place, a
``NotFoundError``. ``NEAR_PATTERN`` is the same grammar as a regular expression (the API's
schema): every value it admits is parsed, or is no known place (tested).
"""

from __future__ import annotations

import functools
import re

from sensorium.errors import NotFoundError, UsageError
from sensorium.media.places import check_point, gazetteer, haversine_km
from sensorium.search.explain import Nearness
from sensorium.store.base import Near
from sensorium.store.records import Item

__all__ = ["MAX_KM", "NEAR_KM", "NEAR_PATTERN", "explain_near", "parse_near"]

NEAR_KM = 25.0  # the radius of a ``near:`` that names none
_UNITS = {"km": 1.0, "m": 0.001, "mi": 1.609344}
# ASCII digits only: Python's \d also takes other scripts' digits, which float() reads
_RADIUS = re.compile(r"([0-9]+(?:\.[0-9]+)?|\.[0-9]+)\s*(km|m|mi)", re.IGNORECASE)
_NUMBER = re.compile(r"[-+]?([0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
MAX_NEAR = 1000  # characters of a near value: a query string's (syntax.MAX_QUERY), which a
# near: token lies in; the API's near parameter is bounded at 200 by its schema
MAX_KM = 20_040.0  # half the Earth's circumference: a larger radius is everywhere all the same

# The grammar as a pattern, in literal characters (Python's re and ECMA engines read it alike)
_SPACES = "".join(ch for ch in map(chr, range(0x3001)) if ch.isspace())  # what strip() strips
_LAT = r"[-+]?(?:90(?:\.0*)?|[0-8]?[0-9](?:\.[0-9]*)?)"
_LON = r"[-+]?(?:180(?:\.0*)?|(?:1[0-7][0-9]|0?[0-9]?[0-9])(?:\.[0-9]*)?)"
_KM = r"[0-9]{1,6}(?:\.[0-9]+)? *(?:[kK][mM]|[mM][iI]|[mM])?"
_NAME = f"[^,]*[^,0-9.+{_SPACES}-][^,]*"  # a part that is not a number: a name, a radius
NEAR_PATTERN = f"^(?: *{_LAT} *, *{_LON} *(?:, *{_KM} *)?|{_NAME}(?:,{_NAME})*)$"


def _number(text: str) -> float | None:
    return float(text) if _NUMBER.fullmatch(text) else None


@functools.lru_cache(maxsize=256)
def parse_near(value: str) -> Near:
    """A ``near`` value (module docstring) -> the filter's ``Near``. A ``UsageError`` names
    a value that is none of those, a ``NotFoundError`` one that names no known place."""
    what = f"near {value!r}"
    parts = [p.strip() for p in value[: MAX_NEAR + 1].split(",")]
    if len(value) > MAX_NEAR or not any(parts):
        raise UsageError(f"{what}: give a place (Paris) or a point (48.85,2.35,10km)")
    km = NEAR_KM
    numbers = [_number(p) for p in parts]
    if len(parts) == 3 and None not in numbers:  # 48.85,2.35,10: a bare radius is km
        km = float(numbers.pop() or 0.0)
        parts.pop()
    elif len(parts) > 1 and (m := _RADIUS.fullmatch(parts[-1])):
        km = float(m.group(1)) * _UNITS[m.group(2).lower()]
        parts.pop()
        numbers.pop()
    km = min(km, MAX_KM)
    if len(parts) == 2 and None not in numbers:
        lat, lon = float(numbers[0] or 0.0), float(numbers[1] or 0.0)
        check_point(lat, lon, what)
        return Near(lat, lon, km)
    if any(n is not None for n in numbers) or not all(parts):
        raise UsageError(f"{what}: give a place (Paris, Texas) or a point (48.85,2.35,10km)")
    name, within = parts[0], " ".join(parts[1:])
    found = gazetteer().find(name, within)
    if not found:
        where = f" in {within}" if within else ""
        raise NotFoundError(f"{what}: no place called {name!r}{where} (GeoNames: 1,000 people up)")
    best = found[0]
    called = f"called {name!r}" + (f" in {within}" if within else "")
    note = (f"the most populous of {len(found)} places {called}" if len(found) > 1
            else f"the one place {called}")  # fmt: skip
    return Near(best.latitude, best.longitude, km, best.label, note)


def explain_near(near: Near, item: Item) -> Nearness:
    """How far from the ``near`` point an item was taken, and which point that is: a place
    given by name says which of the places so called it is."""
    km = None
    if item.latitude is not None and item.longitude is not None:
        km = round(float(haversine_km(item.latitude, item.longitude, near.latitude,
                                      near.longitude)), 2)  # fmt: skip
    if near.place:
        return Nearness(near.km, km, place=near.place, chosen=near.note)
    return Nearness(near.km, km, point=(near.latitude, near.longitude))
