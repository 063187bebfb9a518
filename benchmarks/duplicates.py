"""Near-duplicate figures: precision and recall of `Collection.duplicates` on real photos and
sounds, each copied the ways files get copied (JPEG re-encode, resize, crop, flip; WAV
re-encode, quieter, trimmed), mixed with distinct files (one file per recording: Tux Paint
ships a few recordings twice under two names).

Truth by construction: an original and its copies are one family; two files are duplicates
when they are of one family. A predicted pair is two files in one returned group.
"""

from __future__ import annotations

import itertools
import json
import time
import wave
from pathlib import Path
from typing import Any

import numpy as np
import skimage.data
from PIL import Image, ImageOps

import sensorium
from sensorium import media
from sensorium.eval.datasets import tuxpaint_stamps
from sensorium.search.duplicates import DEFAULTS, _pairs, _unit

NAME = "duplicates"
THRESHOLDS = (0.6, 0.7, 0.75, 0.8, 0.85, 0.9)
FLOORS = (0.0, 0.9)  # the shared-space vector's floor (0: features alone)
FAMILIES = 60  # originals that get copies, of each kind
DISTINCT = 100  # more originals without copies, of each kind
IMAGE_COPIES = {
    "jpeg_q30": lambda im: im,  # saved as JPEG quality 30 below
    "half_size": lambda im: im.resize((max(1, im.width // 2), max(1, im.height // 2))),
    "crop_80": lambda im: im.crop(
        (im.width // 10, im.height // 10, im.width * 9 // 10, im.height * 9 // 10)
    ),
    "flip": ImageOps.mirror,
}
SKIMAGE = (
    "astronaut",
    "chelsea",
    "coffee",
    "rocket",
    "camera",
    "cat",
    "motorcycle_left",
    "immunohistochemistry",
    "hubble_deep_field",
    "retina",
)


def _rgb(path: Path) -> Image.Image:
    im = Image.open(path)
    if im.mode in ("RGBA", "LA", "P"):
        im = im.convert("RGBA")
        back = Image.new("RGBA", im.size, "white")
        return Image.alpha_composite(back, im).convert("RGB")
    return im.convert("RGB")


def _photos() -> list[Image.Image]:
    """Distinct real photos: scikit-image's, then Tux Paint's (not letters and symbols)."""
    out = []
    for name in SKIMAGE:
        if hasattr(skimage.data, name):
            arr = getattr(skimage.data, name)()
            out.append(Image.fromarray(arr).convert("RGB"))
    stamps = [s for s in tuxpaint_stamps() if s.category not in ("symbols", "cartoon")]
    out += [_rgb(s.image) for s in stamps[:: max(1, len(stamps) // (FAMILIES + DISTINCT))]]
    return out[: FAMILIES + DISTINCT]


def _same_recording(a: np.ndarray, b: np.ndarray) -> bool:
    """Two decoded clips of one length whose waveforms correlate at 0.8 or more: one recording
    (Tux Paint ships some twice: ram.ogg and mountaingoat.ogg are one file's samples, goat.ogg
    the same recording filtered), judged on samples, not by the method under test."""
    return len(a) == len(b) and float(np.corrcoef(a, b)[0, 1]) >= 0.8


def _recordings() -> list[Path]:
    """Tux Paint's sounds, one file per recording (the truth would call copies distinct) and
    none that is digital silence (a few stamps have a silent placeholder: nothing to match)."""
    kept: list[tuple[Path, np.ndarray]] = []
    for path in sorted({s.sound for s in tuxpaint_stamps() if s.sound}):
        x = media.load(path).samples  # type: ignore[union-attr]
        if np.abs(x).max() >= 1e-3 and not any(_same_recording(x, y) for _, y in kept):
            kept.append((path, x))
        if len(kept) == FAMILIES + DISTINCT:
            break
    return [p for p, _ in kept]


def _write_wav(path: Path, samples: np.ndarray, rate: int = 16000) -> None:
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())


SOUND_COPIES = {
    "wav_16k": lambda x: x,
    "quieter_6db": lambda x: x * 0.5,
    "trimmed_10pct": lambda x: x[len(x) // 10 :],
}


def _library(folder: Path) -> dict[str, int]:
    """Write the files; returns path -> family."""
    family: dict[str, int] = {}
    (folder / "img").mkdir(parents=True)
    for i, im in enumerate(_photos()):
        p = folder / "img" / f"p{i:03d}.png"
        im.save(p)
        family[str(p)] = i
        if i < FAMILIES:
            for name, fn in IMAGE_COPIES.items():
                q = folder / "img" / f"p{i:03d}-{name}.jpg"
                fn(im).save(q, quality=30 if name == "jpeg_q30" else 90)
                family[str(q)] = i
    (folder / "snd").mkdir()
    for i, src in enumerate(_recordings()[: FAMILIES + DISTINCT]):
        p = folder / "snd" / f"s{i:03d}.ogg"
        p.write_bytes(src.read_bytes())
        family[str(p)] = 1000 + i
        if i < FAMILIES:
            x = media.load(src).samples  # type: ignore[union-attr]
            for name, fn in SOUND_COPIES.items():
                q = folder / "snd" / f"s{i:03d}-{name}.wav"
                _write_wav(q, fn(x))
                family[str(q)] = 1000 + i
    return family


def _scores(groups: list[list[str]], family: dict[str, int], kind: str) -> dict[str, float]:
    """Pair precision and recall, and per copy kind, the share found with their original."""
    mine = {p: f for p, f in family.items() if (f >= 1000) == (kind == "audio")}
    truth = {frozenset(pr) for pr in itertools.combinations(mine, 2) if mine[pr[0]] == mine[pr[1]]}
    found = {frozenset(pr) for g in groups for pr in itertools.combinations(g, 2)}
    hit = len(truth & found)
    return {
        "precision": round(hit / max(len(found), 1), 4),
        "recall": round(hit / max(len(truth), 1), 4),
        "pairs_found": len(found),
        "pairs_true": len(truth),
    }


def _by_copy(groups: list[list[str]], family: dict[str, int], copies: Any) -> dict[str, float]:
    where = {p: gi for gi, g in enumerate(groups) for p in g}
    out = {}
    for name in copies:
        paths = [p for p in family if p.split("-")[-1].startswith(name)]
        ok = [
            p
            for p in paths
            if p in where
            and any(family[o] == family[p] and "-" not in Path(o).name for o in groups[where[p]])
        ]
        out[name] = round(len(ok) / max(len(paths), 1), 3)
    return out


def run(tmp: Path) -> dict[str, Any]:
    family = _library(tmp / "dups")
    coll = sensorium.open(tmp / "dups-db")
    t = time.perf_counter()
    report = coll.ingest([tmp / "dups"])
    out: dict[str, Any] = {"files": len(family), "ingest_s": round(time.perf_counter() - t, 1),
                           "failed": len(report.failed), "families": FAMILIES, "distinct": DISTINCT,
                           "defaults": DEFAULTS}  # fmt: skip
    table = coll.store.snapshot().columns(["path", "kind", "vector"]).to_pydict()
    for kind, copies in (("image", IMAGE_COPIES), ("audio", SOUND_COPIES)):
        rows = [i for i, k in enumerate(table["kind"]) if k == kind]
        paths = [table["path"][i] for i in rows]
        res: dict[str, Any] = {}
        for t_, floor in itertools.product(THRESHOLDS, FLOORS):
            t0 = time.perf_counter()
            groups = [g.paths for g in coll.duplicates(t_, kind, floor)]
            res[f"{t_}/{floor}"] = {**_scores(groups, family, kind),
                                    "seconds": round(time.perf_counter() - t0, 3),
                                    "found_with_original": _by_copy(groups, family, copies)}  # fmt: skip
        # the shared-space vector alone, for comparison
        vec = _unit([table["vector"][i] for i in rows], [], center=False)
        for t_ in (*THRESHOLDS, 0.95):
            i, j, _ = _pairs(vec, t_)
            res[f"vector_{t_}"] = _scores(
                [[paths[a], paths[b]] for a, b in zip(i, j)], family, kind
            )
        out[kind] = res
    return out


def markdown(data: dict[str, Any]) -> list[str]:
    lines = [
        "## Near-duplicates",
        "",
        f"Near-duplicates through `Collection.duplicates(threshold)`: {data['files']} real files "
        f"({data['families']} photos and {data['families']} sounds each with copies, plus "
        f"{data['distinct']} distinct of each). Pair precision / recall: a pair is two files "
        "returned in one group. `duplicates` compares images by the encoder's features; sounds "
        "whose features are alike (and whose durations are close) by the correlation of their "
        "aligned spectrograms; either may ask the shared-space vectors to agree too. The "
        "vector alone is given for comparison. Each kind's default in bold. "
        f"`python -m benchmarks.run --only duplicates` ({data['machine']['cpu']}).",
        "",
        "| kind | threshold: features (image), aligned spectrograms (audio) ≥ | vector ≥ | P | R | copies found with their original | vector alone ≥ threshold: P, R |",
        "|---|---|---|---|---|---|---|",
    ]
    for kind in ("image", "audio"):
        for t, floor in itertools.product(THRESHOLDS, FLOORS):
            f, v = data[kind][f"{t}/{floor}"], data[kind][f"vector_{t}"]
            found = ", ".join(f"{k} {x:.2f}" for k, x in f["found_with_original"].items())
            b = "**" if [t, floor] == list(data["defaults"][kind]) else ""
            alone = f"{v['precision']:.3f}, {v['recall']:.3f}" if floor == FLOORS[0] else ""
            lines.append(f"| {kind} | {b}{t}{b} | {floor} | {b}{f['precision']:.3f}{b} | "
                         f"{b}{f['recall']:.3f}{b} | {found} | {alone} |")  # fmt: skip
    return lines


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        result = run(Path(d))
        print(json.dumps(result, indent=1))
        print("\n".join(markdown(result)))
