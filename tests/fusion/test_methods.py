"""The four fusion methods under missing modalities: masks everywhere, no NaN, gates."""

from __future__ import annotations

import pytest
import torch

from sensorium.fusion import METHODS, FeatureSet, Fusion
from sensorium.fusion.late import LateFusion


def _batch(fs: FeatureSet) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    return ({m: torch.from_numpy(f.copy()) for m, f in fs.features.items()},
            {m: torch.from_numpy(k.copy()) for m, k in fs.mask.items()})  # fmt: skip


def _model(method: str, fs: FeatureSet) -> Fusion:
    torch.manual_seed(0)
    dims = {m: f.shape[1] for m, f in fs.features.items()}
    return METHODS[method](dims, len(fs.classes), hidden=32).eval()


def _garbage(
    inputs: dict[str, torch.Tensor], mask: dict[str, torch.Tensor]
) -> dict[str, torch.Tensor]:
    """Missing rows filled with NaN, inf and huge numbers: none of it may reach the output."""
    out = {}
    for m, x in inputs.items():
        junk = torch.full_like(x, float("nan"))
        junk[:, ::3] = float("inf")
        junk[:, 1::3] = 1e30
        out[m] = torch.where(mask[m][:, None], x, junk)
    return out


@pytest.mark.parametrize("method", list(METHODS))
def test_missing_rows_never_reach_the_output(method: str, stamps_features: FeatureSet) -> None:
    model = _model(method, stamps_features)
    inputs, mask = _batch(stamps_features)
    mask["caption"][::2] = False  # photo+sound, photo only, ...
    with torch.no_grad():
        clean = model({m: torch.where(mask[m][:, None], x, 0.0) for m, x in inputs.items()}, mask)
        dirty = model(_garbage(inputs, mask), mask)
    assert torch.isfinite(dirty.logits).all() and torch.isfinite(dirty.embedding).all()
    torch.testing.assert_close(dirty.logits, clean.logits)


@pytest.mark.parametrize("method", list(METHODS))
def test_gradients_stay_finite_with_missing_modalities(
    method: str, stamps_features: FeatureSet
) -> None:
    model = _model(method, stamps_features).train()
    inputs, mask = _batch(stamps_features)
    mask["photo"][:8] = False
    out = model(_garbage(inputs, mask), mask)
    torch.nn.functional.cross_entropy(
        out.logits, torch.from_numpy(stamps_features.labels)
    ).backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)


def test_late_fusion_leaves_a_missing_head_out(stamps_features: FeatureSet) -> None:
    """The fused logits are the mean of the present heads: the missing one is not a zero."""
    model = _model("late", stamps_features)
    assert isinstance(model, LateFusion)
    inputs, mask = _batch(stamps_features)
    with torch.no_grad():
        both = model(inputs, {**mask, "sound": torch.zeros_like(mask["sound"])})
        photo_only = model(inputs, {"photo": mask["photo"], "caption": ~mask["caption"],
                                    "sound": torch.zeros_like(mask["sound"])})  # fmt: skip
        proj = model.project["photo"](inputs["photo"])
        torch.testing.assert_close(photo_only.logits, model.heads["photo"](proj))
        caption = model.heads["caption"](model.project["caption"](inputs["caption"]))
        torch.testing.assert_close(both.logits, (photo_only.logits + caption) / 2)


def test_gates_sum_to_one_over_the_present(stamps_features: FeatureSet) -> None:
    model = _model("attention", stamps_features)
    inputs, mask = _batch(stamps_features)
    mask["caption"][::3] = False
    with torch.no_grad():
        gates = model(inputs, mask).gates
    assert gates is not None
    present = torch.stack([mask[m] for m in model.modalities], 1)
    torch.testing.assert_close(gates.sum(1), torch.ones(len(gates)))
    assert (gates[~present] == 0).all() and (gates[present] > 0).all()


def test_fast_path_gives_the_same_result(stamps_features: FeatureSet) -> None:
    """One modality per sample: skipping the cross-modal block changes nothing."""
    model = _model("attention", stamps_features)
    inputs, mask = _batch(stamps_features)
    single = {m: (k & (m == "photo")) for m, k in mask.items()}
    with torch.no_grad():
        model.fast = False
        full = model(inputs, single)
        model.fast = True
        fast = model(inputs, single)
    torch.testing.assert_close(fast.logits, full.logits)
    assert (fast.gates[:, model.modalities.index("photo")] == 1).all()


def test_a_sample_with_nothing_present_is_refused(stamps_features: FeatureSet) -> None:
    model = _model("early", stamps_features)
    inputs, mask = _batch(stamps_features)
    with pytest.raises(ValueError, match="at least one modality"):
        model(inputs, {m: torch.zeros_like(k) for m, k in mask.items()})
