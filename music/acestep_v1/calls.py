"""The data a text2music / mode call passes between the pipeline and the mode sampler: the
checked call (`Text2MusicCall`), its encoded contexts (`ConditionSet`) and the result
(`GenerationOutput`). Here, not in `pipeline`, so that `modes.sampler` can use them while the
pipeline imports the sampler."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from music.acestep_v1.fast.options import EXACT, FastSpec
from music.acestep_v1.models.transformer import Conditions
from music.acestep_v1.modes.prepare import PreparedMode
from music.acestep_v1.sampling.guidance import GuidancePlan


@dataclass
class ConditionSet:
    """The cross-attention contexts of one call, already expanded to the batch."""

    cond: Conditions
    null: Conditions | None  # unconditional (None when guidance is off)
    text_only: Conditions | None  # double-condition guidance only
    guided: Conditions | None = None  # [cond | text_only | null] rows, concatenated once per call
    guided_q_scale: torch.Tensor | None = None  # ERG-diffusion factor per guided row


@dataclass(kw_only=True)
class Text2MusicCall:
    """A checked request of any task, ready to run (see `ACEStepV1Pipeline.prepare_text2music`)."""

    lyric_token_ids: list[int]
    prompt: str
    audio_duration: float
    plan: GuidancePlan
    schedule_args: dict[str, Any]
    seeds: list[int]
    batch_size: int
    sample_rate: int
    use_erg_tag: bool
    use_erg_lyric: bool
    use_erg_diffusion: bool
    overlapped_decode: bool
    parameters: dict[str, Any]
    mode: PreparedMode  # task, checked mode arguments, source audio, retake seeds
    tokenize_seconds: float = 0.0
    fast: FastSpec = EXACT  # opt-in fast modes (music.acestep_v1.fast); EXACT: none


@dataclass
class GenerationOutput:
    latents: torch.Tensor  # (B, 8, 16, W) final latents before decoding
    audio: torch.Tensor  # float32 (B, 2, samples) at sample_rate
    seeds: list[int]
    sample_rate: int
    timings: dict[str, float] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
