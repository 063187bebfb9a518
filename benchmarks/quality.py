"""Quality on real data (DATA.md): zero-shot photos, Tux Paint retrieval, WER, no invented text."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import skimage.data
from matplotlib import cbook
from PIL import Image
from sklearn.datasets import load_sample_image

from sensorium import media
from sensorium.engine import default_engine
from sensorium.eval.datasets import isolated_words, speech_set, tuxpaint_sounds, tuxpaint_stamps
from sensorium.eval.metrics import recall_at_k, word_errors
from sensorium.media.types import AudioMedia
from sensorium.models import model_path
from sensorium.perceive import classify
from sensorium.space import BridgeOptions, LabelBridge

NAME = "quality"  # benchmarks/results/quality.json, `--only quality`

PHOTO_LABELS = [
    "cat",
    "dog",
    "horse",
    "coffee",
    "rocket",
    "person",
    "flower",
    "building",
    "motorcycle",
    "bird",
]
PHOTO_TRUTH = {
    "astronaut": "person",
    "chelsea": "cat",
    "coffee": "coffee",
    "rocket": "rocket",
    "horse": "horse",
    "motorcycle": "motorcycle",
    "china": "building",
    "flower": "flower",
    "grace_hopper": "person",
}


def sample_photos(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {
        n: getattr(skimage.data, n)() for n in ("astronaut", "chelsea", "coffee", "rocket", "horse")
    }
    arrays["motorcycle"] = skimage.data.stereo_motorcycle()[0]
    arrays["china"] = load_sample_image("china.jpg")
    arrays["flower"] = load_sample_image("flower.jpg")
    with cbook.get_sample_data("grace_hopper.jpg") as f:
        arrays["grace_hopper"] = np.asarray(Image.open(f))
    out = {}
    for name, a in arrays.items():
        out[name] = folder / f"{name}.jpg"
        Image.fromarray(a).convert("RGB").save(out[name])
    return out


def zero_shot_photos(folder: Path) -> dict[str, Any]:
    photos = sample_photos(folder)
    results = classify(list(photos.values()), PHOTO_LABELS, top=1)
    rows = [
        {
            "photo": n,
            "truth": PHOTO_TRUTH[n],
            "predicted": r.labels[0][0],
            "score": round(r.labels[0][1], 3),
        }
        for n, r in zip(photos, results)
    ]
    return {
        "labels": PHOTO_LABELS,
        "rows": rows,
        "top1": sum(r["truth"] == r["predicted"] for r in rows) / len(rows),
    }


def _simple_bridge(probs: np.ndarray) -> np.ndarray:
    """MODELS.md's floor: class names "a photo of a {name}" weighted by the full posterior."""
    space = default_engine().space
    names = json.loads(
        (model_path("efficientnet-lite0") / "imagenet1k_clean_names.json").read_text()
    )
    vectors = space.text.encode([f"a photo of a {n}" for n in names])
    return LabelBridge(names, vectors, BridgeOptions(top_k=len(names), temperature=1.0)).bind(probs)


def _both_ways(spaces: dict[str, np.ndarray], captions: np.ndarray, medium: str) -> dict[str, Any]:
    """Recall medium -> caption and caption -> medium, for each way of placing the medium."""
    return {
        name: {f"{medium}_to_caption": recall_at_k(v @ captions.T),
               f"caption_to_{medium}": recall_at_k(captions @ v.T)}
        for name, v in spaces.items()
    }  # fmt: skip


def tuxpaint_photos() -> dict[str, Any]:
    stamps = tuxpaint_stamps()
    space = default_engine().space
    images = [media.load_image(s.image, min_side=224) for s in stamps]
    ours = np.stack([e.vector for e in space.embed(images)])  # (N, 384)
    floor = _simple_bridge(space.image.run(images).probs)  # posteriors are not kept by embed
    captions = space.text.encode([s.caption for s in stamps])
    spaces = {"sensorium": ours, "simple_bridge_floor": floor}
    return {"pairs": len(stamps), "chance_R@1": 1 / len(stamps),
            **_both_ways(spaces, captions, "image")}  # fmt: skip


