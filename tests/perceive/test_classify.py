from __future__ import annotations

from pathlib import Path

import pytest

import sensorium
from sensorium.errors import UsageError

LABELS = ["cat", "dog", "coffee", "rocket", "bird", "car", "flower"]


def test_photos_sounds_and_text(photos: dict[str, Path], crow_ogg: Path, tmp_path: Path) -> None:
    note = tmp_path / "note.txt"
    note.write_text("My espresso went cold while I waited.")
    paths = [photos["chelsea"], photos["coffee"], crow_ogg, note]
    results = sensorium.classify(paths, LABELS, top=2)
    assert [r.labels[0][0] for r in results] == ["cat", "coffee", "bird", "coffee"]
    for r in results:
        assert r.error is None and r.labels[0][1] >= r.labels[1][1]


def test_a_bad_file_does_not_stop_the_batch(photos: dict[str, Path], tmp_path: Path) -> None:
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    missing = tmp_path / "missing.jpg"
    results = sensorium.classify([bad, photos["coffee"], missing], LABELS)
    assert results[0].error and results[2].error == "no such file"
    assert results[1].labels[0][0] == "coffee"
    assert results[0].to_json() == {"path": str(bad), "error": results[0].error}


def test_folder_input(photos: dict[str, Path]) -> None:
    folder = photos["coffee"].parent
    assert len(sensorium.classify([folder], LABELS)) == 4


def test_no_labels_is_a_usage_error(photos: dict[str, Path]) -> None:
    with pytest.raises(UsageError):
        sensorium.classify([photos["coffee"]], [" ", ""])
