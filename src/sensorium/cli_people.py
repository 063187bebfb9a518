"""``sensorium people``: a collection's face recognition setting, its people (each with a face
crop and a count), and their names, merges and splits. A thin layer over ``Collection``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape as esc
from rich.table import Table

from sensorium.errors import UsageError

if TYPE_CHECKING:
    from sensorium.collection import Collection

__all__ = ["people_app"]

people_app = typer.Typer(
    help="People: faces recognised across photos (a collection setting, off by default), "
    "named once and found with person:NAME. Without a command: the people, each with a face "
    "crop and counts.",
    invoke_without_command=True,
)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

Db = Annotated[
    str | None,
    typer.Option("--db", help="Collection folder (default: $SENSORIUM_DB or ./.sensorium)."),
]
Json = Annotated[bool, typer.Option("--json", help="One JSON object per line.")]


def _collection(db: str | None) -> Collection:
    from sensorium.collection import Collection

    return Collection(db)


def _emit(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")


def _crops_folder(coll: Collection, crops: Path | None) -> Path:
    """Where the listed people's face crops are written: ``--crops``, else ``crops/`` in
    the collection's folder."""
    folder = crops or Path(str(coll.folder)) / "crops"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@people_app.callback()
def people_list(
    ctx: typer.Context,
    db: Db = None,
    crops: Annotated[
        Path | None,
        typer.Option(help="Write each person's face crop here (default: DB/crops/)."),
    ] = None,
    as_json: Json = False,
) -> None:
    """List the people of a collection: id, name, faces, files, and a face crop (a JPEG
    written for each, its path shown). Commands below change them."""
    if ctx.invoked_subcommand is not None:
        return
    coll = _collection(db)
    people = coll.people()
    if not people:
        state = "on" if coll.store.people_on else "off (sensorium people on)"
        out.print(f"[dim]no people yet; face recognition is {state}[/dim]")
        return
    folder = _crops_folder(coll, crops)
    table = Table("id", "name", "faces", "files", "face crop", box=None, pad_edge=False)
    for p in people:
        crop = folder / f"person-{p.id}.jpg"
        crop.write_bytes(coll.face_crop(p.face))
        if as_json:
            _emit(p.to_json() | {"crop": str(crop)})
        else:
            table.add_row(str(p.id), esc(p.name or "-"), str(p.faces), str(p.files),
                          esc(str(crop)))  # fmt: skip
    if not as_json:
        out.print(table)


@people_app.command("on")
def people_on(db: Db = None) -> None:
    """Turn face recognition on: the next ingest stores an identity vector for every face
    (photos stored before are encoded again) and groups faces into people."""
    _collection(db).set_people(True)
    out.print("face recognition is on: ingest again to find the people")


@people_app.command("off")
def people_off(db: Db = None) -> None:
    """Turn face recognition off (the faces stored stay until `people forget`)."""
    _collection(db).set_people(False)
    out.print("face recognition is off")


@people_app.command("forget")
def people_forget(db: Db = None) -> None:
    """Drop every stored face, person and name (the setting is left as it is)."""
    n = _collection(db).forget_people()
    out.print(f"{n} faces forgotten")


@people_app.command("faces")
def people_faces(
    person: Annotated[int, typer.Argument(help="A person's id.")],
    db: Db = None,
    as_json: Json = False,
) -> None:
    """A person's faces (their ids are what `split` takes), clearest first."""
    faces = _collection(db).person_faces(person)
    for f in faces:
        if as_json:
            _emit(f)
        else:
            out.print(f"{f['face_id']}  {esc(f['path'])}  box {f['box']}  [dim]{f['score']}[/dim]",
                      highlight=False)  # fmt: skip


@people_app.command("name")
def people_name(
    person: Annotated[int, typer.Argument(help="A person's id.")],
    name: Annotated[str, typer.Argument(help='The name ("Alice").')],
    db: Db = None,
) -> None:
    """Name a person; `search person:NAME` then finds the files they are in."""
    _collection(db).name_person(person, name)
    out.print(f"person {person} is {esc(' '.join(name.split()))}", highlight=False)


@people_app.command("merge")
def people_merge(
    into: Annotated[int, typer.Argument(help="The person who stays.")],
    others: Annotated[list[int], typer.Argument(help="Persons who are the same one.")],
    db: Db = None,
) -> None:
    """The same person seen as several: their faces become INTO's (and take its name)."""
    moved = _collection(db).merge_people(into, others)
    out.print(f"{moved} faces moved to person {into}")


@people_app.command("split")
def people_split(
    face_ids: Annotated[list[str], typer.Argument(help="Face ids (from `people faces`).")],
    db: Db = None,
) -> None:
    """Faces put in the wrong person: they become a new person (its id is shown)."""
    if not face_ids:
        raise UsageError("give the face ids to split off")
    new = _collection(db).split_person(face_ids)
    out.print(f"{len(set(face_ids))} faces are now person {new}")
