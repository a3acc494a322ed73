"""install_demo_models: folders, markers, options, idempotence, nothing half-built."""

from __future__ import annotations

from pathlib import Path

import pytest

from studio import demo_models
from studio.demo_models import MARKER_FILE, install_demo_models, is_demo_model
from studio.errors import BadInput


def test_installs_three_marked_folders_and_returns_their_options(demo, demo_cache):
    root = Path(demo_cache).resolve()
    v1, v15, llama = (root / name for name in ("demo-ace-step-v1-tiny", "demo-ace-step-1.5-turbo-tiny", "demo-llama-3-tiny"))
    assert demo == {
        "music": {
            "ace-step-v1": {"folder": str(v1), "options": {
                "model_dir": str(v1), "lyric_vocab": str(v1 / "lyrics_vocab.json"), "device": "cpu", "dtype": "float32"}},
            "ace-step-1.5": {"folder": str(v15), "options": {
                "model_id_or_dir": str(v15), "variant": "turbo", "device": "cpu"}},
        },
        "lyrics": {
            "transformers": {"folder": str(llama), "options": {"model": str(llama / "hf"), "device": "cpu", "dtype": "float32"}},
            "llama-cpp": {"folder": str(llama), "options": {"model_path": str(llama / "gguf" / "tiny-llama.f32.gguf")}},
        },
        "random_weights": True,
    }
    for folder in (v1, v15, llama):
        assert is_demo_model(folder)
        assert "noise" in (folder / MARKER_FILE).read_text(encoding="utf-8")
    assert (v1 / "lyrics_vocab.json").is_file() and (llama / "gguf" / "tiny-llama.f32.gguf").is_file()
    assert sorted(p.name for p in root.iterdir()) == sorted(p.name for p in (v1, v15, llama))  # no staging left


def test_second_install_reuses_the_folders(demo, demo_cache):
    markers = {p: p.stat().st_mtime_ns for p in Path(demo_cache).glob(f"*/{MARKER_FILE}")}
    assert install_demo_models(demo_cache) == demo
    assert {p: p.stat().st_mtime_ns for p in Path(demo_cache).glob(f"*/{MARKER_FILE}")} == markers


def test_a_foreign_folder_of_the_same_name_is_left_alone(tmp_path):
    foreign = tmp_path / "demo-ace-step-v1-tiny"
    foreign.mkdir()
    (foreign / "mine.txt").write_text("keep me")
    with pytest.raises(BadInput, match="not a Song Studio demo model"):
        install_demo_models(tmp_path)
    assert [p.name for p in foreign.iterdir()] == ["mine.txt"]


def test_a_failed_build_leaves_nothing_behind(tmp_path, monkeypatch):
    def broken(staging: Path) -> None:
        staging.mkdir()
        (staging / "half.safetensors").write_bytes(b"\0" * 10)
        raise RuntimeError("disk gone")

    monkeypatch.setattr(demo_models, "_build_v1", broken)
    with pytest.raises(RuntimeError, match="disk gone"):
        install_demo_models(tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []
