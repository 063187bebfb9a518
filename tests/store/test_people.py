"""People in a collection: the setting (off by default, kept in sensorium.json), faces and
persons stored by ingest from real photos of named people, incremental clustering, name,
merge, split, forget, and a kill between the faces' commit and the items' that loses and
doubles nothing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("dlib")

from sensorium.collection import Collection
from sensorium.errors import NotFoundError
from sensorium.eval.datasets import named_faces
from sensorium.store.people import assign


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """The named photos in one folder: file name -> who."""
    folder = tmp_path_factory.mktemp("named")
    who = {}
    for path, name in named_faces().items():
        shutil.copy(path, folder / path.name)
        who[path.name] = name
    return folder, who


@pytest.fixture(scope="module")
def collection(library: tuple[Path, dict[str, str]],
               tmp_path_factory: pytest.TempPathFactory) -> Collection:  # fmt: skip
    coll = Collection(tmp_path_factory.mktemp("db"))
    coll.set_people(True)
    report = coll.ingest([library[0]])
    assert report.added == len(library[1]) and not report.failed
    return coll


def _clusters(coll: Collection) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    for p in coll.people():
        out[p.id] = {Path(f["path"]).name for f in coll.person_faces(p.id)}
    return out


def test_off_by_default_and_kept_with_the_collection(tmp_path: Path) -> None:
    coll = Collection(tmp_path / "db")
    assert not coll.store.people_on and coll.people() == []
    coll.set_people(True)
    assert json.loads((tmp_path / "db" / "sensorium.json").read_text())["people"] is True
    assert Collection(tmp_path / "db").store.people_on  # another process reads it
    coll.set_people(False)
    assert not Collection(tmp_path / "db").store.people_on
    # the no-op ingest's manifest says nothing changed: with the setting changed, it is dropped
    (tmp_path / "db" / "unchanged.json").write_text("{}")
    coll.set_people(True)
    assert not (tmp_path / "db" / "unchanged.json").exists()


def test_an_older_collection_opens_with_people_off(tmp_path: Path) -> None:
    """A collection written before the setting existed: schema v6 only in sensorium.json."""
    folder = tmp_path / "old"
    Collection(folder)
    (folder / "sensorium.json").write_text(json.dumps({"schema_version": 6}))
    coll = Collection(folder)
    assert not coll.store.people_on and coll.people() == []
    coll.set_people(True)
    assert json.loads((folder / "sensorium.json").read_text())["schema_version"] == 6


def test_faces_are_grouped_by_person(collection: Collection,
                                     library: tuple[Path, dict[str, str]]) -> None:  # fmt: skip
    """Every photo's one face stored, and the people are exactly the named ones (purity 1,
    each person in one cluster)."""
    who = library[1]
    clusters = _clusters(collection)
    truth = {frozenset(n for n, w in who.items() if w == name) for name in set(who.values())}
    assert {frozenset(c) for c in clusters.values()} == truth
    obama = collection.people()[0]
    assert (obama.faces, obama.files) == (5, 5)


def test_a_second_ingest_changes_nothing(collection: Collection,
                                         library: tuple[Path, dict[str, str]]) -> None:  # fmt: skip
    before = _clusters(collection)
    report = collection.ingest([library[0]])
    assert report.unchanged == len(library[1]) and _clusters(collection) == before


def test_name_merge_split_and_search(collection: Collection) -> None:
    obama, *others = collection.people()
    collection.name_person(obama.id, "Barack Obama")
    assert collection.store.people.named("barack  OBAMA") == [obama.id]
    assert collection.store.people.named("Obama") == [obama.id]  # whole words of the name
    hits = collection.page("person:Obama").hits
    assert {Path(h.item.path).name for h in hits} == _clusters(collection)[obama.id]
    assert all(not h.weak for h in hits)
    other = others[0]
    assert collection.merge_people(obama.id, [other.id]) == 1
    assert len(collection.person_faces(obama.id)) == 6
    face = next(f for f in collection.person_faces(obama.id)
                if f["face_id"] == other.face)  # fmt: skip
    new = collection.split_person([face["face_id"]])
    assert [f["face_id"] for f in collection.person_faces(new)] == [other.face]
    assert collection.people()[0].name == "Barack Obama"
    with pytest.raises(NotFoundError):
        collection.person_faces(other.id)  # merged away
    assert collection.page("person:Nobody").hits == []


def test_show_lists_the_faces(collection: Collection, library: tuple[Path, dict[str, str]]
                              ) -> None:  # fmt: skip
    data = collection.details(str(library[0] / "grace_hopper.jpg"))
    (face,) = data["people"]
    assert face["person"] >= 1 and len(face["box"]) == 4 and "vector" not in face
    assert collection.face_crop(face["face_id"])[:2] == b"\xff\xd8"  # a JPEG
    with pytest.raises(NotFoundError):
        collection.face_crop("../../etc/passwd")


def test_a_kill_between_faces_and_items_loses_and_doubles_nothing(
    library: tuple[Path, dict[str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first batch's faces are committed, then the process dies before its items; the
    next ingest encodes the files again and ends with each face once."""
    coll = Collection(tmp_path / "db")
    coll.set_people(True)
    real_upsert = coll.store.upsert

    def killed(*_: object, **__: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(coll.store, "upsert", killed)
    with pytest.raises(KeyboardInterrupt):
        coll.ingest([library[0]], batch_size=4)
    assert coll.store.people.count() == 4 and coll.store.files() == 0
    monkeypatch.setattr(coll.store, "upsert", real_upsert)
    report = Collection(tmp_path / "db").ingest([library[0]], batch_size=4)
    assert report.added == len(library[1])
    assert coll.store.people.count() == len(library[1])
    assert sum(p.faces for p in coll.people()) == len(library[1])


def test_turning_people_on_encodes_old_photos_again(
    library: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    coll = Collection(tmp_path / "db")
    first = coll.ingest([library[0]])
    assert first.added == len(library[1]) and coll.people() == []
    coll.set_people(True)
    again = coll.ingest([library[0]])
    assert again.updated == len(library[1]) and len(coll.people()) == 4
    assert coll.forget_people() == len(library[1]) and coll.people() == []


def test_assign_joins_the_nearest_within_the_threshold() -> None:
    known = np.zeros((2, 128), np.float32)
    known[1, 0] = 1.0  # two stored faces, 1.0 apart, persons 1 and 2
    new = np.zeros((3, 128), np.float32)
    new[0, 0] = 0.9  # 0.1 from person 2
    new[1, 1] = 0.8  # 0.8 from both: a new person
    new[2, 1] = 0.85  # 0.05 from the face just assigned: joins it
    assert assign(new, known, np.array([1, 2]), next_id=3, threshold=0.6) == [2, 3, 3]

