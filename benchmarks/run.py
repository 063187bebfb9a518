"""One command for the benchmarks: ``python -m benchmarks.run [--only NAME]``.

The newer benchmark modules follow one shape, listed in ``MODULES``: each exports ``NAME``,
``run()`` (or ``run(tmp)`` when it needs a scratch folder) and ``markdown(data)``.

Writes ``benchmarks/results/<name>.json`` and regenerates ``docs/benchmarks.md``
from whatever results are present.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import os
import platform
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
DOC = ROOT / "docs" / "benchmarks.md"


def machine() -> dict[str, Any]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "date": time.strftime("%Y-%m-%d"),
    }


def _save(name: str, data: dict[str, Any]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    data["machine"] = machine()
    data["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    (RESULTS / f"{name}.json").write_text(json.dumps(data, indent=2, ensure_ascii=False))


def _r(x: float, d: int = 3) -> str:
    return f"{x:.{d}f}"


def _speed_md(s: dict[str, Any]) -> list[str]:
    im, tx, sp = s["image"], s["text"], s["speech"]
    return [
        "## Speed",
        "",
        f"Machine: {s['machine']['cpu']}, {s['machine']['cores']} cores, {s['machine']['date']}.",
        "",
        "| what | plain reference path | fast path | ratio |",
        "|---|---|---|---|",
        f"| image encoding, batch 16 (EfficientNet-Lite0) | torch eager {im['torch_eager_b16']:.1f} img/s "
        f"| ONNX Runtime {im['onnx_b16']:.1f} img/s | **{im['ratio_b16']:.2f}x** |",
        f"| image encoding, batch 1 | torch eager {im['torch_eager_b1']:.1f} img/s "
        f"| ONNX Runtime {im['onnx_b1']:.1f} img/s | {im['onnx_b1'] / im['torch_eager_b1']:.2f}x |",
        f"| text encoding (MiniLM-L6, Tux Paint captions) | torch fp32 {tx['torch_fp32_per_s']:.0f} sent/s "
        f"| ONNX int8 {tx['onnx_int8_per_s']:.0f} sent/s | **{tx['ratio']:.2f}x** |",
        "",
        f"Image decode + encode end to end (Tux Paint PNGs): {im['end_to_end_decode_encode']:.1f} img/s.",
        "",
        *_sound_speed_md(s.get("sound")),
        f"Speech, {sp['audio_seconds']:.0f} s of real speech in one file: real-time factor "
        f"tiny.en **{_r(sp['tiny.en_rtf'])}**, base {_r(sp['base_rtf'])} (base takes "
        f"{sp['base_vs_tiny_time']:.1f}x tiny.en's time). One short utterance: tiny.en "
        f"{sp['tiny.en_seconds_per_short_utterance']:.2f} s, base {sp['base_seconds_per_short_utterance']:.2f} s "
        "(fixed cost dominates short clips).",
        "",
        f"Peak memory of the speed run: {s['peak_rss_mb']:.0f} MB.",
        "",
    ]


def _sound_speed_md(sd: dict[str, Any] | None) -> list[str]:
    if not sd:
        return []
    return [
        f"YAMNet on {sd['clips']} Tux Paint sound effects ({sd['audio_seconds']:.0f} s), clips/s: "
        f"shipped float graph (patches batched) **{sd['float_per_s']:.0f}**; the wheel's QDQ "
        f"graph with fused integer kernels (the old, CPU-dependent path) {sd['qdq_fused_per_s']:.0f} "
        f"(float runs at {sd['float_vs_qdq_fused']:.2f}x of it); the QDQ graph run plainly "
        f"{sd['qdq_plain_per_s']:.0f}. Beside it: decoding the files {sd['decode_per_s']:.0f}/s, "
        f"the log-mel front end {sd['front_end_per_s']:.0f}/s.",
        "",
    ]


def _recall_row(name: str, r: dict[str, float]) -> str:
    return (
        f"| {name} | {_r(r['R@1'])} | {_r(r['R@5'])} | {_r(r['R@10'])} | {r['median_rank']:.0f} |"
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


def _quality_md(q: dict[str, Any]) -> list[str]:
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
        f"labels ({', '.join(zs['labels'])}): top-1 **{zs['top1']:.2f}**.",
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


def _adapters_md(a: dict[str, Any]) -> list[str]:
    if "image" not in a:  # results written before the sound adapter existed
        return []
    from sensorium.fusion.adapter import beats_bridge

    lines = [
        "## Learned adapters",
        "",
        "A linear map from the encoder's output plus the bridge vector into the text space, started at "
        "the bridge and trained with InfoNCE on Tux Paint pairs (`sensorium train adapter`, "
        "`sensorium.fusion.adapter`). Held out: 20% of captions (by item), or the categories "
        f"{', '.join(a['image']['held_out_categories'])} (by category). R@1 on the held-out pairs:",
        "",
        "| pairs | split | test pairs | caption → medium, bridge | adapter | medium → caption, bridge | adapter |",
        "|---|---|---|---|---|---|---|",
    ]
    for modality, name in (("image", "photo"), ("sound", "sound effect")):
        for split in ("by_item", "by_category"):
            r = a[modality][split]
            b, ad = r["bridge"], r["adapter"]
            lines.append(
                f"| {name} ↔ caption | {split.replace('_', ' ')} | {r['test_pairs']} | "
                f"{_r(b['caption_to_medium']['R@1'])} | {_r(ad['caption_to_medium']['R@1'])} | "
                f"{_r(b['medium_to_caption']['R@1'])} | {_r(ad['medium_to_caption']['R@1'])} |"
            )
    verdict = {m: "yes" if beats_bridge(a[m]) else "no" for m in ("image", "sound")}
    lines += [
        "",
        f"Beats the bridge on both splits in both directions (the rule for using it by default): "
        f"photo {verdict['image']}, sound {verdict['sound']}. The photo adapter helps on new items "
        "of categories it has seen and photo → caption on new categories, but not caption → photo "
        "on new categories; the sound adapter, from 135 pairs, hurts on new categories. So both "
        "ship in the package (`models/adapters/`, sha256 in the registry, trained on every pair) "
        "and are off by default: `SENSORIUM_ADAPTERS=image,sound` or "
        '`SpaceOptions(image_adapter=adapter.bundled("image"))` turns them on.',
        "",
    ]
    z = a.get("zero_shot")
    if z:
        lines += ["Zero-shot top-1 on labelled photos outside the training data, bridge → shipped "
                  "photo adapter:", "", "| photos | n | labels | bridge | adapter |", "|---|---|---|---|---|"]  # fmt: skip
        names = {"sample_photos": "scikit-image, scikit-learn, matplotlib samples",
                 "openclipart": "openclipart clip art, folder labels (`openclipart-png`)"}  # fmt: skip
        for key, name in names.items():
            r = z.get(key, {})
            if "bridge" in r:
                lines.append(f"| {name} | {r['n']} | {r['labels']} | {_r(r['bridge'])} | "
                             f"{_r(r['adapter'])} |")  # fmt: skip
        lines.append("")
    return lines


def _search_md(s: dict[str, Any]) -> list[str]:
    r, ing, sc, mem = s["retrieval"], s["ingest"], s["scale"], s["memory"]
    lines = [
        "## Index and search",
        "",
        f"Tux Paint through `Collection.search` ({r['stamps']} photos and their captions ingested as files; "
        "caption → photo with `--type image`, photo → caption with `--image` and `--type text`):",
        "",
        "| direction | R@1 | R@5 | R@10 |",
        "|---|---|---|---|",
    ]
    for name, key in (
        ("caption → photo", "caption_to_photo"),
        ("photo → caption", "photo_to_caption"),
    ):
        lines.append(
            f"| {name} | {_r(r[key]['R@1'])} | {_r(r[key]['R@5'])} | {_r(r[key]['R@10'])} |"
        )
    lines += [
        "",
        "A hit counts as right when its caption is the query's: some stamps share a caption "
        "(the filled and the outlined letter K are both “The letter K.”).",
        "",
        f"Ingest of {ing['photos']} Tux Paint PNGs, end to end (sniff, hash, decode, encode, write): "
        f"**{ing['ingest_per_s']:.1f} photos/s**, against {ing['encoder_only_per_s']:.1f} photos/s for the "
        f"encoders alone on pre-decoded images in the same run: **{100 * ing['ingest_vs_encoder']:.0f}%**. "
        f"Unchanged re-ingest: {ing['unchanged_reingest_s']:.2f} s against {ing['first_ingest_s']:.1f} s, "
        f"**{ing['reingest_speedup']:.0f}x** faster.",
        "",
        f"Peak memory of `ingest` over {mem['photos']} distinct JPEG photos (Tux Paint photos, mirrored and "
        f"flipped): **{mem['peak_rss_mb']:.0f} MB** ({mem['per_s']:.1f} photos/s).",
        "",
        f"Latency of one text query (k = 10, store level) over {sc['queries']} real caption queries. Items are "
        "mixes of two real vectors (Tux Paint photos and captions) plus a little noise (σ = 0.01 a dimension), "
        "so that the cloud spreads like a real collection:",
        "",
        "| items | exact p50 | exact p95 | ANN p50 | ANN p95 | ANN recall@10 | index build | size on disk |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for n in (1_000, 10_000, 100_000):
        e, a = sc[f"exact_{n}"], sc.get(f"ann_{n}")
        ann = "– | – | – | –"
        if a:
            ann = (
                f"{a['p50_ms']:.1f} ms | {a['p95_ms']:.1f} ms | **{sc[f'ann_recall_at_10_{n}']:.3f}** | "
                f"{sc[f'ann_build_s_{n}']:.0f} s"
            )
        lines.append(
            f"| {n:,} | {e['p50_ms']:.1f} ms | {e['p95_ms']:.1f} ms | {ann} | {sc[f'bytes_{n}'] / 1e6:.0f} MB |"
        )
    lines += [
        "",
        "ANN is LanceDB's IVF-HNSW-SQ index (cosine, 16 partitions probed, ef 64); the store builds it "
        f"automatically from {sc['ann_threshold']:,} items, where it starts to beat the exact scan.",
        "",
    ]
    return lines


def _plot_latency(s: dict[str, Any]) -> str:
    """docs/latency.png: query latency against collection size, exact and with the index."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sc = s["scale"]
    sizes = [1_000, 10_000, 100_000]
    fig, ax = plt.subplots(figsize=(6, 4))
    for key, label in (("p50_ms", "p50"), ("p95_ms", "p95")):
        ax.plot(sizes, [sc[f"exact_{n}"][key] for n in sizes], "o-", label=f"exact {label}")
        ann = [n for n in sizes if f"ann_{n}" in sc]
        ax.plot(ann, [sc[f"ann_{n}"][key] for n in ann], "s--", label=f"ANN {label}")
    ax.set(xscale="log", xlabel="items in the collection", ylabel="ms per text query (k = 10)",
           title="Search latency on 2 CPU cores")  # fmt: skip
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(DOC.parent / "latency.png", dpi=100)
    plt.close(fig)
    return "![query latency against collection size](latency.png)"


