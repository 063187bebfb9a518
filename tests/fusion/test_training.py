"""The training kit on real features, and the CLI on a CSV manifest of real files."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import torch

from sensorium.eval.datasets import tuxpaint_stamps
from sensorium.fusion import BalancedSampler, ContrastiveLoss, FeatureSet, modality_dropout


def test_modality_dropout_never_drops_everything() -> None:
    gen = torch.Generator().manual_seed(0)
    mask = {"a": torch.rand(2000, generator=gen) > 0.3, "b": torch.ones(2000, dtype=torch.bool)}
    mask["c"] = ~mask["a"]
    dropped = modality_dropout(mask, 0.9, gen)
    kept = torch.stack(list(dropped.values()), 1)
    assert kept.any(1).all()  # never all
    assert not (kept & ~torch.stack(list(mask.values()), 1)).any()  # only drops what is there
    # Two present each, kept with p = 0.1, one put back where both went: ~0.2 + 0.81 kept.
    dropped_share = 1 - kept.float().sum() / torch.stack(list(mask.values()), 1).float().sum()
    assert 0.45 < dropped_share < 0.55


def test_balanced_sampler_evens_out_combinations(stamps_features: FeatureSet) -> None:
    combos = stamps_features.combos()
    drawn = Counter(
        combos[i]
        for _ in range(50)
        for i in BalancedSampler(combos, torch.Generator().manual_seed(1))
    )
    share = np.array(list(drawn.values())) / sum(drawn.values())
    assert len(drawn) == len(set(combos)) and np.allclose(share, 1 / len(drawn), atol=0.03)


def test_contrastive_loss_prefers_aligned_pairs(stamps_features: FeatureSet) -> None:
    loss = ContrastiveLoss()
    photo = torch.from_numpy(stamps_features.features["photo"][:, :384])
    caption = torch.from_numpy(stamps_features.features["caption"])
    mask = {"photo": torch.ones(24, dtype=torch.bool), "caption": torch.ones(24, dtype=torch.bool)}
    aligned = loss({"photo": caption + 0.01 * photo, "caption": caption}, mask)
    shuffled = loss({"photo": caption[torch.randperm(24)], "caption": caption}, mask)
    assert aligned < shuffled
    aligned.backward()
    assert loss.log_t.grad is not None  # the temperature learns


def test_consistency_adds_the_complete_view_and_pulls_towards_it(
    stamps_features: FeatureSet,
) -> None:
    """With nothing dropped the consistency term is 0 and the loss is the cross-entropy of the
    two (equal) views; with the photo dropped, the term is positive."""
    from sensorium.fusion import METHODS, TrainOptions
    from sensorium.fusion.training import _loss, tensors

    torch.manual_seed(0)
    model = METHODS["early"]({"photo": 1280, "caption": 384, "sound": 521}, 2, hidden=32).eval()
    inputs, mask, labels = tensors(stamps_features)
    plain = TrainOptions(bf16=False)
    paired = TrainOptions(bf16=False, modality_dropout=0.5, consistency_weight=1.0)
    args = (ContrastiveLoss(), False, None)
    base = _loss(model, (inputs, mask, labels), plain, *args)
    same = _loss(model, (inputs, mask, labels), paired, *args, complete=mask)
    torch.testing.assert_close(same, 2 * base)
    no_photo = mask | {"photo": torch.zeros_like(mask["photo"])}
    dropped = _loss(model, (inputs, no_photo, labels), paired, *args, complete=mask)
    ce_dropped = _loss(model, (inputs, no_photo, labels), plain, *args)
    assert dropped > ce_dropped + base  # the KL term between the views is positive


def _manifest(folder: Path) -> tuple[Path, Path]:
    """A CSV of real Tux Paint animals and vehicles: photo files, captions, some sounds."""
    stamps = tuxpaint_stamps()
    rows = [s for s in stamps if s.category == "animals"][:30] + [
        s for s in stamps if s.category == "vehicles"
    ][:30]
    held_out = rows.pop(0)
    path = folder / "stamps.csv"
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["label", "photo", "caption", "sound"])
        for s in rows:
            w.writerow([s.category, str(s.image), s.caption, str(s.sound) if s.sound else ""])
    return path, held_out.image


def test_train_and_predict_from_the_command_line(tmp_path: Path) -> None:
    _, held_out = _manifest(tmp_path)
    config = tmp_path / "fusion.toml"
    config.write_text(
        'dataset = "stamps.csv"\nmethod = "attention"\nhidden = 32\nseeds = [0, 1]\nout = "run"\n'
        '[modalities]\nphoto = "image"\ncaption = "text"\nsound = "sound"\n'
        "[train]\nepochs = 30\nbatch_size = 16\nmodality_dropout = 0.3\ncontrastive_weight = 0.1\n"
        'pretrain_epochs = 3\nselect_on = "robust"\n[distill]\nhidden = 8\n'
    )
    cmd = [sys.executable, "-m", "sensorium"]
    p = subprocess.run(
        [*cmd, "train", "fusion", str(config), "--json"], capture_output=True, text=True
    )
    assert p.returncode == 0, p.stderr
    results = json.loads(p.stdout)
    assert results["macro_f1_mean"] >= 0.8, results  # captions alone separate these two
    student = results["student"]
    assert student["runs"][0]["parameters"] * 4 <= student["teacher_parameters"]
    assert (tmp_path / "run" / "best" / "model.safetensors").is_file()
    p = subprocess.run([*cmd, "predict", str(tmp_path / "run" / "best"), str(held_out),
                        f"photo={held_out}+caption=A red kangaroo.", "missing.png", "--json"],
                       capture_output=True, text=True)  # fmt: skip
    assert p.returncode == 1  # one sample failed; the others still got their results
    photo, both, missing = (json.loads(line) for line in p.stdout.splitlines())
    assert set(photo["gates"]) == {"photo", "caption", "sound"} and photo["gates"]["photo"] == 1.0
    assert both["labels"][0]["label"] == "animals" and both["gates"]["caption"] > 0
    assert missing["sample"] == "missing.png" and "no such file" in missing["error"].lower()
