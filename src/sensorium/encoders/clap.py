"""Audio-text encoder: CLAP from a model hub (``encoders/hub.py``), for users who have one.

Beside YAMNet, not instead of it: YAMNet still gives the events over time and the speech gate;
CLAP gives the clip's embedding and zero-shot posteriors over the same AudioSet classes (from
their prompts), which feed the sound bridge. CLAP hears 10 s at 48 kHz at a time; a longer clip
is cut into 10 s windows whose embeddings are averaged (the processor's own "rand_trunc" would
pick one window at random, so the same file could embed differently twice).
"""

from __future__ import annotations

import numpy as np

from sensorium.encoders.base import l2_normalize
from sensorium.encoders.hub import HubContrastive, ZeroShotOutput, pooled
from sensorium.media.audio import resample
from sensorium.media.types import AudioMedia

__all__ = ["ClapEncoder"]

RATE = 48_000
WINDOW = 10 * RATE  # samples CLAP takes at once


def _windows(samples: np.ndarray) -> list[np.ndarray]:
    """(T,) at 48 kHz -> 10 s windows; the last, shorter one is padded by the processor."""
    if not len(samples):
        return [np.zeros(RATE, np.float32)]  # 1 s of silence: an empty clip still embeds
    return [samples[s : s + WINDOW] for s in range(0, len(samples), WINDOW)]


class ClapEncoder(HubContrastive):
    task = "audio-text embedding"
    model_class = "ClapModel"
    processor_class = "ClapProcessor"
    scale_name = "logit_scale_a"  # audio -> text
    default_source = "clap-htsat-unfused"
    batch_size = 8  # 10 s windows

    def encode_audio(self, batch: list[AudioMedia]) -> np.ndarray:
        """(N,) clips at 16 kHz -> (N, dim), rows L2-normalised."""
        import torch

        windows, owner = [], []
        for i, m in enumerate(batch):
            for w in _windows(resample(m.samples, RATE)):
                windows.append(w)
                owner.append(i)
        out = []
        for start in range(0, len(windows), self.batch_size):
            chunk = windows[start : start + self.batch_size]
            inputs = self.processor.feature_extractor(chunk, sampling_rate=RATE,
                                                      return_tensors="pt")  # fmt: skip
            with torch.inference_mode():
                feats = self.model.get_audio_features(input_features=inputs["input_features"])
            out.append(pooled(feats).numpy())
        per_window = l2_normalize(np.concatenate(out)) if out else np.zeros((0, self.dim))
        sums = np.zeros((len(batch), self.dim), np.float32)
        np.add.at(sums, np.array(owner, int), per_window)  # mean of a clip's windows
        return l2_normalize(sums)

    def run(self, batch: list[AudioMedia]) -> ZeroShotOutput:
        return self.zero_shot(self.encode_audio(batch))

    def encode(self, batch: list[AudioMedia]) -> np.ndarray:
        return self.encode_audio(batch)
