"""Features for fusion: encoder outputs computed once, cached, with a mask per modality.

A ``FeatureSet`` holds, for N samples, each modality's features ``(N, D_m)`` (zeros where the
modality is missing: the mask says so, and the models never read those rows), a ``(N,)`` bool
mask per modality, and integer labels. Extractors turn a file or a text into features:

- ``image``: EfficientNet-Lite0 pooled features (1280)
- ``text``: MiniLM sentence embedding (384)
- ``sound``: YAMNet AudioSet scores, mean over the clip (521)
- ``speech``: the Whisper transcript's MiniLM embedding (384); no speech means missing
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sensorium import config, media
from sensorium.encoders.image import ImageEncoder
from sensorium.encoders.sound import SoundEncoder
from sensorium.engine import default_engine
from sensorium.errors import MediaError, UsageError
from sensorium.media.types import AudioMedia
from sensorium.space import DIM, SharedSpace

__all__ = [
    "EXTRACTORS",
    "FeatureSet",
    "csv_features",
    "extract",
    "split",
    "tuxpaint_features",
]

DIMS = {"image": ImageEncoder.dim, "text": DIM, "sound": SoundEncoder.dim, "speech": DIM}
# (the image width is the space's encoder's: 1280 for EfficientNet-Lite0, 512 for a hub CLIP)
MIN_CLASS = 10  # smaller Tux Paint categories are merged into "other"


@dataclass
class FeatureSet:
    features: dict[str, np.ndarray]  # modality -> (N, D_m) float32
    mask: dict[str, np.ndarray]  # modality -> (N,) bool
    labels: np.ndarray  # (N,) int64
    classes: list[str]
    ids: list[str] = field(default_factory=list)
    kinds: dict[str, str] = field(default_factory=dict)  # modality -> extractor name

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, index: np.ndarray) -> FeatureSet:
        return FeatureSet(
            {m: f[index] for m, f in self.features.items()},
            {m: k[index] for m, k in self.mask.items()},
            self.labels[index], self.classes, [self.ids[i] for i in index], self.kinds,
        )  # fmt: skip

    def combos(self) -> list[str]:
        """Per sample, the present modalities joined by "+" (e.g. "caption+photo")."""
        names = sorted(self.mask)
        present = np.stack([self.mask[m] for m in names], 1)  # (N, M)
        return ["+".join(n for n, p in zip(names, row) if p) for row in present]

    def save(self, path: Path) -> None:
        meta = {"classes": self.classes, "ids": self.ids, "kinds": self.kinds}
        arrays: dict[str, Any] = {"labels": self.labels, "meta": json.dumps(meta)}
        arrays |= {f"f_{m}": f for m, f in self.features.items()}
        arrays |= {f"m_{m}": k for m, k in self.mask.items()}
        tmp = path.with_suffix(".tmp.npz")
        np.savez_compressed(tmp, **arrays)
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> FeatureSet:
        with np.load(path) as z:
            meta = json.loads(str(z["meta"]))
            feats = {k[2:]: z[k] for k in z.files if k.startswith("f_")}
            mask = {k[2:]: z[k] for k in z.files if k.startswith("m_")}
            return cls(feats, mask, z["labels"], meta["classes"], meta["ids"], meta["kinds"])


def _image(space: SharedSpace, values: Sequence[str]) -> np.ndarray:
    out = [  # a chunk at a time: decoded images are not all held at once
        space.image.run([media.load_image(v, min_side=224) for v in values[s : s + 64]]).features
        for s in range(0, len(values), 64)
    ]
    return np.concatenate(out) if out else np.zeros((0, space.image.dim), np.float32)


def _text(space: SharedSpace, values: Sequence[str]) -> np.ndarray:
    texts = [Path(v[1:]).read_text(errors="replace") if v.startswith("@") else v for v in values]
    return space.text.encode(texts)


def _sound(space: SharedSpace, values: Sequence[str]) -> np.ndarray:
    clips: list[AudioMedia] = [media.load_audio(v) for v in values]
    return space.sound.run(clips).scores if clips else np.zeros((0, DIMS["sound"]), np.float32)


def _speech(space: SharedSpace, values: Sequence[str]) -> np.ndarray:
    texts = [space.speech.transcribe(media.load_audio(v)).text for v in values]
    out = np.zeros((len(texts), DIMS["speech"]), np.float32)
    said = [i for i, t in enumerate(texts) if t]
    if said:
        out[said] = space.text.encode([texts[i] for i in said])
    return out  # an all-zero row: nothing was said (the caller marks it missing)


EXTRACTORS: dict[str, Callable[[SharedSpace, Sequence[str]], np.ndarray]] = {
    "image": _image, "text": _text, "sound": _sound, "speech": _speech,
}  # fmt: skip


def extract(kind: str, values: Sequence[str], space: SharedSpace | None = None) -> np.ndarray:
    """Files (or texts, for ``text``; ``@file`` reads one) -> (N, D) features of ``kind``."""
    if kind not in EXTRACTORS:
        raise UsageError(f"unknown modality kind {kind!r}; choose from {', '.join(EXTRACTORS)}")
    return EXTRACTORS[kind](space or default_engine().space, values)


def split(
    labels: np.ndarray, seed: int = 0, parts: tuple[float, float] = (0.6, 0.2)
) -> dict[str, np.ndarray]:
    """A fixed split, stratified by class: {"train", "val", "test"} -> indices."""
    rng = np.random.default_rng(seed)
    out: dict[str, list[int]] = {"train": [], "val": [], "test": []}
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        a = round(len(idx) * parts[0])
        b = a + max(1, round(len(idx) * parts[1]))
        out["train"] += idx[:a].tolist()
        out["val"] += idx[a:b].tolist()
        out["test"] += idx[b:].tolist()
    return {k: np.array(sorted(v)) for k, v in out.items()}


def _extract_all(
    kinds: dict[str, str], sources: dict[str, list[str]], space: SharedSpace | None
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Per modality, features of the non-empty sources (N, D_m) and the mask (N,): present
    where a source was given and its features are not all zero (speech with no words)."""
    feats, mask = {}, {}
    space = space or default_engine().space
    for m, kind in kinds.items():
        n = len(sources[m])
        dim = space.image.dim if kind == "image" else DIMS[kind]
        feats[m], mask[m] = np.zeros((n, dim), np.float32), np.zeros(n, bool)
        have = [i for i, v in enumerate(sources[m]) if v]
        if have:
            feats[m][have] = extract(kind, [sources[m][i] for i in have], space)
            mask[m][have] = np.abs(feats[m][have]).sum(1) > 0
    return feats, mask


