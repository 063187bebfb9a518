"""The API's contract: one error model, the status each error kind leaves with, and the rules
that make the OpenAPI schema say exactly what the server accepts.

Every error, whoever raises it (a route, the library, FastAPI's validation, the guard), leaves
through ``error_response`` as ``{"error": kind, "detail": one line, "field": name}`` (``field``
only when one input is at fault) with the status ``STATUS[kind]``; the schema declares this one
model for every error status a route can return.

The schema cannot say everything by itself: which of a form's fields must come together,
which media an upload may hold, and that an absent value is absent rather than ``null``.
``exact_schema`` adds that to what FastAPI derives from the signatures; the rules are data
here, keyed by operation id (the route function's name).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import core_schema

from sensorium.errors import SensoriumError

__all__ = [
    "HAS_TEXT",
    "STATUS",
    "Error",
    "Holds",
    "InvalidInput",
    "error_body",
    "error_response",
    "errors",
    "exact_schema",
    "flag",
    "nonblank",
]

# An error's kind -> the HTTP status that says it (sensorium.errors draws the library's kinds;
# "invalid" is a request the schema refuses, "method" and "range" are the protocol's own)
STATUS: dict[str, int] = {
    "usage": 400, "unauthorized": 401, "forbidden": 403, "missing": 404, "method": 405,
    "too_large": 413, "unsupported": 415, "range": 416, "corrupt": 422, "unusable": 422,
    "invalid": 422, "internal": 500, "error": 500, "model": 503,
}  # fmt: skip
# A status raised without a kind (Starlette's own HTTPException) -> its kind
_KIND_OF = {400: "usage", 401: "unauthorized", 403: "forbidden", 404: "missing",
            405: "method", 413: "too_large", 415: "unsupported", 416: "range"}  # fmt: skip

ErrorKind = Literal[
    "usage", "unauthorized", "forbidden", "missing", "method", "too_large", "unsupported",
    "range", "corrupt", "unusable", "invalid", "internal", "error", "model",
]  # fmt: skip

# What each error status means, as the schema describes it
_MEANING = {
    400: "Arguments that cannot work together, or a request that cannot be parsed (`usage`).",
    401: "`--token` is set and the request lacks `Authorization: Bearer TOKEN` (`unauthorized`).",
    403: "A path outside the `--root` folders, with `..`, or a link out of one (`forbidden`).",
    404: "No such item, job or file (`missing`).",
    413: "The body is over `--max-upload-mb` (never handed on), or media over a safety bound "
    "(`too_large`).",
    415: "An upload that is not media this route reads (`unsupported`).",
    416: "A `Range` header that is malformed or outside the file (`range`).",
    422: "A parameter the schema refuses (`invalid`, with `field`), or an upload that is "
    "corrupt or truncated (`corrupt`).",
    500: "An unexpected failure, logged by the server; never a traceback (`internal`).",
    503: "A model is not installed: `sensorium models install` (`model`).",
}


class Error(BaseModel):
    """Every error response: what went wrong in one word, one line, and the field at fault."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "error": "invalid",
                    "detail": "Input should be less than or equal to 100",
                    "field": "k",
                },
                {"error": "missing", "detail": "no item 'abc' in the collection"},
            ]
        }
    )

    error: ErrorKind = Field(description="The kind of error; the status follows from it.")
    detail: str = Field(description="One line; never a traceback or a server path.")
    field: str | SkipJsonSchema[None] = Field(
        None, description="The parameter or form field at fault (dotted for nested ones)."
    )


class InvalidInput(SensoriumError):
    """A value the schema refuses, found by a check that only the route can make."""

    kind = "invalid"

    def __init__(self, field: str, detail: str) -> None:
        self.field = field
        super().__init__(detail)


def error_body(kind: str, detail: str, field: str | None = None) -> dict[str, str]:
    body = {"error": kind, "detail": detail.splitlines()[0] if detail else kind}
    return body | ({"field": field} if field else {})


