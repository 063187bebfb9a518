"""Text in any language, placed in the English text space the stored vectors live in.

The space is all-MiniLM-L6-v2's (English only: other scripts tokenise to [UNK]). A text that
is not English is embedded by a multilingual encoder (USE multilingual v3, 512-d) and carried
into MiniLM's space (``Alignment``): a linear map fitted on parallel text (Debian's gettext
catalogues and half of the Tux Paint captions: English -> MiniLM vector, its translation ->
USE vector), averaged with retrieval onto the English class names the stored vectors are made
of. A query in German lands near where its English version would, and no stored vector
changes.

English text keeps its exact MiniLM vector: a text is English when each of its words is an
English word (SCOWL's list, as Debian's wamerican ships it); anything else (another script, a
word no English list holds) takes the multilingual path.
"""

from __future__ import annotations

import gzip
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import resources
from pathlib import Path

import numpy as np

from sensorium.encoders.base import Encoder, l2_normalize
from sensorium.errors import ModelNotInstalledError

__all__ = ["ALIGNMENT_MODEL", "AlignedTextEncoder", "Alignment", "english_words", "is_english"]

log = logging.getLogger(__name__)

ALIGNMENT_MODEL = "align-use-minilm"  # the card of the bundled map
_WORD = re.compile(r"[^\W\d_]+")  # letters of any script; digits and punctuation say nothing
# Words of other languages that SCOWL also lists (an abbreviation, a musical note): without
# them "le chat" and "il cane" would pass for English.
_FOREIGN_WORDS = (
    "le les la il un une el los las del des du et est der das dem den ein eine einen und ist "
    "mit het een van en och og af på är til lo gli di della che non"
)
_FOREIGN = frozenset(_FOREIGN_WORDS.split())


@cache
def english_words() -> frozenset[str]:
    """SCOWL's American English words (wamerican 2020.12.07, possessives left out), lower
    case where the list has them so, capitalised names as the list spells them."""
    raw = resources.files("sensorium.space").joinpath("english_words.txt.gz").read_bytes()
    return frozenset(gzip.decompress(raw).decode("utf-8").split()) - _FOREIGN


def is_english(text: str) -> bool:
    """True when every word of ``text`` is English ("a red kangaroo", "Paris at night");
    False for another script or a word no English list holds ("ein Hund", "犬"). A text of no
    words (digits, punctuation, nothing) counts as English: the English path is today's."""
    words = english_words()
    return all(w.lower() in words or w in words for w in _WORD.findall(text))


