"""People (issue 24.1): face verification and clustering on real photos of named people.

The real set is what registries ship with identities (``sensorium.eval.datasets.named_faces``):
face_recognition 1.3.0's test photos (Barack Obama in five photos, Joe Biden in one),
scikit-image's astronaut (Eileen Collins) and matplotlib's Grace Hopper: 8 photos, 4 people,
10 same-person pairs and 18 pairs of strangers. Small, so the same photos are also measured
altered (mirrored, JPEG quality 30, a quarter of the pixels, darker): each altered copy is
the same person as its original and as that person's other photos, a check of robustness
on real faces, not a second data set.

- verification: accuracy of "same person" at ``SAME_PERSON`` over every pair, and the
  farthest same-person and nearest stranger distances;
- clustering: the photos ingested into a collection with people on, one file a batch (the
  most incremental order) and all at once, in two orders; purity (each cluster's share of
  its commonest person) and completeness (each person's share in their largest cluster);
- cost: ms a face for the descriptor, and the ingest of the set with people on and off.

``python -m benchmarks.run --only people``
"""

from __future__ import annotations

import io
import itertools
import shutil
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageEnhance, ImageOps

from benchmarks.places import cpu, cpu_line
from sensorium.collection import Collection
from sensorium.encoders.face_ids import SAME_PERSON, FaceIdEncoder
from sensorium.encoders.faces import FaceReader
from sensorium.eval.datasets import named_faces
from sensorium.media.image import load_image

