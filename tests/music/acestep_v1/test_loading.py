"""Loading the official folder layout: skip list, strict key errors, missing weights."""

from __future__ import annotations

import json
import shutil
import urllib.error
from pathlib import Path

import huggingface_hub.constants
import pytest
import torch
from safetensors.torch import load_file, save_file

from music.acestep_v1 import ACEStepV1Pipeline
from music.acestep_v1.loading import checkpoint as ckpt
from music.acestep_v1.loading import weights
from music.acestep_v1.models.text_encoder import UMT5TextEncoder
from music.acestep_v1.models.transformer import ACEStepDiT, DiTConfig
from music.acestep_v1.models.vocoder import fold_weight_norm

DIT_FILE = Path("ace_step_transformer") / "diffusion_pytorch_model.safetensors"


def _copy_checkpoint(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    for path in dst.rglob("*"):
        path.chmod(0o644 if path.is_file() else 0o755)
    return dst


def test_unused_keys_are_skipped_and_never_read(v1_reference, monkeypatch):
    read: list[str] = []
    real_safe_open = weights.safe_open

    class Spy:
        def __init__(self, *args, **kwargs):
            self.inner = real_safe_open(*args, **kwargs)

        def __enter__(self):
            self.handle = self.inner.__enter__()
            return self

        def __exit__(self, *exc):
            return self.inner.__exit__(*exc)

        def keys(self):
            return self.handle.keys()

        def get_tensor(self, key):
            read.append(key)
            return self.handle.get_tensor(key)

    monkeypatch.setattr(weights, "safe_open", Spy)
    model = ckpt.load_transformer(v1_reference / "checkpoint" / "ace_step_transformer", device="cpu", dtype=torch.float32)
    assert read, "nothing was read"
    assert not [k for k in read if "add_" in k or "to_add_out" in k or k.startswith("projectors.")]
    # README of the reference: 1,172,840 parameters, of which 116,520 are the unused keys
    assert sum(p.numel() for p in model.parameters()) == 1_172_840 - 116_520
    assert not [n for n, _ in model.named_parameters() if "add_" in n or "projectors" in n]


def test_unexpected_and_missing_keys_are_named(v1_reference, tmp_path):
    folder = _copy_checkpoint(v1_reference / "checkpoint", tmp_path / "ckpt")
    state = load_file(folder / DIT_FILE)
    state["transformer_blocks.0.attn.surprise.weight"] = torch.zeros(2)
    del state["final_layer.linear.bias"]
    save_file(state, folder / DIT_FILE)
    with pytest.raises(weights.CheckpointError) as err:
        ckpt.load_transformer(folder / "ace_step_transformer", device="cpu", dtype=torch.float32)
    assert "transformer_blocks.0.attn.surprise.weight" in str(err.value)
    assert "final_layer.linear.bias" in str(err.value)


def test_missing_weights_name_the_layout_and_the_import_command(tmp_path):
    with pytest.raises(ckpt.MissingWeightsError) as err:
        ckpt.resolve_checkpoint(tmp_path / "nowhere")
    message = str(err.value)
    assert "songstudio models import" in message
    for sub in ckpt.SUBFOLDERS:
        assert f"{sub}/" in message


def test_incomplete_folder_lists_what_is_missing(v1_reference, tmp_path):
    folder = _copy_checkpoint(v1_reference / "checkpoint", tmp_path / "ckpt")
    (folder / "music_vocoder" / "diffusion_pytorch_model.safetensors").unlink()
    with pytest.raises(ckpt.MissingWeightsError, match="music_vocoder/diffusion_pytorch_model.safetensors"):
        ckpt.resolve_checkpoint(folder)


def test_hub_id_offline_without_cache_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(ckpt.MissingWeightsError) as err:
        ckpt.resolve_checkpoint("ACE-Step/ACE-Step-v1-3.5B", cache_dir=tmp_path)
    assert "songstudio models import" in str(err.value)
    assert "offline" in str(err.value)


def test_lyric_vocab_explicit_path_must_exist(tmp_path):
    with pytest.raises(ckpt.MissingWeightsError, match="does not exist"):
        ckpt.resolve_lyric_vocab(tmp_path / "vocab.json", cache_dir=None)


def test_weight_norm_folding_equals_torch_weight_norm():
    torch.manual_seed(0)
    conv = torch.nn.utils.parametrizations.weight_norm(torch.nn.ConvTranspose1d(6, 4, 4, 2))
    with torch.no_grad():
        conv.parametrizations.weight.original0.mul_(3.0)
    state = {k: v.detach() for k, v in conv.state_dict().items()}
    folded = fold_weight_norm(state)
    assert set(folded) == {"weight", "bias"}
    assert torch.allclose(folded["weight"], conv.weight.detach(), atol=1e-6)
    old_style = {"weight_g": state["parametrizations.weight.original0"], "weight_v": state["parametrizations.weight.original1"]}
    assert torch.allclose(fold_weight_norm(old_style)["weight"], conv.weight.detach(), atol=1e-6)
    with pytest.raises(KeyError, match="incomplete"):
        fold_weight_norm({"conv.weight_g": state["parametrizations.weight.original0"]})


def test_bfloat16_load_and_short_run(v1_reference):
    pipe = ACEStepV1Pipeline.from_pretrained(v1_reference / "checkpoint", dtype=torch.bfloat16)
    assert next(pipe.transformer.parameters()).dtype == torch.bfloat16
    assert pipe.dcae.vocoder.mel_filterbank.dtype == torch.float32  # front-end buffers stay fp32
    out = pipe.generate_with_token_ids(
        lyric_token_ids=[261, 259, 6683, 2], prompt="pop", audio_duration=0.5, infer_step=3,
        manual_seeds=[1], sample_rate=44100,
    )
    assert out.latents.dtype == torch.bfloat16
    assert out.audio.dtype == torch.float32 and torch.isfinite(out.audio).all()


def test_hub_id_downloads_into_the_cache_dir(v1_reference, tmp_path, monkeypatch):
    calls = []

    def fake_snapshot_download(repo_id, cache_dir=None):
        calls.append((repo_id, cache_dir))
        return str(v1_reference / "checkpoint")

    monkeypatch.setattr(ckpt, "snapshot_download", fake_snapshot_download)
    folder = ckpt.resolve_checkpoint("ACE-Step/ACE-Step-v1-3.5B", cache_dir=tmp_path)
    assert calls == [("ACE-Step/ACE-Step-v1-3.5B", str(tmp_path))]
    assert folder == v1_reference / "checkpoint"


def test_lyric_vocab_download_is_verified_and_written_atomically(v1_reference, tmp_path, monkeypatch):
    good = (v1_reference / "lyrics_vocab.json").read_bytes()
    monkeypatch.setattr(ckpt, "fetch_bytes", lambda url: good[:-10])
    with pytest.raises(ckpt.MissingWeightsError, match="sha256"):
        ckpt.resolve_lyric_vocab(None, cache_dir=tmp_path)
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]

    monkeypatch.setattr(ckpt, "fetch_bytes", lambda url: good)
    path = ckpt.resolve_lyric_vocab(None, cache_dir=tmp_path)
    assert path.read_bytes() == good
    monkeypatch.setattr(ckpt, "fetch_bytes", lambda url: pytest.fail("cached file must be reused"))
    assert ckpt.resolve_lyric_vocab(None, cache_dir=tmp_path) == path