def tuxpaint_sound_captions() -> dict[str, Any]:
    pairs = tuxpaint_sounds()
    space = default_engine().space
    embedded = space.embed([media.load_audio(p.sound) for p in pairs])
    ours = np.stack([e.vector for e in embedded])  # (N, 384)
    scores = np.stack([e.features for e in embedded])  # (N, 521) YAMNet scores
    captions = space.text.encode([p.caption for p in pairs])
    spaces = {"sensorium": ours, "sound_bridge_only": space.sound_bridge.bind(scores)}
    return {"pairs": len(pairs), "chance_R@1": 1 / len(pairs),
            **_both_ways(spaces, captions, "sound")}  # fmt: skip


def spoken_captions() -> dict[str, Any]:
    """Tux Paint's spoken English captions (_desc.ogg) -> their written captions."""
    stamps = [s for s in tuxpaint_stamps() if s.spoken]
    space = default_engine().space
    spoken = np.stack([e.vector for e in space.embed([media.load_audio(s.spoken) for s in stamps])])
    captions = space.text.encode([s.caption for s in stamps])
    return {"pairs": len(stamps), "spoken_to_written": recall_at_k(spoken @ captions.T)}


def wer(model: str) -> dict[str, Any]:
    rec = default_engine().recognizer(model)
    rows, edits, words, audio_s, t0 = [], 0, 0, 0.0, time.perf_counter()
    for item in speech_set():
        clip = media.load_audio(item.path)
        hyp = rec.transcribe(clip).text
        e, n = word_errors(item.text, hyp)
        edits, words, audio_s = edits + e, words + n, audio_s + clip.duration
        rows.append({"file": item.path.name, "ref": item.text, "hyp": hyp, "errors": e, "words": n})
    return {
        "model": model,
        "utterances": len(rows),
        "words": words,
        "wer": edits / words,
        "seconds": time.perf_counter() - t0,
        "audio_seconds": audio_s,
        "rows": rows,
    }


def short_words(model: str) -> dict[str, Any]:
    """Isolated spoken numbers: WER with our normalise-and-pad step against the raw clip."""
    rec = default_engine().recognizer(model)
    items = isolated_words()
    out: dict[str, Any] = {"model": model, "utterances": len(items)}
    for name, prepare in (("prepared", True), ("raw", False)):
        edits = words = 0
        for item in items:
            e, n = word_errors(
                item.text, rec.transcribe(media.load_audio(item.path), prepare=prepare).text
            )
            edits, words = edits + e, words + n
        out[f"wer_{name}"] = edits / words
    out["words"] = words
    return out


def no_invented_text(model: str) -> dict[str, Any]:
    """Non-speech Tux Paint effects, plus silence and noise: the share that gives empty text."""
    rec = default_engine().recognizer(model)
    rng = np.random.default_rng(0)
    synthetic = {
        "silence-10s": np.zeros(160_000, np.float32),
        "white-noise-5s": rng.normal(0, 0.1, 80_000).astype(np.float32),
        "quiet-noise-5s": rng.normal(0, 0.005, 80_000).astype(np.float32),
        "hum-50hz-5s": (0.3 * np.sin(2 * np.pi * 50 * np.arange(80_000) / 16_000)).astype(
            np.float32
        ),
    }
    clips = [media.load_audio(p.sound) for p in tuxpaint_sounds() if not p.speech]
    clips += [AudioMedia(name, s) for name, s in synthetic.items()]
    invented = []
    for clip in clips:
        text = rec.transcribe(clip).text
        if text:
            invented.append({"file": Path(clip.path).name, "text": text})
    return {
        "model": model,
        "clips": len(clips),
        "empty": 1 - len(invented) / len(clips),
        "invented": invented,
    }


def run(tmp: Path) -> dict[str, Any]:
    return {
        "zero_shot_photos": zero_shot_photos(tmp / "photos"),
        "tuxpaint_photo_caption": tuxpaint_photos(),
        "tuxpaint_sound_caption": tuxpaint_sound_captions(),
        "tuxpaint_spoken_caption": spoken_captions(),
        "wer": [wer("tiny.en"), wer("base")],
        "short_words": [short_words("tiny.en"), short_words("base")],
        "no_invented_text": [no_invented_text("tiny.en"), no_invented_text("base")],
    }


def _recall_row(name: str, r: dict[str, float]) -> str:
    return (
        f"| {name} | {r['R@1']:.3f} | {r['R@5']:.3f} | {r['R@10']:.3f} | {r['median_rank']:.0f} |"
    )


