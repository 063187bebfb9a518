from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import numpy_helper

from sensorium import media
from sensorium.encoders import SoundEncoder
from sensorium.encoders.sound import MIN_SAMPLES, log_mel_patches
from sensorium.media import AudioMedia
from sensorium.models import model_path

ORT_DISABLE_ALL = ort.GraphOptimizationLevel.ORT_DISABLE_ALL


@pytest.fixture(scope="module")
def encoder() -> SoundEncoder:
    return SoundEncoder()


def _top(encoder: SoundEncoder, path: Path, n: int = 3) -> list[str]:
    scores = encoder.encode([media.load_audio(path)])[0]
    return [encoder.classes[i] for i in np.argsort(-scores)[:n]]


def test_front_end_shapes() -> None:
    assert log_mel_patches(np.zeros(100, np.float32)).shape == (1, 96, 64)  # padded to one patch
    assert log_mel_patches(np.zeros(MIN_SAMPLES + 48 * 160, np.float32)).shape == (2, 96, 64)


def test_real_sounds(encoder: SoundEncoder, crow_ogg: Path, hello_wav: Path) -> None:
    assert "Crow" in _top(encoder, crow_ogg)
    assert _top(encoder, hello_wav, 1) == ["Speech"]


def test_silence(encoder: SoundEncoder, silence: np.ndarray) -> None:
    out = encoder.run([AudioMedia("silence", silence)])
    assert encoder.classes[int(out.scores[0].argmax())] == "Silence"
    assert out.patch_scores[0].shape[1] == 521


def test_runs_across_clips_give_each_clips_own_scores(
    encoder: SoundEncoder, crow_ogg: Path, hello_wav: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batch's patches streamed in runs that cross chunks and clips (7-patch chunks, 5-patch
    runs: 30 s of speech is 9 chunks and 12 runs) score as each clip's patches run alone."""
    from sensorium.encoders import sound
    from sensorium.eval.datasets import ASTERISK

    clips = [media.load_audio(p) for p in (crow_ogg, ASTERISK / "demo-congrats.wav", hello_wav)]
    alone = [encoder._patch_scores(log_mel_patches(m.samples)) for m in clips]  # (P, 521) each
    assert len(alone[1]) > 6 * 5 and max(len(alone[0]), len(alone[2])) < 5  # patches
    monkeypatch.setattr(sound, "CHUNK_PATCHES", 7)
    monkeypatch.setattr(sound, "BATCH_PATCHES", 5)
    out = encoder.run(clips)
    assert [len(p) for p in out.patch_scores] == [len(a) for a in alone]
    for ours, theirs in zip(out.patch_scores, alone):
        np.testing.assert_allclose(ours, theirs, atol=1e-6)
    np.testing.assert_allclose(out.scores, np.stack([a.mean(0) for a in alone]), atol=1e-6)


# -- parity: the shipped float graph against plain runs on this CPU ---------------------------


def _clips() -> list[Path]:
    """Real sounds of several kinds: Tux Paint animals and household noises, a human voice."""
    from sensorium.eval.datasets import ASTERISK, TUXPAINT

    names = ["animals/birds/crow", "animals/farm/sheep", "animals/mammals/dog",
             "animals/mammals/fox", "animals/amphibians/frog", "animals/mammals/cats/lion",
             "animals/mammals/elephant", "animals/insects/bee", "animals/mammals/pig"]  # fmt: skip
    found = [p for n in names for p in TUXPAINT.glob(f"**/{Path(n).name}.ogg")]
    return [*found, ASTERISK / "hello-world.wav", ASTERISK / "vm-password.wav"]


def _session(path: Path, level: ort.GraphOptimizationLevel) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.graph_optimization_level = level
    opts.log_severity_level = 3
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


@pytest.fixture(scope="module")
def clip_patches() -> list[np.ndarray]:
    clips = _clips()
    assert len(clips) >= 10, clips
    return [log_mel_patches(media.load_audio(p).samples) for p in clips]


def test_shipped_graph_matches_plain_float_on_this_cpu(
    encoder: SoundEncoder, clip_patches: list[np.ndarray]
) -> None:
    """Graph optimisations on (the shipped session) against every operator run plainly:
    a float graph agrees to rounding; a wrong or integer kernel moves scores by 1e-2 and more."""
    plain = _session(model_path("yamnet") / "model-float.onnx", ORT_DISABLE_ALL)
    for patches in clip_patches:
        shipped = encoder._patch_scores(patches)  # (P, 521)
        (logits,) = plain.run(None, {"audio": patches[:, None]})
        reference = 1.0 / (1.0 + np.exp(-logits.astype(np.float64)))
        assert np.abs(shipped - reference).max() < 1e-4
        assert list(np.argsort(-shipped.mean(0))[:5]) == list(np.argsort(-reference.mean(0))[:5])


def test_float_graph_is_the_quantised_graph_without_rounding(
    encoder: SoundEncoder, clip_patches: list[np.ndarray]
) -> None:
    """The derived graph computes what the wheel's QDQ graph describes, less the rounding:
    its clip scores follow the QDQ graph run in float (optimisations off) closely."""
    folder = model_path("yamnet")
    qdq = _session(folder / "model.onnx", ORT_DISABLE_ALL)
    inits = {i.name: float(numpy_helper.to_array(i)) for i in onnx.load(
        str(folder / "model.onnx"), load_external_data=False).graph.initializer
        if i.name in ("audio_scale", "audio_zero_point", "class_scores_scale",
                      "class_scores_zero_point")}  # fmt: skip
    same_top, corr = 0, []
    for patches in clip_patches:
        q = np.clip(np.round(patches / inits["audio_scale"] + inits["audio_zero_point"]), 0, 255)
        ys = np.stack([qdq.run(None, {"audio": p[None, None].astype(np.uint8)})[0][0] for p in q])
        logits = inits["class_scores_scale"] * (
            ys.astype(np.float32) - inits["class_scores_zero_point"]
        )
        quantised = (1.0 / (1.0 + np.exp(-logits.astype(np.float64)))).mean(0)  # (521,)
        ours = encoder._patch_scores(patches).mean(0)
        same_top += int(quantised.argmax() == ours.argmax())
        corr.append(np.corrcoef(quantised, ours)[0, 1])
    assert same_top >= 0.7 * len(clip_patches), same_top
    assert min(corr) > 0.9, corr
