"""Places searched: photos with GPS written by Pillow are ingested with their place (words in
the keyword index), ``near`` keeps every photo within the radius and none outside (the
store's SQL and the serving index's mask alike), a v5 collection opens as v6 with nothing
lost, and the CLI's ``--near``, ``show`` and the API's ``near`` work end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import lancedb
import numpy as np
import pyarrow as pa
import pytest
from tests.media.test_places import at, with_gps

from sensorium.collection import Collection
from sensorium.encoders import TextEncoder
from sensorium.media.places import destination, haversine_km
from sensorium.search.near import parse_near
from sensorium.search.vectors import VectorIndex
from sensorium.store import Item, LanceStore
from sensorium.store.base import Filter, Near
from sensorium.store.lance import ITEMS, SCHEMA_VERSION, V6_FIELDS, _to_row

EIFFEL, VERSAILLES, OPERA = (48.8584, 2.2945), (48.8049, 2.1204), (-33.8568, 151.2153)




@pytest.fixture(scope="module")
def vectors() -> np.ndarray:
    words = ["a cat", "coffee", "a rocket", "the sea", "a tower", "a garden", "a bridge",
             "a harbour", "a market", "a church", "a square", "a park", "a road"]  # fmt: skip
    return TextEncoder().encode(words)  # (13, 384), real


def _item(i: int, vector: np.ndarray, lat: float | None, lon: float | None) -> Item:
    return Item(id=str(i), path=f"/p/{i}.jpg", sha256="", size=0, mtime=0.0, kind="image",
                vector=vector, latitude=lat, longitude=lon)  # fmt: skip


@pytest.mark.parametrize("center", [(48.8566, 2.3522), (-33.86, 151.21), (64.15, -21.94),
                                    (0.5, 179.9)])  # fmt: skip
def test_near_keeps_inside_and_drops_outside(
    tmp_path: Path, vectors: np.ndarray, center: tuple[float, float]
) -> None:
    """Points 24.9 km and 25.1 km away on every side (Reykjavik's high latitude, across the
    antimeridian), and photos with no position: the store's SQL and the serving mask keep
    exactly the inside ones."""
    items, inside = [], set()
    for bearing in range(0, 360, 60):
        for km in (24.9, 25.1):
            lat, lon = destination(*center, km, bearing)
            items.append(_item(len(items), vectors[len(items) % 13], lat, lon))
            if km < 25:
                inside.add(items[-1].id)
    items.append(_item(len(items), vectors[0], None, None))
    store = LanceStore(tmp_path / "db")
    store.upsert(items)
    near = Filter(near=Near(*center, 25.0))
    sql = {i.id for i, _ in store.search(vectors[3], 100, near)}
    assert sql == inside
    served = {i.id for i, _ in VectorIndex(store).search(vectors[3], 100, near)}
    assert served == inside
    got = store.get("0")
    assert got is not None and got.latitude == items[0].latitude
    assert store.get(str(len(items) - 1)).latitude is None  # type: ignore[union-attr]


def test_sql_and_mask_agree_with_haversine(tmp_path: Path) -> None:
    """2,000 random points, one in 50 unknown: LanceDB's SQL, the serving mask and a plain
    haversine select the same rows."""
    rng = np.random.default_rng(1)
    lat, lon = rng.uniform(-89, 89, 2000), rng.uniform(-180, 180, 2000)
    lat[::50] = np.nan
    near = Filter(near=Near(40.0, -3.7, 3000.0))
    with np.errstate(invalid="ignore"):
        want = np.flatnonzero(haversine_km(lat, lon, 40.0, -3.7) <= 3000.0)
    columns = {"kind": pa.array(["image"] * 2000),
               "latitude": pa.array(lat, from_pandas=True), "longitude": pa.array(lon)}  # fmt: skip
    assert np.flatnonzero(near.mask(columns)).tolist() == want.tolist()
    table = pa.table({"i": np.arange(2000), "latitude": columns["latitude"], "longitude": lon})
    rows = lancedb.connect(str(tmp_path)).create_table("t", table).to_lance()
    selected = rows.to_table(filter=near.sql()).column("i").to_pylist()
    assert sorted(selected) == want.tolist() and len(want) > 50


def test_v5_collection_opens_as_v6_with_nothing_lost(tmp_path: Path, vectors: np.ndarray) -> None:
    """A v5 collection (keywords and caption, no GPS) gains the GPS and place columns, empty,
    in one commit; every value it held is the same, its keyword search still works, and a
    photo stored after holds its place."""
    v5 = pa.schema([f for f in ITEMS if f.name not in {g.name for g in V6_FIELDS}])
    folder = tmp_path / "v5"
    folder.mkdir()
    (folder / "sensorium.json").write_text(json.dumps({"schema_version": 5}))
    old = [_item(i, v, None, None) for i, v in enumerate(vectors[:6])]
    for i, item in enumerate(old):
        item.keywords, item.caption = [f"trip {i}", "Brittany"], f"harbour at dawn {i}"
    rows = [{k: v for k, v in _to_row(i).items() if k in v5.names} for i in old]
    table = lancedb.connect(str(folder)).create_table("items", schema=v5)
    table.add(pa.Table.from_pylist(rows, schema=v5))
    before = lancedb.connect(str(folder)).open_table("items").to_arrow().sort_by("id")
    store = LanceStore(folder)
    assert json.loads((folder / "sensorium.json").read_text())["schema_version"] == SCHEMA_VERSION
    after = store.items.to_arrow().sort_by("id")
    assert after.select(before.column_names).equals(before)  # every value, as it was
    assert after.column("latitude").null_count == len(old) == store.count()
    assert {f.name for f in V6_FIELDS} <= set(after.column_names)
    item = store.get("2")
    assert item is not None and item.keywords == ["trip 2", "Brittany"] and item.place == {}
    store.maintain()
    assert [i.id for i, _ in store.keyword("dawn 3", 1)] == ["3"]
    new = _item(9, vectors[7], *EIFFEL)
    new.place = {"city": "Paris", "country": "France"}
    store.upsert([new])
    assert [i.id for i, _ in store.search(vectors[7], 5, Filter(near=parse_near("Paris")))] == ["9"]
    assert store.get("9").place == {"city": "Paris", "country": "France"}  # type: ignore[union-attr]
    assert LanceStore(folder).count() == 7  # opened again: no second migration


# -- a real library, ingested --------------------------------------------------------------


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory, photos: dict[str, Path]) -> Path:
    root = tmp_path_factory.mktemp("trips")
    with_gps(photos["chelsea"], root / "eiffel.jpg", at(*EIFFEL))
    with_gps(photos["coffee"], root / "versailles.jpg", at(*VERSAILLES))
    with_gps(photos["astronaut"], root / "opera.jpg", at(*OPERA))
    with_gps(photos["rocket"], root / "nofix.jpg", at(0.0, 0.0))  # a phone without a fix
    (root / "plain.jpg").write_bytes(photos["rocket"].read_bytes())  # no EXIF
    return root


@pytest.fixture(scope="module")
def trips(tmp_path_factory: pytest.TempPathFactory, library: Path) -> Collection:
    coll = Collection(tmp_path_factory.mktemp("db"))
    report = coll.ingest([library])
    assert report.added == 5 and not report.failed
    nofix = (str(library / "nofix.jpg"), "GPS at 0, 0 (a receiver without a fix)")
    assert report.warnings == [nofix]  # stored, with the reason it has no place
    return coll


def _names(hits: list) -> set[str]:  # type: ignore[type-arg]
    return {Path(h.item.path).name for h in hits}


def test_places_are_stored_and_found_by_word(trips: Collection, library: Path) -> None:
    eiffel = trips.item(str(library / "eiffel.jpg"))
    assert eiffel.place["city"] == "Paris" and eiffel.place["country"] == "France"
    assert eiffel.latitude is not None and abs(eiffel.latitude - EIFFEL[0]) < 1e-5
    assert {"Paris", "Île-de-France", "France"} <= set(eiffel.keywords)
    assert trips.item(str(library / "opera.jpg")).place["city"] == "Sydney"
    nofix = trips.item(str(library / "nofix.jpg"))
    assert nofix.latitude is None and nofix.place == {}
    first = trips.search("paris", k=1)[0]
    assert Path(first.item.path).name == "eiffel.jpg"
    assert first.to_json()["place"]["label"] == "Paris, Île-de-France, France"
    assert _names(trips.search("sydney", k=1)) == {"opera.jpg"}
    assert _names(trips.search("photo", k=10, filters=Filter(keyword="france"))) == {
        "eiffel.jpg", "versailles.jpg"}  # fmt: skip


@pytest.mark.parametrize("served", [False, True])
def test_near_by_name_and_point(trips: Collection, served: bool) -> None:
    c = trips.serve() if served else trips

    def near(value: str) -> set[str]:
        return _names(c.search("a photo", k=10, filters=Filter(near=parse_near(value))))

    assert near("Paris") == {"eiffel.jpg", "versailles.jpg"}  # Versailles: 17 km
    assert near("Paris, 10km") == {"eiffel.jpg"}
    assert near("Sydney") == {"opera.jpg"}
    assert near("-33.8568,151.2153,1km") == {"opera.jpg"}
    assert near("0,0,100km") == set()  # "no fix" is no place
    hit = c.search("a photo", k=1, filters=Filter(near=parse_near("Paris, 10km")))[0]
    explained = hit.explanation.near
    assert explained is not None and explained.place == "Paris, Île-de-France, France"
    assert explained.km is not None and explained.km < 10
    assert explained.chosen is not None and "most populous" in explained.chosen


def _run(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sensorium", *map(str, args)],
                          capture_output=True, text=True, timeout=600)  # fmt: skip


def test_cli_search_near_and_show(trips: Collection, library: Path) -> None:
    db = trips.folder
    found = _run("search", "a photo", "--near", "Paris, 10km", "--db", db, "--json")
    assert found.returncode == 0, found.stderr
    hits = [json.loads(line) for line in found.stdout.splitlines()]
    assert [Path(h["path"]).name for h in hits] == ["eiffel.jpg"]
    assert hits[0]["place"]["city"] == "Paris"
    shown = _run("show", library / "eiffel.jpg", "--db", db)
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert data["place"]["country"] == "France" and abs(data["longitude"] - EIFFEL[1]) < 1e-5
    bad = _run("search", "a photo", "--near", "91,0", "--db", db)
    assert bad.returncode == 2 and "near '91,0'" in bad.stderr and "Traceback" not in bad.stderr
    unknown = _run("search", "a photo", "--near", "Atlantis of the deep", "--db", db)
    assert unknown.returncode == 1 and "no place called" in unknown.stderr


def test_api_near(trips: Collection, library: Path) -> None:
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from sensorium.service import ServiceConfig, create_app

    app = create_app(ServiceConfig(trips.folder, (library,), 2, None), trips)
    with TestClient(app, raise_server_exceptions=False) as client:
        got = client.get("/api/search", params={"q": "a photo", "near": "Paris"})
        assert got.status_code == 200, got.text
        results = got.json()["results"]
        assert {Path(r["path"]).name for r in results} == {"eiffel.jpg", "versailles.jpg"}
        assert all(r["place"]["country"] == "France" for r in results)
        posted = client.post("/api/search", data={"q": "a photo", "near": "48.8584,2.2945,1km"})
        assert posted.status_code == 200, posted.text
        assert [Path(r["path"]).name for r in posted.json()["results"]] == ["eiffel.jpg"]
        item = client.get(f"/api/items/{results[0]['id']}").json()
        assert item["place"]["city"] in ("Paris", "Versailles") and item["latitude"] > 48
        unknown = client.get("/api/search", params={"q": "a photo", "near": "Atlantis of the deep"})
        assert unknown.status_code == 404 and "no place called" in unknown.json()["detail"]
        bad = client.get("/api/search", params={"q": "a photo", "near": "91,0"})
        assert bad.status_code == 422 and bad.json()["field"].endswith("near")