def _video_md(v: dict[str, Any]) -> list[str]:
    m, sp, mem = v["moments"], v["speed"], v["memory"]
    w, p = m["with_speech"], m["pictures_only"]
    return [
        "## Video",
        "",
        f"Moments: {w['videos']} videos built from Tux Paint photos with their spoken captions "
        f"({w['queries']} shots of 4 to 8 s, {w['video_seconds']:.0f} s in all; "
        "`sensorium.eval.videos.tuxpaint_videos`), ingested, then each animal's name searched "
        "as text. A hit counts when the first result is the right video with a moment "
        "overlapping the true interval at IoU >= 0.5.",
        "",
        "| videos | right video | right moment (IoU >= 0.5) | mean IoU |",
        "|---|---|---|---|",
        f"| with their audio track | {w['right_video']:.3f} | **{w['moment_iou50']:.3f}** | "
        f"{w['mean_iou']:.3f} |",
        f"| the same without audio (pictures only) | {p['right_video']:.3f} | "
        f"{p['moment_iou50']:.3f} | {p['mean_iou']:.3f} |",
        "",
        f"Speed on {sp['seconds']:.0f} s of {sp['video']}, sampled at 1 fps: decoding alone "
        f"{sp['decode_only_x_realtime']:.1f}x real time; decoding plus image, sound and speech "
        f"encoding **{sp['full_x_realtime']:.1f}x real time**, i.e. "
        f"{sp['ratio_full_vs_decode']:.2f} of the speed of decoding alone.",
        "",
        f"Memory: `ingest` of one {mem['minutes']}-minute video (640x360, 25 fps, "
        f"{mem['bytes'] / 1e6:.0f} MB, {mem['moments']} moments) peaks at "
        f"**{mem['peak_rss_mb']:.0f} MB** resident and takes {mem['seconds']:.0f} s.",
        "",
    ]