def test_lyric_vocab_offline_names_the_fix(tmp_path, monkeypatch):
    def offline(url):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(ckpt, "fetch_bytes", offline)
    with pytest.raises(ckpt.MissingWeightsError, match="lyric_vocab="):
        ckpt.resolve_lyric_vocab(None, cache_dir=tmp_path)


OFFICIAL_DIT_CONFIG = {  # the hub's ace_step_transformer/config.json (no lyric_encoder_config)
    "_class_name": "Transformer2DModel", "in_channels": 8, "num_layers": 24, "inner_dim": 2560,
    "attention_head_dim": 128, "num_attention_heads": 20, "mlp_ratio": 2.5, "out_channels": 8,
    "max_position": 32768, "rope_theta": 1000000.0, "speaker_embedding_dim": 512, "text_embedding_dim": 768,
    "ssl_encoder_depths": [8, 8], "ssl_names": ["mert", "m-hubert"], "ssl_latent_dims": [1024, 768],
    "patch_size": [16, 1], "max_height": 16, "max_width": 32768, "lyric_encoder_vocab_size": 6693,
    "lyric_hidden_size": 1024,
}


def _conformer_shapes(config):
    model = weights.build_on_meta(lambda: ACEStepDiT(config))
    state = model.state_dict()
    return (
        tuple(state["lyric_encoder.encoders.0.self_attn.pos_bias_u"].shape),  # (heads, d_k)
        tuple(state["lyric_encoder.encoders.0.feed_forward.w_1.weight"].shape),  # (units, size)
        len(model.lyric_encoder.encoders),
    )


