"""The CPU-path matrix: the same answers whichever kernels the libraries pick.

BLAS, numpy, oneDNN and CTranslate2 choose their kernels per CPU when they load, and these
variables force each family on one machine (they must be set before the process starts, so
every line runs in a fresh process). Each line computes a fingerprint of the decisions the
engine makes on real registry data, and every line must equal the default line:

- the words (case and punctuation aside: float32 kernels once chose "HELLO WORLD" or "Hello
  world!") said in short clips (Asterisk's digits with and without the digit words as a
  hint, "hello world") and in a long one (a LibriVox sentence), and no words in Tux Paint's
  animal and object effects that Whisper once heard words in, with and without the hint;
- the top 3 labels of real photos against all 1000 ImageNet names, and of sounds (YAMNet);
- the shared-space vectors of the photos, sounds and a few texts, and dlib's descriptors of
  the named faces (the people extra), within ``VECTOR_TOL``.

Usage: ``python scripts/cpu_matrix.py [--lines NAME ...] [--out FILE]``; prints a pass/fail
table and exits 1 when a line differs. ``python scripts/cpu_matrix.py --list`` names the lines.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VECTOR_TOL = 1e-4  # max |a - b| of a unit vector's entries between two lines (measured: ~1e-6)

# name -> the environment that forces a kernel family (the list)
LINES: dict[str, dict[str, str]] = {
    "defaults": {},
    "openblas-skylakex": {"OPENBLAS_CORETYPE": "SkylakeX"},
    "openblas-haswell": {"OPENBLAS_CORETYPE": "Haswell"},
    "numpy-avx2+onednn-avx2": {"NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR",
                               "ONEDNN_MAX_CPU_ISA": "AVX2"},
    "ct2-generic": {"CT2_FORCE_CPU_ISA": "GENERIC"},
    "ct2-avx": {"CT2_FORCE_CPU_ISA": "AVX"},
    "ct2-avx2": {"CT2_FORCE_CPU_ISA": "AVX2"},
    "ct2-avx512": {"CT2_FORCE_CPU_ISA": "AVX512"},
    "ct2-mkl": {"CT2_USE_MKL": "1"},
    "onednn-avx2-vnni": {"ONEDNN_MAX_CPU_ISA": "AVX2_VNNI"},
    "onednn-avx512-core": {"ONEDNN_MAX_CPU_ISA": "AVX512_CORE"},
    "one-thread": {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"},
}  # fmt: skip

# line -> the CPU flags (/proc/cpuinfo) without which its kernels cannot run at all: OpenBLAS's
# SkylakeX kernels stop on an illegal instruction and CTranslate2 refuses AVX512 on a CPU
# without AVX-512 (an AMD Zen 3, say). No user of such a CPU ever runs them, so the line is
# reported as not applicable there, not as a pass. (oneDNN's variables are caps: they run.)
NEEDS: dict[str, tuple[str, ...]] = {
    "openblas-skylakex": ("avx512f",),
    "openblas-haswell": ("avx2", "fma"),
    "ct2-avx": ("avx",),
    "ct2-avx2": ("avx2", "fma"),
    "ct2-avx512": ("avx512f",),
}

TEXTS = ["a dog barking in the yard", "someone says hello", "a red sports car"]
EFFECTS = ["animals/mammals/apes/chimp.ogg", "household/dishes/bottle.ogg",
           "animals/birds/duck.ogg", "animals/mammals/aquatic/whale.ogg",
           # with the digits as hint: a recitation over YAMNet's 0.85, a listed word at -1.26
           "animals/mammals/camel/camel.ogg", "town/roadsigns/xing_ped.ogg"]  # fmt: skip


def _clips() -> dict[str, Path]:
    from sensorium.eval.datasets import ASTERISK, LIBRIVOX, TUXPAINT

    clips = {f"digit-{d}": ASTERISK / "digits" / f"{d}.wav" for d in range(10)}
    clips["hello-world"] = ASTERISK / "hello-world.wav"
    clips["librivox"] = LIBRIVOX / "sense_and_sensibility_01_austen_64kb-0880.wav"
    for name in EFFECTS:
        clips[f"effect-{Path(name).stem}"] = TUXPAINT / name
    return {k: v for k, v in clips.items() if v.exists()}


def fingerprint() -> dict[str, Any]:
    """The decisions and vectors of this process (its environment picked the kernels)."""
    import sensorium
    from sensorium import media
    from sensorium.engine import default_engine
    from sensorium.eval.datasets import imagenet_photos
    from sensorium.eval.words import DIGIT_WORDS
    from sensorium.space.space import image_class_prompts

    space = default_engine().space
    speech = default_engine().recognizer()
    hint = " ".join(DIGIT_WORDS)
    out: dict[str, Any] = {"words": {}, "labels": {}, "vectors": {}}
    clips = _clips()
    for name, path in clips.items():
        audio = media.load_audio(path)
        out["words"][name] = speech.transcribe(audio).text
        if name.startswith(("digit", "effect")):
            out["words"][name + "+hint"] = speech.transcribe(audio, hint=hint).text
    photos = [p for p, _ in imagenet_photos()]
    names = image_class_prompts()[0]
    for r in sensorium.classify(photos, names, top=3):
        out["labels"][Path(r.path).name] = [label for label, _ in r.labels]
    sounds = [p for k, p in clips.items() if k.startswith("effect")]
    for e in space.embed([media.load(p) for p in sounds]):
        out["labels"][Path(e.path).name] = [label for label, _ in e.labels[:3]]
        out["vectors"][Path(e.path).name] = e.vector.tolist()
    for e in space.embed([media.load_image(p, 224) for p in photos]):
        out["vectors"][Path(e.path).name] = e.vector.tolist()
    for t, v in zip(TEXTS, space.text.encode(TEXTS)):
        out["vectors"][t] = v.tolist()
    out["vectors"].update(_face_ids())
    return out


def _face_ids() -> dict[str, list[float]]:
    """dlib's descriptors of the named faces (people's decisions rest on their distances);
    none where the people extra is not installed."""
    try:
        from sensorium.encoders.face_ids import FaceIdEncoder
    except ImportError:
        return {}
    from sensorium.encoders.faces import FaceReader
    from sensorium.eval.datasets import named_faces
    from sensorium.media.image import load_image

    reader, encoder, out = FaceReader(), FaceIdEncoder(), {}
    for path in named_faces():
        media = load_image(path, min_side=224)  # as ingest decodes it
        for i, face in enumerate(encoder.faces_of(media, reader.read([media])[0].faces)):
            out[f"face {i} of {path.name}"] = face.vector.tolist()
    return out


def _run_line(name: str, env: dict[str, str], timeout: float) -> dict[str, Any]:
    """The fingerprint of one line, computed in a fresh process with its environment."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, __file__, "--fingerprint"], env={**os.environ, **env},
        capture_output=True, text=True, timeout=timeout, cwd=ROOT,
    )  # fmt: skip
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-3:]
        return {"error": " / ".join(tail) or f"exit {proc.returncode}"}
    data: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    data["seconds"] = round(time.perf_counter() - t0, 1)
    return data


