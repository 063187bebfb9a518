"""Ingest speed per camera format: the same real photos (benchmarks/quality.py's samples)
enlarged to a phone's 12 MP (4032 x 3024) and written by each format's own library, with
EXIF (orientation 6, a date, a camera) as a phone writes it: JPEG and WebP and AVIF by
Pillow, HEIC by pillow-heif (x265), DNG by tifffile (tests/media/cameras.py). HEIC and DNG
each twice: as phones and cameras write them, with a small HEIC thumbnail (320 x 240) or a
DNG preview (a quarter of the sensor), and without, which forces a full decode (HEVC) or a
demosaic (LibRaw at half size).

Per format: the file size, the decode alone (``media.load`` at the encoder's size, median
over the files) and ``Collection.ingest`` into a new collection (sniff, decode, metadata,
encode, commit; best of two rounds, the models loaded once), as files per second and as a
ratio to JPEG's in the same run.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from benchmarks.quality import sample_photos

NAME = "formats"
SIDE = (4032, 3024)  # a phone's 12 MP, landscape
PHOTOS = 6  # files per format (each a different photo)
ROUNDS = 2


def _exif(orientation: int = 6) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F], exif[0x0110] = "Apple", "iPhone 12"
    exif.get_ifd(0x8769)[0x9003] = "2021:06:05 14:30:00"
    return exif.tobytes()


def _writers() -> dict[str, Any]:
    """format -> (suffix, write(path, image)), each with its library's ordinary settings
    (HEIC: x265's ultrafast preset; at its default a 12 MP photo took 44 s to write here)."""
    from pillow_heif import register_heif_opener
    from tests.media.cameras import write_dng

    register_heif_opener()
    heic = {"quality": 80, "enc_params": {"preset": "ultrafast"}}

    def dng(preview: bool) -> Any:
        def write(path: Path, im: Image.Image) -> None:
            rgb = np.asarray(im)  # (H, W, 3) uint8
            small = np.asarray(im.reduce(4)) if preview else None
            write_dng(path, rgb, 1, preview=small)

        return write

    return {
        "jpeg": (".jpg", lambda p, im: im.save(p, "JPEG", quality=90, exif=_exif())),
        "webp": (".webp", lambda p, im: im.save(p, "WEBP", quality=80, exif=_exif())),
        "avif": (".avif", lambda p, im: im.save(p, "AVIF", quality=80, speed=8, exif=_exif())),
        "heic": (".heic", lambda p, im: im.save(p, "HEIF", exif=_exif(), thumbnails=[320], **heic)),
        "heic, no thumbnail": (".heic", lambda p, im: im.save(p, "HEIF", exif=_exif(), **heic)),
        "dng with preview": (".dng", dng(True)),
        "dng, demosaiced": (".dng", dng(False)),
    }


def _write_all(tmp: Path) -> dict[str, list[Path]]:
    photos = sample_photos(tmp / "samples")
    images = [Image.open(p).convert("RGB").resize(SIDE, Image.Resampling.BICUBIC)
              for p in list(photos.values())[:PHOTOS]]  # fmt: skip
    out: dict[str, list[Path]] = {}
    for i, (fmt, (suffix, write)) in enumerate(_writers().items()):
        folder = tmp / f"f{i}"
        folder.mkdir()
        out[fmt] = []
        for j, im in enumerate(images):
            path = folder / f"photo{j}{suffix}"
            write(path, im)
            out[fmt].append(path)
    return out


def run(tmp: Path) -> dict[str, Any]:
    from sensorium import media
    from sensorium.collection import Collection
    from sensorium.store.ingest import image_side

    t0 = time.perf_counter()
    files = _write_all(tmp)
    written_s = time.perf_counter() - t0
    warm = Collection(tmp / "warm")
    warm.ingest(files["jpeg"][:2])  # the models load once, before anything is timed
    side = image_side(warm.space)
    rows: dict[str, dict[str, Any]] = {}
    for fmt, paths in files.items():
        decode = []
        for p in paths:
            t = time.perf_counter()
            media.load(p, image_side=side)
            decode.append(time.perf_counter() - t)
        rows[fmt] = {"files": len(paths), "mb_per_file": round(
            statistics.mean(p.stat().st_size for p in paths) / 1e6, 2),
            "decode_ms": round(statistics.median(decode) * 1000, 1), "ingest_s": []}  # fmt: skip
    for r in range(ROUNDS):  # formats interleaved, so a busy moment does not land on one
        for i, (fmt, paths) in enumerate(files.items()):
            coll = Collection(tmp / f"db{r}-{i}", warm.engine)
            report = coll.ingest([paths[0].parent])
            assert report.added == len(paths) and not report.failed, report.to_json()
            rows[fmt]["ingest_s"].append(round(report.seconds, 3))
    base = len(files["jpeg"]) / min(rows["jpeg"]["ingest_s"])
    for row in rows.values():
        rate = row["files"] / min(row["ingest_s"])
        row["files_per_s"] = round(rate, 2)
        row["vs_jpeg"] = round(rate / base, 2)
    return {"size": list(SIDE), "photos": PHOTOS, "rounds": ROUNDS, "side": side,
            "write_s": round(written_s, 1), "formats": rows}  # fmt: skip


def markdown(data: dict[str, Any]) -> list[str]:
    w, h = data["size"]
    lines = [
        "## Ingest speed per camera format",
        "",
        f"{data['photos']} real photos enlarged to {w} x {h} (12 MP) and written by each "
        "format's own library with a phone's EXIF (`benchmarks/formats.py`): Pillow (JPEG, "
        "WebP, AVIF), pillow-heif (HEIC), tifffile (DNG). Decode: `media.load` at the "
        f"encoder's {data['side']} px, median per file. Ingest: `Collection.ingest` into a "
        "new collection (sniff, decode, EXIF/XMP/IPTC, encode, commit), best of "
        f"{data['rounds']} rounds, as a ratio to JPEG's rate in the same run. A phone's HEIC "
        "carries a small thumbnail and a camera's RAW a preview: decoded in their place "
        "when large enough; without them a 12 MP HEIC is decoded whole (HEVC) and a RAW "
        "demosaiced at half size (LibRaw).",
        "",
        "| format | MB a file | decode | files/s | vs JPEG |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {fmt} | {r['mb_per_file']} | {r['decode_ms']:.0f} ms | {r['files_per_s']} | "
              f"**{r['vs_jpeg']:.2f}** |" for fmt, r in data["formats"].items()]  # fmt: skip
    return [*lines, ""]
