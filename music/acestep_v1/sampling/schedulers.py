"""Flow-matching samplers of ACE-Step v1: Euler, Heun and PingPong, shift 3, with omega.

Behaviour reproduced from upstream (its forks of the diffusers flow-match schedulers):

* the training sigmas are `linspace(1, 1/1000)` shifted by `s' = 3s / (1 + 2s)`; an inference
  schedule takes `linspace(sigma_max, sigma_min, N)` of those and shifts it *again* (the
  diffusers double-shift quirk), then appends a terminal 0; timesteps are 1000·sigma;
* explicit sigmas (used by `oss_steps`) are shifted once more as well;
* Euler / Heun apply the omega "mean shift": with dx the step, m = mean(dx) over the whole
  tensor (batch included), x += (dx - m)·w + m, w = 0.9 + 0.2 / (1 + exp(-0.1·omega));
* Heun visits [t0, t1, t1, t2, t2, ...] (2N - 1 model calls) and ends with an Euler step;
* PingPong ignores omega and re-noises with a draw from the caller's generator.

A scheduler object is a small state machine over one schedule: `timesteps`, `sigmas` and
`step(velocity, sample)`; `make_schedule` builds one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

SHIFT = 3.0
TRAIN_STEPS = 1000
SCHEDULER_TYPES = ("euler", "heun", "pingpong")


def _shift(sigmas, shift: float = SHIFT):
    return shift * sigmas / (1 + (shift - 1) * sigmas)


def training_sigma_range(sigma_max: float = 1.0) -> tuple[float, float]:
    """(sigma_max, sigma_min) of the shifted training schedule, as fp32 values."""
    steps = np.linspace(1.0, sigma_max * TRAIN_STEPS, TRAIN_STEPS, dtype=np.float32)[::-1].copy()
    sigmas = _shift(torch.from_numpy(steps) / TRAIN_STEPS)
    return sigmas[0].item(), sigmas[-1].item()


def inference_sigmas(num_steps: int, *, sigma_max: float = 1.0) -> torch.Tensor:
    """The N double-shifted sigmas of a plain schedule (no terminal 0), fp32."""
    high, low = training_sigma_range(sigma_max)
    sigmas = np.linspace(high * TRAIN_STEPS, low * TRAIN_STEPS, num_steps) / TRAIN_STEPS
    return torch.from_numpy(_shift(sigmas)).to(torch.float32)


def omega_weight(omega: float) -> float:
    """Upstream's logistic rescale of `omega_scale` into [0.9, 1.1]."""
    return float(0.9 + 0.2 / (1 + np.exp(-0.1 * omega)))


def _mean_shifted(dx: torch.Tensor, weight: float) -> torch.Tensor:
    mean = dx.mean()
    return (dx - mean) * weight + mean


class EulerSampler:
    def __init__(self, sigmas: torch.Tensor, *, omega: float):
        self.sigmas = torch.cat([sigmas, sigmas.new_zeros(1)])
        self.timesteps = sigmas * TRAIN_STEPS
        self.weight = omega_weight(omega)
        self.index = 0

    def step(self, velocity: torch.Tensor, sample: torch.Tensor, *, generator=None) -> torch.Tensor:
        sigma, sigma_next = self.sigmas[self.index], self.sigmas[self.index + 1]
        dx = (sigma_next - sigma) * velocity
        self.index += 1
        return (sample.float() + _mean_shifted(dx, self.weight)).to(velocity.dtype)


class HeunSampler:
    """Second-order Heun; each interval costs two model calls, the last one is plain Euler."""

    def __init__(self, sigmas: torch.Tensor, *, omega: float):
        full = torch.cat([sigmas, sigmas.new_zeros(1)])
        self.sigmas = torch.cat([full[:1], full[1:-1].repeat_interleave(2), full[-1:]])
        timesteps = sigmas * TRAIN_STEPS
        self.timesteps = torch.cat([timesteps[:1], timesteps[1:].repeat_interleave(2)])
        self.weight = omega_weight(omega)
        self.index = 0
        self._pending: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None

    def step(self, velocity: torch.Tensor, sample: torch.Tensor, *, generator=None) -> torch.Tensor:
        sample = sample.float()
        if self._pending is None:
            sigma, sigma_next = self.sigmas[self.index], self.sigmas[self.index + 1]
            denoised = sample - velocity * sigma
            derivative = (sample - denoised) / sigma
            dt = sigma_next - sigma
            self._pending = (derivative, dt, sample)
            start = sample
        else:
            sigma_next = self.sigmas[self.index]
            denoised = sample - velocity * sigma_next
            first_derivative, dt, start = self._pending
            derivative = 0.5 * (first_derivative + (sample - denoised) / sigma_next)
            self._pending = None
        self.index += 1
        return (start + _mean_shifted(derivative * dt, self.weight)).to(velocity.dtype)


