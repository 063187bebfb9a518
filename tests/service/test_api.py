"""The JSON API over a real collection: search by text, image and sound, items, media with
Range, thumbnails, more like this, perception on uploads, ingest jobs, stats and models."""

from __future__ import annotations

import io
import time
from pathlib import Path

from fastapi.testclient import TestClient
from PIL import Image

from sensorium.collection import Collection


def _names(body: dict) -> list[str]:  # type: ignore[type-arg]
    return [Path(r["path"]).name for r in body["results"]]


def test_health_openapi_and_page(client: TestClient) -> None:
    health = client.get("/api/health").json()
    assert health["status"] == "ok" and health["models_loaded"]
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/search", "/api/items/{item_id}/media", "/api/ingest"} <= set(paths)
    assert client.get("/docs").status_code == 200
    page = client.get("/")
    assert page.status_code == 200 and "Sensorium" in page.text
    assert client.get("/static/app.js").status_code == 200


def test_text_search_finds_the_cat_with_urls(client: TestClient) -> None:
    body = client.get("/api/search", params={"q": "a cat", "k": 3, "type": "image"}).json()
    assert _names(body)[0] == "chelsea.jpg"
    hit = body["results"][0]
    assert set(hit) >= {"id", "path", "type", "score", "start", "end", "explanation",
                        "media_url", "thumbnail_url"}  # fmt: skip
    assert hit["media_url"] == f"/api/items/{hit['id']}/media"
    assert all(r["type"] == "image" for r in body["results"])


def test_search_returns_video_moments(client: TestClient) -> None:
    body = client.get("/api/search", params={"q": "a penguin", "type": "video"}).json()
    (hit,) = body["results"]
    assert hit["type"] == "video" and 3.5 <= hit["start"] < 9 and hit["end"] > hit["start"]
    item = client.get(f"/api/items/{hit['id']}").json()
    assert len(item["moments"]) >= 3 and item["moments"][0]["start"] == 0


def test_said_filter_and_path_glob(client: TestClient) -> None:
    body = client.get("/api/search", params={"q": "hello world", "in": "said"}).json()
    assert _names(body)[0] == "hello-world.wav"
    body = client.get("/api/search", params={"q": "a photo", "path": "*.png"}).json()
    assert _names(body) == ["kangaroo.png"]


def test_image_upload_finds_itself(client: TestClient, photos: dict[str, Path]) -> None:
    with photos["coffee"].open("rb") as f:
        body = client.post("/api/search", files={"image": ("coffee.jpg", f, "image/jpeg")},
                           data={"k": "3"}).json()  # fmt: skip
    assert _names(body)[0] == "coffee.jpg"
    assert body["results"][0]["score"] > 0.95


def test_audio_upload_with_weights(client: TestClient, crow_ogg: Path) -> None:
    with crow_ogg.open("rb") as f:
        body = client.post("/api/search", files={"audio": ("crow.ogg", f, "audio/ogg")},
                           data={"q": "a bird", "weights": "text=0.5,audio=1"}).json()  # fmt: skip
    assert _names(body)[0] == "crow.ogg"
    assert set(body["results"][0]["explanation"]["parts"]) == {"text", "audio"}


