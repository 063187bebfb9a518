from __future__ import annotations

from pathlib import Path

import pytest

from sensorium.errors import UsageError
from sensorium.eval.metrics import normalize_text
from sensorium.eval.words import DIGIT_WORDS, asterisk_digits
from sensorium.perceive.transcribe import transcribe

HINT = " ".join(DIGIT_WORDS)


@pytest.fixture(scope="module")
def digits() -> list[tuple[str, Path]]:
    items = [i for i in asterisk_digits() if i.path.stem in ("1", "4", "8")]
    assert len(items) == 3, "asterisk-core-sounds-en-wav missing: run scripts/setup.sh"
    return [(i.text, i.path) for i in items]


@pytest.mark.parametrize("hint", [None, HINT])
def test_spoken_digits_with_and_without_hint(
    digits: list[tuple[str, Path]], hint: str | None
) -> None:
    results = transcribe([p for _, p in digits], model="base", hint=hint)
    assert [normalize_text(r.transcript.text) for r in results if r.transcript] == [
        w for w, _ in digits
    ]


def test_unknown_model_is_a_usage_error(digits: list[tuple[str, Path]]) -> None:
    with pytest.raises(UsageError, match="unknown speech model"):
        transcribe([digits[0][1]], model="huge")


def test_a_photo_is_reported_not_transcribed(stamp_png: Path) -> None:
    (result,) = transcribe([stamp_png], model="tiny.en")
    assert result.transcript is None and result.error