def _fusion_md(f: dict[str, Any]) -> list[str]:
    subsets = sorted({s for r in f["methods"].values() for s in r["subsets"]}, key=len)
    short = {s: s.replace("caption", "C").replace("photo", "P").replace("sound", "S")
             .replace("spoken", "V") for s in subsets}  # fmt: skip
    counts = next(iter(f["methods"].values()))["subsets"]
    lines = [
        "## Fusion",
        "",
        f"Tux Paint stamp category ({len(f['classes'])} classes: the categories with fewer than "
        '10 stamps, military, people, medical and naturalforces, are merged into "other") from '
        f"the photo (P, all {f['present']['photo']}), caption (C, {f['present']['caption']}), "
        f"sound effect (S, {f['present']['sound']}) and spoken caption (V, "
        f"{f['present']['spoken']}, those Whisper heard words in). Fixed split by category "
        f"(seed 0): {f['split']['train']} train, {f['split']['val']} validation, "
        f"{f['split']['test']} test. Test macro-F1, mean over seeds {', '.join(map(str, f['seeds']))} (± std); hidden 128, "
        f"early stopping on validation macro-F1, balanced sampler, bf16 autocast. Dropout: "
        'modality dropout; "+consistency": each batch is also run complete and the dropped '
        "view's prediction is pulled towards the complete one's (`consistency_weight = 1`), and "
        "the epoch is chosen on the mean validation macro-F1 of complete inputs and of each "
        "modality removed in turn (`select_on = robust`). "
        '"−photo": macro-F1 lost when the photo is removed at test time '
        "(items that have another modality).",
        "",
        "| model | all test | "
        + " | ".join(f"{short[s]} (n={counts[s][1]})" for s in subsets)
        + " | −photo | params | s/run |",
        "|---|---|" + "---|" * len(subsets) + "---|---|---|",
    ]
    for name, r in f["methods"].items():
        cells = " | ".join(
            f"{r['subsets'][s][0]:.3f}" if s in r["subsets"] else "" for s in subsets
        )
        lines.append(f"| {name} | {r['macro_f1'][0]:.3f} ± {r['macro_f1'][1]:.3f} | {cells} | "
                     f"{r['photo_removal_cost'][0]:.3f} | {r['parameters']:,} | {r['seconds']:.0f} |")  # fmt: skip
    lines += [
        "",
        "Each modality alone (same split, test items that have it):",
        "",
        "| modality | test items | macro-F1 | on items with 2+ modalities |",
        "|---|---|---|---|",
    ]
    for m, r in f["singles"].items():
        lines.append(f"| {m} | {r['n_test']} | {r['macro_f1'][0]:.3f} ± {r['macro_f1'][1]:.3f} | "
                     f"{r['multi_modal_f1'][0]:.3f} |")  # fmt: skip
    best_name, best = max(f["methods"].items(), key=lambda kv: kv[1]["multi_modal_f1"][0])
    single_name, single = max(((m, r) for m, r in f["singles"].items() if r["n_test"] == f["split"]["test"]),
                              key=lambda kv: kv[1]["multi_modal_f1"][0])  # fmt: skip
    c, fp = f["config_run"], f["fast_path"]
    gain = 100 * (best["multi_modal_f1"][0] - single["multi_modal_f1"][0])
    lines += [
        "",
        f"Best fusion on test items with two modalities or more: {best_name} "
        f"{best['multi_modal_f1'][0]:.3f} against the best single modality ({single_name}) "
        f"{single['multi_modal_f1'][0]:.3f}: **{gain:+.1f} points**.",
        "",
    ]
    lines.append("Macro-F1 lost when the photo is removed (−photo), without modality dropout → "
                 "with it, and F1 on all test items:")  # fmt: skip
    lines.append("")
    for method in dict.fromkeys(name.split()[0] for name in f["methods"]):
        runs = {k.split(" ", 1)[1]: r for k, r in f["methods"].items() if k.split()[0] == method}
        if "dropout=0.0" not in runs:
            continue
        no = runs.pop("dropout=0.0")
        cost = no["photo_removal_cost"][0]
        parts = [f"{v} {r['photo_removal_cost'][0]:.3f} ({r['photo_removal_cost'][0] / cost:.0%}"
                 f" of it; F1 {r['macro_f1'][0]:.3f})" for v, r in runs.items()]  # fmt: skip
        lines.append(f"- {method}: without {cost:.3f} (F1 {no['macro_f1'][0]:.3f}); "
                     + "; ".join(parts) + ".")  # fmt: skip
    lines += [
        "",
        f"Distillation: a {c['student_parameters']:,}-parameter early-fusion student "
        f"({c['student_parameters'] / c['teacher_parameters']:.0%} of the "
        f"{c['teacher_parameters']:,}-parameter {c['method']} teacher) scores "
        f"{c['student'][0]:.3f} ± {c['student'][1]:.3f} against the teacher's "
        f"{c['teacher_test_f1']:.3f}: **{c['student'][0] / c['teacher_test_f1']:.0%}**.",
        "",
        f"One training run, `sensorium train fusion {c['config']}` (3 seeds of {c['method']} plus "
        f"3 students, features cached): **{c['seconds']:.0f} s** on {f['machine']['cores']} cores.",
        "",
        f"Fast path: attention fusion on photo-only inputs skips the cross-modal block: "
        f"{fp['items_per_s_fast']:.0f} against {fp['items_per_s_full']:.0f} items/s, "
        f"{fp['saving']:.0%} less time, same output: {fp['same_output']}.",
        "",
    ]
    return lines


