"""Shared fixtures: real sample media (DATA.md), never synthesised where real data exists."""

from __future__ import annotations

import shutil
import signal
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import skimage.data
from PIL import Image

from sensorium.eval.datasets import ASTERISK, LIBRIVOX, TUXPAINT


@contextmanager
def _bounded(seconds: int) -> Iterator[None]:
    """Fail instead of hanging: SIGALRM interrupts a blocked call (a named pipe opened, a
    read of /dev/zero) in the main thread."""

    def fail(*_: Any) -> None:
        raise TimeoutError(f"still running after {seconds} s")

    before = signal.signal(signal.SIGALRM, fail)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, before)


@pytest.fixture(scope="session")
def bounded() -> Callable[[int], AbstractContextManager[None]]:
    """``with bounded(seconds):`` around a call that must not hang."""
    return _bounded


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.fail(f"{path} missing: run scripts/setup.sh (it installs the data packages)")
    return path


@pytest.fixture(scope="session")
def photos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """scikit-image sample photos saved as JPEG."""
    folder = tmp_path_factory.mktemp("photos")
    out = {}
    for name in ("astronaut", "chelsea", "coffee", "rocket"):
        out[name] = folder / f"{name}.jpg"
        Image.fromarray(getattr(skimage.data, name)()).convert("RGB").save(out[name])
    return out


@pytest.fixture(scope="session")
def stamp_png() -> Path:
    """A Tux Paint cut-out with transparency."""
    return _need(TUXPAINT / "animals/marsupials/kangaroo.png")


@pytest.fixture(scope="session")
def crow_ogg() -> Path:
    return _need(TUXPAINT / "animals/birds/crow.ogg")


@pytest.fixture(scope="session")
def hello_wav() -> Path:
    """A human speaker saying "Hello world", 8 kHz WAV."""
    return _need(ASTERISK / "hello-world.wav")


@pytest.fixture(scope="session")
def librivox_wav() -> Path:
    return _need(LIBRIVOX / "sense_and_sensibility_01_austen_64kb-0880.wav")


@pytest.fixture()
def media_dir(tmp_path: Path, photos: dict[str, Path], crow_ogg: Path, hello_wav: Path) -> Path:
    """Four photos, a bird call, a spoken phrase, a note and a corrupt PNG."""
    folder = tmp_path / "media"
    (folder / "sub").mkdir(parents=True)
    for name, p in photos.items():
        shutil.copy(p, folder / f"{name}.jpg")
    shutil.copy(crow_ogg, folder / "sub" / "crow.ogg")
    shutil.copy(hello_wav, folder / "sub" / "hello.wav")
    (folder / "note.txt").write_text("Quarterly budget review on Tuesday.")
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(40))
    return folder


@pytest.fixture()
def silence() -> np.ndarray:
    return np.zeros(16000 * 3, np.float32)


# -- videos built from real parts (DATA.md: no registry ships labelled video) ----------------

ANIMALS = ("animals/mammals/elephant", "animals/birds/penguin", "animals/mammals/cats/lion")


def _stamp_shots(seconds: tuple[float, ...] = (4.0, 5.0, 4.0)) -> list:  # type: ignore[type-arg]
    from sensorium.eval.datasets import tuxpaint_stamps
    from sensorium.eval.videos import Shot, _query

    stamps = {s.name: s for s in tuxpaint_stamps()}
    chosen = [stamps[n] for n in ANIMALS]
    return [Shot(s.image, t, s.spoken, _query(s.caption)) for s, t in zip(chosen, seconds)]


@pytest.fixture(scope="session")
def shots() -> list:  # type: ignore[type-arg]
    """Three Tux Paint animals (elephant, penguin, lion), each said aloud in its shot."""
    _need(TUXPAINT)
    return _stamp_shots()


@pytest.fixture(scope="session")
def animal_video(tmp_path_factory: pytest.TempPathFactory, shots: list):  # type: ignore[no-untyped-def,type-arg]
    """13 s MP4 (H.264 + AAC): elephant 0-4 s, penguin 4-9 s, lion 9-13 s, each named aloud."""
    from sensorium.eval.videos import write_video

    return write_video(tmp_path_factory.mktemp("video") / "animals.mp4", shots)


@pytest.fixture()
def truncated_mkv(tmp_path: Path, shots: list) -> Path:  # type: ignore[type-arg]
    """The animals as a Matroska file cut halfway (a download that stopped)."""
    from sensorium.eval.videos import write_video

    whole = write_video(tmp_path / "whole.mkv", shots)
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(whole.path.read_bytes()[: whole.path.stat().st_size // 2])
    return cut


# -- tiny hub checkpoints (CLIP, CLAP, BLIP) that the tests build and save themselves ---------
# No registry ships these weights and this machine has no hub, so the "hub" is a folder holding
# a randomly initialised 2-layer model and a byte-level tokenizer, written by save_pretrained
# exactly as hub checkpoints are. Random weights make scores meaningless: the tests check that
# our path gives the numbers transformers' own forward pass gives.


def _byte_alphabet() -> list[str]:
    """The byte-level BPE alphabet (GPT-2, CLIP, RoBERTa): one printable symbol per byte."""
    keep = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1),
            *range(ord("®"), ord("ÿ") + 1)]  # fmt: skip
    extra = [b for b in range(256) if b not in keep]
    return [chr(b) for b in keep] + [chr(256 + i) for i in range(len(extra))]