class PingPongSampler:
    """SDE step: x0 = x - sigma·v, then re-noise to sigma_next with fresh Gaussian noise."""

    def __init__(self, sigmas: torch.Tensor, *, omega: float):
        self.sigmas = torch.cat([sigmas, sigmas.new_zeros(1)])
        self.timesteps = sigmas * TRAIN_STEPS
        self.index = 0

    def step(self, velocity: torch.Tensor, sample: torch.Tensor, *, generator=None) -> torch.Tensor:
        sigma, sigma_next = self.sigmas[self.index], self.sigmas[self.index + 1]
        sample = sample.float()
        denoised = sample - sigma * velocity
        noise = torch.empty_like(sample).normal_(generator=generator)
        self.index += 1
        return ((1 - sigma_next) * denoised + sigma_next * noise).to(velocity.dtype)


_SAMPLERS = {"euler": EulerSampler, "heun": HeunSampler, "pingpong": PingPongSampler}


@dataclass
class Schedule:
    sampler: EulerSampler | HeunSampler | PingPongSampler
    timesteps: torch.Tensor  # what the loop iterates (1000·sigma)
    num_inference_steps: int  # what upstream's guidance interval is computed from


def parse_oss_steps(oss_steps) -> list[int]:
    """Upstream accepts a "1,4,9" string; we also take a list of ints. Empty means none."""
    if oss_steps is None or oss_steps == "" or oss_steps == []:
        return []
    if isinstance(oss_steps, str):
        try:
            steps = [int(part) for part in oss_steps.split(",")]
        except ValueError:
            raise ValueError(f"oss_steps must be comma-separated step numbers like '1,4,9', got {oss_steps!r}") from None
    else:
        steps = [int(step) for step in oss_steps]
    if any(step < 1 for step in steps):
        raise ValueError(f"oss_steps are 1-based step numbers, got {steps}")
    if steps.count(steps[0]) > 1:
        # upstream's scheduler looks the first timestep up and takes its second occurrence, runs
        # off the end of its sigmas and fails with an IndexError mid-run
        raise ValueError(f"oss_steps may not repeat the first step ({steps[0]}), got {steps}")
    return steps


def make_schedule(
    *,
    scheduler_type: str,
    infer_step: int,
    omega_scale: float,
    oss_steps=None,
    sigma_max: float = 1.0,
    dtype: torch.dtype = torch.float32,
) -> Schedule:
    """The loop schedule upstream's `text2music_diffusion_process` builds."""
    if scheduler_type not in _SAMPLERS:
        raise ValueError(f"scheduler_type must be one of {', '.join(SCHEDULER_TYPES)}, got {scheduler_type!r}")
    if infer_step < 1:
        raise ValueError(f"infer_step must be at least 1, got {infer_step}")
    sampler_cls = _SAMPLERS[scheduler_type]
    picks = parse_oss_steps(oss_steps)
    if not picks:
        sampler = sampler_cls(inference_sigmas(infer_step, sigma_max=sigma_max), omega=omega_scale)
        return Schedule(sampler=sampler, timesteps=sampler.timesteps, num_inference_steps=infer_step)
    if scheduler_type == "heun":
        raise ValueError("oss_steps needs an explicit-sigma scheduler (euler or pingpong); upstream's Heun rejects it")
    base = inference_sigmas(max(picks), sigma_max=sigma_max) * TRAIN_STEPS
    # upstream gathers the picks into a tensor of the model dtype (bf16 rounds them) before / 1000
    picked = (torch.stack([base[step - 1] for step in picks]).to(dtype) / TRAIN_STEPS).float()
    # explicit sigmas are shifted once more by set_timesteps (in fp32, as numpy does for fp32 input)
    sampler = sampler_cls(_shift(picked), omega=omega_scale)
    return Schedule(sampler=sampler, timesteps=sampler.timesteps, num_inference_steps=len(picks))
