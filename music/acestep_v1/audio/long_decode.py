"""Windowed latents -> audio for long songs: DCAE and vocoder in overlapping windows, crossfaded.

One-shot decoding of 240 s holds the DCAE decoder's and the vocoder's activations for the whole
song at once (several GiB). Here each stage runs on windows that carry `context` extra frames on
both sides (cut off after the call, so every kept sample saw enough neighbours: the vocoder's
ConvNeXt backbone alone sees about 55 mel frames each way), and neighbouring windows overlap by
`crossfade` frames that are blended with complementary linear ramps (they sum to one exactly).
Peak memory then depends on the window, not the song.

The DCAE's EfficientViT attention is global within a window, so windowed output is close to, not
equal to, one-shot output; the vocoder part is equal up to float rounding once `context` covers
its receptive field. Parity runs use the one-shot decode.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from music.acestep_v1.models.dcae import HOP, LATENT_SCALE, LATENT_SHIFT, MEL_MAX, MEL_MIN, TIME_DOWNSAMPLE, MusicDCAE


@dataclass(frozen=True, kw_only=True)
class WindowPlan:
    window: int  # frames kept per window, crossfades included
    context: int  # extra frames each side, computed and discarded
    crossfade: int  # frames shared by neighbouring windows

    def __post_init__(self):
        if self.window <= 0 or self.context < 0 or self.crossfade < 0:
            raise ValueError(f"invalid window plan {self}")
        if self.window <= 2 * self.crossfade:
            raise ValueError(f"window ({self.window}) must exceed twice the crossfade ({self.crossfade})")


# defaults sized for 8 GB cards: DCAE windows of ~24 s, vocoder windows of ~12 s
DCAE_WINDOW = WindowPlan(window=256, context=32, crossfade=8)  # latent frames
VOCODER_WINDOW = WindowPlan(window=1024, context=64, crossfade=16)  # mel frames


def windowed_apply(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, plan: WindowPlan, *, ratio: int) -> torch.Tensor:
    """fn maps (..., T) to (..., ratio*T); apply it window by window with context and crossfade."""
    total = x.shape[-1]
    if total <= plan.window:
        return fn(x)
    hop = plan.window - plan.crossfade
    out = None
    start = 0
    while True:
        end = min(start + plan.window, total)
        lo, hi = max(0, start - plan.context), min(total, end + plan.context)
        piece = fn(x[..., lo:hi])[..., (start - lo) * ratio : (end - lo) * ratio]
        if out is None:
            out = piece.new_zeros(*piece.shape[:-1], total * ratio)
        ramp = piece.new_ones(piece.shape[-1])
        fade = plan.crossfade * ratio
        if start > 0 and fade:
            ramp[:fade] = torch.linspace(0, 1, fade + 2, dtype=ramp.dtype, device=ramp.device)[1:-1]
        if end < total and fade:
            ramp[-fade:] = torch.linspace(1, 0, fade + 2, dtype=ramp.dtype, device=ramp.device)[1:-1]
        out[..., start * ratio : end * ratio] += piece * ramp
        if end == total:
            return out
        start += hop


@torch.no_grad()
def decode_windowed(
    dcae: MusicDCAE,
    latents: torch.Tensor,
    *,
    dcae_plan: WindowPlan = DCAE_WINDOW,
    vocoder_plan: WindowPlan = VOCODER_WINDOW,
) -> torch.Tensor:
    """Latents (N, 8, 16, W) -> float32 44.1 kHz audio (N, 2, 4096 W), one item at a time."""
    decoder = dcae.autoencoder.decoder
    vocoder = dcae.vocoder
    songs = []
    for item in latents:
        z = item[None] / LATENT_SCALE + LATENT_SHIFT
        mel = windowed_apply(decoder, z, dcae_plan, ratio=TIME_DOWNSAMPLE)  # (1, 2, 128, 8W) normalised
        mel = (mel * 0.5 + 0.5) * (MEL_MAX - MEL_MIN) + MEL_MIN
        channels = mel[0].to(dcae.dtype)  # (2, 128, T): the stereo pair, as the device prefers
        audio = windowed_apply(lambda m: vocoder.decode_channels(m)[:, 0].float(), channels, vocoder_plan, ratio=HOP)
        songs.append(audio)
    return torch.stack(songs)
