"""The ACE-Step v1 DiT: condition encoder (`encode`) and velocity network (`decode`).

A Sana-style linear DiT. Module names mirror the official state dict, so the checkpoint loads
unchanged (and LoRA target names such as `to_q` / `to_out.0` keep working). Numerics follow
upstream exactly where they matter:

* RoPE pairs adjacent channels (2i, 2i+1) but takes its angles from a half-split table
  (`cat(freqs, freqs)`), so the two members of a pair rotate by different angles;
* the ReLU linear self-attention runs in fp32 with a row of ones appended to V as normaliser;
* cross-attention has no pre-norm and no gate; AdaLN-single shares one `t_block` output.

Beyond upstream: the cross-attention keys/values of a context can be computed once per call
(`cache_context`) instead of once per step; `q_scale` (one factor per batch row, applied to the `to_q` outputs of
`erg_blocks`) replaces upstream's forward hooks, so the ERG-weakened unconditional pass can run
in the same batch as the conditional one; the cross-attention mask is only built when some key
is padded, and then as a broadcastable (B, 1, W, L) mask rather than (B, H, W, L).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from diffusers.models.embeddings import TimestepEmbedding, Timesteps
from torch import nn

from music.acestep_v1.models.lyric_encoder import LyricConformer, LyricConformerConfig
from music.acestep_v1.models.rows import scale_rows

# Upstream's ERG-diffusion hooks weaken these DiT blocks in the unconditional pass.
ERG_DIFFUSION_BLOCKS = range(15, 20)


@dataclass(kw_only=True)
class DiTConfig:
    in_channels: int = 8
    out_channels: int = 8
    num_layers: int = 24
    num_attention_heads: int = 20
    attention_head_dim: int = 128
    mlp_ratio: float = 2.5
    rope_theta: float = 1_000_000.0
    speaker_embedding_dim: int = 512
    text_embedding_dim: int = 768
    lyric_encoder_vocab_size: int = 6693
    lyric_hidden_size: int = 1024
    patch_size: tuple[int, int] = (16, 1)
    lyric_encoder: LyricConformerConfig = field(default_factory=LyricConformerConfig)

    @property
    def width(self) -> int:
        # upstream ignores the stored `inner_dim` and recomputes heads x head_dim
        return self.num_attention_heads * self.attention_head_dim

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> "DiTConfig":
        """Read `ace_step_transformer/config.json`. Conformer sizes default to upstream's code
        defaults (output = 1024, 16 heads, 4096 units, 6 blocks) unless `lyric_encoder_config`
        is present."""
        lyric_raw = dict(raw.get("lyric_encoder_config") or {})
        lyric = LyricConformerConfig(input_size=raw.get("lyric_hidden_size", 1024), **lyric_raw)
        names = {
            "in_channels", "out_channels", "num_layers", "num_attention_heads", "attention_head_dim",
            "mlp_ratio", "rope_theta", "speaker_embedding_dim", "text_embedding_dim",
            "lyric_encoder_vocab_size", "lyric_hidden_size",
        }
        kwargs = {k: raw[k] for k in names if k in raw}
        if "patch_size" in raw:
            kwargs["patch_size"] = tuple(raw["patch_size"])
        return cls(**kwargs, lyric_encoder=lyric)


def rope_tables(length: int, head_dim: int, theta: float, *, device, dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """cos/sin tables (length, head_dim) in upstream's half-split layout, computed in fp32 and
    then cast to the activation dtype as upstream does."""
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.int64, device=device).float() / head_dim))
    positions = torch.arange(length, dtype=torch.int64, device=device).float()
    freqs = torch.outer(positions, inv_freq)
    angles = torch.cat((freqs, freqs), dim=-1)
    return angles.cos().to(dtype), angles.sin().to(dtype)


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """x: (B, H, S, D). Rotates adjacent pairs (2i, 2i+1) with the half-split angle table."""
    even, odd = x.unflatten(-1, (-1, 2)).unbind(-1)
    rotated = torch.stack((-odd, even), dim=-1).flatten(-2)
    return (x.float() * cos + rotated.float() * sin).to(x.dtype)


def rms_norm(x: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """diffusers' RMSNorm without affine weights: statistics in fp32, result in x's dtype."""
    variance = x.float().pow(2).mean(-1, keepdim=True)
    return (x * torch.rsqrt(variance + eps)).to(x.dtype)


class LinearSelfAttention(nn.Module):
    """ReLU linear attention with RoPE, accumulated in fp32 (O(S·D²) per head)."""

    def __init__(self, width: int, heads: int):
        super().__init__()
        self.heads = heads
        self.to_q = nn.Linear(width, width)
        self.to_k = nn.Linear(width, width)
        self.to_v = nn.Linear(width, width)
        self.to_out = nn.ModuleList([nn.Linear(width, width)])

    def forward(self, x, *, rope, frame_mask, q_scale):
        batch, length, width = x.shape
        dtype = x.dtype
        q = scale_rows(self.to_q(x), q_scale)
        # upstream lays q and v out as (B, H, D, S) and k as (B, H, S, D)
        q = q.transpose(1, 2).reshape(batch, self.heads, -1, length).transpose(-1, -2)
        k = self.to_k(x).transpose(1, 2).reshape(batch, self.heads, -1, length).transpose(-1, -2)
        v = self.to_v(x).transpose(1, 2).reshape(batch, self.heads, -1, length)
        q = apply_rope(q, *rope)
        k = apply_rope(k, *rope)
        if frame_mask is not None:
            m = frame_mask[:, None, :, None].to(k.dtype)
            q, k, v = q * m, k * m, v * m.transpose(-1, -2)
        q = F.relu(q).transpose(-1, -2).float()  # (B, H, D, S)
        k = F.relu(k).float()
        v = F.pad(v.float(), (0, 0, 0, 1), value=1.0)  # (B, H, D+1, S)
        out = torch.matmul(torch.matmul(v, k), q)
        out = out[:, :, :-1] / (out[:, :, -1:] + 1e-15)
        # contiguous before the projection: a strided input sends bf16 GEMMs on CPU to a
        # reference kernel ~10x slower (same numbers either way)
        out = out.reshape(batch, width, length).transpose(1, 2).to(dtype).contiguous()
        return self.to_out[0](out)


class CrossAttention(nn.Module):
    """Softmax attention from latent frames to [speaker | text | lyrics], RoPE on q and k."""

    def __init__(self, width: int, heads: int):
        super().__init__()
        self.heads = heads
        self.to_q = nn.Linear(width, width)
        self.to_k = nn.Linear(width, width)
        self.to_v = nn.Linear(width, width)
        self.to_out = nn.ModuleList([nn.Linear(width, width)])

    def context_kv(self, context, context_rope) -> tuple[torch.Tensor, torch.Tensor]:
        """Keys (with RoPE) and values of the context: fixed for a whole sampling run."""
        k = self.to_k(context).unflatten(-1, (self.heads, -1)).transpose(1, 2)
        v = self.to_v(context).unflatten(-1, (self.heads, -1)).transpose(1, 2)
        return apply_rope(k, *context_rope), v

    def forward(self, x, context, *, rope, context_rope, attn_mask, q_scale, kv=None):
        batch = x.shape[0]
        q = scale_rows(self.to_q(x), q_scale).unflatten(-1, (self.heads, -1)).transpose(1, 2)
        q = apply_rope(q, *rope)
        k, v = kv if kv is not None else self.context_kv(context, context_rope)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask)
        out = out.transpose(1, 2).reshape(batch, -1, self.heads * q.shape[-1]).to(q.dtype)
        return self.to_out[0](out)


class _Conv1d(nn.Module):
    """Holder so that state-dict keys read `<name>.conv.weight` as upstream's."""

    def __init__(self, *args, **kwargs):
        super().__init__()
        self.conv = nn.Conv1d(*args, **kwargs)

    def forward(self, x):
        return self.conv(x)

    def linear(self, x):
        """A 1x1 convolution applied token-major, as a linear layer on its weights, LoRA included
        (`_pointwise`); the int8 fast mode swaps this holder for one with int8 weights and the
        same method."""
        return _pointwise(self.conv, x)


