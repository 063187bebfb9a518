"""Queries in any language: English keeps its exact vector; German, French and Chinese captions
find the stamp their English caption finds (the real models, Tux Paint's real captions)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sensorium import media
from sensorium.engine import default_engine
from sensorium.errors import ModelNotInstalledError
from sensorium.eval.languages import fit_half, stamp_captions
from sensorium.search.query import Query, embed_query
from sensorium.space.language import AlignedTextEncoder, Alignment, is_english

TUXPAINT = Path("/usr/share/tuxpaint/stamps")


@pytest.mark.parametrize(
    ("text", "english"),
    [
        ("a red kangaroo", True),
        ("Paris at night, 2019!", True),
        ("", True),
        ("ein Hund", False),
        ("le chat", False),  # two words SCOWL lists (an abbreviation, a noun): still French
        ("Ein rotes Känguru.", False),
        ("红袋鼠", False),
        ("собака", False),
    ],
)
def test_is_english(text: str, english: bool) -> None:
    assert is_english(text) is english


def test_english_vectors_unchanged() -> None:
    space = default_engine().space
    texts = ["a red kangaroo", "a dog barking loudly", "where does she say budget"]
    assert np.array_equal(space.any_text.encode(texts), space.text.encode(texts))
    # through the search's query path too: the English encoder's vector, renormalised as
    # embed_query always did
    (part,) = embed_query(space, Query(text="a red kangaroo")).values()
    v = space.text.encode(["a red kangaroo"])[0]
    assert np.array_equal(part.vector, v / max(float(np.sqrt(np.einsum("i,i", v, v))), 1e-9))


def test_language_hint_picks_the_path() -> None:
    space = default_engine().space
    english = space.text.encode(["Hund"])[0]
    assert np.array_equal(space.any_text.encode(["Hund"], ["en"])[0], english)
    assert not np.array_equal(space.any_text.encode(["Hund"], ["de"])[0], english)


def test_missing_model_falls_back_to_english() -> None:
    space = default_engine().space

    def missing() -> tuple[object, Alignment]:
        raise ModelNotInstalledError("use-multilingual-v3")

    fallback = AlignedTextEncoder(space.text, missing)  # type: ignore[arg-type]
    assert np.array_equal(fallback.encode(["ein Hund"]), space.text.encode(["ein Hund"]))


def test_fit_linear_recovers_a_map() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2000, 512)).astype(np.float32)
    true = rng.normal(size=(512, 384)).astype(np.float32)
    weight, bias = Alignment.fit_linear(x, x @ true + 1.0, ridge=1e-3)
    np.testing.assert_allclose(weight, true, atol=1e-3)
    np.testing.assert_allclose(bias, 1.0, atol=1e-3)


def test_alignment_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    a = Alignment(*(rng.normal(size=s).astype(np.float32)
                    for s in ((512, 384), (384,), (7, 512), (7, 384))), k=3)  # fmt: skip
    a.save(tmp_path / "a.npz")
    b = Alignment.load(tmp_path / "a.npz")
    x = rng.normal(size=(4, 512)).astype(np.float32)
    np.testing.assert_allclose(a.apply(x), b.apply(x), atol=2e-3)  # the bank is kept in float16
    assert b.k == 3


# Evaluation-half stamps (never fitted on) whose English caption finds their photo first.
# Not every stamp works in every language (docs/benchmarks.md has the figures): these do.
STAMPS = [
    "animals/mammals/cats/tiger_sumatran",
    "animals/mammals/elephant",
    "animals/mammals/rodents/squirrel",
    "food/fruit/pineapple",
]


@pytest.mark.skipif(not TUXPAINT.exists(), reason="apt-get install tuxpaint-stamps-default")
@pytest.mark.parametrize("language", ["de", "fr", "zh_CN"])
def test_other_languages_find_what_english_finds(language: str) -> None:
    space = default_engine().space
    caps = [c for c in stamp_captions() if c.stamp.category in ("animals", "food")]
    photos = [media.load_image(c.stamp.image, min_side=224) for c in caps]
    gallery = np.stack([e.vector for e in space.embed(photos)])  # (S, 384)
    names = [c.stamp.name for c in caps]
    for name in STAMPS:
        assert not fit_half(name), name
        c = caps[names.index(name)]
        english = int(np.argmax(gallery @ space.any_text.encode([c.by_language["en"]])[0]))
        query = space.any_text.encode([c.by_language[language]])[0]
        top = np.argsort(-(gallery @ query))[:3]
        assert english in top, (name, c.by_language[language], [names[i] for i in top])
