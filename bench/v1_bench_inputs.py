"""Inputs shared by the v1 speed benches, so ours and upstream's code see the same tensors.

Everything comes from one seeded generator in a fixed order: text states, lyric ids, latents.
Weights are random N(0, 0.02) with norm weights 1 and biases 0 (speed and memory only).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

TEXT_DIM = 768
LYRIC_VOCAB = 6693
SPEAKER_DIM = 512
INPUT_SEED, WEIGHT_SEED = 1, 0
TIMESTEP = 600.0
GUIDANCE_SCALE = 15.0


def latent_frames(seconds: float) -> int:
    """Upstream truncates: int(seconds * 44100 / 512 / 8) (30 s -> 322)."""
    return int(seconds * 44100 / 512 / 8)


@dataclass
class BenchInputs:
    text: torch.Tensor  # (1, T_text, 768)
    lyric_ids: torch.Tensor  # (1, T_lyric)
    latents: torch.Tensor  # (1, 8, 16, W)


def make_inputs(*, seconds: float, text_tokens: int, lyric_tokens: int, dtype: torch.dtype) -> BenchInputs:
    g = torch.Generator().manual_seed(INPUT_SEED)
    text = torch.randn(1, text_tokens, TEXT_DIM, generator=g).to(dtype)
    ids = torch.randint(0, LYRIC_VOCAB, (1, lyric_tokens), generator=g)
    latents = torch.randn(1, 8, 16, latent_frames(seconds), generator=g).to(dtype)
    return BenchInputs(text=text, lyric_ids=ids, latents=latents)


def randomise_(model: nn.Module, *, seed: int = WEIGHT_SEED, generator: torch.Generator | None = None) -> nn.Module:
    """Fill every parameter in place: norm layers weight 1 / bias 0, the rest N(0, 0.02). Draws
    from `generator` (several models from one stream) or a fresh one seeded with `seed` on the
    model's device."""
    if generator is None:
        device = next(model.parameters()).device
        generator = torch.Generator(device=device).manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            is_norm = isinstance(module, (nn.LayerNorm, nn.GroupNorm)) or "norm" in type(module).__name__.lower()
            for name, param in module.named_parameters(recurse=False):
                if is_norm:
                    param.fill_(1.0 if name == "weight" else 0.0)
                else:
                    param.normal_(0.0, 0.02, generator=generator)
    return model.eval().requires_grad_(False)
