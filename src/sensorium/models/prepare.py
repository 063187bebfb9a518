"""Preparation steps run once after a card's files are verified (e.g. an ONNX export).

Each step returns ``{file name: sha256}`` of what it made; the installer records those hashes
in the manifest so that derived files are verified on load like downloaded ones.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sensorium.errors import ModelError
from sensorium.models.card import ModelCard

__all__ = ["PREPARE", "efficientnet_torch"]


def efficientnet_torch(folder: Path) -> Any:
    """The plain torch EfficientNet-Lite0 (eval mode) from a verified card folder: the export's
    source, and the reference path that tests and benchmarks compare ONNX Runtime against."""
    import torch
    from efficientnet_lite_pytorch import EfficientNet

    net = EfficientNet.from_name("efficientnet-lite0")
    state = torch.load(folder / "efficientnet-lite0.pth", map_location="cpu", weights_only=True)
    net.load_state_dict(state)
    return net.eval()


def _export_efficientnet(card: ModelCard, folder: Path) -> dict[str, str]:
    """Export EfficientNet-Lite0 to ONNX with two outputs: pooled features and logits.

    ONNX Runtime runs it about 3x faster than torch eager on two cores (benchmarks/), and
    needs no torch at run time; torch is needed only here, once.
    """
    try:
        import torch
        from efficientnet_lite_pytorch import EfficientNet  # noqa: F401
    except ImportError as e:
        raise ModelError(
            f"{card.name}: exporting to ONNX needs torch and efficientnet-lite-pytorch: "
            "pip install 'sensorium[torch]' (after pip install torch==2.13.0)"
        ) from e
    from sensorium.models.cache import sha256_file

    class Heads(torch.nn.Module):
        def __init__(self, net: Any) -> None:
            super().__init__()
            self.net = net

        def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            f = self.net.extract_features(x)  # (N, 1280, 7, 7)
            pooled = self.net._avg_pooling(f).flatten(1)  # (N, 1280)
            return pooled, self.net._fc(pooled)  # (N, 1280), (N, 1000)

    model = Heads(efficientnet_torch(folder)).eval()
    out = folder / "model.onnx"
    tmp = folder / "model.onnx.tmp"
    with warnings.catch_warnings():  # the exporter's notes on constant folding are noise
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            (torch.zeros(1, 3, 224, 224),),
            str(tmp),
            input_names=["pixels"],
            output_names=["features", "logits"],
            dynamic_axes={"pixels": {0: "n"}, "features": {0: "n"}, "logits": {0: "n"}},
            opset_version=17,
            dynamo=False,
        )
    tmp.replace(out)
    return {out.name: sha256_file(out)}


PREPARE: dict[str, Callable[[ModelCard, Path], dict[str, str]]] = {
    "export-efficientnet": _export_efficientnet,
}