def error_response(kind: str, detail: str, field: str | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:  # fmt: skip
    """The one way an error leaves: its kind's status and the error model."""
    return JSONResponse(error_body(kind, detail, field), STATUS.get(kind, 500), headers)


def kind_of(status: int) -> str:
    return _KIND_OF.get(status, "usage" if status < 500 else "internal")


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses`` of a route that may answer with these error statuses."""
    return {s: {"model": Error, "description": _MEANING[s]} for s in (*statuses, 500)}


# -- patterns shared by the schema and the server ----------------------------------------------
# Spelled with literal characters, so that Python's re and the ECMA regexes of schema tools
# read them alike. The space is Python's (str.isspace, re's \s), the one the library strips and
# splits with. Each is a search for what a text must hold, written as alternatives at its top:
# a single unanchored class beside ``maxLength`` is read by tools as if anchored (Schemathesis
# 4.32 rewrites ``[^ ]`` to ``^[^ ]{1,N}$``), and ``not``, which would say it plainly, breaks
# Schemathesis's coverage phase in a form with a file.

_SPACE = "".join(ch for ch in map(chr, range(0x3001)) if ch.isspace())
_NEG = f'-(?:"[^"]+"|[^{_SPACE}"-][^{_SPACE}"]*)'  # "-word" or '-"two words"', as rclip
_NEGS = f"^[{_SPACE}]*(?:{_NEG}[{_SPACE}]+)*"  # spaces and whole concepts to leave out, then:
_TEXT = (
    f"[^{_SPACE}-]",  # a word
    f"-(?:[{_SPACE}-]|$)",  # a dash that starts no concept
    '-"(?:"|[^"]*$)',  # a quote that never closes, or closes on nothing
    f'-"[^"]+"[^{_SPACE}]',  # a quoted concept run into more text
    f'-[^{_SPACE}"-][^{_SPACE}"]*"',  # a concept run into a quote
)
# A text query that holds something to look for, not only concepts to leave out ("-people"):
# exactly the texts that search.query.parse_negatives leaves words in (tested)
HAS_TEXT = "|".join(_NEGS + t for t in _TEXT)


def nonblank(also: str = "") -> str:
    """A pattern found in a text holding a character other than spaces and ``also``."""
    return f"\\w|[^\\w{also}{_SPACE}]"  # a word character, or any other one that is not


def flag(value: Any) -> Any:
    """A form or query flag as JSON spells it, ``true`` or ``false`` (or as Python does, which
    generated clients send in a multipart form); not the many spellings pydantic reads as
    booleans ("1", "on", "yes"), which a schema's ``boolean`` does not admit."""
    if isinstance(value, str) and value not in ("true", "false", "True", "False"):
        raise ValueError("true or false")
    return value.lower() if isinstance(value, str) else value


@dataclass(frozen=True)
class Holds:
    """``Annotated[str, Holds(pattern, why)]``: a text in which ``pattern`` is not found is
    refused (422, ``why``), and the schema says the same (``pattern``)."""

    pattern: str
    why: str

    def check(self, value: str) -> str:
        if not re.search(self.pattern, value):
            raise ValueError(self.why)
        return value

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> Any:
        return core_schema.no_info_after_validator_function(self.check, handler(source))

    def __get_pydantic_json_schema__(self, schema: Any, handler: GetJsonSchemaHandler) -> Any:
        return {**handler(schema), "pattern": self.pattern}


# -- the schema made exact -----------------------------------------------------------------------

IMAGES, SOUNDS, VIDEOS, TEXTS = "image/*", "audio/*", "video/*", "text/plain"
# operation id -> form field -> the media an upload there may hold (the server sniffs the bytes;
# the part's own Content-Type is not trusted)
UPLOADS: dict[str, dict[str, tuple[str, ...]]] = {
    "search_post": {"image": (IMAGES,), "audio": (SOUNDS,)},
    "classify": {"files": (IMAGES, SOUNDS, VIDEOS, TEXTS)},
    "transcribe": {"files": (SOUNDS, VIDEOS)},
    "describe": {"files": (IMAGES, SOUNDS)},
    "read": {"files": (IMAGES,)},
    "ask_post": {"file": (IMAGES, SOUNDS, VIDEOS)},
    "triage_post": {"image": (IMAGES,), "audio": (SOUNDS,)},
}


def _required(*names: str) -> list[dict[str, Any]]:
    return [{"required": [n]} for n in names]


# A schema no value meets, said as generators read it (not as false, nor with not)
_NOTHING = {"type": "string", "minLength": 1, "maxLength": 0}


def _only_with(other: str, *fields: str) -> dict[str, Any]:
    """``fields`` only together with ``other``."""
    return {"anyOf": [{"required": [other]}, {"properties": dict.fromkeys(fields, _NOTHING)}]}


# operation id -> what a form needs beyond each field's own schema
FORMS: dict[str, dict[str, Any]] = {
    "search_post": {
        "allOf": [
            {"anyOf": _required("q", "image", "audio", "like")},
            _only_with("q", "in", "not"),
        ]
    },
    "triage_post": {"anyOf": _required("text", "image", "audio")},
}

_FIRST_RESULT = {"item_id": "$response.body#/results/0/id"}
# operation id -> status -> links to the operations its answer leads to (the stateful phase of
# a tester follows them; so can a reader)
LINKS: dict[str, dict[str, dict[str, dict[str, Any]]]] = {
    op: {"200": {
        "item": {"operationId": "item", "parameters": _FIRST_RESULT},
        "media": {"operationId": "item_media", "parameters": _FIRST_RESULT},
        "thumbnail": {"operationId": "item_thumbnail", "parameters": _FIRST_RESULT},
        "similar": {"operationId": "item_similar", "parameters": _FIRST_RESULT},
    }}
    for op in ("search_get", "search_post", "item_similar")
} | {
    "ingest": {"202": {"job": {"operationId": "job",
                               "parameters": {"job_id": "$response.body#/id"}}}},
    "jobs": {"200": {"job": {"operationId": "job",
                             "parameters": {"job_id": "$response.body#/jobs/0/id"}}}},
    "duplicates": {"200": {"item": {"operationId": "item", "parameters": {
        "item_id": "$response.body#/groups/0/items/0/id"}}}},
}  # fmt: skip

# Paths whose GETs a browser makes from tags, which send the token as a cookie (guard.py)
COOKIE_OPERATIONS = ("item_media", "item_thumbnail")


_REF = "#/components/schemas/"


def _not_null(schema: dict[str, Any]) -> dict[str, Any]:
    """``anyOf: [X, null]`` -> X: an optional parameter or form field is left out, never sent
    as ``null`` (which a query string or a form would carry as the text "null")."""
    options = schema.get("anyOf")
    if not options or {"type": "null"} not in options:
        return schema
    rest = [o for o in options if o != {"type": "null"}]
    out = {k: v for k, v in schema.items() if k != "anyOf"}
    if out.get("default", 0) is None:
        del out["default"]
    return out | (rest[0] if len(rest) == 1 else {"anyOf": rest})


def _operations(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, methods in schema["paths"].items():
        for method, op in methods.items():
            yield path, method, op


def _form(schema: dict[str, Any], op: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the multipart content of an operation, its body schema resolved), or empty dicts."""
    content = op.get("requestBody", {}).get("content", {}).get("multipart/form-data")
    if content is None:
        return {}, {}
    ref = content["schema"]["$ref"].rsplit("/", 1)[-1]
    return content, schema["components"]["schemas"][ref]


def _inline(schema: dict[str, Any], body: dict[str, Any]) -> list[str]:
    """The fields of a form model that FastAPI names by reference (``allOf: [$ref]``: the
    search's options), put beside the form's other fields, where generators read them; the
    names of the models so inlined."""
    refs = [part["$ref"] for part in body.get("allOf", []) if "$ref" in part]
    if not refs:
        return []
    body["allOf"] = [part for part in body["allOf"] if "$ref" not in part]
    if not body["allOf"]:
        del body["allOf"]
    for ref in refs:
        model = schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]
        body["properties"] = body.get("properties", {}) | model["properties"]
        body["required"] = body.get("required", []) + model.get("required", [])
        if not body["required"]:
            del body["required"]
    return [ref.rsplit("/", 1)[-1] for ref in refs]


def _exact_form(name: str, op: dict[str, Any], content: dict[str, Any], body: dict[str, Any],
                choices: dict[str, list[str]]) -> None:  # fmt: skip
    """A multipart form's rules, its uploads' media and its enums, into its body schema."""
    body["properties"] = {k: _not_null(v) for k, v in body["properties"].items()}
    if name in FORMS:  # a form that needs some of its fields needs a body
        body.update(FORMS[name])
        op["requestBody"]["required"] = True
    for field, types in UPLOADS.get(name, {}).items():
        content.setdefault("encoding", {})[field] = {"contentType": ", ".join(types)}
        prop = body["properties"][field]
        many = prop.get("type") == "array"
        # a file, as 3.0 said it too: generators read format, not contentMediaType. What the
        # bytes must be (media of these types; an empty file is none) no schema can say: the
        # server decodes them, and answers 415 or 422 (no minLength: Schemathesis checks its
        # mutations with every file taken as "", and would find them all invalid)
        (prop["items"] if many else prop)["format"] = "binary"
        if many:
            prop["minItems"] = 1
    for field, values in choices.items():
        body["properties"][field]["enum"] = values


def _secured(schema: dict[str, Any]) -> None:
    """The bearer token on every operation (and the page's cookie on the media it loads)."""
    from sensorium.service.guard import TOKEN_COOKIE

    schema["components"]["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer", "description": "The service's `--token`."},
        "cookie": {"type": "apiKey", "in": "cookie", "name": TOKEN_COOKIE,
                   "description": "The same token, set by the page for <img> and <video>."},
    }  # fmt: skip
    for _, _, op in _operations(schema):
        op["security"] = [{"bearer": []}] + [{"cookie": []}] * (
            op["operationId"] in COOKIE_OPERATIONS
        )
        op["responses"]["401"] = {
            "description": _MEANING[401],
            "content": {"application/json": {"schema": {"$ref": _REF + "Error"}}},
            "headers": {"WWW-Authenticate": {"schema": {"type": "string", "const": "Bearer"},
                                             "required": True}},
        }  # fmt: skip


def exact_schema(schema: dict[str, Any], token: bool,
                 choices: dict[str, dict[str, list[str]]]) -> dict[str, Any]:  # fmt: skip
    """FastAPI's schema with what it cannot derive: forms' rules, uploads' media, links, no
    ``null`` for an absent input, the ``choices`` that depend on what is installed (operation
    -> field -> enum), the one error model for 422 too, and with ``token`` the bearer scheme
    on every operation."""
    schema = copy.deepcopy(schema)
    inlined: list[str] = []
    for _, _, op in _operations(schema):
        name = op["operationId"]
        for param in op.get("parameters", []):
            param["schema"] = _not_null(param["schema"])
        content, body = _form(schema, op)
        if body:
            inlined += _inline(schema, body)
            _exact_form(name, op, content, body, choices.get(name, {}))
        for response in op["responses"].values():  # FastAPI's own 422 model: ours instead
            for media in response.get("content", {}).values():
                if media.get("schema") == {"$ref": _REF + "HTTPValidationError"}:
                    media["schema"] = {"$ref": _REF + "Error"}
                    response["description"] = _MEANING[422]
        for status, links in LINKS.get(name, {}).items():
            op["responses"][status]["links"] = links
    for unused in ("HTTPValidationError", "ValidationError", *inlined):
        schema["components"]["schemas"].pop(unused, None)
    if token:
        _secured(schema)
    return schema


def field_name(loc: Sequence[Any]) -> str:
    """A validation error's location -> the input's name: ("query", "k") -> "k",
    ("body", "paths", 0) -> "paths.0", ("body",) -> "body"."""
    return ".".join(str(x) for x in loc[1:]) or (str(loc[0]) if loc else "request")
