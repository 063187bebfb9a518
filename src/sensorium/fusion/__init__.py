"""Fusion of several modalities for a task, robust to missing ones (needs torch).

One interface (``Fusion.forward(inputs, mask) -> FusionOutput``), one method per module:
``early``, ``late``, ``hybrid``, ``attention`` (cross-modal attention with learned gates).
``training`` holds the kit (modality dropout, balanced sampler, contrastive loss, trainer,
distillation), ``data`` the cached encoder features, ``pipeline`` configs and prediction.
"""

from sensorium.fusion.attention import AttentionFusion
from sensorium.fusion.base import Fusion, FusionOutput
from sensorium.fusion.data import FeatureSet, csv_features, split, tuxpaint_features
from sensorium.fusion.early import EarlyFusion
from sensorium.fusion.hybrid import HybridFusion
from sensorium.fusion.late import LateFusion
from sensorium.fusion.pipeline import METHODS, FusionConfig, load_config, predict, train_fusion
from sensorium.fusion.training import (
    BalancedSampler,
    ContrastiveLoss,
    TrainOptions,
    evaluate,
    modality_dropout,
    train,
)

__all__ = [
    "METHODS",
    "AttentionFusion",
    "BalancedSampler",
    "ContrastiveLoss",
    "EarlyFusion",
    "FeatureSet",
    "Fusion",
    "FusionConfig",
    "FusionOutput",
    "HybridFusion",
    "LateFusion",
    "TrainOptions",
    "csv_features",
    "evaluate",
    "load_config",
    "modality_dropout",
    "predict",
    "split",
    "train",
    "train_fusion",
    "tuxpaint_features",
]