class GLUMBConv(nn.Module):
    """1x1 expand + SiLU, depthwise k=3 over time, GLU gate, 1x1 project (no bias).

    Computed token-major (B, W, C): the 1x1 convolutions are linear layers on the conv weights
    and the depthwise k=3 convolution is three shifted multiply-adds. Same maths as upstream's
    Conv1d stack (to ~1e-7), without its two transposes, and it stays fast for any batch size
    and dtype (CPU conv kernels for a batched depthwise conv, or for bf16 without AVX-512,
    are many times slower)."""

    def __init__(self, width: int, hidden: int):
        super().__init__()
        self.inverted_conv = _Conv1d(width, hidden * 2, 1)
        self.depth_conv = _Conv1d(hidden * 2, hidden * 2, 3, padding=1, groups=hidden * 2)
        self.point_conv = _Conv1d(hidden, width, 1, bias=False)

    def forward(self, x):
        h = F.silu(self.inverted_conv.linear(x))
        taps = self.depth_conv.conv.weight[:, 0, :]  # (2H, 3): previous, current, next frame
        y = h * taps[:, 1] + self.depth_conv.conv.bias
        y[:, 1:] += h[:, :-1] * taps[:, 0]
        y[:, :-1] += h[:, 1:] * taps[:, 2]
        y, gate = y.chunk(2, dim=-1)
        return self.point_conv.linear(y * F.silu(gate))


