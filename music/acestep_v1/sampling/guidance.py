"""Classifier-free guidance variants of ACE-Step v1, and when they apply.

* `cfg`: u + s·(c - u);
* `apg` (adaptive projected guidance): diff = c - u through a momentum buffer (-0.75), its L2
  norm over (H, W) clipped to 2.5, then only the part orthogonal to c (projection in float64)
  is added: c + (s - 1)·diff_orth;
* `cfg_star` (CFG-Zero*): u scaled by alpha = <c, u> / ||u||² per sample, and a zero velocity
  on the first steps (loop index <= 1);
* double condition (text and lyric scales both > 1): (1 - g_t)·u + (g_t - g_l)·c_text + g_l·c,
  replacing the above;
* the guidance interval: only loop steps in [start, end) are guided, start = int(N(1-gi)/2),
  end = int(N(gi/2 + 1/2)); the scale may decay linearly towards `min_guidance_scale`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

CFG_TYPES = ("apg", "cfg", "cfg_star")
APG_MOMENTUM = -0.75
APG_NORM_THRESHOLD = 2.5
CFG_ZERO_STEPS = 1


class MomentumBuffer:
    def __init__(self, momentum: float = APG_MOMENTUM):
        self.momentum = momentum
        self.running: torch.Tensor | float = 0.0

    def update(self, value: torch.Tensor) -> torch.Tensor:
        self.running = value + self.momentum * self.running
        return self.running


def apg(cond: torch.Tensor, uncond: torch.Tensor, *, scale: float, momentum: MomentumBuffer | None) -> torch.Tensor:
    dims = (-1, -2)
    diff = cond - uncond
    if momentum is not None:
        diff = momentum.update(diff)
    norm = diff.norm(p=2, dim=dims, keepdim=True)
    diff = diff * torch.minimum(torch.ones_like(diff), APG_NORM_THRESHOLD / norm)
    # project diff onto cond in float64 and keep the orthogonal part (eta = 0)
    direction = torch.nn.functional.normalize(cond.double(), dim=dims)
    diff64 = diff.double()
    parallel = (diff64 * direction).sum(dim=dims, keepdim=True) * direction
    orthogonal = (diff64 - parallel).to(diff.dtype)
    return cond + (scale - 1) * orthogonal


def cfg(cond: torch.Tensor, uncond: torch.Tensor, *, scale: float) -> torch.Tensor:
    return uncond + scale * (cond - uncond)


def cfg_zero_star(cond: torch.Tensor, uncond: torch.Tensor, *, scale: float, step: int) -> torch.Tensor:
    if step <= CFG_ZERO_STEPS:
        return cond * 0.0
    batch = cond.shape[0]
    c, u = cond.reshape(batch, -1), uncond.reshape(batch, -1)
    alpha = (c * u).sum(dim=1, keepdim=True) / ((u**2).sum(dim=1, keepdim=True) + 1e-8)
    alpha = alpha.view(batch, 1, 1, 1)
    return uncond * alpha + scale * (cond - uncond * alpha)


def double_condition(
    cond: torch.Tensor, uncond: torch.Tensor, text_only: torch.Tensor, *, text_scale: float, lyric_scale: float
) -> torch.Tensor:
    return (1 - text_scale) * uncond + (text_scale - lyric_scale) * text_only + lyric_scale * cond


@dataclass(kw_only=True)
class GuidancePlan:
    """Everything about guidance that is fixed for one call."""

    cfg_type: str = "apg"
    guidance_scale: float = 15.0
    guidance_interval: float = 0.5
    guidance_interval_decay: float = 0.0
    min_guidance_scale: float = 3.0
    guidance_scale_text: float = 0.0
    guidance_scale_lyric: float = 0.0

    def __post_init__(self):
        if self.cfg_type not in CFG_TYPES:
            raise ValueError(f"cfg_type must be one of {', '.join(CFG_TYPES)}, got {self.cfg_type!r}")

    @property
    def enabled(self) -> bool:
        return self.guidance_scale not in (0.0, 1.0)

    @property
    def double_condition(self) -> bool:
        return (self.guidance_scale_text or 0) > 1.0 and (self.guidance_scale_lyric or 0) > 1.0

    def interval(self, num_inference_steps: int) -> tuple[int, int]:
        start = int(num_inference_steps * ((1 - self.guidance_interval) / 2))
        end = int(num_inference_steps * (self.guidance_interval / 2 + 0.5))
        return start, end

    def scale_at(self, step: int, start: int, end: int) -> float:
        if self.guidance_interval_decay > 0:
            # upstream divides by (end - start - 1); a one-step interval would divide by zero there
            progress = (step - start) / max(end - start - 1, 1)
            return self.guidance_scale - (self.guidance_scale - self.min_guidance_scale) * progress * self.guidance_interval_decay
        return self.guidance_scale


class Guider:
    """Per-call guidance state (APG momentum) combining the passes of one step."""

    def __init__(self, plan: GuidancePlan):
        self.plan = plan
        self.momentum = MomentumBuffer()

    def combine(
        self, *, step: int, scale: float, cond: torch.Tensor, uncond: torch.Tensor, text_only: torch.Tensor | None
    ) -> torch.Tensor:
        plan = self.plan
        if plan.double_condition and text_only is not None:
            return double_condition(
                cond, uncond, text_only, text_scale=plan.guidance_scale_text, lyric_scale=plan.guidance_scale_lyric
            )
        if plan.cfg_type == "apg":
            return apg(cond, uncond, scale=scale, momentum=self.momentum)
        if plan.cfg_type == "cfg":
            return cfg(cond, uncond, scale=scale)
        return cfg_zero_star(cond, uncond, scale=scale, step=step)
