"""The one place that runs a call's sampling loop, for every task (text2music included).

`ACEStepV1Pipeline.run_text2music` calls `sample_latents` once the conditions are encoded.
text2music, retake, repaint, extend and audio2audio go through the pipeline's `denoise` loop
(same guidance, progress, cancellation and NaN checks), each with its own start latents,
schedule and hooks (`latents` holds their model-free arithmetic); edit runs FlowEdit
(`latents.flowedit_sample`) with the velocity computed here.

The pipeline is passed in and described by the `LoadedPipeline` protocol: the pipeline imports
this module, so this module does not import the pipeline.
"""

from __future__ import annotations

from typing import Callable, Protocol

import torch

from music.acestep_v1.calls import ConditionSet, Text2MusicCall
from music.acestep_v1.common import NULL_LYRIC_ID, NonFiniteError, frames_for_duration
from music.acestep_v1.loading.offload import ModelOffload
from music.acestep_v1.models.dcae import MusicDCAE
from music.acestep_v1.models.text_encoder import UMT5TextEncoder
from music.acestep_v1.models.transformer import ACEStepDiT, Conditions
from music.acestep_v1.modes import latents as mode_latents
from music.acestep_v1.sampling.guidance import GuidancePlan, MomentumBuffer, apg
from music.acestep_v1.sampling.schedulers import Schedule, make_schedule, parse_oss_steps, training_sigma_range
from music.engine import ProgressCallback, no_progress