def test_lyric_encoder_sizes_default_to_upstream_code_without_lyric_encoder_config():
    config = DiTConfig.from_dict(OFFICIAL_DIT_CONFIG)
    assert config.width == 2560 and config.text_embedding_dim == 768
    assert _conformer_shapes(config) == ((16, 64), (4096, 1024), 6)


def test_lyric_encoder_config_entry_sets_the_sizes(v1_reference):
    raw = json.loads((v1_reference / "checkpoint" / "ace_step_transformer" / "config.json").read_text())
    assert _conformer_shapes(DiTConfig.from_dict(raw)) == ((2, 16), (64, 32), 6)
    partial = {**OFFICIAL_DIT_CONFIG, "lyric_encoder_config": {"attention_heads": 8, "num_blocks": 4}}
    assert _conformer_shapes(DiTConfig.from_dict(partial)) == ((8, 128), (4096, 1024), 4)


def test_relative_paths_resolve_against_the_current_directory(v1_reference, tmp_path, monkeypatch):
    monkeypatch.chdir(v1_reference)
    assert ckpt.resolve_checkpoint("checkpoint") == (v1_reference / "checkpoint").resolve()
    assert ckpt.resolve_lyric_vocab("lyrics_vocab.json", cache_dir=None) == (v1_reference / "lyrics_vocab.json").resolve()
    monkeypatch.chdir(tmp_path)  # the same relative names elsewhere are missing, and say so
    with pytest.raises(ckpt.MissingWeightsError, match=str(tmp_path / "checkpoint")):
        ckpt.resolve_checkpoint("checkpoint")


def test_umt5_missing_and_unexpected_keys_are_named(v1_reference, tmp_path):
    """transformers would only log these and initialise the missing weights at random."""
    folder = _copy_checkpoint(v1_reference / "checkpoint", tmp_path / "ckpt") / "umt5-base"
    state = load_file(folder / "model.safetensors")
    dropped = "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"
    del state[dropped]
    state["encoder.surprise.weight"] = torch.zeros(2)
    save_file(state, folder / "model.safetensors")
    with pytest.raises(weights.CheckpointError) as err:
        UMT5TextEncoder.from_folder(folder, device="cpu", dtype=torch.float32)
    assert dropped in str(err.value) and "encoder.surprise.weight" in str(err.value)


@pytest.mark.parametrize("sub,loader", [("music_dcae_f8c8", "load_autoencoder"), ("music_vocoder", "load_vocoder")])
def test_dcae_and_vocoder_keys_are_strict_too(v1_reference, tmp_path, sub, loader):
    folder = _copy_checkpoint(v1_reference / "checkpoint", tmp_path / "ckpt") / sub
    path = folder / "diffusion_pytorch_model.safetensors"
    state = load_file(path)
    dropped = sorted(k for k in state if k.endswith(".bias"))[0]
    del state[dropped]
    state["surprise.weight"] = torch.zeros(2)
    save_file(state, path)
    with pytest.raises(weights.CheckpointError) as err:
        getattr(ckpt, loader)(folder, device="cpu", dtype=torch.float32)
    assert dropped in str(err.value) and "surprise.weight" in str(err.value)
