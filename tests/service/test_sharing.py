"""The service's engine shares the cores among its concurrent model calls (engine.py
``Settings.sharing``): one thread per core for each call made them fight (benchmarks/service.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sensorium.encoders.base import Threads
from sensorium.engine import Settings
from sensorium.service.state import Service, ServiceConfig


def test_a_share_of_the_cores_each_unless_chosen() -> None:
    cores = os.cpu_count() or 1
    assert Settings().sharing(2).threads.count == max(1, cores // 2)
    assert Settings().sharing(1).threads.count == cores
    assert Settings().sharing(10 * cores).threads.count == 1
    chosen = Settings(threads=Threads(3, spin=True))
    assert chosen.sharing(2) is chosen  # a count the user chose is kept
    assert Settings(threads=Threads(0, spin=True)).sharing(2).threads.spin


def test_the_service_s_own_engine_shares(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SENSORIUM_THREADS", raising=False)
    service = Service(ServiceConfig(db=tmp_path / "db", warm=False, model_calls=2))
    cores = os.cpu_count() or 1
    assert service.engine.settings.threads.count == max(1, cores // 2)
    monkeypatch.setenv("SENSORIUM_THREADS", "2")
    assert Service(ServiceConfig(db=tmp_path / "db", warm=False)).engine.settings.threads.count == 2
