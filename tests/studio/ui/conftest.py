"""UI test fixtures: a fresh data home per test, the editing fake engine, and a worker that the
test drives by hand (`run_jobs()`), so each test decides exactly when jobs run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from music.acestep_v1.loading.tiny import build_lyric_vocab
from tests.e2e.editing_engine import TARGET

APP = str(Path(__file__).resolve().parents[3] / "studio" / "ui" / "app.py")


@pytest.fixture
def settings(tmp_path, monkeypatch):
    from studio.settings import load_settings

    monkeypatch.setenv("SONGSTUDIO_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SONGSTUDIO_EXTRA_ENGINES", json.dumps({"fake": TARGET}))
    monkeypatch.setenv("SONGSTUDIO_ENGINE", "fake")
    monkeypatch.setenv("SONGSTUDIO_DEVICE", "cpu")
    # ace-step-v1 lyrics are measured at submit with the engine's lyric vocabulary (a stand-in here)
    vocab = build_lyric_vocab(tmp_path / "lyrics_vocab.json")
    monkeypatch.setenv("SONGSTUDIO_ENGINE_OPTIONS", json.dumps({"ace-step-v1": {"lyric_vocab": str(vocab)}}))
    for name in ("SONGSTUDIO_DATABASE_URL", "SONGSTUDIO_MEDIA_DIR", "SONGSTUDIO_MODELS_DIR", "SONGSTUDIO_CHAIN_RPC_URL",
                 "SONGSTUDIO_CHAIN_ID", "SONGSTUDIO_CHAIN_CONTRACT"):
        monkeypatch.delenv(name, raising=False)
    yield load_settings()
    from music.registry import engines

    engines.unregister("fake")  # registered by the studio from the settings; leave the registry as found


@pytest.fixture
def service(settings):
    from studio.service import Studio

    studio = Studio.open(settings)
    yield studio
    studio.db.dispose()


@pytest.fixture
def run_jobs(service):
    """Run every queued job to its end in this process; returns the jobs that ran."""
    from studio.worker import Worker

    worker = Worker(settings=service.settings, db=service.db, queue=service.queue)
    worker.prepare()

    def run() -> list:
        done = []
        while (job := worker.run_next()) is not None:
            done.append(job)
        return done

    return run


@pytest.fixture
def app(settings):
    from streamlit.testing.v1 import AppTest

    return AppTest.from_file(APP, default_timeout=30)


@pytest.fixture
def make_takes(service, run_jobs):
    """Make `count` takes through the real queue and worker; returns their library rows."""

    def make(count: int = 1, *, prompt: str = "test tones", duration: float = 2.0, **request) -> list:
        job = service.submit_music(engine="fake", prompt=prompt, duration=duration, batch_size=count,
                                   seeds=list(range(1, count + 1)), steps=2, **request)
        run_jobs()
        return service.library.takes_of_job(job.id)

    return make
