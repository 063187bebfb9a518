"""The people API under ``/api``: the collection's people with their face crops (served by a
face's id, never by a path the client names), a person's faces, and name, merge and split.
Each route calls ``Collection``; writes take its writer lock there."""

from __future__ import annotations

from typing import Annotated, Any

import anyio
from fastapi import Path as PathParam
from fastapi.responses import Response
from pydantic import BaseModel, Field

from sensorium.service.contract import errors
from sensorium.service.routes import E, router
from sensorium.service.schemas import Faces, PeopleList, PersonOut

__all__ = ["crop_url"]

# On the API's own router (its prefix, operation ids, checks): imported by service/app.py

# Person ids count up from 1; a bound a JSON number holds exactly (2**62 read as a float
# would let a schema admit 4611686018427387999, which the server refuses)
MAX_PERSON = 1_000_000_000
PersonId = Annotated[int, PathParam(ge=1, le=MAX_PERSON, description="A person's id.")]
# "<40 hex digits>:<index>": what the store writes; anything else is refused before a lookup
FaceId = Annotated[str, PathParam(pattern=r"^[0-9a-f]{40}:[0-9]{1,4}$",
                                  description="A face's id (from /api/people).")]  # fmt: skip
_JPEG = {200: {"description": "The face, cropped (JPEG).",
               "content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}}}},
         **errors(404, 422)}  # fmt: skip


def crop_url(face_id: str) -> str:
    return f"/api/faces/{face_id}/crop"


def _person(p: Any) -> dict[str, Any]:
    return p.to_json() | {"crop_url": crop_url(p.face)}  # type: ignore[no-any-return]


def _face(f: dict[str, Any]) -> dict[str, Any]:
    f = {k: v for k, v in f.items() if k != "path"}  # the item's id stands for its file
    return f | {"crop_url": crop_url(f["face_id"]),
                "item_url": f"/api/items/{f['item_id']}"}  # fmt: skip


class NameBody(BaseModel):
    name: str = Field(min_length=1, max_length=200, pattern=r"\S",
                      description='The name ("Alice"); person:Alice then finds them.')  # fmt: skip


class MergeBody(BaseModel):
    others: list[Annotated[int, Field(ge=1, le=MAX_PERSON)]] = Field(
        min_length=1, max_length=1000, description="Persons who are this one too.")  # fmt: skip


class SplitBody(BaseModel):
    faces: list[Annotated[str, Field(pattern=r"^[0-9a-f]{40}:[0-9]{1,4}$")]] = Field(
        min_length=1, max_length=1000, description="Faces that become a new person.")  # fmt: skip


@router.get("/people", response_model=PeopleList, responses=errors())
async def people(e: E) -> dict[str, Any]:
    """Every person (most faces first) with a face crop's URL, and whether face recognition
    is on for the collection (a setting: `sensorium people on`)."""
    found = await anyio.to_thread.run_sync(e.collection.people)
    return {"enabled": e.collection.store.people_on, "people": [_person(p) for p in found]}


@router.get("/people/{person}/faces", response_model=Faces, responses=errors(404, 422))
async def person_faces(e: E, person: PersonId) -> dict[str, Any]:
    """A person's faces, clearest first, each with its crop and its item."""
    faces = await anyio.to_thread.run_sync(e.collection.person_faces, person)
    return {"faces": [_face(f) for f in faces]}


@router.get("/faces/{face_id}/crop", response_class=Response, responses=_JPEG)
async def face_crop(e: E, face_id: FaceId) -> Response:
    """A face's crop, by the face's id."""
    data = await anyio.to_thread.run_sync(e.collection.face_crop, face_id)
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=60"})


def _one(e: Any, person: int) -> dict[str, Any]:
    return _person(next(p for p in e.collection.people() if p.id == person))


@router.post("/people/{person}/name", response_model=PersonOut,
                    responses=errors(400, 404, 413, 422))  # fmt: skip
async def name_person(e: E, person: PersonId, body: NameBody) -> dict[str, Any]:
    """Name a person."""
    await anyio.to_thread.run_sync(e.collection.name_person, person, body.name)
    return await anyio.to_thread.run_sync(_one, e, person)


@router.post("/people/{person}/merge", response_model=PersonOut,
                    responses=errors(400, 404, 413, 422))  # fmt: skip
async def merge_people(e: E, person: PersonId, body: MergeBody) -> dict[str, Any]:
    """The others' faces become this person's."""
    await anyio.to_thread.run_sync(e.collection.merge_people, person, body.others)
    return await anyio.to_thread.run_sync(_one, e, person)


@router.post("/people/split", response_model=PersonOut,
             responses=errors(400, 404, 413, 422))  # fmt: skip
async def split_person(e: E, body: SplitBody) -> dict[str, Any]:
    """These faces become a new person."""
    new = await anyio.to_thread.run_sync(e.collection.split_person, body.faces)
    return await anyio.to_thread.run_sync(_one, e, new)
