"""The command line as a user runs it: real processes, exit codes, JSON lines."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CLI = [sys.executable, "-m", "sensorium"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=600)


def test_classify_json_with_a_corrupt_file(photos: dict[str, Path], tmp_path: Path) -> None:
    bad = tmp_path / "corrupt.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0" + bytes(300))
    p = run(
        "classify", photos["coffee"], bad, "--labels", "cat,coffee,rocket", "--top", "2", "--json"
    )
    assert p.returncode == 1
    lines = [json.loads(line) for line in p.stdout.splitlines()]
    assert lines[0]["path"] == str(photos["coffee"]) and lines[0]["labels"][0]["label"] == "coffee"
    assert len(lines[0]["labels"]) == 2
    assert lines[1]["path"] == str(bad) and "cannot decode" in lines[1]["error"]
    assert "Traceback" not in p.stderr


def test_classify_human_output_and_error_line(photos: dict[str, Path], tmp_path: Path) -> None:
    labels = tmp_path / "labels.txt"
    labels.write_text("cat\nrocket\n")
    p = run("classify", photos["rocket"], tmp_path / "nope.png", "--labels-file", labels)
    assert p.returncode == 1
    assert "rocket" in p.stdout
    assert p.stderr.strip().splitlines() == [f"error {tmp_path / 'nope.png'}: no such file"]


@pytest.mark.parametrize(
    "args",
    [
        ["classify", "x.jpg"],
        ["classify", "x.jpg", "--labels", "a", "--labels-file", "f"],
        ["transcribe", "x.wav", "--model", "huge"],
        ["classify", "x.jpg", "--labels", "a", "--top", "0"],
    ],
    ids=["no-labels", "both-labels", "bad-model", "bad-top"],
)
def test_usage_errors_exit_2_without_traceback(args: list[str]) -> None:
    p = run(*args)
    assert p.returncode == 2, p.stderr
    assert "Traceback" not in p.stderr and "usage error" in p.stderr


def test_transcribe_json(hello_wav: Path, crow_ogg: Path) -> None:
    p = run("transcribe", hello_wav, crow_ogg, "--model", "tiny.en", "--json")
    assert p.returncode == 0, p.stderr
    speech, crow = (json.loads(line) for line in p.stdout.splitlines())
    assert speech["text"].lower().startswith("hello world") and speech["language"] == "en"
    assert set(speech["segments"][0]) == {"start", "end", "text", "confidence"}
    assert crow["text"] == "" and crow["segments"] == []


def test_read_json(stamp_png: Path, tmp_path: Path) -> None:
    """A Tux Paint road sign says what it is; a photo says nothing; a text file is refused."""
    pytest.importorskip("rapidocr_onnxruntime")
    sign = stamp_png.parents[2] / "town/roadsigns/hospital.png"
    note = tmp_path / "note.txt"
    note.write_text("not an image")
    p = run("read", sign, stamp_png, note, "--json")
    assert p.returncode == 1  # one input failed
    hospital, kangaroo, text = (json.loads(line) for line in p.stdout.splitlines())
    assert hospital["text"] == "HOSPITAL" and hospital["lines"][0]["score"] > 0.9
    assert kangaroo["text"] == "" and kangaroo["lines"] == []
    assert "not an image" in text["error"]


def test_describe_json(crow_ogg: Path, hello_wav: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(40))
    p = run("describe", crow_ogg, hello_wav, broken, "--no-read", "--json")
    assert p.returncode == 1  # the broken file
    crow, hello, bad = (json.loads(line) for line in p.stdout.splitlines())
    assert "Crow" in [lb["label"] for lb in crow["labels"][:3]] and crow["said"] is None
    assert hello["said"].lower().startswith("hello world") and hello["kind"] == "audio"
    assert bad["path"].endswith("broken.png") and bad["error"]


def test_names_that_look_like_markup_are_printed_as_they_are(
    crow_ogg: Path, tmp_path: Path
) -> None:
    """Rich reads "[...]" as markup: a file named "[/b]crow.ogg" once crashed the output."""
    odd = tmp_path / "[" / "b]crow [red].ogg"  # the path reads ".../[/b]crow [red].ogg"
    odd.parent.mkdir()
    shutil.copy(crow_ogg, odd)
    p = run("classify", odd, "--labels", "bird,[dog]")
    assert p.returncode == 0, p.stderr
    assert "[/b]crow [red].ogg" in p.stdout and "[dog]" in p.stdout
    gone = run("classify", tmp_path / "[" / "i]gone.png", "--labels", "bird")
    assert gone.returncode == 2 and "[/i]gone.png" in gone.stderr  # no such file: usage


def test_models_list_json() -> None:
    p = run("models", "list", "--json")
    cards = [json.loads(line) for line in p.stdout.splitlines()]
    assert p.returncode == 0 and all(c["ready"] in (True, None) for c in cards)


def test_explanations_keep_the_engines_styling_and_escape_the_data() -> None:
    """The moment is styled (not printed as "[cyan]"); a transcript holding markup is literal."""
    from rich.console import Console

    from sensorium.cli import _describe
    from sensorium.search.explain import Explanation, Moment

    exp = Explanation(moment=Moment(0.0, 1.1), transcript="press [/b] then [MUSIC]",
                      seen=["[red]tiger"])  # fmt: skip
    console = Console(record=True, width=200, color_system="truecolor", force_terminal=True)
    console.print(_describe(exp), highlight=False)
    plain = console.export_text(clear=False)
    assert "0.0–1.1 s" in plain and "[cyan]" not in plain
    assert "said “press [/b] then [MUSIC]”" in plain and "seen [red]tiger" in plain
    styled = console.export_text(styles=True)
    assert "\x1b[36m0.0–1.1 s" in styled  # cyan, as the engine asked


def test_ask_and_triage(photos: dict[str, Path]) -> None:
    p = run("ask", photos["astronaut"], "how many people are in the picture?", "--json")
    assert p.returncode == 0, p.stderr
    answer = json.loads(p.stdout)
    assert answer["kind"] == "count" and answer["answer"].startswith("1")
    p = run("ask", photos["astronaut"], "what is her name?")
    assert p.returncode == 0 and "I can't tell" in p.stdout
    p = run("triage", "--text", "My order arrived broken, the mug is smashed! I need a refund.",
            "--json")  # fmt: skip
    assert p.returncode == 0, p.stderr
    ticket = json.loads(p.stdout)
    assert ticket["category"]["label"] == "damaged" and "image" not in ticket
    p = run("triage")
    assert p.returncode == 2 and "a ticket needs" in p.stderr and "Traceback" not in p.stderr
