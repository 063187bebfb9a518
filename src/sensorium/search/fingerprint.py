"""Which recording a sound is: a spectrogram print, and how well two prints line up.

The sound encoder's features say *what* a sound is (521 AudioSet scores): two crows match as
well as a crow and its re-encoded copy, so on their own they found sound duplicates with
precision 0.44 (benchmarks/duplicates.py). A copy of a recording (re-encoded, made quieter,
trimmed) keeps its spectrogram, shifted in time and level; another recording of the same kind
of sound does not. So a candidate pair is confirmed by the best correlation of the two
spectrograms over the shifts where they overlap.

Why by hand: the audio fingerprint libraries on PyPI either need Chromaprint's system library
(which wants several seconds of audio, and effects last one or two) or index many prints for
look-up, where this compares a few hundred candidate pairs; forty lines of numpy do it.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np

from sensorium.errors import MediaError
from sensorium.media.audio import audio_blocks
from sensorium.media.types import SAMPLE_RATE

__all__ = ["PRINT_SECONDS", "alignment", "print_summary", "sound_print", "sound_print_of"]

WINDOW = 1024  # samples: 64 ms at 16 kHz
HOP = 320  # 20 ms: 50 frames a second
BANDS = 32  # log-spaced from 100 Hz to 7.6 kHz
FLOOR_DB = 60.0  # below the loudest band energy: one floor whatever the gain of a copy
PRINT_SECONDS = 60.0  # what is compared of a long recording: its first minute


@cache
def _bands() -> np.ndarray:
    """(WINDOW // 2 + 1, BANDS) 0/1 matrix summing FFT bins into log-spaced bands."""
    freqs = np.fft.rfftfreq(WINDOW, 1 / SAMPLE_RATE)
    edges = np.geomspace(100.0, 7600.0, BANDS + 1)
    band = np.searchsorted(edges, freqs) - 1  # (bins,) band of each bin, -1 or BANDS outside
    out = np.zeros((len(freqs), BANDS), np.float32)
    inside = (band >= 0) & (band < BANDS)
    out[np.flatnonzero(inside), band[inside]] = 1.0
    return out


def sound_print(samples: np.ndarray) -> np.ndarray:
    """(T,) 16 kHz mono -> (F, BANDS) float16: log band energies, 50 frames a second, floored
    FLOOR_DB below the loudest, less each band's mean over time and each frame's mean over
    bands, standardised. The frame means take a copy's gain away; the band means take away
    what a steady sound has in every frame (noise's tilt over log-spaced bands), which would
    make two recordings of rain or two bursts of noise look alike: what is left is how the
    sound changes. On 60 Tux Paint recordings and their copies (benchmarks/duplicates.py) a
    copy lines up at 0.83 or more, two other recordings at 0.69 at most (two bursts of
    noise: 0.67; without the band means: copies 0.95, others 0.85, noise 0.99). Half
    precision: 3 KB a second."""
    x = np.asarray(samples, np.float32)[: int(PRINT_SECONDS * SAMPLE_RATE)]
    if len(x) < WINDOW:
        x = np.pad(x, (0, WINDOW - len(x)))
    frames = np.lib.stride_tricks.sliding_window_view(x, WINDOW)[::HOP]  # (F, WINDOW)
    power = np.abs(np.fft.rfft(frames * np.hanning(WINDOW).astype(np.float32))) ** 2
    db = 10 * np.log10(np.maximum(power @ _bands(), 1e-20))  # (F, BANDS)
    db = np.maximum(db, db.max() - FLOOR_DB)
    db -= db.mean(0, keepdims=True)  # (1, BANDS): what every frame has
    db -= db.mean(1, keepdims=True)  # (F, 1): each frame's level
    return (db / (db.std() + 1e-6)).astype(np.float16)


def sound_print_of(path: str | Path) -> np.ndarray | None:
    """The print of a file's first PRINT_SECONDS, or None when it cannot be read now (moved,
    gone, changed into something else): the caller then judges by features alone."""
    try:
        # the first block only: the generator, dropped, closes its file, and the rest of a
        # long recording is never decoded
        first = next(audio_blocks(path, seconds=PRINT_SECONDS), None)
    except (MediaError, OSError):
        return None
    return None if first is None or not len(first) else sound_print(first)


def print_summary(print_: np.ndarray | None) -> np.ndarray:
    """(2 * BANDS,) unit vector saying how a print varies, band by band (its spread over time
    and its mean change from frame to frame), whatever the shift: a trimmed copy's summary is
    near its original's where the encoder's features may not be (a crow trimmed by a tenth:
    features 0.52, the original ranked 28th; by summary the original ranks in the first 3 for
    every copy in benchmarks/duplicates.py). Zeros for no print."""
    if print_ is None:
        return np.zeros(2 * BANDS, np.float32)
    p = print_.astype(np.float32)
    change = np.abs(np.diff(p, axis=0)).mean(0) if len(p) > 1 else np.zeros(p.shape[1])
    s = np.concatenate([p.std(0), change])
    s -= s.mean()
    return (s / (np.linalg.norm(s) + 1e-9)).astype(np.float32)


def alignment(a: np.ndarray, b: np.ndarray, min_overlap: float = 0.75) -> float:
    """The best Pearson correlation of prints ``a`` (Fa, BANDS) and ``b`` (Fb, BANDS) over
    the shifts that overlap at least ``min_overlap`` of the shorter: near 1 for a copy,
    trimmed or not; lower for another recording. One FFT cross-correlation gives every
    shift's sum of products; running sums give each overlap's means and variances."""
    fa, fb = len(a), len(b)
    size = 1 << (fa + fb - 1).bit_length()
    a, b = a.astype(np.float64), b.astype(np.float64)  # float32 FFT noise swamps a flat overlap
    spectrum = np.fft.rfft(a, size, axis=0) * np.fft.rfft(b[::-1], size, axis=0)
    products = np.fft.irfft(spectrum.sum(1), size)[: fa + fb - 1]  # (fa + fb - 1,)
    lag = np.arange(fa + fb - 1) - (fb - 1)  # a[i] meets b[i - lag]
    lo, hi = np.maximum(lag, 0), np.minimum(fa, fb + lag)  # a's overlapping frames
    frames = hi - lo
    ok = frames >= max(1, int(np.ceil(min_overlap * min(fa, fb))))
    lag, lo, hi, frames, products = lag[ok], lo[ok], hi[ok], frames[ok], products[ok]
    n = frames * a.shape[1]  # entries in each overlap
    sa, qa = _window_sums(a, lo, hi)
    sb, qb = _window_sums(b, lo - lag, hi - lag)
    va, vb = qa - sa**2 / n, qb - sb**2 / n  # n times each overlap's variance
    # an overlap that is flat on either side (all floor: silence) says nothing
    flat = (va < 1e-3 * n) | (vb < 1e-3 * n)
    corr = np.where(flat, 0.0, (products - sa * sb / n) / np.sqrt(np.maximum(va * vb, 1e-12)))
    return float(np.clip(corr.max(), -1.0, 1.0)) if len(corr) else 0.0  # rounding: 1 + 1e-7


def _window_sums(x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sum, sum of squares) of the rows lo..hi-1 of ``x`` (F, BANDS), for each window."""
    rows = np.concatenate([[0.0], np.cumsum(x.sum(1))])
    squares = np.concatenate([[0.0], np.cumsum((x**2).sum(1))])
    return rows[hi] - rows[lo], squares[hi] - squares[lo]