def _differences(base: dict[str, Any], line: dict[str, Any]) -> list[str]:
    """What ``line`` decided otherwise than ``base``, one phrase each."""
    if "error" in line:
        return [f"did not run: {line['error']}"]
    from sensorium.eval.metrics import normalize_text

    out = []
    for key, want in base["words"].items():  # the words: case and punctuation aside
        got = line["words"].get(key)
        if got is None or normalize_text(got) != normalize_text(want):
            out.append(f"words of {key}: {got!r} (defaults: {want!r})")
    for key, want in base["labels"].items():
        if line["labels"].get(key) != want:
            out.append(f"labels of {key}: {line['labels'].get(key)!r} (defaults: {want!r})")
    gaps = [max(abs(a - b) for a, b in zip(v, line["vectors"][k]))
            for k, v in base["vectors"].items()]  # fmt: skip
    worst = max(gaps, default=0.0)
    if worst > VECTOR_TOL:
        out.append(f"vectors differ by up to {worst:.2e} (tolerance {VECTOR_TOL:g})")
    line["max_vector_diff"] = worst
    return out


def _flags() -> set[str]:
    """This CPU's feature flags, as the kernel names them."""
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    for row in info.splitlines():
        key, _, value = row.partition(":")
        if key.strip() == "flags":
            return set(value.split())
    return set()


def _cpu() -> str:
    fields = {}
    for row in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
        key, _, value = row.partition(":")
        fields[key.strip()] = value.strip()
    return (f"{fields.get('Model name', '?')}, family {fields.get('CPU family', '?')}, "
            f"model {fields.get('Model', '?')}")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", nargs="*", default=list(LINES), help="the lines to run")
    parser.add_argument("--out", type=Path, help="write the table and differences as JSON")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per line")
    parser.add_argument("--list", action="store_true", help="name the lines and stop")
    parser.add_argument("--fingerprint", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fingerprint:
        print(json.dumps(fingerprint()))
        return 0
    if args.list:
        for name, env in LINES.items():
            print(f"{name:24s} {' '.join(f'{k}={v!r}' for k, v in env.items()) or '(none)'}")
        return 0
    unknown = [n for n in args.lines if n not in LINES]
    if unknown:
        parser.error(f"unknown line(s) {', '.join(unknown)}; --list names them")
    print(f"CPU: {_cpu()}", flush=True)
    base = _run_line("defaults", LINES["defaults"], args.timeout)
    if "error" in base:
        print(f"defaults did not run: {base['error']}")
        return 1
    rows = []
    flags = _flags()
    for name in args.lines:
        lacking = [f for f in NEEDS.get(name, ()) if flags and f not in flags]
        if lacking:
            why = f"this CPU lacks {', '.join(lacking)}: these kernels cannot run on it"
            rows.append({"line": name, "env": LINES[name], "pass": None,
                         "differences": [], "not_applicable": why})  # fmt: skip
            print(f"n/a   {name:24s} {why}", flush=True)
            continue
        line = base if name == "defaults" else _run_line(name, LINES[name], args.timeout)
        diffs = _differences(base, line)
        rows.append({"line": name, "env": LINES[name], "pass": not diffs,
                     "differences": diffs, "seconds": line.get("seconds"),
                     "max_vector_diff": line.get("max_vector_diff")})  # fmt: skip
        mark = "pass" if not diffs else "FAIL"
        gap = line.get("max_vector_diff", float("nan"))
        print(f"{mark}  {name:24s} {line.get('seconds', 0):6.1f} s  max vector diff {gap:.1e}",
              flush=True)  # fmt: skip
        for d in diffs:
            print(f"      {d}")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"cpu": _cpu(), "checks": len(base["words"]) +
                                        len(base["labels"]) + len(base["vectors"]),
                                        "lines": rows}, indent=2))  # fmt: skip
    ran = [r for r in rows if r["pass"] is not None]
    return 0 if ran and all(r["pass"] for r in ran) else 1


if __name__ == "__main__":
    sys.exit(main())
