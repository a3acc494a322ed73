"""The lyric Conformer of ACE-Step v1 (CosyVoice/wenet lineage, as upstream configures it).

With upstream's settings (no macaron FFN, no conv module, full attention) each block is a
pre-LayerNorm Transformer-XL layer: ESPnet relative positional encoding with learned
`pos_bias_u` / `pos_bias_v`, the `rel_shift` alignment, and a SiLU feed-forward. Module names
mirror the official state dict (`lyric_encoder.encoders.N.self_attn.linear_q`, ...).

`q_scale` (B,) multiplies the `linear_q` output of `erg_layers` per batch row: upstream's
ERG-lyric forward hooks, expressed so that the weakened and the plain encodings share a batch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from music.acestep_v1.models.rows import scale_rows

ERG_LYRIC_LAYERS = range(4, 6)


@dataclass(kw_only=True)
class LyricConformerConfig:
    input_size: int = 1024
    output_size: int = 1024
    attention_heads: int = 16
    linear_units: int = 4096
    num_blocks: int = 6


def relative_position_encoding(length: int, size: int, *, device, dtype) -> torch.Tensor:
    """ESPnet sinusoid table for relative offsets length-1 ... -(length-1): (1, 2L-1, size)."""
    offsets = torch.arange(length - 1, -length, -1, dtype=torch.float32, device=device)[:, None]
    div_term = torch.exp(
        torch.arange(0, size, 2, dtype=torch.float32, device=device) * -(math.log(10000.0) / size)
    )
    table = torch.zeros(2 * length - 1, size, device=device)
    table[:, 0::2] = torch.sin(offsets * div_term)
    table[:, 1::2] = torch.cos(offsets * div_term)
    return table.to(dtype)[None]


def rel_shift(scores: torch.Tensor) -> torch.Tensor:
    """(B, H, T, 2T-1) scores over offsets -> (B, H, T, T) over key positions:
    out[..., i, j] = scores[..., i, T-1-i+j]."""
    length = scores.shape[-2]
    rows = torch.arange(length, device=scores.device)[:, None]
    cols = torch.arange(length, device=scores.device)[None, :]
    index = (length - 1 - rows + cols).expand(*scores.shape[:-1], length)
    return torch.gather(scores, -1, index)


class RelPositionAttention(nn.Module):
    def __init__(self, size: int, heads: int):
        super().__init__()
        self.heads = heads
        self.d_k = size // heads
        self.linear_q = nn.Linear(size, size)
        self.linear_k = nn.Linear(size, size)
        self.linear_v = nn.Linear(size, size)
        self.linear_out = nn.Linear(size, size)
        self.linear_pos = nn.Linear(size, size, bias=False)
        self.pos_bias_u = nn.Parameter(torch.zeros(heads, self.d_k))
        self.pos_bias_v = nn.Parameter(torch.zeros(heads, self.d_k))

    def forward(self, x, *, pos_emb, key_mask, q_scale):
        batch = x.shape[0]
        q = scale_rows(self.linear_q(x), q_scale)
        q = q.unflatten(-1, (self.heads, self.d_k))  # (B, T, H, d)
        k = self.linear_k(x).unflatten(-1, (self.heads, self.d_k)).transpose(1, 2)
        v = self.linear_v(x).unflatten(-1, (self.heads, self.d_k)).transpose(1, 2)
        p = self.linear_pos(pos_emb).unflatten(-1, (self.heads, self.d_k)).transpose(1, 2)
        content = torch.matmul((q + self.pos_bias_u).transpose(1, 2), k.transpose(-2, -1))
        position = rel_shift(torch.matmul((q + self.pos_bias_v).transpose(1, 2), p.transpose(-2, -1)))
        scores = (content + position) / math.sqrt(self.d_k)
        # key_mask (B, 1, 1, T) True = padded. A fully padded row gives NaN from softmax, which
        # the second masked_fill turns into zeros, as upstream does (instrumental: ids [[0]], mask [[0]]).
        scores = scores.masked_fill(key_mask, -math.inf)
        attn = torch.softmax(scores, dim=-1).masked_fill(key_mask, 0.0)
        out = torch.matmul(attn, v).transpose(1, 2).reshape(batch, -1, self.heads * self.d_k)
        return self.linear_out(out)


class FeedForward(nn.Module):
    def __init__(self, size: int, units: int):
        super().__init__()
        self.w_1 = nn.Linear(size, units)
        self.w_2 = nn.Linear(units, size)

    def forward(self, x):
        return self.w_2(F.silu(self.w_1(x)))


class ConformerLayer(nn.Module):
    def __init__(self, size: int, heads: int, units: int):
        super().__init__()
        self.self_attn = RelPositionAttention(size, heads)
        self.feed_forward = FeedForward(size, units)
        self.norm_mha = nn.LayerNorm(size, eps=1e-5)
        self.norm_ff = nn.LayerNorm(size, eps=1e-5)

    def forward(self, x, *, pos_emb, key_mask, q_scale):
        x = x + self.self_attn(self.norm_mha(x), pos_emb=pos_emb, key_mask=key_mask, q_scale=q_scale)
        return x + self.feed_forward(self.norm_ff(x))


class _LinearEmbed(nn.Module):
    def __init__(self, idim: int, odim: int):
        super().__init__()
        # index 2 of upstream's Sequential is a Dropout: no weights, so not reproduced
        self.out = nn.ModuleDict({"0": nn.Linear(idim, odim), "1": nn.LayerNorm(odim, eps=1e-5)})

    def forward(self, x):
        return self.out["1"](self.out["0"](x))


class LyricConformer(nn.Module):
    def __init__(self, config: LyricConformerConfig):
        super().__init__()
        self.config = config
        self.embed = _LinearEmbed(config.input_size, config.output_size)
        self.encoders = nn.ModuleList(
            ConformerLayer(config.output_size, config.attention_heads, config.linear_units)
            for _ in range(config.num_blocks)
        )
        self.after_norm = nn.LayerNorm(config.output_size, eps=1e-5)

    def forward(
        self,
        embeddings: torch.Tensor,
        mask: torch.Tensor,
        *,
        q_scale: torch.Tensor | None = None,
        erg_layers: range = ERG_LYRIC_LAYERS,
    ) -> torch.Tensor:
        """embeddings (B, T, input_size), mask (B, T) 1 = token -> (B, T, output_size)."""
        x = self.embed(embeddings) * math.sqrt(self.config.output_size)
        pos_emb = relative_position_encoding(x.shape[1], self.config.output_size, device=x.device, dtype=x.dtype)
        key_mask = ~mask.to(torch.bool)[:, None, None, :]
        for index, layer in enumerate(self.encoders):
            x = layer(x, pos_emb=pos_emb, key_mask=key_mask, q_scale=q_scale if index in erg_layers else None)
        return self.after_norm(x)
