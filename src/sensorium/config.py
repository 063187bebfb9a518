"""The environment, read in one place: where Sensorium keeps its files, and the settings
(``$SENSORIUM_*``) that ``Settings.from_env()`` gathers at the edges (CLI, service)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

__all__ = [
    "adapters",
    "caption_model",
    "db",
    "faces",
    "home",
    "image_model",
    "models_dir",
    "ocr",
    "sound_model",
    "spin",
    "storage_options",
    "threads",
]


def home() -> Path:
    """``$SENSORIUM_HOME``, else the user's cache dir (``~/.cache/sensorium`` on Linux)."""
    env = os.environ.get("SENSORIUM_HOME")
    return Path(env).expanduser() if env else Path(platformdirs.user_cache_dir("sensorium"))


def db() -> str:
    """The collection a command opens when given none: ``$SENSORIUM_DB`` (a folder or
    s3://bucket/prefix), else ``./.sensorium``."""
    return os.environ.get("SENSORIUM_DB", "").strip() or ".sensorium"


def models_dir() -> Path:
    return home() / "models"


def adapters() -> tuple[str, ...]:
    """``$SENSORIUM_ADAPTERS``: the modalities ("image,sound") whose shipped learned adapter the
    default space uses instead of the label bridge. Empty by default (docs/benchmarks.md)."""
    raw = os.environ.get("SENSORIUM_ADAPTERS", "")
    return tuple(m.strip() for m in raw.split(",") if m.strip())


def image_model() -> str | None:
    """``$SENSORIUM_IMAGE_MODEL``: the image encoder of the default space, a card name
    ("clip-vit-b32" where a hub is reachable) or a folder saved from a CLIP model; unset:
    None, the offline EfficientNet-Lite0."""
    return os.environ.get("SENSORIUM_IMAGE_MODEL", "").strip() or None


def sound_model() -> str | None:
    """``$SENSORIUM_SOUND_MODEL``: an audio-text model used beside YAMNet where a hub is
    reachable ("clap-htsat-unfused", or a folder saved from a CLAP); unset: None, YAMNet alone."""
    return os.environ.get("SENSORIUM_SOUND_MODEL", "").strip() or None


def ocr() -> bool:
    """``$SENSORIUM_OCR=1``: read the text in images and mix it into their vectors (off by
    default: 0.1 to 1 s an image; needs ``pip install 'sensorium[ocr]'``)."""
    return _flag("SENSORIUM_OCR")


def faces() -> bool:
    """``$SENSORIUM_FACES=1``: find faces and their expressions in images and mix what they say
    ("two people, smiling") into their vectors (needs ``pip install 'sensorium[faces]'``)."""
    return _flag("SENSORIUM_FACES")


def _flag(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    return default if not raw else raw in {"1", "true", "yes", "on"}


def threads() -> int:
    """``$SENSORIUM_THREADS``: threads per model (ONNX Runtime, CTranslate2, LiteRT); unset or 0:
    one per core. Two processes sharing a machine each do best with half the cores."""
    raw = os.environ.get("SENSORIUM_THREADS", "0").strip() or "0"
    return max(int(raw), 0) if raw.isdigit() else 0


def spin() -> bool:
    """``$SENSORIUM_SPIN=1``: ONNX Runtime's idle threads busy-wait between kernels instead of
    sleeping. Off by default: it took cores from other work for no gain (benchmarks/cores.py)."""
    return _flag("SENSORIUM_SPIN")


def caption_model() -> str | None:
    """``$SENSORIUM_CAPTION_MODEL``: the model ``describe`` writes captions with ("blip-base",
    or a folder saved from a BLIP), where a hub is reachable; unset: no caption."""
    return os.environ.get("SENSORIUM_CAPTION_MODEL", "").strip() or None


def storage_options(uri: str) -> dict[str, str] | None:
    """LanceDB's options for a collection at ``uri`` on object storage (``s3://bucket/prefix``),
    from the usual AWS variables; None for a folder. Credentials and region are read by LanceDB
    itself (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION);
    ``$AWS_ENDPOINT_URL_S3`` or ``$AWS_ENDPOINT_URL`` names an S3-compatible store (MinIO, Ceph),
    and a plain-HTTP endpoint is allowed explicitly (object stores refuse HTTP by default)."""
    if "://" not in uri:
        return None
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL", "")
    options = {"aws_endpoint": endpoint} if endpoint else {}
    if endpoint.startswith("http://"):
        options["allow_http"] = "true"
    return options