def _libs() -> tuple[Any, Any]:
    return pytest.importorskip("transformers"), pytest.importorskip("torch")


@pytest.fixture(scope="session")
def tiny_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    transformers, torch = _libs()
    out = tmp_path_factory.mktemp("clip")
    chars = _byte_alphabet()
    vocab = {c: i for i, c in enumerate(chars)}  # each symbol alone and word-final: no merges
    vocab.update({c + "</w>": len(chars) + i for i, c in enumerate(chars)})
    vocab["<|startoftext|>"], vocab["<|endoftext|>"] = len(vocab), len(vocab) + 1
    tokenizer = transformers.CLIPTokenizerFast(vocab=vocab, merges=[])
    end = vocab["<|endoftext|>"]
    config = transformers.CLIPConfig(
        text_config={"vocab_size": len(vocab), "hidden_size": 32, "intermediate_size": 64,
                     "num_hidden_layers": 2, "num_attention_heads": 2, "eos_token_id": end,
                     "bos_token_id": vocab["<|startoftext|>"], "pad_token_id": end},
        vision_config={"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
                       "num_attention_heads": 2, "image_size": 32, "patch_size": 8},
        projection_dim=16,
    )  # fmt: skip
    torch.manual_seed(0)
    transformers.CLIPModel(config).save_pretrained(out)
    images = transformers.CLIPImageProcessor(
        size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}
    )
    transformers.CLIPProcessor(image_processor=images, tokenizer=tokenizer).save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def tiny_clap(tmp_path_factory: pytest.TempPathFactory) -> Path:
    transformers, torch = _libs()
    out = tmp_path_factory.mktemp("clap")
    vocab = {s: i for i, s in enumerate(["<s>", "<pad>", "</s>", "<unk>", "<mask>"])}
    vocab.update({c: len(vocab) + i for i, c in enumerate(_byte_alphabet())})
    tokenizer = transformers.RobertaTokenizerFast(vocab=vocab, merges=[])
    # HTSAT's spectrogram "image" must stay 256 wide for 64 mel bins; everything else is tiny
    config = transformers.ClapConfig(
        text_config={"vocab_size": len(vocab), "hidden_size": 32, "intermediate_size": 64,
                     "num_hidden_layers": 2, "num_attention_heads": 2,
                     "max_position_embeddings": 80, "pad_token_id": 1, "bos_token_id": 0,
                     "eos_token_id": 2},
        audio_config={"spec_size": 256, "window_size": 8, "num_mel_bins": 64,
                      "depths": [1, 1], "num_attention_heads": [2, 2],
                      "patch_embeds_hidden_size": 16, "hidden_size": 32, "enable_fusion": False},
        projection_dim=16,
    )  # fmt: skip
    torch.manual_seed(0)
    transformers.ClapModel(config).save_pretrained(out)
    features = transformers.ClapFeatureExtractor(feature_size=64, sampling_rate=48_000,
                                                 truncation="rand_trunc")  # fmt: skip
    transformers.ClapProcessor(feature_extractor=features, tokenizer=tokenizer).save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def tiny_blip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    transformers, torch = _libs()
    out = tmp_path_factory.mktemp("blip")
    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "[DEC]", "a", "cat", "dog", "photo",
             "of", "the", "on", "red", "##s", "table", "."]  # fmt: skip
    tokenizer = transformers.BertTokenizerFast(vocab={w: i for i, w in enumerate(words)},
                                               bos_token="[DEC]")  # fmt: skip
    config = transformers.BlipConfig(
        text_config={"vocab_size": len(words), "hidden_size": 32, "intermediate_size": 64,
                     "num_hidden_layers": 2, "num_attention_heads": 2, "encoder_hidden_size": 32,
                     "bos_token_id": 5, "pad_token_id": 0, "sep_token_id": 3, "eos_token_id": 3,
                     "max_position_embeddings": 64},
        vision_config={"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
                       "num_attention_heads": 2, "image_size": 32, "patch_size": 8},
        projection_dim=16,
    )  # fmt: skip
    torch.manual_seed(0)
    transformers.BlipForConditionalGeneration(config).save_pretrained(out)
    images = transformers.BlipImageProcessor(size={"height": 32, "width": 32})
    transformers.BlipProcessor(image_processor=images, tokenizer=tokenizer).save_pretrained(out)
    return out


# -- parity: every fast path against a plain run on the CPU the tests run on -----------------


@pytest.fixture(scope="session")
def plain_session() -> Any:
    """``plain_session(path)``: an ONNX Runtime session with every graph optimisation off, so
    each operator runs as the graph writes it: the reference the shipped (optimised) sessions
    are compared with, since fused and quantised kernels are chosen per CPU."""
    import onnxruntime as ort

    def make(path: Path) -> ort.InferenceSession:
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        opts.log_severity_level = 3
        return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])

    return make
