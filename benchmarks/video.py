"""Video: moment retrieval on Tux Paint videos and on videos of real photos, processing speed
against decoding alone, and peak memory while ingesting a 30-minute video.

The videos are built from real parts (DATA.md): Tux Paint photos as shots, their spoken
captions in the audio track, so which animal is on screen and named when is known; and
ImageNet validation photos filling the frame, their class names spoken (espeak-ng) in half
of the videos and a silent track in the other half.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sensorium.collection import open_collection
from sensorium.engine import default_engine
from sensorium.eval.datasets import DatasetMissingError, imagenet_photos, tuxpaint_stamps
from sensorium.eval.videos import (
    BuiltVideo,
    Shot,
    _query,
    photo_videos,
    tuxpaint_videos,
    write_video,
)
from sensorium.media.video import frames
from sensorium.video import analyze

NAME = "video"  # benchmarks/results/video.json, `--only video`


def _iou(a: tuple[float, float], b: tuple[float, float]) -> float:
    inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    union = max(a[1], b[1]) - min(a[0], b[0])
    return inter / union if union > 0 else 0.0


def _moments(videos: list[BuiltVideo], db: Path, sources: list[Path]) -> dict[str, Any]:
    """Each shot's label as a text query against every video: the first hit must be the right
    video with a moment overlapping the true interval at IoU >= 0.5."""
    coll = open_collection(db)
    report = coll.ingest(sources)
    found = right_video = 0
    ious, misses = [], []
    for v in videos:
        for start, end, label in v.intervals:
            hit = coll.search(label, k=1)[0]
            same = hit.item.path == str(v.path.resolve())
            iou = _iou((start, end), (hit.item.start, hit.item.end)) if same else 0.0
            right_video += same
            found += iou >= 0.5
            ious.append(iou)
            if iou < 0.5:
                misses.append({"query": label, "video": v.path.name, "truth": [start, end],
                               "got": [Path(hit.item.path).name, round(hit.item.start, 2),
                                       round(hit.item.end, 2)]})  # fmt: skip
    n = len(ious)
    return {
        "videos": len(videos),
        "queries": n,
        "ingest_seconds": round(report.seconds, 2),
        "video_seconds": sum(v.intervals[-1][1] for v in videos),
        "moment_iou50": found / n,
        "right_video": right_video / n,
        "mean_iou": sum(ious) / n,
        "misses": misses,
    }


def moment_retrieval(tmp: Path) -> dict[str, Any]:
    videos = tuxpaint_videos(tmp / "tuxpaint-videos")
    out = {"with_speech": _moments(videos, tmp / "db-speech", [tmp / "tuxpaint-videos"])}
    # The same videos without their audio track: what the pictures alone find.
    mute = []
    for v in videos:
        shots = [Shot(Path(_image_of(label)), e - s, None, label) for s, e, label in v.intervals]
        mute.append(write_video(tmp / "mute" / v.path.name, shots, audio="none"))
    out["pictures_only"] = _moments(mute, tmp / "db-mute", [tmp / "mute"])
    return out


def photo_moments(tmp: Path) -> dict[str, Any]:
    """Moments on videos of real photos (half spoken, half silent), each kind on its own."""
    try:
        videos = photo_videos(tmp / "photo-videos", imagenet_photos())
    except DatasetMissingError as e:
        return {"skipped": str(e)}
    out = {"all": _moments(videos, tmp / "db-photos", [tmp / "photo-videos"])}
    for kind in ("spoken", "silent"):
        chosen = [v for v in videos if kind in v.path.name]
        misses = [m for m in out["all"]["misses"] if kind in m["video"]]
        queries = sum(len(v.intervals) for v in chosen)
        out[kind] = {"videos": len(chosen), "queries": queries,
                     "moment_iou50": 1 - len(misses) / queries if queries else 0.0}  # fmt: skip
    return out


_BY_QUERY: dict[str, str] = {}


def _image_of(label: str) -> str:
    if not _BY_QUERY:
        _BY_QUERY.update({_query(s.caption): str(s.image) for s in tuxpaint_stamps() if s.spoken})
    return _BY_QUERY[label]


def _long_video(path: Path, seconds: float, fps: int, size: tuple[int, int]) -> BuiltVideo:
    """Tux Paint animals, 6 s each with their spoken captions, cycled to ``seconds``."""
    stamps = [s for s in tuxpaint_stamps() if s.spoken]
    n = int(seconds // 6)
    shots = [Shot(stamps[i % len(stamps)].image, 6.0, stamps[i % len(stamps)].spoken,
                  _query(stamps[i % len(stamps)].caption)) for i in range(n)]  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_video(path, shots, fps=fps, size=size)


def speed(tmp: Path) -> dict[str, Any]:
    """Seconds of video per second: decoding alone (sampled frames at 1 fps, cut detection on
    every frame) against the whole analysis (plus image, sound and speech encoders)."""
    video = _long_video(tmp / "speed.mp4", 180, fps=25, size=(640, 360))
    length = video.intervals[-1][1]
    space = default_engine().space
    analyze(video.path, space)  # warm up: models load once per process
    t0 = time.perf_counter()
    sampled = sum(1 for _ in frames(video.path, fps=1.0))
    decode = time.perf_counter() - t0
    t0 = time.perf_counter()
    result = analyze(video.path, space, fps=1.0)
    full = time.perf_counter() - t0
    return {
        "video": "640x360, 25 fps, H.264 + AAC, spoken captions every 6 s",
        "seconds": length,
        "frames_sampled": sampled,
        "segments": len(result.segments),
        "decode_only_x_realtime": length / decode,
        "full_x_realtime": length / full,
        "ratio_full_vs_decode": decode / full,
    }


def memory(tmp: Path, minutes: int = 30) -> dict[str, Any]:
    """Peak resident memory of ``ingest`` of one long video, in a child process."""
    video = _long_video(tmp / "long" / "long.mp4", minutes * 60, fps=25, size=(640, 360))
    code = (
        "import sensorium, sys, json, re;"
        "r = sensorium.open(sys.argv[2]).ingest([sys.argv[1]]);"
        "hwm = re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1);"
        "print(json.dumps({'added': r.added, 'failed': r.failed, 'seconds': r.seconds,"
        " 'peak_rss_mb': int(hwm) / 1024}))"
    )
    done = subprocess.run([sys.executable, "-c", code, str(video.path), str(tmp / "long-db")],
                          capture_output=True, text=True, check=True)  # fmt: skip
    result = json.loads(done.stdout.strip().splitlines()[-1])
    moments = len(open_collection(tmp / "long-db").moments(str(video.path.resolve())))
    return {"minutes": minutes, "bytes": video.path.stat().st_size, "moments": moments, **result}


def run(tmp: Path) -> dict[str, Any]:
    return {"moments": moment_retrieval(tmp), "photo_moments": photo_moments(tmp),
            "speed": speed(tmp), "memory": memory(tmp)}  # fmt: skip


def markdown(v: dict[str, Any]) -> list[str]:
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
        *_photo_moments_markdown(v),
    ]


def _photo_moments_markdown(v: dict[str, Any]) -> list[str]:
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


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        print(json.dumps(run(Path(d)), indent=2))