NAME = "people"
ALTERED: dict[str, Callable[[Image.Image], Image.Image]] = {
    "mirrored": ImageOps.mirror,
    "jpeg30": lambda im: Image.open(_jpeg(im, 30)),
    "quarter": lambda im: im.resize((im.width // 2, im.height // 2), Image.Resampling.BILINEAR),
    "darker": lambda im: ImageEnhance.Brightness(im).enhance(0.6),
}


def _jpeg(im: Image.Image, quality: int) -> io.BytesIO:
    buf = io.BytesIO()
    im.convert("RGB").save(buf, "JPEG", quality=quality)
    buf.seek(0)
    return buf


def _library(folder: Path, altered: bool) -> dict[Path, str]:
    """The named photos copied into ``folder`` (and their altered copies): path -> who."""
    out = {}
    for path, who in named_faces().items():
        dest = folder / path.name
        shutil.copy(path, dest)
        out[dest] = who
        if altered:
            image = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
            for name, change in ALTERED.items():
                copy = folder / f"{path.stem}-{name}.jpg"
                change(image).convert("RGB").save(copy, quality=95)
                out[copy] = who
    return out


def _vectors(photos: dict[Path, str]) -> tuple[dict[Path, np.ndarray], float]:
    """Each photo's one face's descriptor, as ingest computes it; and ms a face."""
    reader, encoder = FaceReader(), FaceIdEncoder()
    out, spent = {}, 0.0
    for path in photos:
        media = load_image(path, min_side=224)
        faces = reader.read([media])[0].faces
        if len(faces) != 1:
            continue  # counted as missed below
        t0 = time.perf_counter()
        out[path] = encoder.faces_of(media, faces)[0].vector
        spent += time.perf_counter() - t0
    return out, 1000 * spent / max(len(out), 1)


def _verification(photos: dict[Path, str], vectors: dict[Path, np.ndarray]) -> dict[str, Any]:
    same, other = [], []
    for a, b in itertools.combinations(vectors, 2):
        distance = float(np.linalg.norm(vectors[a] - vectors[b]))
        (same if photos[a] == photos[b] else other).append(distance)
    right = sum(d <= SAME_PERSON for d in same) + sum(d > SAME_PERSON for d in other)
    return {"photos": len(photos), "faces_found": len(vectors), "same_pairs": len(same),
            "stranger_pairs": len(other), "accuracy": round(right / (len(same) + len(other)), 4),
            "farthest_same": round(max(same), 3), "nearest_strangers": round(min(other), 3),
            "threshold": SAME_PERSON}  # fmt: skip


def _scores(coll: Collection, photos: dict[Path, str]) -> dict[str, Any]:
    """Purity and completeness of the collection's people against who is in each photo."""
    who = {str(p): w for p, w in photos.items()}
    clusters = [[who[f["path"]] for f in coll.person_faces(p.id)] for p in coll.people()]
    faces = sum(len(c) for c in clusters)
    purity = sum(Counter(c).most_common(1)[0][1] for c in clusters) / max(faces, 1)
    people = set(who.values())
    complete = sum(max(c.count(name) for c in clusters) for name in people) / max(faces, 1)
    return {"faces": faces, "clusters": len(clusters), "people": len(people),
            "purity": round(purity, 4), "completeness": round(complete, 4)}  # fmt: skip


def _clustering(tmp: Path, photos: dict[Path, str], folder: Path) -> dict[str, Any]:
    out = {}
    orders = {"as listed": sorted(photos), "reversed": sorted(photos, reverse=True)}
    for (label, order), batch in itertools.product(orders.items(), (1, 64)):
        coll = Collection(tmp / f"db-{label.replace(' ', '-')}-{batch}")
        coll.set_people(True)
        for path in order if batch == 1 else [folder]:
            coll.ingest([path], batch_size=batch)
        out[f"{label}, {'one file' if batch == 1 else 'all'} a batch"] = _scores(coll, photos)
    return out


def _ingest_cost(tmp: Path, folder: Path) -> dict[str, float]:
    warm = tmp / "warm"
    warm.mkdir()
    shutil.copy(next(folder.glob("*.png")), warm / "warm.png")
    out = {}
    for on in (False, True, False, True):  # interleaved: the second of each is reported
        coll = Collection(tmp / f"cost-{on}-{time.monotonic_ns()}")
        coll.set_people(on)
        coll.ingest([warm])  # the models load outside the timing
        t0 = time.perf_counter()
        coll.ingest([folder])
        out["people on" if on else "people off"] = round(time.perf_counter() - t0, 2)
    return out


def run(tmp: Path) -> dict[str, Any]:
    plain, altered = tmp / "plain", tmp / "altered"
    plain.mkdir()
    altered.mkdir()
    photos = _library(plain, altered=False)
    all_photos = _library(altered, altered=True)
    vectors, ms = _vectors(photos)
    vectors_all, _ = _vectors(all_photos)
    return {
        "cpu": cpu(),
        "verification": _verification(photos, vectors),
        "verification_altered": _verification(all_photos, vectors_all),
        "clustering": _clustering(tmp, photos, plain),
        "clustering_altered": _clustering(tmp / "alt", all_photos, altered),
        "ms_per_face": round(ms, 1),
        "ingest_s": _ingest_cost(tmp, plain),
    }


def markdown(data: dict[str, Any]) -> list[str]:
    c = data["cpu"]
    on = cpu_line(c)
    lines = [
        "## People",
        "",
        "Face verification and clustering on the real photos of named people that registries "
        "ship: face_recognition 1.3.0's test photos (its sdist on PyPI: Barack Obama in five "
        "photos, Joe Biden in one), scikit-image's astronaut (Eileen Collins) and matplotlib's "
        "Grace Hopper. The same photos altered (mirrored, JPEG quality 30, half the side, "
        "darker) are a check of robustness on the same faces, not a second data set. "
        "BlazeFace finds the faces, dlib's ResNet descriptor (card `dlib-face-id`) tells who; "
        f"same person within {data['verification']['threshold']}. "
        f"`python -m benchmarks.run --only people` ({on}).",
        "",
        "| set | photos | faces found | same-person pairs | stranger pairs | accuracy | "
        "farthest same | nearest strangers |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for label, key in (("real", "verification"), ("real + altered", "verification_altered")):
        v = data[key]
        lines.append(f"| {label} | {v['photos']} | {v['faces_found']} | {v['same_pairs']} | "
                     f"{v['stranger_pairs']} | **{v['accuracy']:.3f}** | {v['farthest_same']} | "
                     f"{v['nearest_strangers']} |")  # fmt: skip
    lines += ["", "Clustering through ingest (people on), incremental:", "",
              "| set | order | faces | people | clusters | purity | completeness |",
              "|---|---|---|---|---|---|---|"]  # fmt: skip
    for label, key in (("real", "clustering"), ("real + altered", "clustering_altered")):
        for order, s in data[key].items():
            lines.append(f"| {label} | {order} | {s['faces']} | {s['people']} | "
                         f"{s['clusters']} | **{s['purity']:.3f}** | {s['completeness']:.3f} |")  # fmt: skip
    cost = data["ingest_s"]
    lines += ["", f"Cost: {data['ms_per_face']} ms a face for the descriptor (5-point "
              f"alignment included); ingesting the 8 photos took {cost['people on']} s with "
              f"people on against {cost['people off']} s off (models loaded before).", ""]  # fmt: skip
    return lines
