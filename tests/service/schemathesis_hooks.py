"""Schemathesis hooks: real media in the upload fields of schema-valid requests.

A JSON schema cannot say "bytes that decode as an image", so what Schemathesis draws for an
upload is never media and every schema-valid upload would meet the 415 that refuses it. Before
each call of a positive case, each upload is replaced by one of a few real files (PNG, JPEG,
GIF, WebP, WAV, plain text) of a media type the schema declares for that field
(``encoding.contentType``, contract.UPLOADS), picked by a hash of what was drawn, so a run is
reproducible from its seed. Negative cases are sent as drawn: their uploads must be refused.

(Registering media type strategies instead, ``schemathesis.openapi.media_type``, fills a list
field's value in negative cases too and so undoes the negation, in Schemathesis 4.32.)

One fix to Schemathesis itself, below. A negative case whose negation left the request valid
(a branch of ``anyOf`` negated while another holds; a list's item made ``null``, which a form
can only send as the text "null") is recognised by re-validating the form as sent. 4.32 cannot
when a part is a file (its validator refuses bytes: files are taken as "" here, as Schemathesis
already does when it breaks a value, ``_strip_binary``), nor when a list field is sent as
several parts (it reads one of them: here a list is read from all its parts, as servers do).

Loaded by ``SCHEMATHESIS_HOOKS=tests/service/schemathesis_hooks.py schemathesis run ...``.
"""

from __future__ import annotations

import io
import wave
import zlib
from types import SimpleNamespace
from typing import Any

import numpy as np
import schemathesis
from PIL import Image
from schemathesis.specs.openapi import checks
from schemathesis.transport.serialization import Binary, contains_binary


def _picture(fmt: str, width: int, height: int, seed: int) -> bytes:
    """Noise of ``width`` x ``height`` pixels, saved as ``fmt``."""
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, fmt)
    return buf.getvalue()