def _bridge_md(b: dict[str, Any]) -> list[str]:
    from sensorium.space import SpaceOptions

    shipped = {"image": SpaceOptions().image_bridge, "sound": SpaceOptions().sound_bridge}
    lines = [
        "## Label bridge settings",
        "",
        "Top-k, temperature and (images) the class prompts, swept on Tux Paint pairs "
        "(`benchmarks/bridge_sweep.py`): mean R@1 of both directions on the by-item training "
        "captions (80%) and on the held-out ones (20%). Per prompt set, the best setting on the "
        "training captions, and the shipped one:",
        "",
        "| medium | prompts | top-k | temperature | R@1 train | R@1 held out |",
        "|---|---|---|---|---|---|",
    ]
    for medium, opts in shipped.items():
        r = b[medium]
        for prompt in dict.fromkeys(g["prompts"] for g in r["grid"]):
            rows = [g for g in r["grid"] if g["prompts"] == prompt]
            best = max(rows, key=lambda g: g["train"])
            ours = next(
                g for g in rows if (g["top_k"], g["temperature"]) == (opts.top_k, opts.temperature)
            )
            for g, tag in ((best, "best"), (ours, "shipped")):
                lines.append(f"| {medium} | {prompt} ({tag} top-k, temperature) | {g['top_k']} | {g['temperature']} | "
                             f"{_r(g['train'])} | {_r(g['test'])} |")  # fmt: skip
    lines += [
        "",
        "The engine uses the mean of both image prompt sets. Top-1 wins on the training "
        "captions for both media: it places each input exactly on "
        "its best class's prompt. The engine keeps 20 (images) and 5 (sounds) classes: with "
        "one, every input that shares a best class gets the same vector, so search cannot "
        "rank among them and explanations lose the runners-up; and for images top-1 does "
        "worse on the held-out captions.",
        "",
    ]
    return lines