def _pointwise(conv, x):
    """A 1x1 Conv1d applied token-major, as a linear layer on its weight. A LoRA target (peft's
    `lora.Conv1d` holds the conv as its base layer) adds each active adapter's update the same way,
    B(A(x)) * scaling with A and B read as matrices, in peft's dtypes. Merged, disabled or DoRA
    adapters go through peft's own forward (channels-first, hence the transposes)."""
    if isinstance(conv, nn.Conv1d):  # no LoRA: the plain path
        return F.linear(x, conv.weight[..., 0], conv.bias)
    if conv.merged or conv.disable_adapters or conv.lora_variant:
        return conv(x.transpose(1, 2)).transpose(1, 2)
    base = conv.get_base_layer()
    out = F.linear(x, base.weight[..., 0], base.bias)
    dtype = out.dtype
    for name in conv.active_adapters:
        if name in conv.lora_A:
            a, b = conv.lora_A[name], conv.lora_B[name]
            low = F.linear(conv.lora_dropout[name](x.to(a.weight.dtype)), a.weight[..., 0])
            out = out + F.linear(low, b.weight[..., 0], b.bias) * conv.scaling[name]
    return out.to(dtype)


class DiTBlock(nn.Module):
    def __init__(self, width: int, heads: int, mlp_ratio: float):
        super().__init__()
        self.attn = LinearSelfAttention(width, heads)
        self.cross_attn = CrossAttention(width, heads)
        self.ff = GLUMBConv(width, int(width * mlp_ratio))
        self.scale_shift_table = nn.Parameter(torch.zeros(6, width))

    def forward(self, h, *, context, temb, rope, context_rope, frame_mask, attn_mask, q_scale, kv=None):
        shift_msa, scale_msa, gate_msa, shift_mlp, scale_mlp, gate_mlp = (
            self.scale_shift_table[None] + temb.reshape(h.shape[0], 6, -1)
        ).chunk(6, dim=1)
        x = rms_norm(h) * (1 + scale_msa) + shift_msa
        h = h + gate_msa * self.attn(x, rope=rope, frame_mask=frame_mask, q_scale=q_scale)
        h = h + self.cross_attn(
            h, context, rope=rope, context_rope=context_rope, attn_mask=attn_mask, q_scale=q_scale, kv=kv
        )
        x = rms_norm(h) * (1 + scale_mlp) + shift_mlp
        return h + gate_mlp * self.ff(x)


class PatchEmbed(nn.Module):
    """(B, 8, 16, W) -> (B, W, width): the 16 frequency rows fold into channels."""

    def __init__(self, in_channels: int, width: int, patch_size: tuple[int, int]):
        super().__init__()
        hidden = in_channels * 256  # fixed by upstream, not a config value
        self.early_conv_layers = nn.Sequential(
            nn.Conv2d(in_channels, hidden, kernel_size=patch_size, stride=patch_size),
            nn.GroupNorm(32, hidden, eps=1e-6),
            nn.Conv2d(hidden, width, kernel_size=1),
        )

    def forward(self, latent):
        # contiguous token-major layout: a transposed view here would make every later linear
        # layer see strided input (batched matmuls then fall back to bmm with expanded weights)
        return self.early_conv_layers(latent).flatten(2).transpose(1, 2).contiguous()