TUXPAINT_KINDS = {"photo": "image", "caption": "text", "sound": "sound", "spoken": "speech"}


def tuxpaint_features(space: SharedSpace | None = None) -> FeatureSet:
    """Tux Paint stamps: photo, caption, sound effect and spoken caption -> category.

    Categories with fewer than MIN_CLASS stamps (military, people, medical, naturalforces)
    are merged into "other". Cached under $SENSORIUM_HOME/cache (about a minute to build).
    """
    from sensorium.eval.datasets import tuxpaint_stamps

    stamps = tuxpaint_stamps()
    key = hashlib.sha256("\n".join(s.name for s in stamps).encode()).hexdigest()[:12]
    path = config.home() / "cache" / f"fusion-tuxpaint-{key}.npz"
    if path.is_file():
        return FeatureSet.load(path)
    counts = Counter(s.category for s in stamps)
    names = [s.category if counts[s.category] >= MIN_CLASS else "other" for s in stamps]
    classes = sorted(set(names))
    sources = {
        "photo": [str(s.image) for s in stamps], "caption": [s.caption for s in stamps],
        "sound": [str(s.sound) if s.sound else "" for s in stamps],
        "spoken": [str(s.spoken) if s.spoken else "" for s in stamps],
    }  # fmt: skip
    feats, mask = _extract_all(TUXPAINT_KINDS, sources, space or default_engine().space)
    labels = np.array([classes.index(c) for c in names], np.int64)
    fs = FeatureSet(feats, mask, labels, classes, [s.name for s in stamps], dict(TUXPAINT_KINDS))
    path.parent.mkdir(parents=True, exist_ok=True)
    fs.save(path)
    return fs


def csv_features(path: Path, kinds: dict[str, str], space: SharedSpace | None = None) -> FeatureSet:
    """A CSV manifest: a ``label`` column and one column per modality (a file path, or the
    text itself for a ``text`` modality); an empty cell is a missing modality."""
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows or "label" not in rows[0]:
        raise UsageError(f"{path}: needs a header with a 'label' column")
    absent = [m for m in kinds if m not in rows[0]]
    if absent:
        raise UsageError(f"{path}: no column for modality {', '.join(absent)}")
    classes = sorted({r["label"] for r in rows})

    def source(cell: str | None, kind: str) -> str:
        """Empty for a missing modality; else the text itself, or a file relative to the CSV."""
        cell = cell or ""
        if not cell.strip():
            return ""
        return cell if kind == "text" else str(path.parent / cell)

    sources = {m: [source(r[m], kind) for r in rows] for m, kind in kinds.items()}
    try:
        feats, mask = _extract_all(kinds, sources, space)
    except MediaError as e:
        raise UsageError(f"{path}: {e}") from e
    labels = np.array([classes.index(r["label"]) for r in rows], np.int64)
    return FeatureSet(feats, mask, labels, classes, [str(i) for i in range(len(rows))], dict(kinds))
