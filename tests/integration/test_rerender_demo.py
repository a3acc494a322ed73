"""#15 part 4 on the demo model, quickly: a take re-rendered from its sealed recipe on CPU gives the
identical decoded samples; one changed byte of the recipe does not, and says why. Random weights:
this proves the wiring and determinism, not the sound."""

from __future__ import annotations

import json
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


def test_verify_rerender_finds_an_edits_source_by_hash_and_names_it_when_missing(demo_home):
    """A repaint's recipe names its source only by SHA-256: --rerender finds it among the library's
    masters and reproduces the take; with that master gone it says which input and where it looked."""
    settings = Settings()
    studio = Studio.open(settings)
    worker = Worker(settings=settings, db=studio.db, queue=studio.queue)
    worker.prepare()
    first = studio.submit_music(engine="ace-step-v1", prompt="pop, synth", duration=2.0, seeds=[11], steps=3)
    assert worker.run_next().status == "done"
    (parent,) = studio.library.takes_of_job(first.id)
    source = studio.library.path(parent)
    edit = studio.submit_music(engine="ace-step-v1", task="repaint", prompt="pop, piano", duration=2.0, seeds=[5],
                               steps=3, source_audio=str(source), region_start=0.5, region_end=1.5,
                               parent_take_id=parent.id)
    assert worker.run_next().status == "done"
    (take,) = studio.library.takes_of_job(edit.id)
    recipe = json.loads(take.recipe)
    assert recipe["request"]["source_audio"] == {"sha256": parent.audio_sha256}
    # the retake noise seeds the engine drew are recorded, so the re-render draws the same noise
    assert recipe["request"]["options"]["retake_seeds"] == json.loads(take.parameters)["parameters"]["retake_seeds"]
    master = studio.library.path(take)

    result = CliRunner().invoke(main, ["verify", str(master), "--rerender"])
    assert result.exit_code == 0, result.output
    assert "reproduced: identical audio hash" in result.output

    source.chmod(0o600)
    source.unlink()  # the source is gone from the library (and was never an upload)
    result = CliRunner().invoke(main, ["verify", str(master), "--rerender"])
    assert result.exit_code == 3, result.output
    assert "reproduced" not in result.output
    assert (f"the source audio this take was made with (sha256 {parent.audio_sha256}) is not on this machine"
            in result.output)
    assert f"the parent take {parent.id}'s master" in result.output
    assert "the masters of the library's takes" in result.output and "the uploads folder" in result.output


def test_verify_rerender_reproduces_a_take_made_with_the_fast_modes(demo_home, tmp_path):
    """#18: the fast modes travel in the recipe's request (and what the step cache skipped in its
    parameters), so a re-render runs them again and gives the same samples; without them it does not."""
    settings = Settings()
    studio = Studio.open(settings)
    worker = Worker(settings=settings, db=studio.db, queue=studio.queue)
    worker.prepare()
    job = studio.submit_music(engine="ace-step-v1", prompt="pop, synth", duration=2.0, seeds=[11], steps=6,
                              options={"fast_modes": ["int8", "step-cache"], "step_cache_threshold": 0.1})
    assert worker.run_next().status == "done"
    (take,) = studio.library.takes_of_job(job.id)
    recipe = json.loads(take.recipe)
    assert recipe["request"]["options"] == {"fast_modes": ["int8", "step-cache"], "step_cache_threshold": 0.1}
    assert recipe["parameters"]["fast_modes"] == ["int8", "step-cache"]
    assert recipe["parameters"]["step_cache"]["calls"]["cond"] == 6
    master = studio.library.path(take)

    result = CliRunner().invoke(main, ["verify", str(master), "--rerender"])
    assert result.exit_code == 0, result.output
    assert "reproduced: identical audio hash" in result.output

    recipe["request"]["options"] = {}  # the exact path: close, not the same samples
    (tmp_path / "exact.json").write_text(json.dumps(recipe))
    result = CliRunner().invoke(main, ["verify", str(master), "--recipe", str(tmp_path / "exact.json"), "--rerender"])
    assert result.exit_code == 1 and "not reproduced: the re-render differs" in result.output, result.output
