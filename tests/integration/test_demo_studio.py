"""The whole chain on the demo models, through the real engines and backends: `songstudio models
demo` -> a lyrics job on the tiny Llama -> a music job on the tiny ACE-Step v1 checkpoint -> a
sealed take in the library. Random weights: this proves the wiring, not the sound."""

from __future__ import annotations

import json
import os
import shlex

import pytest
import soundfile as sf
from click.testing import CliRunner

from provenance.hashing import audio_hash
from studio.cli import main
from studio.service import Studio
from studio.settings import Settings
from studio.worker import Worker


@pytest.fixture
def demo_home(tmp_path, monkeypatch):
    for key in [k for k in os.environ if k.startswith("SONGSTUDIO_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("SONGSTUDIO_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SONGSTUDIO_DEVICE", "cpu")
    result = CliRunner().invoke(main, ["models", "demo"])
    assert result.exit_code == 0, result.output
    exports = [line for line in result.stdout.splitlines() if line.startswith("export ")]
    assert len(exports) == 2
    for line in exports:
        name, _, value = line.removeprefix("export ").partition("=")
        monkeypatch.setenv(name, shlex.split(value)[0])
    return tmp_path / "home"


def test_lyrics_then_music_on_the_demo_models(demo_home):
    settings = Settings()
    assert json.loads(os.environ["SONGSTUDIO_ENGINE_OPTIONS"])["ace-step-v1"]["model_dir"].startswith(str(demo_home))
    studio = Studio.open(settings)
    worker = Worker(settings=settings, db=studio.db, queue=studio.queue)
    worker.prepare()

    lyrics_job = studio.submit_lyrics(theme="city lights", backend="transformers", structure=["verse", "chorus"])
    done = worker.run_next()
    assert done.id == lyrics_job.id and done.status == "done", done.error
    drafted = json.loads(done.result)
    rendered = drafted["lyrics"]  # parsed, validated and repaired by the writer, rendered for ACE-Step v1
    tag_lines = [line for line in rendered.splitlines() if line.startswith("[")]
    assert tag_lines and set(tag_lines) <= {"[verse]", "[chorus]"}, rendered

    music_job = studio.submit_music(engine="ace-step-v1", prompt="pop, synth", lyrics="[verse]\nhello lights",
                                    duration=1.0, seeds=[11])
    done = worker.run_next()
    assert done.id == music_job.id and done.status == "done", done.error
    take = studio.library.takes_of_job(music_job.id)[0]
    master = studio.library.path(take)
    info = sf.info(str(master))
    assert (info.samplerate, info.channels, take.seed, take.engine) == (44100, 2, 11, "ace-step-v1")
    assert info.duration == pytest.approx(1.0, abs=0.1)
    assert audio_hash(master).removeprefix("0x") == take.audio_sha256.removeprefix("0x")
    studio.db.dispose()
