"""`sensorium eval`: zero-shot classification, cross-modal retrieval and speech-to-text,
measured on anyone's data (a labelled folder, or a CSV of pairs)."""

from __future__ import annotations

import csv
import re
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from sensorium import media
from sensorium.engine import Engine, default_engine
from sensorium.errors import MediaError, UsageError
from sensorium.eval.metrics import char_errors, recall_at_k, word_errors
from sensorium.perceive import iter_classify
from sensorium.perceive.inputs import expand_paths
from sensorium.space import SharedSpace

__all__ = ["eval_classify", "eval_retrieve", "eval_transcribe", "read_pairs"]


def _is_file(value: str | Path) -> bool:
    """True for an existing file; False for anything else, a long text included."""
    try:
        return Path(value).is_file()
    except (OSError, ValueError):  # a text too long to be a file name, or with NUL bytes
        return False


def read_pairs(csv_path: Path, columns: int = 2) -> list[tuple[str, ...]]:
    """Rows of a CSV (a header row is skipped when its first cell is not an existing file)."""
    try:
        with csv_path.open(newline="", encoding="utf-8") as f:
            rows = [tuple(c.strip() for c in r[:columns]) for r in csv.reader(f) if r]
    except OSError as e:
        raise UsageError(f"{csv_path}: {e.strerror}") from e
    if (
        rows
        and not Path(rows[0][0]).exists()
        and rows[0][0].lower() in {"path", "query", "audio", "file"}
    ):
        rows = rows[1:]
    bad = [r for r in rows if len(r) < columns]
    if bad or not rows:
        raise UsageError(f"{csv_path}: need {columns} columns in every row")
    base = csv_path.parent
    return [tuple(str(base / c) if _is_file(base / c) else c for c in r) for r in rows]


def _label_of(path: Path, root: Path, how: str, table: dict[str, str]) -> str:
    if how == "folder":
        rel = path.relative_to(root)
        return rel.parts[0] if len(rel.parts) > 1 else root.name
    if how == "filename":
        return re.sub(r"[\d_\-]+$", "", path.stem).replace("_", " ").strip() or path.stem
    return table.get(str(path.resolve()), "")


def eval_classify(folder: Path, labels_from: str, top: int = 5,
                  engine: Engine | None = None) -> dict[str, Any]:  # fmt: skip
    """Zero-shot top-1/top-5 accuracy, per-class accuracy and the commonest confusions."""
    table: dict[str, str] = {}
    if labels_from not in ("folder", "filename"):
        table = {str(Path(p).resolve()): lb for p, lb in read_pairs(Path(labels_from))}
    files = expand_paths([folder])
    truth = {str(p): _label_of(p, folder, labels_from, table) for p in files}
    truth = {p: lb for p, lb in truth.items() if lb}
    labels = sorted(set(truth.values()))
    if len(labels) < 2:
        raise UsageError(f"{folder}: found {len(labels)} label(s); need at least 2")
    hits1 = hits5 = 0
    per_class: dict[str, list[int]] = {lb: [0, 0] for lb in labels}
    confusions: Counter[tuple[str, str]] = Counter()
    failed = []
    for r in iter_classify(list(truth), labels, top=top, engine=engine):
        if r.error:
            failed.append({"path": r.path, "error": r.error})
            continue
        want, ranked = truth[r.path], [lb for lb, _ in r.labels]
        hits1 += ranked[0] == want
        hits5 += want in ranked[:5]
        per_class[want][0] += ranked[0] == want
        per_class[want][1] += 1
        if ranked[0] != want:
            confusions[(want, ranked[0])] += 1
    n = sum(c[1] for c in per_class.values())
    return {
        "items": n,
        "labels": len(labels),
        "top1": hits1 / max(n, 1),
        "top5": hits5 / max(n, 1),
        "per_class": {lb: c[0] / c[1] for lb, c in per_class.items() if c[1]},
        "confusions": [
            {"true": t, "predicted": p, "count": k} for (t, p), k in confusions.most_common(10)
        ],
        "failed": failed,
    }


def _embed_side(space: SharedSpace, values: list[str]) -> np.ndarray:
    """Each value is a file (any medium) or, when no such file exists, a text."""
    out = np.zeros((len(values), 384), np.float32)
    files = [i for i, v in enumerate(values) if _is_file(v)]
    texts = [i for i, v in enumerate(values) if i not in set(files)]
    if texts:
        out[texts] = space.text.encode([values[i] for i in texts])
    for start in range(0, len(files), 32):
        idx = files[start : start + 32]
        try:
            decoded = [media.load(values[i], image_side=224) for i in idx]
        except MediaError as e:
            raise UsageError(f"cannot use {e}") from e
        out[idx] = np.stack([e.vector for e in space.embed(decoded)])
    return out


def eval_retrieve(pairs_csv: Path, engine: Engine | None = None) -> dict[str, Any]:
    """Recall@1/5/10, mAP and median rank, query -> target and target -> query."""
    pairs = read_pairs(pairs_csv)
    space = (engine or default_engine()).space
    q = _embed_side(space, [p[0] for p in pairs])  # (N, 384)
    t = _embed_side(space, [p[1] for p in pairs])  # (N, 384)
    return {
        "pairs": len(pairs),
        "query_to_target": recall_at_k(q @ t.T),
        "target_to_query": recall_at_k(t @ q.T),
    }


def eval_transcribe(pairs_csv: Path, model: str = "base",
                    engine: Engine | None = None) -> dict[str, Any]:  # fmt: skip
    """WER and CER (normalised text) per file and over all files."""
    rec = (engine or default_engine()).recognizer(model)
    rows, totals = [], np.zeros(4, int)  # word edits, words, char edits, chars
    for audio, reference in read_pairs(pairs_csv):
        try:
            clip = media.load(audio)
        except MediaError as e:
            rows.append({"path": audio, "error": e.cause})
            continue
        if not isinstance(clip, media.AudioMedia):
            rows.append({"path": audio, "error": f"{clip.kind} is not audio"})
            continue
        hyp = rec.transcribe(clip).text
        counts = np.array([*word_errors(reference, hyp), *char_errors(reference, hyp)])
        totals += counts
        rows.append(
            {
                "path": audio,
                "reference": reference,
                "hypothesis": hyp,
                "wer": counts[0] / max(counts[1], 1),
                "cer": counts[2] / max(counts[3], 1),
            }
        )
    return {
        "model": model,
        "files": len(rows),
        "words": int(totals[1]),
        "wer": totals[0] / max(totals[1], 1),
        "cer": totals[2] / max(totals[3], 1),
        "rows": rows,
    }
