"""LoRA through peft on a tiny ACE-Step v1 DiT built here; the LoRA files are made at test time."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import save_file

from music.acestep_v1.loading.lora import LORA_FILE, METADATA_KEY, LoraError, LoraSlot
from music.acestep_v1.models.lyric_encoder import LyricConformerConfig
from music.acestep_v1.models.transformer import ACEStepDiT, DiTConfig
from music.engine import RequestError

TARGETS = ("attn.to_q", "attn.to_v", "cross_attn.to_k", "attn.to_out.0")


def tiny_dit() -> ACEStepDiT:
    torch.manual_seed(0)
    config = DiTConfig(
        num_layers=2, num_attention_heads=2, attention_head_dim=8, text_embedding_dim=12,
        speaker_embedding_dim=8, lyric_encoder_vocab_size=50, lyric_hidden_size=16,
        lyric_encoder=LyricConformerConfig(input_size=16, output_size=16, attention_heads=2, linear_units=24, num_blocks=2),
    )
    return ACEStepDiT(config).eval()


def velocity(model: ACEStepDiT) -> torch.Tensor:
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        cond = model.encode(
            text_states=torch.randn(1, 5, 12, generator=g), text_mask=torch.ones(1, 5),
            speaker_embeds=torch.zeros(1, 8), lyric_ids=torch.randint(0, 50, (1, 7), generator=g),
            lyric_mask=torch.ones(1, 7, dtype=torch.long),
        )
        return model.decode(latents=torch.randn(1, 8, 16, 6, generator=g), timestep=torch.tensor([500.0]), conditions=cond)


def write_lora(folder, model, *, rank=4, seed=0, targets=TARGETS, extra=None, metadata=None):
    g = torch.Generator().manual_seed(seed)
    tensors = {}
    modules = dict(model.named_modules())
    for block in range(len(model.transformer_blocks)):
        for target in targets:
            name = f"transformer_blocks.{block}.{target}"
            layer = modules[name]
            tensors[f"{name}.lora_A.weight"] = torch.randn(rank, layer.in_features, generator=g) * 0.3
            tensors[f"{name}.lora_B.weight"] = torch.randn(layer.out_features, rank, generator=g) * 0.3
    tensors.update(extra or {})
    folder.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(folder / LORA_FILE), metadata={METADATA_KEY: json.dumps(metadata)} if metadata else None)
    return folder


@pytest.fixture(scope="module")
def model_and_base():
    model = tiny_dit()
    return model, velocity(model), {k: v.clone() for k, v in model.state_dict().items()}


def test_weight_zero_equals_base_and_nonzero_changes_it(tmp_path, model_and_base):
    model, base, _ = model_and_base
    slot = LoraSlot(model)
    slot.apply(str(write_lora(tmp_path / "a", model)), 0.0)
    assert torch.equal(velocity(model), base)
    slot.apply(str(tmp_path / "a"), 1.0)
    one = velocity(model)
    assert (one - base).abs().max() > 1e-3
    slot.apply(str(tmp_path / "a"), -2.5)  # change weight in place: no reload
    assert not torch.allclose(velocity(model), one)
    slot.unload()
    assert torch.equal(velocity(model), base)


def test_weight_scales_the_low_rank_update_linearly(tmp_path, model_and_base):
    model, base, _ = model_and_base
    slot = LoraSlot(model)
    slot.apply(str(write_lora(tmp_path / "lin", model, targets=("attn.to_out.0",))), 1.0)
    layer = model.transformer_blocks[0].attn.to_out[0]
    x = torch.randn(3, layer.in_features)
    with torch.no_grad():
        plain = layer.base_layer(x)
        d1 = layer(x) - plain
        slot.set_weight(2.0)
        d2 = layer(x) - plain
    torch.testing.assert_close(d2, 2 * d1, rtol=1e-5, atol=1e-6)
    slot.unload()


def test_switch_between_loras_keeps_base_weights(tmp_path, model_and_base):
    model, base, base_state = model_and_base
    slot = LoraSlot(model)
    slot.apply(str(write_lora(tmp_path / "a", model, seed=1)), 1.0)
    a = velocity(model)
    slot.apply(str(write_lora(tmp_path / "b", model, seed=2)), 1.0)
    b = velocity(model)
    assert not torch.allclose(a, b)
    slot.apply(str(tmp_path / "a"), 1.0)
    torch.testing.assert_close(velocity(model), a, rtol=0, atol=1e-6)
    slot.apply("none", 1.0)
    assert not slot.active
    state = model.state_dict()
    assert set(state) == set(base_state)
    assert all(torch.equal(state[k], base_state[k]) for k in base_state)
    assert torch.equal(velocity(model), base)


def test_metadata_config_rslora_alpha_is_used(tmp_path, model_and_base):
    model, base, _ = model_and_base
    meta = {"r": 4, "lora_alpha": 32, "use_rslora": True, "target_modules": ["to_q"]}
    plain_dir = write_lora(tmp_path / "plain", model, targets=("attn.to_q",))
    meta_dir = write_lora(tmp_path / "meta", model, targets=("attn.to_q",), metadata=meta)
    slot = LoraSlot(model)
    slot.apply(str(plain_dir), 1.0)
    layer = model.transformer_blocks[1].attn.to_q
    assert layer.scaling[LoraSlot.ADAPTER] == pytest.approx(1.0)  # alpha = rank without metadata
    slot.apply(str(meta_dir), 0.5)
    assert model.transformer_blocks[1].attn.to_q.scaling[LoraSlot.ADAPTER] == pytest.approx(0.5 * 32 / 2.0)
    slot.unload()


def test_mismatched_keys_are_named_and_model_untouched(tmp_path, model_and_base):
    model, base, _ = model_and_base
    bad = write_lora(
        tmp_path / "bad", model, targets=("attn.to_q",),
        extra={"transformer_blocks.0.attn.add_q_proj.lora_A.weight": torch.zeros(4, 16),
               "transformer_blocks.0.attn.add_q_proj.lora_B.weight": torch.zeros(16, 4)},
    )
    slot = LoraSlot(model)
    with pytest.raises(LoraError, match=r"transformer_blocks\.0\.attn\.add_q_proj\.lora_A\.weight"):
        slot.apply(str(bad), 1.0)
    assert not slot.active and torch.equal(velocity(model), base)

    wrong_shape = tmp_path / "shape"
    wrong_shape.mkdir()
    save_file({"transformer_blocks.0.attn.to_q.lora_A.weight": torch.zeros(4, 99),
               "transformer_blocks.0.attn.to_q.lora_B.weight": torch.zeros(16, 4)}, str(wrong_shape / LORA_FILE))
    with pytest.raises(LoraError, match=r"transformer_blocks\.0\.attn\.to_q: lora_A \(4, 99\)"):
        slot.apply(str(wrong_shape), 1.0)
    assert torch.equal(velocity(model), base)


def test_bad_paths_and_weights(tmp_path, model_and_base):
    model, _, _ = model_and_base
    slot = LoraSlot(model)
    (tmp_path / "empty").mkdir()
    with pytest.raises(LoraError, match="has no pytorch_lora_weights.safetensors"):
        slot.apply(str(tmp_path / "empty"), 1.0)
    with pytest.raises(LoraError, match="LoRA not found"):
        slot.apply(str(tmp_path / "nope" / "deeper"), 1.0)
    with pytest.raises(RequestError, match=r"lora_weight must be in \[-3, 3\]"):
        slot.apply(str(write_lora(tmp_path / "ok", model)), 3.5)
    assert not slot.active


def test_hub_id_is_downloaded_into_the_cache(tmp_path, model_and_base, monkeypatch):
    model, base, _ = model_and_base
    folder = write_lora(tmp_path / "hub", model)
    calls = []

    def fake_download(repo_id, filename, cache_dir=None):
        calls.append((repo_id, filename, cache_dir))
        return str(folder / filename)

    monkeypatch.setattr("music.acestep_v1.loading.lora.hf_hub_download", fake_download)
    slot = LoraSlot(model, cache_dir=tmp_path / "cache")
    slot.apply("someone/tiny-lora", 1.0)
    assert calls == [("someone/tiny-lora", LORA_FILE, str(tmp_path / "cache"))] and slot.active
    slot.unload()

    def offline(*args, **kwargs):
        raise OSError("no network")

    monkeypatch.setattr("music.acestep_v1.loading.lora.hf_hub_download", offline)
    with pytest.raises(LoraError, match="cannot fetch LoRA 'someone/other'.*pass the folder"):
        slot.apply("someone/other", 1.0)
    assert torch.equal(velocity(model), base)


FF_TARGETS = ("ff.inverted_conv.conv", "ff.point_conv.conv")


def write_ff_lora(folder, model, *, rank=3, seed=5, extra=None):
    """A LoRA on the feed-forward's 1x1 convolutions, in peft's Conv1d layout (A (r, in, 1), B (out, r, 1))."""
    g = torch.Generator().manual_seed(seed)
    tensors = {}
    modules = dict(model.named_modules())
    for block in range(len(model.transformer_blocks)):
        for target in FF_TARGETS:
            name = f"transformer_blocks.{block}.{target}"
            conv = modules[name]
            tensors[f"{name}.lora_A.weight"] = torch.randn(rank, conv.in_channels, 1, generator=g) * 0.3
            tensors[f"{name}.lora_B.weight"] = torch.randn(conv.out_channels, rank, 1, generator=g) * 0.3
    tensors.update(extra or {})
    folder.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(folder / LORA_FILE))
    return folder


def channels_first_ff(ff, x):
    """GLUMBConv as upstream writes it (Conv1d modules, channels first), so a wrapped conv runs peft's own forward."""
    h = torch.nn.functional.silu(ff.inverted_conv.conv(x.transpose(1, 2)))
    y, gate = ff.depth_conv.conv(h).chunk(2, dim=1)
    return ff.point_conv.conv(y * torch.nn.functional.silu(gate)).transpose(1, 2)


