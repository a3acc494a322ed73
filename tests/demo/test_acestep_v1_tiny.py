"""The tiny ACE-Step v1 checkpoint: official layout, strict load, audio end to end, stand-in vocabularies."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors import safe_open

from music.acestep_v1.loading import checkpoint as ckpt
from music.acestep_v1.loading.tiny import LYRIC_VOCAB_SIZE, build_tiny_checkpoint, lyric_vocab_path


@pytest.fixture(scope="module")
def v1_dir(demo) -> Path:
    return Path(demo["music"]["ace-step-v1"]["folder"])


def _shapes(path: Path) -> dict[str, list[int]]:
    with safe_open(str(path), framework="pt") as handle:
        return {key: list(handle.get_slice(key).get_shape()) for key in handle.keys()}


def test_engine_generates_one_second_of_stereo_44k(demo):
    from music.engine import MusicRequest
    from music.registry import engines

    engine = engines.create("ace-step-v1", **demo["music"]["ace-step-v1"]["options"])
    request = MusicRequest(prompt="pop, synth, 120 bpm", lyrics="[verse]\nNeon lights tonight\n\n[chorus]\nla la la",
                           duration=1.0, steps=3, seeds=[7])
    result = engine.generate(request)
    audio = result.takes[0].audio
    assert result.sample_rate == 44100
    assert audio.shape[0] == 2 and abs(audio.shape[1] - 44100) <= 4096  # whole latent frames of 4096 samples
    assert np.isfinite(audio).all() and np.abs(audio).max() > 0
    assert result.takes[0].seed == 7


def test_loader_strict_check_sees_exactly_the_model_keys(v1_dir):
    """No missing or unexpected keys; the official-only DiT keys are in the file and skipped."""
    from music.acestep_v1.loading.weights import DIT_UNUSED_KEYS, build_on_meta
    from music.acestep_v1.models.transformer import ACEStepDiT, DiTConfig

    folder = v1_dir / "ace_step_transformer"
    config = DiTConfig.from_dict(json.loads((folder / "config.json").read_text()))
    model_keys = set(build_on_meta(lambda: ACEStepDiT(config)).state_dict())
    file_keys = set(_shapes(folder / ckpt.WEIGHT_FILES["ace_step_transformer"]))
    unused = {k for k in file_keys if any(p.search(k) for p in DIT_UNUSED_KEYS)}
    assert unused and file_keys - unused == model_keys
    for name, load in (("ace_step_transformer", ckpt.load_transformer), ("music_dcae_f8c8", ckpt.load_autoencoder),
                       ("music_vocoder", ckpt.load_vocoder)):
        load(v1_dir / name, device="cpu", dtype=torch.float32)  # assign_state_dict raises on any mismatch
    vocoder_keys = _shapes(v1_dir / "music_vocoder" / ckpt.WEIGHT_FILES["music_vocoder"])
    assert any(k.endswith("weight_g") for k in vocoder_keys)  # stored as weight-norm pairs, as upstream


def test_layout_matches_the_reference_checkpoint(v1_dir, v1_reference):
    """Same files, tensor names and shapes as the upstream-built tiny reference checkpoint."""
    reference = v1_reference / "checkpoint"
    for sub, weights in ckpt.WEIGHT_FILES.items():
        assert _shapes(v1_dir / sub / weights) == _shapes(reference / sub / weights), sub
        ours = json.loads((v1_dir / sub / "config.json").read_text())
        theirs = json.loads((reference / sub / "config.json").read_text())
        assert {k: v for k, v in ours.items() if "version" not in k} == {
            k: v for k, v in theirs.items() if "version" not in k}, sub


def test_stand_in_lyric_vocab_fits_the_tokenizer_and_the_model(v1_dir):
    from music.acestep_v1.lyric_frontend.tokenizer import (
        LANGUAGE_TOKEN_IDS,
        SPACE_ID,
        START_ID,
        STRUCTURE_TAG_IDS,
        LyricTokenizer,
    )

    tokenizer = LyricTokenizer.from_file(lyric_vocab_path(v1_dir))  # checks every special id
    config = json.loads((v1_dir / "ace_step_transformer" / "config.json").read_text())
    assert tokenizer.vocab_size == LYRIC_VOCAB_SIZE == config["lyric_encoder_vocab_size"] == 6693
    ids = tokenizer.encode("[chorus]\nwe sing tonight\n夜空の星")
    assert ids[:4] == [START_ID, LANGUAGE_TOKEN_IDS["en"], STRUCTURE_TAG_IDS["[chorus]"], SPACE_ID]
    assert max(ids) < LYRIC_VOCAB_SIZE and ids.count(1) < len(ids) // 2  # mostly real pieces, not [UNK]


def test_umt5_tokenizer_is_a_unigram_with_eos(v1_dir):
    from tokenizers import Tokenizer
    from transformers import AutoTokenizer

    folder = v1_dir / "umt5-base"
    prompt = "lo-fi hip hop, piano, chill, 90 bpm"
    hf_ids = AutoTokenizer.from_pretrained(str(folder))(prompt).input_ids
    raw = Tokenizer.from_file(str(folder / "tokenizer.json"))
    assert hf_ids == raw.encode(prompt).ids
    assert hf_ids[-1] == 1 and raw.token_to_id("<pad>") == 0 and raw.token_to_id("<extra_id_15>") is not None
    assert json.loads((folder / "tokenizer.json").read_text())["model"]["type"] == "Unigram"
    assert raw.get_vocab_size() <= json.loads((folder / "config.json").read_text())["vocab_size"]


def _digest(folder: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(path.relative_to(folder).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def test_build_is_deterministic_from_the_seed_and_keeps_the_callers_rng(tmp_path, v1_dir):
    state = torch.get_rng_state()
    again = build_tiny_checkpoint(tmp_path / "same", seed=0)
    assert torch.equal(torch.get_rng_state(), state)
    ours = {p.relative_to(v1_dir) for p in v1_dir.rglob("*") if p.is_file()} - {Path("DEMO_RANDOM_WEIGHTS.txt")}
    assert ours == {p.relative_to(again) for p in again.rglob("*") if p.is_file()}
    for rel in ours:
        assert (v1_dir / rel).read_bytes() == (again / rel).read_bytes(), rel
    other = build_tiny_checkpoint(tmp_path / "other", seed=1)
    dit = Path("ace_step_transformer") / "diffusion_pytorch_model.safetensors"
    assert (other / dit).read_bytes() != (again / dit).read_bytes()
    with pytest.raises(FileExistsError):
        build_tiny_checkpoint(tmp_path / "same")


def test_pipeline_from_pretrained_generates_with_the_stand_in_vocab(v1_dir):
    from music.acestep_v1 import ACEStepV1Pipeline

    pipe = ACEStepV1Pipeline.from_pretrained(v1_dir, lyric_vocab=lyric_vocab_path(v1_dir))
    out = pipe.generate(prompt="jazz, saxophone", lyrics="[verse]\nmidnight in the city", audio_duration=1.0,
                        infer_step=2, manual_seeds=[5], sample_rate=44100)
    assert out.sample_rate == 44100 and out.audio.shape[:2] == (1, 2) and torch.isfinite(out.audio).all()
    assert out.warnings == []
