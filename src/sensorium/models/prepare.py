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

__all__ = ["PREPARE", "efficientnet_torch", "float_graph"]


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


def float_graph(model: Any, name: str) -> Any:
    """A QDQ-quantised ONNX graph -> the float graph it approximates.

    Every QuantizeLinear -> DequantizeLinear pair is removed (its consumers read the float
    tensor that was quantised), the uint8 input and output become float, and the batch
    dimension becomes free. Why: ONNX Runtime fuses QDQ pairs into integer kernels that differ
    per CPU (VNNI on AMD EPYC, other paths on Intel Xeon) and gave other classes on one of
    them; float arithmetic agrees everywhere to rounding. ``model``: an ``onnx.ModelProto``.
    """
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper

    nodes = list(model.graph.node)
    producer = {out: n for n in nodes for out in n.output}
    (inp,), (out,) = model.graph.input, model.graph.output
    alias: dict[str, str] = {}  # a dequantised tensor -> the float tensor it stands for
    kept = []
    for n in nodes:
        if n.op_type == "DequantizeLinear":
            src = producer.get(n.input[0])
            if src is None and n.input[0] != inp.name:
                raise ValueError(f"{name}: {n.input[0]} is stored quantised; no float to keep")
            alias[n.output[0]] = src.input[0] if src is not None else inp.name
        elif n.op_type != "QuantizeLinear":
            kept.append(n)
    last = producer[out.name].input[0]  # the float tensor the output quantised
    for n in kept:
        n.input[:] = [alias.get(i, i) for i in n.input]
        n.output[:] = [out.name if o == last else o for o in n.output]
    used = {i for n in kept for i in n.input}
    inits = [i for i in model.graph.initializer if i.name in used]
    for i in inits:  # a reshape to (1, -1) would pin the batch to one
        if i.data_type == onnx.TensorProto.INT64 and list(numpy_helper.to_array(i)) == [1, -1]:
            i.CopyFrom(numpy_helper.from_array(np.array([0, -1], np.int64), i.name))
    shape = ["n", *(d.dim_value for d in inp.type.tensor_type.shape.dim[1:])]
    graph = helper.make_graph(
        kept,
        name,
        [helper.make_tensor_value_info(inp.name, onnx.TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info(out.name, onnx.TensorProto.FLOAT, ["n", None])],
        inits,
    )
    result = helper.make_model(graph, opset_imports=model.opset_import)
    result.ir_version = model.ir_version
    onnx.checker.check_model(result)
    return result


def _float_yamnet(card: ModelCard, folder: Path) -> dict[str, str]:
    """YAMNet's QDQ graph (weights kept in float inside it) -> ``model-float.onnx``."""
    try:
        import onnx
    except ImportError as e:
        raise ModelError(
            f"{card.name}: the float graph is derived with onnx: pip install onnx"
        ) from e

    from sensorium.models.cache import sha256_file

    model = float_graph(onnx.load(str(folder / "model.onnx")), "yamnet_float")
    out, tmp = folder / "model-float.onnx", folder / "model-float.onnx.tmp"
    onnx.save(model, str(tmp))
    tmp.replace(out)
    return {out.name: sha256_file(out)}


PREPARE: dict[str, Callable[[ModelCard, Path], dict[str, str]]] = {
    "export-efficientnet": _export_efficientnet,
    "float-yamnet": _float_yamnet,
}