def test_feed_forward_lora_changes_the_output_matches_peft_and_unloads_bit_exactly(tmp_path, model_and_base):
    model, base, base_state = model_and_base
    slot = LoraSlot(model)
    slot.apply(str(write_ff_lora(tmp_path / "ff", model)), 1.0)
    ff = model.transformer_blocks[1].ff
    assert type(ff.inverted_conv.conv).__name__ == "Conv1d" and hasattr(ff.inverted_conv.conv, "lora_A")
    x = torch.randn(2, 9, ff.inverted_conv.conv.in_features)
    with torch.no_grad():
        torch.testing.assert_close(ff(x), channels_first_ff(ff, x), rtol=1e-5, atol=1e-6)  # token-major = peft's maths
        one = velocity(model)
        assert (one - base).abs().max() > 1e-3
        slot.set_weight(0.0)
        assert torch.equal(velocity(model), base)
        slot.set_weight(-1.5)
        assert not torch.allclose(velocity(model), one)
    slot.unload()
    assert type(model.transformer_blocks[1].ff.inverted_conv.conv) is torch.nn.Conv1d
    state = model.state_dict()
    assert set(state) == set(base_state) and all(torch.equal(state[k], base_state[k]) for k in base_state)
    assert torch.equal(velocity(model), base)


