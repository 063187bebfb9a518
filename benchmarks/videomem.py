"""Video memory (issue 17): peak resident memory of analysing one long video, against a short
one, so what grows with length shows.

The videos are built from real parts (DATA.md): Tux Paint photos held 6 s each as shots, their
spoken captions (real recordings) in the audio track, cycled to the length asked for; 320x240
at 2 frames a second (the analysis samples one a second, so the frame rate only costs
decoding). Each measurement runs in a fresh child process and reads its ``VmHWM`` (peak RSS):
the models it loads are in both figures, so their difference is what the video's length costs.

What each change of the second round saved (1-minute video as ``summarize`` analyses it, peak
RSS of the child; 759 MB at commit 7892403, 815 MB for 30 minutes):

- ``import sensorium`` no longer imports LanceDB and pyarrow (``Collection`` and ``open`` load
  on first use; the CLI imports the store inside the collection commands): 215 MB -> 91 MB
  after the imports, and 1.5 s less start-up; peak 759 -> 631 MB.
- ONNX Runtime's memory patterns off (``encoders/base.py``; same outputs, same speed): 592 MB.
- The C heap's free pages handed back after the frames and after the sound track
  (``trim_heap``): 570 MB; frames encoded 4 at a time instead of 8 (the image model's arena
  keeps one run's activations: 73 -> 35 MB): 536 MB.
- YAMNet in runs of 64 patches, the patches of a long clip never all held (same scores,
  bitwise): little here (a video's sound comes in 10 s blocks), 1.57 GB -> 0.85 GB for an
  hour of silence through ``ingest`` with the next two (``benchmarks/corpus.py``).
- ``load_audio`` writes the blocks into one array of the container's length instead of
  joining a list (an hour was held twice), and ``prepare_audio`` pads in place.

All together (ingest / summarize): 537 / 541 MB for 1 minute, 597 / 581 MB for 30, the same
segments, speech and words as before.

What is left is mostly models: the text encoder holds 155 MB once loaded (its int8 weights
are dequantised to float when the graph is optimised) and peaks 210 MB while it loads, which
is why it loads last; Whisper holds about 85 MB and peaks 250 MB while CTranslate2 converts
its float16 weights to int8.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from sensorium.eval.datasets import tuxpaint_stamps
from sensorium.eval.videos import BuiltVideo, Shot, _query, write_video

__all__ = ["NAME", "long_video", "markdown", "peak_rss", "run"]

NAME = "videomem"
LENGTHS = (1, 30)  # minutes
GOAL_MB = 600  # the bound, for any length
# The same measurement before the audio was streamed (commit 0ac51f7: the track decoded whole,
# YAMNet and Whisper over all of it, frames encoded 32 at a time), on the 2-core AMD EPYC the
# results below come from: peak RSS MB by (minutes, how), and the words Whisper kept.
BEFORE: dict[str, Any] = {
    "commit": "0ac51f7",
    "peak_rss_mb": {"1 min ingest": 935, "1 min summarize": 939, "30 min ingest": 1664,
                    "30 min summarize": 1808},
    "words_30": 61,
}  # fmt: skip

# The child: analyse (as ``ingest`` does, or as ``summarize`` does, with key frames) and report
# its peak resident memory and what it found, so a run that dropped speech cannot look lean.
_CHILD = """
import json, re, sys, time
from sensorium.engine import default_engine
from sensorium.video import analyze
t0 = time.perf_counter()
a = analyze(sys.argv[1], default_engine().space, keyframes=sys.argv[2] == "summarize")
hwm = re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read()).group(1)
print(json.dumps({"peak_rss_mb": int(hwm) / 1024, "seconds": time.perf_counter() - t0,
                  "duration": a.duration, "segments": len(a.segments),
                  "segments_with_speech": sum(bool(s.said) for s in a.segments),
                  "words": sum(len(s.words) for s in a.segments)}))
"""


def long_video(path: Path, minutes: float, fps: int = 2, size: tuple[int, int] = (320, 240)
               ) -> BuiltVideo:  # fmt: skip
    """Tux Paint stamps that have a spoken caption, 6 s each with it said, cycled."""
    stamps = [s for s in tuxpaint_stamps() if s.spoken]
    shots = [Shot(stamps[i % len(stamps)].image, 6.0, stamps[i % len(stamps)].spoken,
                  _query(stamps[i % len(stamps)].caption)) for i in range(int(minutes * 10))]  # fmt: skip
    return write_video(path, shots, fps=fps, size=size)


def peak_rss(video: Path, how: str = "ingest") -> dict[str, Any]:
    """Analyse ``video`` in a child process (``how``: "ingest", no key frames, or "summarize",
    with them): its peak RSS in MB, the seconds it took, and what it found."""
    done = subprocess.run([sys.executable, "-c", _CHILD, str(video), how],
                          capture_output=True, text=True, check=True)  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def run(tmp: Path) -> dict[str, Any]:
    out: dict[str, Any] = {"video": "320x240, 2 fps, H.264 + AAC 16 kHz, a Tux Paint photo and "
                           "its spoken caption every 6 s", "goal_mb": GOAL_MB, "runs": [],
                           "before": BEFORE}  # fmt: skip
    for minutes in LENGTHS:
        video = long_video(tmp / f"long-{minutes}.mp4", minutes)
        for how in ("ingest", "summarize"):
            got = peak_rss(video.path, how)
            out["runs"].append({"minutes": minutes, "how": how, **got})
        video.path.unlink()
    return out


def markdown(data: dict[str, Any]) -> list[str]:
    lines = ["## Video memory (benchmarks/videomem.py)", "",
             f"Peak RSS of one process analysing one video ({data['video']}), models included; "
             f"the goal is at most {data['goal_mb']} MB whatever the length.", "",
             "| minutes | analysed as by | peak RSS MB | seconds | segments | with speech | words |",
             "|---|---|---|---|---|---|---|"]  # fmt: skip
    lines += [f"| {r['minutes']} | {r['how']} | {r['peak_rss_mb']:.0f} | {r['seconds']:.0f} | "
              f"{r['segments']} | {r['segments_with_speech']} | {r['words']} |"
              for r in data["runs"]]  # fmt: skip
    before = data.get("before") or BEFORE
    was = ", ".join(f"{k} {v} MB" for k, v in before["peak_rss_mb"].items())
    lines += ["", f"Before the audio track was streamed in windows (commit {before['commit']}): "
              f"{was}; Whisper over the whole 30-minute track kept {before['words_30']} words "
              "of the 300 names said."]  # fmt: skip
    return [*lines, ""]


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        result = run(Path(d))
    print(json.dumps(result, indent=1))
    print("\n".join(markdown(result)))
