"""Ingest on a small local Ray cluster (one per module, 2 CPUs): the items of a local ingest,
a killed driver that resumes with nothing lost or doubled, a dying worker retried."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from sensorium.engine import default_engine
from sensorium.errors import UsageError
from sensorium.eval.datasets import tuxpaint_stamps
from sensorium.perceive.inputs import expand_paths
from sensorium.store import LanceStore, ingest
from sensorium.store.ingest import Decoded, Embedder, Outcome

ray = pytest.importorskip("ray")
pytest.importorskip("ray.data")

from sensorium.distributed import RayOptions, ray_ingest  # noqa: E402


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """A local Ray cluster of 2 CPUs shared by the module; yields its address."""
    ray.init(num_cpus=2, include_dashboard=False, logging_level="WARNING", log_to_driver=False)
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers lack tests/
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


def test_ray_ingest_gives_the_items_of_a_local_ingest(
    cluster: str, media_dir: Path, animal_video, tmp_path: Path,  # type: ignore[no-untyped-def]
    same_items: Callable[..., None],
) -> None:  # fmt: skip
    shutil.copy(animal_video.path, media_dir / "animals.mp4")  # split into moments on a worker
    space = default_engine().space
    files = expand_paths([media_dir])
    local, distributed = LanceStore(tmp_path / "local"), LanceStore(tmp_path / "ray")
    want = ingest(local, space, files, [media_dir], batch_size=4).to_json()
    planned: list[int] = []
    done: list[int] = []
    got = ray_ingest(distributed, space, files, [media_dir], batch_size=4,
                     on_planned=planned.append, on_done=done.append).to_json()  # fmt: skip
    got.pop("seconds"), want.pop("seconds")
    assert got == want and (got["added"], len(got["failed"])) == (8, 1)  # type: ignore[arg-type]
    assert planned == [9] and sum(done) == 9 and max(done) <= 4
    same_items(distributed, local, atol=1e-5)  # the issue: Ray equals local within 1e-5
    assert len([r for r in distributed.moments(str(media_dir / "animals.mp4"))]) == 3

    again = ray_ingest(distributed, space, files, [media_dir], sync=True)
    assert (again.added, again.updated, again.unchanged, again.removed) == (0, 0, 8, 0)


def _stamp_folder(tmp_path: Path, n: int) -> Path:
    folder = tmp_path / "stamps"
    folder.mkdir()
    for s in tuxpaint_stamps()[:n]:
        shutil.copy(s.image, folder / (s.name.replace("/", "__") + ".png"))
    return folder


DRIVER = """
import sys
from pathlib import Path
from sensorium.distributed import RayOptions, ray_ingest
from sensorium.perceive.inputs import expand_paths
from sensorium.engine import default_engine
from sensorium.store import LanceStore
folder, db, address = sys.argv[1:]
ray_ingest(LanceStore(db), default_engine().space, expand_paths([folder]), [Path(folder)],
           batch_size=6, options=RayOptions(address=address))
"""


def test_a_killed_driver_resumes_with_nothing_lost_or_doubled(
    cluster: str, tmp_path: Path, same_items: Callable[..., None]
) -> None:
    """A driver joined to the cluster is killed (SIGKILL) between commits; the next run adds
    exactly what is missing: the store ends as a clean local ingest."""
    folder = _stamp_folder(tmp_path, 48)
    killed = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-c", DRIVER, str(folder), str(killed), cluster],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if (killed / "items.lance").exists() and LanceStore(killed).count() in range(6, 36):
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the ingest finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial = LanceStore(killed).count()
    assert 0 < partial < 48 and partial % 6 == 0  # whole batches only

    space = default_engine().space
    files = expand_paths([folder])
    resumed = ray_ingest(LanceStore(killed), space, files, [folder], batch_size=6)
    assert (resumed.added, resumed.unchanged) == (48 - partial, partial)
    clean = LanceStore(tmp_path / "clean")
    ingest(clean, space, files, [folder])
    same_items(LanceStore(killed), clean)


class _DiesOnce(Embedder):
    """Kills its worker process the first time it is called (a node lost mid-batch)."""

    marker: ClassVar[str] = ""

    def __call__(self, decoded: list[Decoded]) -> list[Outcome]:
        if not os.path.exists(self.marker):
            Path(self.marker).touch()
            os._exit(1)
        return super().__call__(decoded)


def test_a_worker_that_dies_is_replaced_and_its_batch_retried(
    cluster: str, tmp_path: Path, same_items: Callable[..., None]
) -> None:
    folder = _stamp_folder(tmp_path, 8)
    _DiesOnce.marker = str(tmp_path / "died")
    space = default_engine().space
    files = expand_paths([folder])
    store = LanceStore(tmp_path / "ray")
    report = ray_ingest(store, space, files, [folder], batch_size=4,
                        options=RayOptions(embed_class=_DiesOnce))  # fmt: skip
    assert Path(_DiesOnce.marker).exists()  # it did die
    assert (report.added, report.failed) == (8, [])
    clean = LanceStore(tmp_path / "clean")
    ingest(clean, space, files, [folder])
    same_items(store, clean)


class _ReportsThreads(Embedder):
    """Writes, once, the threads its worker runs with: the space's setting and numpy's BLAS."""

    marker: ClassVar[str] = ""

    def __call__(self, decoded: list[Decoded]) -> list[Outcome]:
        from threadpoolctl import threadpool_info

        blas = sorted({p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"})
        Path(self.marker).write_text(f"{self.space.options.threads.count} {blas}")
        return super().__call__(decoded)


def test_workers_get_the_thread_settings_of_the_driver(cluster: str, tmp_path: Path) -> None:
    """Ray starts its workers with OMP_NUM_THREADS=1; the engine's thread count must reach them,
    for ONNX Runtime, CTranslate2 and numpy's BLAS alike, through the space's options."""
    from sensorium.encoders.base import Threads
    from sensorium.engine import Engine, Settings

    folder = _stamp_folder(tmp_path, 2)
    _ReportsThreads.marker = str(tmp_path / "threads")
    space = Engine(Settings(threads=Threads(2))).space
    ray_ingest(LanceStore(tmp_path / "ray"), space, expand_paths([folder]), [folder],
               options=RayOptions(embed_class=_ReportsThreads))  # fmt: skip
    assert Path(_ReportsThreads.marker).read_text() == "2 [2]"


class _Cluster:
    def __init__(self, cpus: float) -> None:
        self.cpus = cpus

    def cluster_resources(self) -> dict[str, float]:
        return {"CPU": self.cpus}


@pytest.mark.parametrize(("cpus", "sizes"), [(2, (1, 2)), (4, (3, 1)), (16, (12, 1))])
def test_actors_never_hold_every_cpu(cpus: int, sizes: tuple[int, int]) -> None:
    """(actors, ONNX threads each): a CPU is always left to the read-and-decode tasks, or
    Ray Data waits for ever."""
    from sensorium.distributed.ray_ingest import _sizes

    assert _sizes(_Cluster(cpus), RayOptions()) == sizes
    with pytest.raises(UsageError, match="1 CPUs"):
        _sizes(_Cluster(1), RayOptions())
    with pytest.raises(UsageError, match="workers"):
        RayOptions(workers=0).verify()
