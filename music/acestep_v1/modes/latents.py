"""The editing modes' latent arithmetic: retake, repaint, extend, audio2audio starts, FlowEdit.

Model-free: every function takes tensors and a velocity callable, so the maths can be checked on
its own and the pipeline only wires models in. Behaviour is upstream's
(`text2music_diffusion_process`, `flowedit_diffusion_process`, `add_latents_noise`) except where
upstream is broken, marked "not upstream" below.

* retake: start from cos(v·π/2)·x_T + sin(v·π/2)·x_T' (x_T' from `retake_seeds`), then the
  ordinary loop.
* repaint / extend: source latents x0, a frame mask and a start noise z0; skip the first
  n_min = int(N·(1 - v)) steps, jump to (1-t)·x0 + t·z0, then plain Euler steps where frames
  outside the mask are reset to (1-t')·x0 + t'·z0 after every step.
* audio2audio: x = ref·(1-s) + x_T·s with s the once-shifted sigma_max = shift(1 - strength),
  then the loop over a schedule of int((1 - strength)·N) steps that starts there.
* edit (FlowEdit): z_edit moves by the difference of target and source velocities evaluated on
  shared noisy copies; from n_max on, ordinary sampling under the target condition.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

import torch

from music.acestep_v1.modes.arguments import ModeSpec

StepHook = Callable[[int, int], None]


def draw_noise(shape: Sequence[int], generators: Sequence[torch.Generator], *, device, dtype) -> torch.Tensor:
    """diffusers `randn_tensor` with one generator per batch row (drawn on the generators' device)."""
    rows = [torch.randn((1, *shape[1:]), generator=g, device=g.device, dtype=dtype) for g in generators]
    return torch.cat(rows).to(device)


def trigflow_mix(noise: torch.Tensor, retake_noise: torch.Tensor, variance: float) -> torch.Tensor:
    """Variance-preserving blend of the original and the retake noise (upstream's "retake")."""
    angle = torch.tensor(variance * math.pi / 2, dtype=noise.dtype, device=noise.device)
    return torch.cos(angle) * noise + torch.sin(angle) * retake_noise


@dataclass
class RepaintSetup:
    x0: torch.Tensor  # source latents (B, 8, 16, W), zero in extended frames
    z0: torch.Tensor  # the noise the repainted frames start from
    mask: torch.Tensor  # bool (1, 1, 1, W): True where new content is generated
    n_min: int  # loop steps skipped


def skipped_steps(infer_steps: int, retake_variance: float) -> int:
    return int(infer_steps * (1 - retake_variance))


def repaint_setup(
    spec: ModeSpec, *, src_latents: torch.Tensor, noise: torch.Tensor, retake_noise: torch.Tensor, infer_steps: int
) -> RepaintSetup | None:
    """None when the region is the whole source: upstream then runs a plain retake from the mix."""
    width = src_latents.shape[-1]
    start, end = spec.repaint_start_frame, spec.repaint_end_frame
    if end - start == width:
        return None
    mask = torch.zeros(1, 1, 1, width, dtype=torch.bool, device=src_latents.device)
    mask[..., start:end] = True
    z0 = torch.where(mask, trigflow_mix(noise, retake_noise, spec.retake_variance), noise)
    return RepaintSetup(x0=src_latents, z0=z0, mask=mask, n_min=skipped_steps(infer_steps, spec.retake_variance))


def extend_setup(
    spec: ModeSpec, *, src_latents: torch.Tensor, noise: torch.Tensor, retake_noise: torch.Tensor, infer_steps: int
) -> RepaintSetup:
    """Zero-pad the source by the requested frames; the pads start from retake noise.

    Not upstream: the right pad is the requested length (upstream subtracts the left pad from it),
    and `retake_noise` spans the whole extended length so pads longer than the source work.
    `noise` covers the source frames (as upstream), `retake_noise` the total length.
    """
    left, right = spec.extend_left_frames, spec.extend_right_frames
    width = src_latents.shape[-1]
    total = left + width + right
    if noise.shape[-1] != width or retake_noise.shape[-1] != total:
        raise ValueError(f"noise widths {noise.shape[-1]}, {retake_noise.shape[-1]} do not fit {width} + pads = {total}")
    x0 = torch.nn.functional.pad(src_latents, (left, right))
    z0 = torch.cat([retake_noise[..., :left], noise, retake_noise[..., total - right :]], dim=-1)
    mask = torch.zeros(1, 1, 1, total, dtype=torch.bool, device=src_latents.device)
    mask[..., :left] = True
    mask[..., total - right :] = True
    return RepaintSetup(x0=x0, z0=z0, mask=mask, n_min=skipped_steps(infer_steps, spec.retake_variance))


def repaint_hooks(setup: RepaintSetup, *, timesteps: torch.Tensor):
    """`before_step` / `update` hooks for the pipeline's denoise loop (run with first_step=n_min).

    At step n_min the latents jump to (1-t)·x0 + t·z0; every step is then a plain Euler update
    whose frames outside the mask are reset to the source path. `timesteps` must be the distinct
    N-step list (upstream iterates Heun's doubled list here while counting n_min in N; not
    upstream: we always use the N-step list)."""
    x0, z0, mask = setup.x0, setup.z0, setup.mask
    total = len(timesteps)

    def before_step(i: int, t: torch.Tensor, latents: torch.Tensor) -> torch.Tensor:
        if i != setup.n_min:
            return latents
        t_i = t / 1000
        zt_src = (1 - t_i) * x0 + t_i * z0
        return x0 + zt_src - x0  # upstream's zt_edit + zt_src - x0, kept for identical rounding

    def update(i: int, t: torch.Tensor, velocity: torch.Tensor, latents: torch.Tensor) -> torch.Tensor:
        t_i = t / 1000
        t_next = timesteps[i + 1] / 1000 if i + 1 < total else torch.zeros_like(t_i)
        stepped = (latents.float() + (t_next - t_i) * velocity).to(latents.dtype)
        return torch.where(mask, stepped, (1 - t_next) * x0 + t_next * z0)

    return before_step, update


def audio2audio_steps(ref_audio_strength: float, infer_steps: int) -> tuple[float, int]:
    """(unshifted sigma_max, steps) as upstream computes them: 1 - strength, int(sigma_max · N)."""
    sigma_max = 1 - ref_audio_strength
    return sigma_max, int(sigma_max * infer_steps)


def audio2audio_start(ref_latents: torch.Tensor, noise: torch.Tensor, shifted_sigma_max: float) -> torch.Tensor:
    return ref_latents * (1 - shifted_sigma_max) + noise * shifted_sigma_max


# ---- FlowEdit ---------------------------------------------------------------------------------

# (latents, timestep, target?, momentum buffer or None) -> guided velocity. `target` selects the
# condition (edit target vs source); the buffer carries APG momentum between calls.
EditVelocity = Callable[[torch.Tensor, torch.Tensor, bool, object], torch.Tensor]


def flowedit_sample(
    *,
    x_src: torch.Tensor,
    timesteps: torch.Tensor,
    sigmas: torch.Tensor,
    n_min: int,
    n_max: int,
    n_avg: int,
    generators: Sequence[torch.Generator],
    velocity: EditVelocity,
    new_momentum: Callable[[], object],
    pingpong: bool = False,
    on_step: StepHook | None = None,
) -> torch.Tensor:
    """FlowEdit as upstream runs it, with its draw order (all noise from `generators`).

    n_min / n_max are loop indices (int(N·edit_n_min), int(N·edit_n_max)). Momentum: the source
    velocity keeps one APG buffer across the editing phase; the target velocity has none while
    editing and its own buffer in the sampling phase (upstream's calc_v wiring). Not upstream:
    with `pingpong` the editing phase really updates z_edit (upstream drops the update).
    """
    dtype = x_src.dtype
    src_momentum, tar_momentum = new_momentum(), new_momentum()
    z_edit = x_src.clone()
    x_tar = None
    total = len(timesteps)
    for i, t in enumerate(timesteps):
        if i < n_min:
            continue
        t_i = t / 1000
        t_next = timesteps[i + 1] / 1000 if i + 1 < total else torch.zeros_like(t_i)
        if i < n_max:
            delta = torch.zeros_like(x_src)
            for _ in range(n_avg):
                fwd_noise = draw_noise(x_src.shape, generators, device=x_src.device, dtype=dtype)
                zt_src = (1 - t_i) * x_src + t_i * fwd_noise
                zt_tar = z_edit + zt_src - x_src
                v_src = velocity(zt_src, t, False, src_momentum)
                v_tar = velocity(zt_tar, t, True, None)
                delta += (1 / n_avg) * (v_tar - v_src)
            z_edit = z_edit.float()
            if pingpong:
                denoised = z_edit - t_i * delta
                noise = torch.empty_like(z_edit).normal_(generator=generators[0])
                z_edit = ((1 - t_next) * denoised + t_next * noise).to(dtype)
            else:
                z_edit = (z_edit + (t_next - t_i) * delta).to(dtype)
        else:
            if i == n_max:
                fwd_noise = draw_noise(x_src.shape, generators, device=x_src.device, dtype=dtype)
                sigma = sigmas[i]
                xt_src = sigma * fwd_noise + (1.0 - sigma) * x_src
                x_tar = z_edit + xt_src - x_src
            v_tar = velocity(x_tar, t, True, tar_momentum)
            x_tar = x_tar.float()
            if pingpong:
                denoised = x_tar - t_i * v_tar
                noise = torch.empty_like(z_edit).normal_(generator=generators[0])
                x_tar = ((1 - t_next) * denoised + t_next * noise).to(dtype)
            else:
                x_tar = (x_tar + (t_next - t_i) * v_tar).to(dtype)
        if on_step is not None:
            on_step(i + 1, total)
    return z_edit if x_tar is None else x_tar