class FinalLayer(nn.Module):
    def __init__(self, width: int, patch_size: tuple[int, int], out_channels: int):
        super().__init__()
        self.patch_size = patch_size
        self.out_channels = out_channels
        self.linear = nn.Linear(width, patch_size[0] * patch_size[1] * out_channels)
        self.scale_shift_table = nn.Parameter(torch.zeros(2, width))

    def forward(self, x, embedded_timestep, output_length: int):
        shift, scale = (self.scale_shift_table[None] + embedded_timestep[:, None]).chunk(2, dim=1)
        x = F.rms_norm(x, (x.shape[-1],), eps=1e-6) * (1 + scale) + shift
        x = self.linear(x)
        batch, frames = x.shape[:2]
        ph, pw = self.patch_size
        # (B, W, ph*pw*C) -> (B, C, ph, W*pw)
        x = x.reshape(batch, 1, frames, ph, pw, self.out_channels)
        x = torch.einsum("nhwpqc->nchpwq", x).reshape(batch, self.out_channels, ph, frames * pw)
        if output_length > x.shape[-1]:
            x = F.pad(x, (0, output_length - x.shape[-1]))
        return x[..., :output_length]


@dataclass
class Conditions:
    """Output of `ACEStepDiT.encode`: the cross-attention context and its mask (float).

    `kv` optionally holds every block's cross-attention keys/values for this context (see
    `ACEStepDiT.cache_context`): they do not change over the sampling steps, so computing them
    once per call saves the 2·L·C² per block and step that upstream spends again each step."""

    states: torch.Tensor  # (B, 1 + T_text + T_lyric, width)
    mask: torch.Tensor  # (B, 1 + T_text + T_lyric)
    kv: list[tuple[torch.Tensor, torch.Tensor]] | None = None