def test_media_range_gives_206(client: TestClient, collection: Collection,
                               media_root: Path) -> None:  # fmt: skip
    item = collection.item(str(media_root / "crow.ogg"))
    whole = (media_root / "crow.ogg").read_bytes()
    full = client.get(f"/api/items/{item.id}/media")
    assert full.status_code == 200 and full.content == whole
    assert full.headers["accept-ranges"] == "bytes"
    part = client.get(f"/api/items/{item.id}/media", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 100-199/{len(whole)}"
    assert part.content == whole[100:200]


def test_thumbnails_for_each_kind(client: TestClient, collection: Collection,
                                  media_root: Path) -> None:  # fmt: skip
    for name, kind in [("rocket.jpg", "JPEG"), ("crow.ogg", "PNG"), ("animals.mp4", "JPEG")]:
        item = collection.item(str(media_root / name))
        r = client.get(f"/api/items/{item.id}/thumbnail")
        assert r.status_code == 200, name
        image = Image.open(io.BytesIO(r.content))
        assert image.format == kind and max(image.size) <= 360 and min(image.size) > 50


def test_similar_leaves_the_item_out(client: TestClient, collection: Collection,
                                     media_root: Path) -> None:  # fmt: skip
    item = collection.item(str(media_root / "chelsea.jpg"))
    body = client.get(f"/api/items/{item.id}/similar", params={"k": 3}).json()
    assert len(body["results"]) == 3 and "chelsea.jpg" not in _names(body)
    assert client.get("/api/items/nope/similar").status_code == 404


def test_classify_transcribe_describe_uploads(
    client: TestClient, crow_ogg: Path, hello_wav: Path, photos: dict[str, Path]
) -> None:
    with crow_ogg.open("rb") as f:
        r = client.post("/api/classify", files=[("files", ("crow.ogg", f, "audio/ogg"))],
                        data={"labels": "a bird,a car,music"})  # fmt: skip
    (result,) = r.json()["results"]
    assert result["path"] == "crow.ogg" and result["labels"][0]["label"] == "a bird"
    with hello_wav.open("rb") as f:
        r = client.post("/api/transcribe", files=[("files", ("hi.wav", f, "audio/wav"))],
                        data={"model": "tiny.en"})  # fmt: skip
    assert "hello" in r.json()["results"][0]["text"].lower()
    with photos["chelsea"].open("rb") as f:
        r = client.post("/api/describe", files=[("files", ("cat.jpg", f, "image/jpeg"))])
    desc = r.json()["results"][0]
    assert desc["kind"] == "image" and "cat" in " ".join(x["label"] for x in desc["labels"])


def test_ingest_job_reports_progress(client: TestClient, media_root: Path) -> None:
    extra = media_root / "new"
    extra.mkdir()
    Image.new("RGB", (64, 64), "red").save(extra / "red.png")
    (extra / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"0" * 64)
    job = client.post("/api/ingest", json={"paths": [str(extra)]})
    assert job.status_code == 202
    job_id = job.json()["id"]
    for _ in range(600):
        state = client.get(f"/api/jobs/{job_id}").json()
        assert client.get("/api/search", params={"q": "red"}).status_code == 200  # meanwhile
        if state["state"] in ("done", "failed"):
            break
        time.sleep(0.1)
    assert state["state"] == "done" and state["total"] == 2 and state["done"] == 2
    ((failure),) = state["failed"]
    assert failure["path"].endswith("broken.jpg") and failure["error"]
    assert client.get("/api/jobs/nope").status_code == 404


def test_stats_and_models(client: TestClient) -> None:
    stats = client.get("/api/stats").json()
    assert stats["items"] >= 8 and stats["by_type"]["video"] == 1 and "folder" not in stats
    models = client.get("/api/models").json()["models"]
    assert any(m["name"] == "yamnet" and m["ready"] for m in models)


def test_ask_and_triage_uploads(
    client: TestClient, photos: dict[str, Path], hello_wav: Path
) -> None:
    with photos["astronaut"].open("rb") as f:
        r = client.post("/api/ask", files={"file": ("astronaut.jpg", f, "image/jpeg")},
                        data={"question": "how many people are in the picture?"})  # fmt: skip
    assert r.status_code == 200 and r.json()["kind"] == "count"
    assert r.json()["answer"].startswith("1") and r.json()["evidence"]
    with hello_wav.open("rb") as f:
        r = client.post("/api/triage", files={"audio": ("voice.wav", f, "audio/wav")},
                        data={"text": "The app crashes with an error when I log in."})  # fmt: skip
    ticket = r.json()
    assert r.status_code == 200 and set(ticket["modalities"]) == {"text", "audio"}
    assert "hello" in ticket["speech"]["transcript"].lower() and "image" not in ticket
    assert client.post("/api/triage", data={}).status_code == 400  # an empty ticket: usage