def _ocr_md(o: dict[str, Any]) -> list[str]:
    lines = [
        "## Text read in images (OCR)",
        "",
        f"`SENSORIUM_OCR=1` (`SpaceOptions(ocr=True)`): PP-OCRv4 reads the text in each image; "
        f"lines scored at least {o['min_confidence']} are embedded and mixed into the image's "
        f"vector, weighted by the reader's confidence times the weight below "
        f"(`benchmarks/ocr.py`). Tux Paint photo ↔ caption R@1, {o['pairs']} pairs; "
        f"text was read in {o['with_text']} stamps:",
        "",
        "| weight of the text read | image → caption R@1 | caption → image R@1 |",
        "|---|---|---|",
    ]
    for r in o["rows"]:
        tag = (
            " (off)"
            if r["weight"] == 0
            else " (shipped)"
            if r["weight"] == o["shipped_weight"]
            else ""
        )
        lines.append(
            f"| {r['weight']}{tag} | {_r(r['image_to_caption'])} | {_r(r['caption_to_image'])} |"
        )
    ratio = o["read_ms_per_image"] / o["encode_ms_per_image"]
    lines += [
        "",
        f"Cost: {o['read_ms_per_image']:.0f} ms an image to read, against "
        f"{o['encode_ms_per_image']:.1f} ms to place it through the image bridge "
        f"({ratio:.0f}x), which is why OCR is off by default. Most stamps hold no writing, and "
        "PP-OCRv4 does not detect a lone large letter (the 122 letter stamps). Every stamp "
        "where text was read, as it was read: some name the stamp (signs, tools), some are "
        "texture or accents read as characters:",
        "",
        *[f"- {cap[:60]} ← read: {text!r}" for cap, text in o["examples"]],
        "",
    ]
    return lines