def _sound(rate: int, seconds: float, tone: float, loud: float, seed: int) -> bytes:
    """A 16-bit mono WAV: a tone of ``tone`` Hz (0: noise) at ``loud`` of full scale."""
    t = np.arange(max(1, int(rate * seconds))) / rate  # (T,)
    signal = (
        np.sin(2 * np.pi * tone * t) if tone else np.random.default_rng(seed).uniform(-1, 1, t.size)
    )
    buf = io.BytesIO()
    with wave.open(buf, "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(rate)
        f.writeframes((signal * loud * 32767).astype("<i2").tobytes())
    return buf.getvalue()


# media type -> real files of that type
SAMPLES: dict[str, list[bytes]] = {
    "image/png": [_picture("PNG", 1, 1, 0), _picture("PNG", 37, 23, 1)],
    "image/jpeg": [_picture("JPEG", 64, 48, 2), _picture("JPEG", 8, 8, 3)],
    "image/gif": [_picture("GIF", 16, 16, 4)],
    "image/webp": [_picture("WEBP", 20, 30, 5)],
    "audio/wav": [
        _sound(16000, 1.0, 440.0, 0.5, 0),
        _sound(8000, 0.3, 0.0, 0.8, 1),
        _sound(44100, 2.0, 0.0, 0.0, 2),  # silence
        _sound(16000, 0.05, 1000.0, 1.0, 3),
    ],
    "text/plain": [b"Quarterly budget review on Tuesday.", b"a note"],
}


def _matches(declared: str, media_type: str) -> bool:
    main, _, sub = declared.strip().partition("/")
    have_main, _, have_sub = media_type.partition("/")
    return main in ("*", have_main) and sub in ("*", have_sub)


def _real(drawn: Any, declared: list[str]) -> tuple[bytes, str] | None:
    """A real file of a declared media type, picked by a hash of what was drawn."""
    pool = [(data, t) for t, files in SAMPLES.items() if any(_matches(d, t) for d in declared)
            for data in files]  # fmt: skip
    if not pool:
        return None
    key = drawn if isinstance(drawn, bytes) else str(drawn).encode("utf-8", "surrogatepass")
    return pool[zlib.crc32(key) % len(pool)]


@schemathesis.serializer("image/*", "audio/*", "video/*")
def as_bytes(ctx: schemathesis.SerializationContext, value: Any) -> bytes:
    """A part of an upload field that is not bytes (a number, in a negative case) goes out as
    its text, as it would without ``encoding``."""
    return value if isinstance(value, bytes) else str(value).encode("utf-8", "replace")


@schemathesis.hook
def before_call(
    ctx: schemathesis.HookContext, case: schemathesis.Case, kwargs: dict[str, Any]
) -> None:
    if not isinstance(case.body, dict) or case.meta is None:
        return
    if not case.meta.generation.mode.is_positive:
        return
    for body in case.operation.body:
        if body.media_type != "multipart/form-data":
            continue
        fields = (body.resolved_schema or {}).get("properties", {})
        for name, encoding in body.definition.get("encoding", {}).items():
            if name not in case.body:
                continue
            declared = encoding.get("contentType", "").split(",")
            many = fields.get(name, {}).get("type") == "array"
            drawn = (
                case.body[name] if many and isinstance(case.body[name], list) else [case.body[name]]
            )
            files = [f for f in (_real(d, declared) for d in drawn) if f is not None]
            if not files:
                continue
            # a new dict: the drawn one may be shared with other cases (coverage derives them)
            case.body = {**case.body, name: [data for data, _ in files] if many else files[0][0]}
            types = dict(case.multipart_content_types or {})
            types[name] = files[0][1]
            object.__setattr__(case, "multipart_content_types", types)
    # The case stays what it was drawn as, positive: the files put in are as valid as a schema
    # can say. (Schemathesis would re-validate an edited body, find bytes where the schema has
    # strings, and call the case negative; this private call takes the edit as the start.)
    case._record_starting_state()


_valid_as_sent = checks._form_body_is_valid_as_sent


def _files_as_text(value: Any) -> Any:
    if isinstance(value, Binary | bytes):
        return ""
    return [_files_as_text(v) for v in value] if isinstance(value, list) else value


def _valid_as_read(response: Any, case: Any, media_type: str) -> bool:
    """The form as the server reads it: a list field from all its parts, any other field
    from its last part, each text as itself or as the JSON it spells, a file as ""."""
    fields = checks._sent_form_fields(response, media_type)
    body = case.operation.get_body_for_media_type(media_type)
    if fields is None or body is None or not isinstance(body.optimized_schema, dict):
        return False
    schema = body.optimized_schema
    validator = case.operation.schema.adapter.jsonschema_validator_cls

    def read(text: str | None, sub: Any) -> Any:
        options = [""] if text is None else checks._form_text_readings(text)
        valid = checks.make_validator(sub, validator).is_valid
        return next((option for option in options if valid(option)), options[0])

    sent: dict[str, Any] = {}
    for name, texts in fields.items():
        sub = schema.get("properties", {}).get(name, {})
        many = isinstance(sub, dict) and sub.get("type") == "array"
        sent[name] = (
            [read(t, sub.get("items", {})) for t in texts] if many else read(texts[-1], sub)
        )
    return bool(checks.make_validator(schema, validator).is_valid(sent))


def _form_body_is_valid_as_sent(response: Any, case: Any, media_type: str) -> bool:
    """Schemathesis's own check, with the files of the form taken as "", or the form read as
    the server reads it (see above)."""
    as_drawn = case
    if isinstance(case.body, dict) and contains_binary(case.body):
        body = {name: _files_as_text(value) for name, value in case.body.items()}
        as_drawn = SimpleNamespace(body=body, operation=case.operation)
    if _valid_as_sent(response, as_drawn, media_type):
        return True
    try:
        return _valid_as_read(response, case, media_type)
    except Exception:  # a schema the validator cannot read: as Schemathesis, cannot tell
        return False


checks._form_body_is_valid_as_sent = _form_body_is_valid_as_sent
