"""Inputs as users give them: folders holding things that are not media files."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from sensorium.perceive.inputs import decode_all, expand_paths


@pytest.fixture()
def hostile_folder(tmp_path: Path, photos: dict[str, Path]) -> Path:
    """A good photo beside a named pipe, a link to /dev/zero, a link loop and a link to a
    folder above (which must not be followed)."""
    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / "coffee.jpg").write_bytes(photos["coffee"].read_bytes())
    os.mkfifo(folder / "pipe.wav")
    (folder / "zeros.png").symlink_to("/dev/zero")
    (folder / "loop.jpg").symlink_to(folder / "loop.jpg")
    (folder / "up").symlink_to(tmp_path)
    return folder


def test_each_special_file_gets_its_line_and_nothing_hangs(hostile_folder: Path) -> None:
    signal.alarm(60)  # a blocked open would otherwise hang the suite
    try:
        paths = expand_paths([hostile_folder])
        results = {p.name: r for p, r in decode_all(paths)}
    finally:
        signal.alarm(0)
    assert sorted(results) == ["coffee.jpg", "loop.jpg", "pipe.wav", "zeros.png"]
    assert results["coffee.jpg"].kind == "image"  # type: ignore[union-attr]
    causes = {name: getattr(r, "cause", None) for name, r in results.items()}
    assert causes["pipe.wav"] == "a named pipe, not a regular file: skipped"
    assert causes["zeros.png"] == "a character device, not a regular file: skipped"
    assert causes["loop.jpg"] == "a loop of symbolic links"


def test_classify_over_the_folder_from_the_command_line(hostile_folder: Path) -> None:
    p = subprocess.run(
        [sys.executable, "-m", "sensorium", "classify", str(hostile_folder), "--labels",
         "coffee,cat"], capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert p.returncode == 1 and "Traceback" not in p.stderr
    assert "coffee" in p.stdout
    errors = p.stderr.strip().splitlines()
    assert len(errors) == 3 and all(line.startswith("error ") for line in errors), errors