class ACEStepDiT(nn.Module):
    def __init__(self, config: DiTConfig):
        super().__init__()
        self.config = config
        width = config.width
        self.transformer_blocks = nn.ModuleList(
            DiTBlock(width, config.num_attention_heads, config.mlp_ratio) for _ in range(config.num_layers)
        )
        self.time_proj = Timesteps(num_channels=256, flip_sin_to_cos=True, downscale_freq_shift=0)
        self.timestep_embedder = TimestepEmbedding(in_channels=256, time_embed_dim=width)
        self.t_block = nn.Sequential(nn.SiLU(), nn.Linear(width, 6 * width))
        self.speaker_embedder = nn.Linear(config.speaker_embedding_dim, width)
        self.genre_embedder = nn.Linear(config.text_embedding_dim, width)
        self.lyric_embs = nn.Embedding(config.lyric_encoder_vocab_size, config.lyric_hidden_size)
        self.lyric_encoder = LyricConformer(config.lyric_encoder)
        self.lyric_proj = nn.Linear(config.lyric_encoder.output_size, width)
        self.proj_in = PatchEmbed(config.in_channels, width, config.patch_size)
        self.final_layer = FinalLayer(width, config.patch_size, config.out_channels)
        # torch.compile'd views of the blocks (`compile_blocks`); a plain list so that the state
        # dict and LoRA module names stay those of `transformer_blocks`
        self.compiled_blocks: list[nn.Module] | None = None

    def compile_blocks(self) -> None:
        """Run every block through torch.compile from now on (dynamic over song length).

        One compiled graph serves all blocks (same code, parameters passed as inputs). It fuses
        the elementwise work between the GEMMs (norms, modulation, RoPE, the GLUMBConv middle);
        the GEMMs and attention stay on the same kernels. Results differ from eager by rounding
        only (docs/acestep-v1.md has the measured deviation). The first forward pays the compile
        (or reads Inductor's on-disk cache); `compiled_blocks = None` goes back to eager."""
        self.compiled_blocks = [torch.compile(block, dynamic=True) for block in self.transformer_blocks]

    # ---- conditions -------------------------------------------------------------------------
    def encode(
        self,
        *,
        text_states: torch.Tensor,
        text_mask: torch.Tensor,
        speaker_embeds: torch.Tensor,
        lyric_ids: torch.Tensor,
        lyric_mask: torch.Tensor,
        lyric_q_scale: torch.Tensor | None = None,
    ) -> Conditions:
        """[speaker | text | lyrics] context. `lyric_q_scale` (B,) weakens the Conformer's
        ERG layers per row (1 = untouched)."""
        speaker = self.speaker_embedder(speaker_embeds).unsqueeze(1)
        text = self.genre_embedder(text_states)
        lyrics = self.lyric_encoder(self.lyric_embs(lyric_ids), lyric_mask, q_scale=lyric_q_scale)
        lyrics = self.lyric_proj(lyrics)
        speaker_mask = torch.ones(speaker.shape[0], 1, device=speaker.device)
        states = torch.cat([speaker, text, lyrics], dim=1)
        mask = torch.cat([speaker_mask, text_mask, lyric_mask], dim=1)
        return Conditions(states=states, mask=mask)

    def cache_context(self, conditions: Conditions) -> Conditions:
        """The same conditions with every block's cross-attention K/V precomputed."""
        cfg = self.config
        context = conditions.states
        rope = rope_tables(context.shape[1], cfg.attention_head_dim, cfg.rope_theta, device=context.device, dtype=context.dtype)
        kv = [block.cross_attn.context_kv(context, rope) for block in self.transformer_blocks]
        return Conditions(states=conditions.states, mask=conditions.mask, kv=kv)

    # ---- velocity ---------------------------------------------------------------------------
    def decode(
        self,
        *,
        latents: torch.Tensor,
        timestep: torch.Tensor,
        conditions: Conditions,
        frame_mask: torch.Tensor | None = None,
        q_scale: torch.Tensor | None = None,
        erg_blocks: range = ERG_DIFFUSION_BLOCKS,
        step_cache=None,
    ) -> torch.Tensor:
        """Velocity (B, 8, 16, W) for latents (B, 8, 16, W) at `timestep` (B,) on 0..1000.

        `frame_mask` (B, W) is upstream's `attention_mask` (all ones in every upstream mode; None
        skips the multiply). `q_scale` (B,) scales the `to_q` outputs of `erg_blocks` per row.
        `step_cache` (None: the exact path) is the step cache's view of this call's rows.
        """
        cfg = self.config
        dtype = latents.dtype
        output_length = latents.shape[-1]
        embedded_timestep = self.timestep_embedder(self.time_proj(timestep).to(dtype=dtype))
        temb = self.t_block(embedded_timestep)
        h = self.proj_in(latents)
        context = conditions.states
        rope = rope_tables(h.shape[1], cfg.attention_head_dim, cfg.rope_theta, device=h.device, dtype=h.dtype)
        context_rope = None
        if conditions.kv is None:
            context_rope = rope_tables(
                context.shape[1], cfg.attention_head_dim, cfg.rope_theta, device=h.device, dtype=context.dtype
            )
        attn_mask = cross_attention_mask(frame_mask, conditions.mask, dtype=h.dtype)
        inputs = dict(context=context, temb=temb, rope=rope, context_rope=context_rope, frame_mask=frame_mask,
                      attn_mask=attn_mask, q_scale=q_scale, kv=conditions.kv, erg_blocks=erg_blocks)
        if step_cache is None:
            h = self.run_blocks(h, range(len(self.transformer_blocks)), **inputs)
        else:  # opt-in fast mode (music.acestep_v1.fast.step_cache): may skip blocks 1.. on a step
            h = step_cache.run(self.run_blocks, h, depth=len(self.transformer_blocks), **inputs)
        return self.final_layer(h, embedded_timestep, output_length)

    def run_blocks(self, h, indices: range, *, context, temb, rope, context_rope, frame_mask, attn_mask, q_scale, kv,
                   erg_blocks: range) -> torch.Tensor:
        """The DiT blocks `indices` in order; every input holds one row per row of `h`. Compiled
        blocks (`compile_blocks`) serve inference only: with gradients on (LoRA training) the
        plain modules run, for autograd and checkpointing."""
        compiled = self.compiled_blocks is not None and not torch.is_grad_enabled()
        blocks = self.compiled_blocks if compiled else self.transformer_blocks
        for index in indices:
            h = blocks[index](
                h,
                context=context,
                temb=temb,
                rope=rope,
                context_rope=context_rope,
                frame_mask=frame_mask,
                attn_mask=attn_mask,
                q_scale=q_scale if index in erg_blocks else None,
                kv=None if kv is None else kv[index],
            )
        return h


def cross_attention_mask(
    frame_mask: torch.Tensor | None, context_mask: torch.Tensor, *, dtype: torch.dtype
) -> torch.Tensor | None:
    """Additive (B, 1, W or 1, L) mask with 0 / -inf, or None when nothing is masked: upstream
    always materialises (B, H, W, L), which also blocks the fused SDPA kernels."""
    frames_full = frame_mask is None or bool((frame_mask == 1).all())
    if frames_full and bool((context_mask == 1).all()):
        return None
    rows = frame_mask[:, :, None] if frame_mask is not None else torch.ones_like(context_mask[:, :1, None])
    combined = rows * context_mask[:, None, :]
    zero = torch.zeros((), dtype=dtype, device=combined.device)
    return torch.where(combined == 1, zero, -math.inf).to(dtype)[:, None]