class LoadedPipeline(Protocol):
    """What the sampler uses of `ACEStepV1Pipeline`."""

    device: torch.device
    dtype: torch.dtype
    transformer: ACEStepDiT
    text_encoder: UMT5TextEncoder
    dcae: MusicDCAE
    offload: ModelOffload
    cache_cross_attention: bool

    def tokenize_lyrics(self, lyrics: str) -> list[int]: ...

    def make_generators(self, seeds: list[int]) -> list[torch.Generator]: ...

    def initial_noise(self, generators: list[torch.Generator], frames: int) -> torch.Tensor: ...

    def denoise(
        self,
        *,
        latents: torch.Tensor,
        schedule: Schedule,
        conditions: ConditionSet,
        plan: GuidancePlan,
        generator: torch.Generator | None = None,
        first_step: int = 0,
        before_step: Callable[[int, torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
        update: Callable[[int, torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
        progress: ProgressCallback = no_progress,
    ) -> torch.Tensor: ...


def encode_audio(pipe: LoadedPipeline, waveform: torch.Tensor) -> torch.Tensor:
    """(2, samples) float32 44.1 kHz -> latents (1, 8, 16, W) with the exact mel front-end."""
    with torch.inference_mode(), pipe.offload.use(pipe.dcae.autoencoder, pipe.dcae.vocoder):
        return pipe.dcae.encode(waveform[None].to(device=pipe.device, dtype=pipe.dtype))


def sample_latents(
    pipe: LoadedPipeline,
    call: Text2MusicCall,
    *,
    conditions: ConditionSet,
    generators: list[torch.Generator],
    progress: ProgressCallback = no_progress,
) -> torch.Tensor:
    """Final latents (B, 8, 16, W) of the call's task. `generators`: one per batch item, from the
    call's seeds; the first also feeds PingPong's re-noising (as upstream)."""
    prepared = call.mode
    retake_generators = pipe.make_generators(prepared.retake_seeds) if prepared.retake_seeds else None
    loop = dict(conditions=conditions, plan=call.plan, generator=generators[0], progress=progress)
    task = prepared.spec.task
    if task == "text2music":
        latents = pipe.initial_noise(generators, frames_for_duration(call.audio_duration))
        return pipe.denoise(latents=latents, schedule=make_schedule(**call.schedule_args), **loop)
    if task == "retake":
        return _retake(pipe, call, generators, retake_generators, loop)
    if task == "audio2audio":
        return _audio2audio(pipe, call, generators, loop)
    src = encode_audio(pipe, prepared.source.waveform)
    if task == "edit":
        return _flowedit(pipe, call, src=src, generators=retake_generators, progress=progress)
    return _repaint_or_extend(pipe, call, src, generators, retake_generators, loop)


def _upstream_step_count(call: Text2MusicCall) -> int:
    """N as upstream's repaint n_min and audio2audio use it: max(oss_steps) once they are given."""
    picks = parse_oss_steps(call.schedule_args["oss_steps"])
    return max(picks) if picks else int(call.schedule_args["infer_step"])


def _retake(pipe, call, generators, retake_generators, loop) -> torch.Tensor:
    frames = frames_for_duration(call.audio_duration)
    noise, retake_noise = pipe.initial_noise(generators, frames), pipe.initial_noise(retake_generators, frames)
    latents = mode_latents.trigflow_mix(noise, retake_noise, call.mode.spec.retake_variance)
    return pipe.denoise(latents=latents, schedule=make_schedule(**call.schedule_args), **loop)


def _audio2audio(pipe, call, generators, loop) -> torch.Tensor:
    spec = call.mode.spec
    ref = encode_audio(pipe, call.mode.reference.waveform)
    noise = pipe.initial_noise(generators, ref.shape[-1])
    sigma_max, steps = mode_latents.audio2audio_steps(spec.ref_audio_strength, _upstream_step_count(call))
    if sigma_max <= 0:  # strength 1: the reference itself
        return ref.expand(call.batch_size, -1, -1, -1).clone()
    # not upstream: at least one step (upstream returns the half-noised mix when int() gives 0)
    args = call.schedule_args
    schedule = make_schedule(scheduler_type=args["scheduler_type"], infer_step=max(steps, 1),
                             omega_scale=float(args["omega_scale"]), sigma_max=sigma_max, dtype=pipe.dtype)
    start = mode_latents.audio2audio_start(ref, noise, training_sigma_range(sigma_max)[0])
    return pipe.denoise(latents=start, schedule=schedule, **loop)


def _repaint_or_extend(pipe, call, src, generators, retake_generators, loop) -> torch.Tensor:
    spec = call.mode.spec
    width = src.shape[-1]
    noise = pipe.initial_noise(generators, width)
    retake_noise = pipe.initial_noise(retake_generators, spec.frame_length if spec.task == "extend" else width)
    setup_fn = mode_latents.extend_setup if spec.task == "extend" else mode_latents.repaint_setup
    setup = setup_fn(spec, src_latents=src, noise=noise, retake_noise=retake_noise, infer_steps=_upstream_step_count(call))
    if setup is None:  # the region is the whole source: upstream regenerates it like a retake
        latents = mode_latents.trigflow_mix(noise, retake_noise, spec.retake_variance)
        return pipe.denoise(latents=latents, schedule=make_schedule(**call.schedule_args), **loop)
    # plain Euler updates over the N distinct timesteps, whatever the sampler
    euler = make_schedule(**{**call.schedule_args, "scheduler_type": "euler"})
    before_step, update = mode_latents.repaint_hooks(setup, timesteps=euler.timesteps.to(pipe.device))
    start = setup.x0.expand(call.batch_size, -1, -1, -1).clone()  # returned as is when nothing is repainted
    return pipe.denoise(latents=start, schedule=euler, first_step=setup.n_min, before_step=before_step,
                        update=update, **loop)


# ---- edit ---------------------------------------------------------------------------------------

def _edit_conditions(pipe: LoadedPipeline, *, prompt: str, lyric_ids: list[int], batch_size: int) -> Conditions:
    """[cond; uncond] rows for FlowEdit: upstream's edit uncond is zero text, zero speaker and zero
    lyric ids with a zero lyric mask (no ERG); each row expanded to the batch."""
    with pipe.offload.use(pipe.text_encoder.model):
        text = pipe.text_encoder.encode(prompt, with_null=False)
    states = text.states.to(pipe.dtype)
    if lyric_ids:
        ids = torch.tensor([lyric_ids], dtype=torch.long, device=pipe.device)
        mask = torch.ones_like(ids)
    else:
        ids = torch.full((1, 1), NULL_LYRIC_ID, dtype=torch.long, device=pipe.device)
        mask = torch.zeros_like(ids)
    encoded = pipe.transformer.encode(
        text_states=torch.cat([states, torch.zeros_like(states)]),
        text_mask=text.mask.to(pipe.device).repeat(2, 1),
        speaker_embeds=torch.zeros(2, pipe.transformer.config.speaker_embedding_dim, device=pipe.device, dtype=pipe.dtype),
        lyric_ids=torch.cat([ids, torch.zeros_like(ids)]),
        lyric_mask=torch.cat([mask, torch.zeros_like(mask)]),
    )
    if pipe.cache_cross_attention:  # the K/V of both rows once, not per step
        encoded = pipe.transformer.cache_context(encoded)
    rows = torch.tensor([0] * batch_size + [1] * batch_size, device=pipe.device)
    kv = None if encoded.kv is None else [(k[rows], v[rows]) for k, v in encoded.kv]
    return Conditions(states=encoded.states[rows], mask=encoded.mask[rows], kv=kv)


@torch.inference_mode()
def _flowedit(
    pipe: LoadedPipeline,
    call: Text2MusicCall,
    *,
    src: torch.Tensor,
    generators: list[torch.Generator],
    progress: ProgressCallback,
) -> torch.Tensor:
    spec = call.mode.spec
    prompt, source_lyrics, plan, batch_size = call.prompt, list(call.lyric_token_ids), call.plan, call.batch_size
    infer_step = int(call.schedule_args["infer_step"])
    pingpong = call.schedule_args["scheduler_type"] == "pingpong"
    target_prompt = spec.edit_target_prompt if spec.edit_target_prompt is not None else prompt
    target_ids = (
        pipe.tokenize_lyrics(spec.edit_target_lyrics) if spec.edit_target_lyrics else
        ([] if spec.edit_target_lyrics == "" else source_lyrics)
    )
    source_cond = _edit_conditions(pipe, prompt=prompt, lyric_ids=source_lyrics, batch_size=batch_size)
    target_cond = _edit_conditions(pipe, prompt=target_prompt, lyric_ids=target_ids, batch_size=batch_size)
    guided = plan.enabled
    scale = plan.guidance_scale

    def velocity(latents, t, target, momentum):
        context = target_cond if target else source_cond
        if not guided:
            kv = None if context.kv is None else [(k[:batch_size], v[:batch_size]) for k, v in context.kv]
            half = Conditions(states=context.states[:batch_size], mask=context.mask[:batch_size], kv=kv)
            return pipe.transformer.decode(latents=latents, timestep=t.expand(batch_size), conditions=half)
        out = pipe.transformer.decode(latents=latents.repeat(2, 1, 1, 1), timestep=t.expand(2 * batch_size), conditions=context)
        cond, uncond = out.split(batch_size)
        return apg(cond, uncond, scale=scale, momentum=momentum)  # upstream's edit always uses APG

    # FlowEdit always runs on the Euler sigmas of infer_step steps (upstream ignores oss_steps here)
    euler = make_schedule(scheduler_type="euler", infer_step=infer_step, omega_scale=0.0, dtype=pipe.dtype)
    x_src = src.expand(batch_size, -1, -1, -1).contiguous()
    latents = mode_latents.flowedit_sample(
        x_src=x_src,
        timesteps=euler.timesteps.to(pipe.device),
        sigmas=euler.sampler.sigmas.to(pipe.device),
        n_min=int(infer_step * spec.edit_n_min),
        n_max=int(infer_step * spec.edit_n_max),
        n_avg=spec.edit_n_avg,
        generators=generators,
        velocity=velocity,
        new_momentum=MomentumBuffer,
        pingpong=pingpong,
        on_step=lambda step, total: progress("diffusion", step, total),
    )
    if not bool(torch.isfinite(latents).all()):
        raise NonFiniteError("non-finite values (NaN/inf) in the edited latents; try float32 or other edit_n_* values")
    return latents