@dataclass(frozen=True)
class Alignment:
    """Multilingual vectors -> the text space, two ways averaged:

    - a linear map ``x @ weight + bias`` (weight (512, 384), bias (384,)), fitted by ridge
      regression on parallel text (``fit``);
    - retrieval onto the space's own English vocabulary: the ``k`` English names nearest to
      the query in the multilingual space (``bank_source`` (B, 512)), their text-space vectors
      (``bank_target`` (B, 384)) mixed by a softmax at ``temperature``. The names are what the
      stored vectors are made of (the label bridges' class names), so "Ein rotes Känguru"
      lands on "wallaby" where the linear map alone only lands near animals.
    """

    weight: np.ndarray
    bias: np.ndarray
    bank_source: np.ndarray
    bank_target: np.ndarray
    k: int = 5
    temperature: float = 0.05

    def linear(self, x: np.ndarray) -> np.ndarray:
        """(N, 512) -> (N, 384), L2-normalised: the linear map alone."""
        return l2_normalize(x @ self.weight + self.bias)

    def nearest(self, x: np.ndarray) -> np.ndarray:
        """(N, 512) -> (N, 384), L2-normalised: the softmax mix of the k nearest names."""
        sims = x @ self.bank_source.T  # (N, B)
        top = np.argsort(-sims, axis=1)[:, : self.k]  # (N, k)
        near = np.take_along_axis(sims, top, axis=1)
        weights = np.exp((near - near[:, :1]) / self.temperature)  # (N, k), best first
        return l2_normalize(np.einsum("nk,nkd->nd", weights, self.bank_target[top]))

    def apply(self, x: np.ndarray) -> np.ndarray:
        """(N, 512) multilingual vectors -> (N, 384), L2-normalised."""
        return l2_normalize(self.linear(x) + self.nearest(x))

    @staticmethod
    def fit_linear(source: np.ndarray, target: np.ndarray, ridge: float
                   ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
        """Least squares with an L2 penalty ``ridge`` on the weight: source (P, 512) and
        target (P, 384) rows are the two sides of P parallel sentences. -> (weight, bias)"""
        mu_x, mu_y = source.mean(0), target.mean(0)
        x, y = source - mu_x, target - mu_y
        gram = x.T @ x + ridge * np.eye(x.shape[1], dtype=x.dtype)  # (512, 512)
        weight = np.linalg.solve(gram, x.T @ y).astype(np.float32)  # (512, 384)
        return weight, (mu_y - mu_x @ weight).astype(np.float32)

    def save(self, path: Path) -> None:
        # the bank in float16: half the bundled file; a name's vector moves by < 1e-3
        np.savez_compressed(
            path, weight=self.weight, bias=self.bias, bank_source=self.bank_source.astype(
                np.float16), bank_target=self.bank_target.astype(np.float16), k=self.k,
            temperature=self.temperature,
        )  # fmt: skip

    @classmethod
    def load(cls, path: Path) -> Alignment:
        with np.load(path) as z:
            arrays = {n: z[n].astype(np.float32) for n in
                      ("weight", "bias", "bank_source", "bank_target")}  # fmt: skip
            return cls(**arrays, k=int(z["k"]), temperature=float(z["temperature"]))


def _default_multilingual() -> tuple[Encoder[str], Alignment]:
    from sensorium.encoders.multilingual import MultilingualEncoder
    from sensorium.models import model_path

    alignment = Alignment.load(model_path(ALIGNMENT_MODEL) / "alignment.npz")
    return MultilingualEncoder(), alignment


class AlignedTextEncoder:
    """Any language -> (N, 384) in the English encoder's space. English rows are the English
    encoder's own vectors, bit for bit; the others go through the multilingual encoder and
    the alignment. The multilingual model loads on the first text that needs it; where it is
    not installed, every text takes the English path (today's behaviour), logged once."""

    dim = 384

    def __init__(
        self,
        english: Encoder[str],
        multilingual: Callable[[], tuple[Encoder[str], Alignment]] = _default_multilingual,
    ) -> None:
        self.english = english
        self._load = multilingual

    @cached_property
    def multilingual(self) -> tuple[Encoder[str], Alignment] | None:
        try:
            return self._load()
        except ModelNotInstalledError as err:
            log.warning("queries in other languages take the English path: %s", err)
            return None

    def routes(self, batch: Sequence[str]) -> list[bool]:
        """For each text: True where it takes the multilingual path."""
        return [not is_english(t) for t in batch]

    def encode(self, batch: list[str], languages: Sequence[str | None] | None = None
               ) -> np.ndarray:  # fmt: skip
        """(N,) texts -> (N, 384). ``languages``: each text's language where it is known
        (Whisper's, say): "en" takes the English path, another the multilingual one, None the
        word test."""
        other = self.routes(batch)
        if languages is not None:
            other = [o if lang is None else lang != "en" for o, lang in zip(other, languages)]
        out = np.zeros((len(batch), self.dim), np.float32)
        model = self.multilingual if any(other) else None
        rows = [i for i, o in enumerate(other) if o and model is not None]
        english = sorted(set(range(len(batch))) - set(rows))
        if english:
            out[english] = self.english.encode([batch[i] for i in english])
        if rows and model is not None:
            encoder, alignment = model
            out[rows] = alignment.apply(encoder.encode([batch[i] for i in rows]))
        return out
