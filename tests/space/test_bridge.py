from __future__ import annotations

import numpy as np
import pytest

from sensorium.space import BridgeOptions, LabelBridge


def _bridge(top_k: int, temperature: float) -> LabelBridge:
    vectors = np.eye(4, 3, dtype=np.float32)
    vectors[3] = [0.6, 0.8, 0]
    return LabelBridge(["a", "b", "c", "d"], vectors, BridgeOptions(top_k, temperature))


def test_weights_are_sparse_and_sum_to_one() -> None:
    scores = np.array([[0.5, 0.3, 0.15, 0.05]])
    w = _bridge(2, 1.0).weights(scores)
    assert np.count_nonzero(w) == 2 and w.sum() == pytest.approx(1)
    assert w[0, 0] == pytest.approx(0.5 / 0.8)


def test_low_temperature_sharpens() -> None:
    scores = np.array([[0.5, 0.3, 0.15, 0.05]])
    assert _bridge(4, 0.5).weights(scores)[0, 0] > _bridge(4, 1.0).weights(scores)[0, 0]


def test_bind_is_normalised() -> None:
    v = _bridge(3, 1.0).bind(np.array([[0.1, 0.2, 0.3, 0.4], [1, 0, 0, 0]]))
    assert np.allclose(np.linalg.norm(v, axis=1), 1)
    assert np.allclose(v[1], [1, 0, 0])


def test_bad_options() -> None:
    with pytest.raises(ValueError):
        BridgeOptions(top_k=0)


def test_a_label_names_a_class_by_its_surest_name() -> None:
    """Its own name as written before any case, before an alias: "Cardigan" (a corgi) is not
    "cardigan" (a sweater), and "missile" names the class "missile", not "projectile, missile"."""
    classes = ["Cardigan Welsh Corgi", "cardigan", "projectile", "missile"]
    aliases = [("Cardigan",), ("cardigan",), ("projectile", "missile"), ("missile",)]
    vectors = np.eye(4, 8, dtype=np.float32)
    bridge = LabelBridge(classes, vectors, BridgeOptions(), aliases)
    labels = ["cardigan", "Cardigan", "missile", "projectile"]
    onto = bridge.onto_labels(np.eye(4, dtype=np.float32), labels, np.eye(4, 8), vectors)
    np.testing.assert_allclose(onto.mass, [[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]])
    np.testing.assert_allclose(onto.coverage, 1.0)