def test_switching_between_feed_forward_and_attention_loras(tmp_path, model_and_base):
    model, base, _ = model_and_base
    slot = LoraSlot(model)
    slot.apply(str(write_ff_lora(tmp_path / "ff", model)), 1.0)
    ff = velocity(model)
    slot.apply(str(write_lora(tmp_path / "attn", model)), 1.0)  # the ff layers are unwrapped on the switch
    assert type(model.transformer_blocks[0].ff.point_conv.conv) is torch.nn.Conv1d
    attn = velocity(model)
    slot.apply(str(tmp_path / "ff"), 1.0)
    torch.testing.assert_close(velocity(model), ff, rtol=0, atol=1e-6)
    assert not torch.allclose(ff, attn)
    slot.unload()
    assert torch.equal(velocity(model), base)


def test_an_upstream_attention_only_lora_still_loads(tmp_path, model_and_base):
    """The layers upstream's trainer adapts (config/zh_rap_lora_config.json): speaker_embedder,
    the lyric Conformer's linear_q/k/v and the DiT's to_q/k/v/to_out.0; no metadata (alpha = rank)."""
    model, base, _ = model_and_base
    g = torch.Generator().manual_seed(9)
    modules = dict(model.named_modules())
    names = ["speaker_embedder"]
    names += [f"lyric_encoder.encoders.{i}.self_attn.linear_{p}" for i in range(2) for p in "qkv"]
    names += [f"transformer_blocks.{i}.{a}.{p}" for i in range(2) for a in ("attn", "cross_attn")
              for p in ("to_q", "to_k", "to_v", "to_out.0")]
    tensors = {}
    for name in names:
        layer = modules[name]
        tensors[f"{name}.lora_A.weight"] = torch.randn(8, layer.in_features, generator=g) * 0.2
        tensors[f"{name}.lora_B.weight"] = torch.randn(layer.out_features, 8, generator=g) * 0.2
    (tmp_path / "up").mkdir()
    save_file(tensors, str(tmp_path / "up" / LORA_FILE))
    slot = LoraSlot(model)
    slot.apply(str(tmp_path / "up"), 1.0)
    assert (velocity(model) - base).abs().max() > 1e-3
    assert model.speaker_embedder.scaling[LoraSlot.ADAPTER] == pytest.approx(1.0)
    assert type(model.transformer_blocks[0].ff.inverted_conv.conv) is torch.nn.Conv1d  # not a target here
    slot.unload()
    assert torch.equal(velocity(model), base)