def _recall_table(
    title: str, data: dict[str, Any], spaces: tuple[str, ...], directions: tuple[str, ...]
) -> list[str]:
    lines = [
        "",
        title,
        "",
        "| direction, space | R@1 | R@5 | R@10 | median rank |",
        "|---|---|---|---|---|",
    ]
    for space in spaces:
        for d in directions:
            lines.append(_recall_row(f"{d.replace('_', ' ')}, {space}", data[space][d]))
    return lines


def markdown(q: dict[str, Any]) -> list[str]:
    zs, tp, ts, sc = (
        q["zero_shot_photos"],
        q["tuxpaint_photo_caption"],
        q["tuxpaint_sound_caption"],
        q["tuxpaint_spoken_caption"],
    )
    lines = [
        "## Zero-shot photos",
        "",
        f"Sample photos of scikit-image, scikit-learn and matplotlib against {len(zs['labels'])} "
        f"labels ({', '.join(zs['labels'])}): top-1 **{zs['top1']:.2f}**. scikit-image's "
        "horse is a black silhouette, not a photo (the demo library's horse is Tux Paint's "
        "photograph: `scripts/samples.py`). `sensorium.classify`, the zero-shot section of "
        "`python -m benchmarks.run --only quality` (the rows below refreshed on "
        f"{q.get('zero_shot_machine', 'the machine of the run')}).",
        "",
        "| photo | truth | predicted | score |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {r['photo']} | {r['truth']} | {r['predicted']} | {r['score']} |" for r in zs["rows"]
    ]
    lines += _recall_table(
        f"## Tux Paint photo ↔ caption ({tp['pairs']} stamps, chance R@1 {tp['chance_R@1']:.4f})",
        tp, ("sensorium", "simple_bridge_floor"), ("image_to_caption", "caption_to_image"),
    )  # fmt: skip
    lines += _recall_table(
        f"## Tux Paint sound ↔ caption ({ts['pairs']} effects, chance R@1 {ts['chance_R@1']:.4f})",
        ts, ("sensorium", "sound_bridge_only"), ("sound_to_caption", "caption_to_sound"),
    )  # fmt: skip
    lines += [
        "",
        f"Spoken caption → written caption ({sc['pairs']} English `_desc.ogg`), through the transcript:",
        "",
        "| | R@1 | R@5 | R@10 | median rank |",
        "|---|---|---|---|---|",
        _recall_row("spoken → written", sc["spoken_to_written"]),
        "",
        "## Speech to text (WER)",
        "",
        "40 Asterisk prompts (≤ 25 s, evenly spread over the sorted list) and 5 LibriVox sentences; "
        "lower-cased, punctuation dropped, numbers compared as words.",
        "",
        "| model | utterances | words | WER | seconds |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {w['model']} | {w['utterances']} | {w['words']} | **{100 * w['wer']:.1f}%** | {w['seconds']:.0f} |"
        for w in q["wer"]
    ]
    if "short_words" in q:
        lines += [
            "",
            "Isolated words (Asterisk `digits/`: numbers, ordinals, days, months): WER with the normalise-and-pad step (`prepare_audio`) against the raw clip, same model, same run.",
            "",
            "| model | utterances | WER prepared | WER raw |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| {w['model']} | {w['utterances']} | **{100 * w['wer_prepared']:.1f}%** | {100 * w['wer_raw']:.1f}% |"
            for w in q["short_words"]
        ]
    lines += [
        "",
        "## No invented text",
        "",
        "Tux Paint sound effects that hold no voice (letters, digits and dreidel letters that say their "
        "own name are left out: `SPEECH_EFFECTS`), plus silence, white noise, quiet noise and mains hum.",
        "",
        "| model | clips | empty text | what was invented |",
        "|---|---|---|---|",
    ]
    for n in q["no_invented_text"]:
        inv = "; ".join(f"{i['file']}: “{i['text']}”" for i in n["invented"]) or "nothing"
        lines.append(f"| {n['model']} | {n['clips']} | **{100 * n['empty']:.1f}%** | {inv} |")
    return [*lines, "", f"Peak memory of the quality run: {q['peak_rss_mb']:.0f} MB.", ""]
