"""#15 parts 4 and 5: every take's recipe, sealed in its manifest, with no local path anywhere
it travels (recipe, tags, manifest); weight digests computed once per model folder."""

from __future__ import annotations

import hashlib
import json

from provenance.c2pa_manifest import read_manifest
from provenance.tags import read_tags
from studio import recipe as recipe_module
from studio.recipe import PATH_FIELDS, file_ref, recipe_hash, weight_digests
from tests.studio.test_jobs import make_worker


def test_each_take_records_its_recipe_and_seals_it_in_the_manifest(studio, tmp_path):
    model = tmp_path / "my-model"
    (model / "sub").mkdir(parents=True)
    (model / "weights.bin").write_bytes(b"w" * 1000)
    (model / "sub" / "config.json").write_text("{}")
    studio.settings.engine_options = {"fake": {"model_dir": str(model)}}
    job = studio.submit_music(prompt="a recipe", lyrics="[verse]\nla", duration=1.0, seeds=[5, 9],
                                batch_size=2)
    make_worker(studio).run_next()
    first, second = studio.library.takes_of_job(job.id)
    recipe = json.loads(first.recipe)
    assert first.recipe_sha256 == recipe_hash(first.recipe.encode())
    assert recipe["format"] == "songstudio-recipe/1" and recipe["engine"]["name"] == "fake"
    assert recipe["request"]["seeds"] == [5, 9] and recipe["seed"] == 5 and recipe["take_index"] == 0
    assert recipe["lyrics"] == "[verse]\nla" and recipe["device_class"] == "cpu" and recipe["parent"] is None
    assert recipe["model"]["id"] == "my-model"
    assert recipe["model"]["weights"] == {"sub/config.json": hashlib.sha256(b"{}").hexdigest(),
                                          "weights.bin": hashlib.sha256(b"w" * 1000).hexdigest()}
    assert json.loads(second.recipe)["take_index"] == 1 and second.recipe_sha256 != first.recipe_sha256

    master = studio.library.path(first)
    assert read_manifest(master).recipe_json == first.recipe.encode()  # byte for byte, its own assertion
    shared = first.recipe + json.dumps(read_tags(master)) + json.dumps(read_manifest(master).provenance)
    assert str(tmp_path) not in shared and str(studio.settings.home) not in shared


def test_a_child_take_names_its_parent_and_files_are_named_by_hash(studio):
    job = studio.submit_music(prompt="parent", duration=1.0, seeds=[1])
    make_worker(studio).run_next()
    (parent,) = studio.library.takes_of_job(job.id)
    child_job = studio.submit_music(prompt="child", duration=1.0, seeds=[2], parent_take_id=parent.id)
    make_worker(studio).run_next()
    (child,) = studio.library.takes_of_job(child_job.id)
    assert json.loads(child.recipe)["parent"] == {"take_id": parent.id, "audio_sha256": parent.audio_sha256,
                                                  "recipe_sha256": parent.recipe_sha256, "token_id": None}
    source = studio.library.path(parent)  # an edit's source audio is recorded by content, not by path
    assert "source_audio" in PATH_FIELDS
    assert file_ref(str(source)) == {"sha256": hashlib.sha256(source.read_bytes()).hexdigest()}


def test_weight_digests_are_cached_per_folder(tmp_path, monkeypatch):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "a.bin").write_bytes(b"a")
    calls = []
    real = recipe_module.sha256_file
    monkeypatch.setattr(recipe_module, "sha256_file", lambda p: calls.append(p.name) or real(p))
    first = weight_digests(folder, tmp_path / "cache")
    assert weight_digests(folder, tmp_path / "cache") == first and calls == ["a.bin"]  # second: from the cache
    (folder / "a.bin").write_bytes(b"changed!")
    assert weight_digests(folder, tmp_path / "cache")["a.bin"] == hashlib.sha256(b"changed!").hexdigest()


def test_a_lora_folder_and_a_missing_path_are_named_without_their_location(tmp_path):
    adapter = tmp_path / "my-lora"
    adapter.mkdir()
    (adapter / "adapter.safetensors").write_bytes(b"lora")
    assert file_ref(str(adapter)) == {"name": "my-lora",
                                      "files": {"adapter.safetensors": hashlib.sha256(b"lora").hexdigest()}}
    assert file_ref(str(tmp_path / "gone.safetensors")) == {"name": "gone.safetensors"}
    assert file_ref("some-registry-lora") == "some-registry-lora"