# Modules of the one shape (NAME, run, markdown), in the order docs/benchmarks.md shows them.
MODULES = ["zeroshot", "words", "duplicates", "texts", "service", "ray_ingest", "faces", "ask", "triage", "service_scale", "cores", "hybrid", "videomem", "killresume", "corpus"]
LEGACY = ["speed", "quality", "bridge", "search", "adapters", "video", "fusion", "ocr"]


def _module(name: str) -> Any:
    return importlib.import_module(f"benchmarks.{name}")


def _photo_moments_md(v: dict[str, Any]) -> list[str]:
    pm = v.get("photo_moments")
    if not pm or "all" not in pm:
        return []
    a = pm["all"]
    return [
        f"Moments on videos of real photos (ImageNet validation photos filling the frame, "
        f"`eval.videos.photo_videos`; half with the class names spoken by espeak-ng, half "
        f"silent): right moment at IoU >= 0.5 **{a['moment_iou50']:.2f}** over {a['queries']} "
        f"queries (spoken {pm['spoken']['moment_iou50']:.2f}, silent "
        f"{pm['silent']['moment_iou50']:.2f}); right video {a['right_video']:.2f}.",
        "",
    ]


def render() -> None:
    lines = [
        "# Benchmarks",
        "",
        "Regenerated by `bash scripts/setup.sh --bench && .venv/bin/python -m benchmarks.run` (writes `benchmarks/results/*.json`). "
        "Every speed figure is a ratio against the plain path measured in the same run.",
        "",
    ]
    for name, fn in (
        ("quality", _quality_md),
        ("bridge", _bridge_md),
        ("ocr", _ocr_md),
        ("adapters", _adapters_md),
        ("search", _search_md),
        ("video", _video_md),
        ("fusion", _fusion_md),
        ("speed", _speed_md),
    ):
        path = RESULTS / f"{name}.json"
        if path.is_file():
            data = json.loads(path.read_text())
            lines += fn(data)
            if name == "search":
                lines += [_plot_latency(data), ""]
                lines += _module("search").markdown(data)
            if name == "video":
                lines += _photo_moments_md(data)
    for name in MODULES:
        path = RESULTS / f"{name}.json"
        if path.is_file():
            lines += _module(name).markdown(json.loads(path.read_text()))
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", choices=LEGACY + MODULES)
    args = parser.parse_args()
    for name in MODULES:
        if args.only in (None, name):
            run = _module(name).run
            if inspect.signature(run).parameters:
                with tempfile.TemporaryDirectory() as tmp:
                    _save(name, run(Path(tmp)))
            else:
                _save(name, run())
    if args.only in (None, "speed"):
        from benchmarks import speed

        _save("speed", speed.run())
    if args.only in (None, "quality"):
        from benchmarks import quality

        with tempfile.TemporaryDirectory() as tmp:
            _save("quality", quality.run(Path(tmp)))
    if args.only in (None, "bridge"):
        from benchmarks import bridge_sweep

        _save("bridge", bridge_sweep.run())
    if args.only in (None, "ocr"):
        from benchmarks import ocr

        _save("ocr", ocr.run())
    if args.only in (None, "adapters"):
        from benchmarks import adapter_probe

        _save("adapters", adapter_probe.run())
    if args.only in (None, "search"):
        from benchmarks import search

        with tempfile.TemporaryDirectory() as tmp:
            _save("search", search.run(Path(tmp)))
    if args.only in (None, "video"):
        from benchmarks import video

        with tempfile.TemporaryDirectory() as tmp:
            _save("video", video.run(Path(tmp)))
    if args.only in (None, "fusion"):
        from benchmarks import fusion

        with tempfile.TemporaryDirectory() as tmp:
            _save("fusion", fusion.run(Path(tmp)))
    render()
    print(DOC.read_text())


if __name__ == "__main__":
    main()
