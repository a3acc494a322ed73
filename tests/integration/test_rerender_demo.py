"""#15 part 4 on the demo model, quickly: a take re-rendered from its sealed recipe on CPU gives the
identical decoded samples; one changed byte of the recipe does not, and says why. Random weights:
this proves the wiring and determinism, not the sound."""

from __future__ import annotations

import os
import shlex

import pytest
from click.testing import CliRunner

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
    for line in result.stdout.splitlines():
        if line.startswith("export "):
            name, _, value = line.removeprefix("export ").partition("=")
            monkeypatch.setenv(name, shlex.split(value)[0])
    return tmp_path / "home"


def test_verify_rerender_reproduces_a_demo_take_and_catches_a_changed_recipe(demo_home, tmp_path):
    settings = Settings()
    studio = Studio.open(settings)
    worker = Worker(settings=settings, db=studio.db, queue=studio.queue)
    worker.prepare()
    job = studio.submit_music(engine="ace-step-v1", prompt="pop, synth", duration=2.0, seeds=[11], steps=3)
    assert worker.run_next().status == "done"
    (take,) = studio.library.takes_of_job(job.id)
    master = studio.library.path(take)

    result = CliRunner().invoke(main, ["verify", str(master), "--rerender"])
    assert result.exit_code == 0, result.output
    assert "on chain:  not checked (no chain is configured" in result.output
    assert "reproduced: identical audio hash" in result.output

    at = take.recipe.index('"seeds":[11]', take.recipe.index('"request":'))
    changed = take.recipe[:at] + '"seeds":[12]' + take.recipe[at + len('"seeds":[11]'):]
    assert len(changed) == len(take.recipe)  # one byte
    (tmp_path / "changed.json").write_text(changed)
    result = CliRunner().invoke(main, ["verify", str(master), "--recipe", str(tmp_path / "changed.json"),
                                       "--rerender"])
    assert result.exit_code == 1, result.output
    assert "warning:   this recipe differs from the one sealed in the file" in result.output
    assert "not reproduced: the re-render differs (max abs difference" in result.output and "SNR" in result.output
    assert "this recipe does not make this audio" in result.output
