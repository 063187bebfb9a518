"""Sound-event encoder: YAMNet (float ONNX) over log-mel patches -> 521 AudioSet scores.

The wheel ships a QDQ-quantised graph; the installer derives the float graph it approximates
(``models.prepare.float_graph``), because the fused integer kernels ONNX Runtime picks for the
QDQ graph differ per CPU and changed the top classes of 8 of 60 Tux Paint sounds on AMD EPYC.

The front end follows YAMNet's published parameters (see MODELS.md); it is written here with
numpy because the package that ships the weights needs torchaudio, which has no CPU build, and
librosa would add a large dependency for 20 lines.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

import numpy as np

from sensorium.encoders.base import ALL_CORES, Threads, onnx_session
from sensorium.media.types import SAMPLE_RATE, AudioMedia
from sensorium.models import model_path

__all__ = ["SoundEncoder", "SoundOutput", "log_mel_patches"]

WINDOW, HOP, NFFT = 400, 160, 512  # 25 ms Hann window, 10 ms hop
MELS, FMIN, FMAX = 64, 125.0, 7500.0
PATCH, PATCH_HOP = 96, 48  # 0.96 s patches, 0.48 s apart
MIN_SAMPLES = (PATCH - 1) * HOP + WINDOW  # 15,600 samples make one patch


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    return 1127.0 * np.log1p(hz / 700.0)  # HTK mel scale


@cache
def _mel_matrix() -> np.ndarray:
    """(257, 64) triangular HTK filters, as tf.signal.linear_to_mel_weight_matrix builds them."""
    bins = NFFT // 2 + 1
    bin_mel = _hz_to_mel(np.linspace(0.0, SAMPLE_RATE / 2, bins))[1:, None]  # DC bin is zeroed
    edges = np.linspace(_hz_to_mel(np.array(FMIN)), _hz_to_mel(np.array(FMAX)), MELS + 2)
    lower, center, upper = edges[:-2], edges[1:-1], edges[2:]
    up = (bin_mel - lower) / (center - lower)
    down = (upper - bin_mel) / (upper - center)
    weights = np.maximum(0.0, np.minimum(up, down))  # (256, 64)
    return np.vstack([np.zeros((1, MELS)), weights]).astype(np.float32)


PATCH_SAMPLES = PATCH_HOP * HOP  # 7,680 samples between patch starts
CHUNK_PATCHES = 256  # long audio is framed this many patches at a time (about 2 minutes)
# Patches YAMNet reads a run. Its scores do not depend on the batch (checked bitwise), but
# ONNX Runtime's arena keeps the largest run's activations: 256 patches held 220 MB, 64 72 MB,
# at the same speed on 2 cores.
BATCH_PATCHES = 64


def patch_count(samples: int) -> int:
    """How many patches ``log_mel_patches`` makes of ``samples`` samples (at least one)."""
    return (max(samples, MIN_SAMPLES) - MIN_SAMPLES) // PATCH_SAMPLES + 1


def log_mel_patches(samples: np.ndarray) -> np.ndarray:
    """(T,) 16 kHz mono -> (P, 96, 64) log-mel patches; short clips are zero-padded."""
    return np.concatenate(list(_patch_chunks(samples)))


def _patch_chunks(samples: np.ndarray) -> Iterator[np.ndarray]:
    """``log_mel_patches`` in pieces of up to CHUNK_PATCHES patches, (p, 96, 64) each: the
    framed spectrum of 30 minutes at once would take about 1 GB, the patches of an hour 180
    MB, and they come out the same either way."""
    if len(samples) < MIN_SAMPLES:
        samples = np.pad(samples, (0, MIN_SAMPLES - len(samples)))
    total = patch_count(len(samples))
    for p0 in range(0, total, CHUNK_PATCHES):
        p1 = min(total, p0 + CHUNK_PATCHES)
        yield _patches(samples[p0 * PATCH_SAMPLES : (p1 - 1) * PATCH_SAMPLES + MIN_SAMPLES])


def _batches(batch: list[AudioMedia]) -> Iterator[np.ndarray]:
    """Every clip's patches in one stream, cut in runs of BATCH_PATCHES (B, 96, 64): full
    runs over short clips (25% faster on Tux Paint effects), and an hour is never held."""
    held: list[np.ndarray] = []  # patches not yet in a run
    count = 0  # how many
    for m in batch:
        for chunk in _patch_chunks(m.samples):
            held.append(chunk)
            count += len(chunk)
            if count < BATCH_PATCHES:
                continue
            # joined once; the runs are slices of it, the few left over copied at the next join
            joined = np.concatenate(held) if len(held) > 1 else chunk  # (count, 96, 64)
            full = count - count % BATCH_PATCHES
            for s in range(0, full, BATCH_PATCHES):
                yield joined[s : s + BATCH_PATCHES]
            held, count = ([joined[full:]] if full < count else []), count - full
    if count:
        yield np.concatenate(held)


def _patches(samples: np.ndarray) -> np.ndarray:
    frames = np.lib.stride_tricks.sliding_window_view(samples, WINDOW)[::HOP]  # (F, 400)
    window = np.hanning(WINDOW + 1)[:-1].astype(np.float32)  # periodic Hann
    spectrum = np.abs(np.fft.rfft(frames * window, n=NFFT))  # (F, 257)
    mel = np.log(spectrum @ _mel_matrix() + 1e-3)  # (F, 64)
    starts = range(0, len(mel) - PATCH + 1, PATCH_HOP)
    return np.stack([mel[s : s + PATCH] for s in starts]).astype(np.float32)


@dataclass(frozen=True)
class SoundOutput:
    scores: np.ndarray  # (N, 521) clip-level class probabilities (mean over patches)
    patch_scores: list[np.ndarray]  # per clip (P, 521): events over time, 0.48 s apart


class SoundEncoder:
    dim = 521

    def __init__(self, model: str = "yamnet", threads: Threads = ALL_CORES) -> None:
        folder = model_path(model)
        self.session = onnx_session(folder / "model-float.onnx", threads)
        with (folder / "yamnet_class_map.csv").open(newline="") as f:
            self.classes: list[str] = [row["display_name"] for row in csv.DictReader(f)]

    def _scores(self, patches: np.ndarray) -> np.ndarray:
        """(B, 96, 64) log-mel -> (B, 521) probabilities."""
        (logits,) = self.session.run(None, {"audio": patches[:, None]})  # (B, 521)
        return (0.5 * (1.0 + np.tanh(0.5 * logits))).astype(np.float32)  # sigmoid, no overflow

    def _patch_scores(self, patches: np.ndarray) -> np.ndarray:
        """(P, 96, 64) log-mel -> (P, 521) probabilities, BATCH_PATCHES patches a run."""
        runs = range(0, len(patches), BATCH_PATCHES)
        return np.concatenate([self._scores(patches[s : s + BATCH_PATCHES]) for s in runs])

    def run(self, batch: list[AudioMedia]) -> SoundOutput:
        scores = np.concatenate([self._scores(x) for x in _batches(batch)])  # (sum P, 521)
        counts = [patch_count(len(m.samples)) for m in batch]
        per_clip = np.split(scores, np.cumsum(counts)[:-1])
        return SoundOutput(np.stack([p.mean(0) for p in per_clip]), per_clip)

    def encode(self, batch: list[AudioMedia]) -> np.ndarray:
        return self.run(batch).scores
