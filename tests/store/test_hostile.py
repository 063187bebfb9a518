"""Ingest over a folder holding what is not a media file: each gets its line, nothing hangs,
the good files are stored."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from sensorium.collection import Collection


def test_pipes_devices_link_loops_and_undecodable_names(tmp_path: Path) -> None:
    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / "note.txt").write_text("a cat asleep on the sofa")
    (folder / os.fsdecode(b"caf\xe9.txt")).write_text("coffee")  # a Latin-1 file name
    os.mkfifo(folder / "pipe.wav")
    (folder / "zeros.png").symlink_to("/dev/zero")
    (folder / "loop.jpg").symlink_to(folder / "loop.jpg")
    signal.alarm(120)  # hashing the pipe or /dev/zero would never end
    try:
        report = Collection(tmp_path / "db").ingest([folder])
    finally:
        signal.alarm(0)
    assert report.added == 2  # the note, and the file whose name is not UTF-8
    failed = dict(report.failed)
    assert failed[str(folder / "pipe.wav")] == "a named pipe, not a regular file: skipped"
    # paths are stored resolved: the link is named by what it points at
    assert failed["/dev/zero"] == "a character device, not a regular file: skipped"
    assert "loop" in failed[str(folder / "loop.jpg")]
    assert len(failed) == 3
