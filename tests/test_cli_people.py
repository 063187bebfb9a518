"""``sensorium people`` as a user runs it (real processes) on real photos of named people:
on, ingest, the list with crops, faces, name, person: search, merge, split, show, forget."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("dlib")

from sensorium.eval.datasets import named_faces

CLI = [sys.executable, "-m", "sensorium"]


def run(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=600)


def _people(db: Path) -> list[dict[str, object]]:
    p = run("people", "--db", db, "--json")
    assert p.returncode == 0, p.stderr
    return [json.loads(line) for line in p.stdout.splitlines()]


def test_people_commands(tmp_path: Path) -> None:
    photos, db = tmp_path / "photos", tmp_path / "db"
    photos.mkdir()
    for path in named_faces():
        shutil.copy(path, photos / path.name)
    assert "off" in run("people", "--db", db).stdout  # off by default
    assert run("people", "on", "--db", db).returncode == 0
    assert run("ingest", photos, "--db", db).returncode == 0
    people = _people(db)
    assert [p["faces"] for p in people] == [5, 1, 1, 1]
    assert all(Path(str(p["crop"])).read_bytes()[:2] == b"\xff\xd8" for p in people)
    first, second = people[0]["id"], people[1]["id"]
    assert len(run("people", "faces", first, "--db", db).stdout.splitlines()) == 5
    assert run("people", "name", first, "Barack Obama", "--db", db).returncode == 0
    hits = run("search", "person:obama", "--db", db, "--json").stdout.splitlines()
    assert len(hits) == 5
    shown = json.loads(run("show", photos / "obama2.jpg", "--db", db).stdout)
    assert [f["name"] for f in shown["people"]] == ["Barack Obama"]
    assert "1 faces moved" in run("people", "merge", first, second, "--db", db).stdout
    assert people[1]["face"] in run("people", "faces", first, "--db", db).stdout
    assert "now person" in run("people", "split", people[1]["face"], "--db", db).stdout
    assert [p["faces"] for p in _people(db)] == [5, 1, 1, 1]
    unknown = run("people", "name", "999", "X", "--db", db)
    assert unknown.returncode == 1 and "no person 999" in unknown.stderr
    assert "8 faces forgotten" in run("people", "forget", "--db", db).stdout
