"""`sensorium eval` on real data: a labelled folder, pair CSVs of speech and of captions."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sensorium.errors import UsageError
from sensorium.eval.datasets import TUXPAINT, speech_set
from sensorium.eval.evaluate import eval_classify, eval_retrieve, eval_transcribe, read_pairs


def _write(path: Path, rows: list[tuple[str, str]], header: tuple[str, str] | None = None) -> Path:
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        if header:
            w.writerow(header)
        w.writerows(rows)
    return path


def test_classify_a_labelled_folder(tmp_path: Path) -> None:
    for category in ("animals", "vehicles"):
        (tmp_path / category).mkdir()
        for png in sorted((TUXPAINT / category).rglob("*.png"))[:8]:
            shutil.copy(png, tmp_path / category / png.name)
    r = eval_classify(tmp_path, "folder")
    assert r["items"] == 16 and r["labels"] == 2
    assert r["top5"] == 1.0 and r["top1"] >= 0.6  # two labels: chance is 0.5
    assert set(r["per_class"]) == {"animals", "vehicles"}


def test_retrieve_captions_and_texts(tmp_path: Path) -> None:
    stamps = ["animals/mammals/elephant", "animals/birds/penguin", "vehicles/car_red"]
    rows = [(str(TUXPAINT / f"{s}.png"), (TUXPAINT / f"{s}.txt").read_text().splitlines()[0])
            for s in stamps if (TUXPAINT / f"{s}.png").is_file()]  # fmt: skip
    assert len(rows) >= 2
    r = eval_retrieve(_write(tmp_path / "pairs.csv", rows, ("query", "target")))
    assert r["pairs"] == len(rows)
    assert 0 < r["query_to_target"]["mAP"] <= 1 and r["query_to_target"]["R@10"] == 1.0


def test_transcribe_pairs(tmp_path: Path) -> None:
    rows = [(str(i.path), i.text) for i in speech_set()[-3:]]  # three LibriVox sentences
    r = eval_transcribe(_write(tmp_path / "speech.csv", rows), model="tiny.en")
    assert (
        r["files"] == 3 and r["words"] > 20 and r["wer"] < 0.2 and 0 <= r["cer"] <= r["wer"] + 0.1
    )


def test_bad_csv(tmp_path: Path) -> None:
    (tmp_path / "one.csv").write_text("only-one-column\n")
    with pytest.raises(UsageError, match="2 columns"):
        read_pairs(tmp_path / "one.csv")


def test_cli_pairs_then_eval(tmp_path: Path) -> None:
    out = tmp_path / "speech.csv"
    cli = [sys.executable, "-m", "sensorium", "eval"]
    p = subprocess.run([*cli, "pairs", "speech", "--out", str(out)], capture_output=True, text=True)
    assert p.returncode == 0 and len(read_pairs(out)) == 45
    few = _write(tmp_path / "few.csv", [tuple(r) for r in read_pairs(out)[-2:]])  # type: ignore[misc]
    p = subprocess.run([*cli, "transcribe", str(few), "--model", "tiny.en", "--json"],
                       capture_output=True, text=True)  # fmt: skip
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["files"] == 2