def test_the_depthwise_conv_and_flat_conv_matrices_are_refused_by_name(tmp_path, model_and_base):
    model, base, _ = model_and_base
    depth = model.transformer_blocks[0].ff.depth_conv.conv
    bad = write_ff_lora(tmp_path / "depth", model, extra={
        "transformer_blocks.0.ff.depth_conv.conv.lora_A.weight": torch.zeros(3, depth.in_channels, 3),
        "transformer_blocks.0.ff.depth_conv.conv.lora_B.weight": torch.zeros(depth.out_channels, 3, 1)})
    slot = LoraSlot(model)
    with pytest.raises(LoraError, match=r"1x1 feed-forward convolution.*ff\.depth_conv\.conv\.lora_A\.weight"):
        slot.apply(str(bad), 1.0)
    conv = model.transformer_blocks[0].ff.inverted_conv.conv
    flat = tmp_path / "flat"
    flat.mkdir()
    save_file({"transformer_blocks.0.ff.inverted_conv.conv.lora_A.weight": torch.zeros(3, conv.in_channels),
               "transformer_blocks.0.ff.inverted_conv.conv.lora_B.weight": torch.zeros(conv.out_channels, 3)},
              str(flat / LORA_FILE))
    with pytest.raises(LoraError, match=r"inverted_conv\.conv: lora_A \(3, 16\).*a 1x1 convolution: lora_A \(r, in, 1\)"):
        slot.apply(str(flat), 1.0)
    assert not slot.active and torch.equal(velocity(model), base)


def test_a_lora_on_compiled_blocks_gives_the_eager_numbers_and_unloads(tmp_path):
    """`compile_dit` and LoRA together: loading an adapter into a compiled DiT changes its
    numbers exactly as it changes the eager DiT's (attention and feed-forward targets), and
    unloading brings the base back."""
    model = tiny_dit()
    base = velocity(model)
    slot = LoraSlot(model)
    slot.apply(str(write_lora(tmp_path / "attn", model)), 1.0)
    eager_attn = velocity(model)
    slot.apply(str(write_ff_lora(tmp_path / "ff", model)), 1.0)
    eager_ff = velocity(model)
    slot.unload()
    model.compile_blocks()
    try:
        torch.testing.assert_close(velocity(model), base, rtol=1e-4, atol=1e-5)
        slot.apply(str(tmp_path / "attn"), 1.0)
        torch.testing.assert_close(velocity(model), eager_attn, rtol=1e-4, atol=1e-5)
        slot.apply(str(tmp_path / "ff"), 1.0)
        torch.testing.assert_close(velocity(model), eager_ff, rtol=1e-4, atol=1e-5)
        slot.unload()
        torch.testing.assert_close(velocity(model), base, rtol=1e-4, atol=1e-5)
    finally:
        model.compiled_blocks = None
