"""studio.rerender_inputs: files a recipe names by content only (LoRA adapters, reference audio),
found again on this machine, or a message naming the missing input and where it looked."""

from __future__ import annotations

import json

import pytest

from studio.recipe import file_ref, sha256_file
from studio.rerender_inputs import InputFinder, MissingInput, resolve_request
from tests.studio.factories import add_takes, take_row


def _adapter(store, name: str, weights: bytes) -> None:
    folder = store.root / name
    folder.mkdir(parents=True)
    (folder / "pytorch_lora_weights.safetensors").write_bytes(weights)
    info = {"name": name, "engine": "ace-step-v1", "base_model": "demo", "base_digest": "b" * 64,
            "dataset_digest": "d" * 64, "weights_digest": sha256_file(folder / "pytorch_lora_weights.safetensors"),
            "steps": 1, "rank": 4, "learning_rate": 1e-4, "losses": [1.0]}
    (folder / "adapter.json").write_text(json.dumps(info))
    store.add(folder, job_id=None)


def _recipe(**request):
    return {"engine": {"name": "ace-step-v1"}, "parent": None, "request": {"prompt": "pop", **request}}


def test_a_lora_is_found_by_digest_among_the_library_adapters(studio, settings, tmp_path):
    _adapter(studio.adapters, "other", b"other weights")
    _adapter(studio.adapters, "mine", b"my weights")
    ref = file_ref(str(studio.adapters.root / "mine"))
    master = tmp_path / "take.flac"
    master.write_bytes(b"audio")
    request = resolve_request(settings, _recipe(lora=ref), master)
    assert request["lora"] == str(studio.adapters.root / "mine") and request["prompt"] == "pop"


def test_a_lora_is_found_at_the_path_recorded_with_the_take_only_while_it_has_the_digest(studio, settings, tmp_path):
    adapter = tmp_path / "elsewhere" / "my-lora"
    adapter.mkdir(parents=True)
    (adapter / "pytorch_lora_weights.safetensors").write_bytes(b"weights")
    ref = file_ref(str(adapter))
    master = tmp_path / "take.flac"
    master.write_bytes(b"the take's audio")
    add_takes(studio.db, [take_row(1, audio_sha256=sha256_file(master),
                                   parameters=json.dumps({"request": {"lora": str(adapter)}}))])
    assert InputFinder(settings, studio.db, master).lora(ref, engine="ace-step-v1") == adapter

    (adapter / "pytorch_lora_weights.safetensors").write_bytes(b"retrained")  # same path, other digest
    with pytest.raises(MissingInput) as caught:
        InputFinder(settings, studio.db, master).lora(ref, engine="ace-step-v1")
    message = str(caught.value)
    assert "the LoRA adapter this take was made with" in message
    assert f"pytorch_lora_weights.safetensors sha256 {ref['files']['pytorch_lora_weights.safetensors']}" in message
    assert f"the library's adapters ({studio.adapters.root})" in message
    assert f"the path recorded with this take ({adapter})" in message
    assert caught.value.exit_code == 3


def test_reference_audio_is_found_in_uploads_and_a_missing_one_is_named(studio, settings, tmp_path):
    upload = studio.store_upload("ref.wav", b"reference audio bytes")
    master = tmp_path / "take.flac"
    master.write_bytes(b"audio")
    ref = {"sha256": sha256_file(upload)}
    assert resolve_request(settings, _recipe(reference_audio=ref), master)["reference_audio"] == str(upload)

    upload.unlink()
    with pytest.raises(MissingInput) as caught:
        resolve_request(settings, _recipe(reference_audio=ref), master)
    message = str(caught.value)
    assert f"the reference audio this take was made with (sha256 {ref['sha256']}) is not on this machine" in message
    assert "the masters of the library's takes" in message and f"the uploads folder ({settings.home / 'uploads'})" in message
