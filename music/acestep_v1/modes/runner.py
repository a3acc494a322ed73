"""Runs the editing modes on a loaded `ACEStepV1Pipeline`, reusing its public pieces.

`ACEStepV1Pipeline.generate_with_token_ids` calls `prepare_mode` before any model work (argument
checks, audio files read) and, for any task but text2music, `sample_mode` in place of its own
noise + denoise block. Retake, repaint, extend and audio2audio go through the pipeline's
`denoise` loop (same guidance, progress, cancellation and NaN checks) with their own start
latents, schedule and hooks; edit runs FlowEdit (`modes.flowedit_sample`) with the velocity
computed here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch

from music.acestep_v1.models.transformer import Conditions
from music.acestep_v1.modes import latents as modes
from music.acestep_v1.modes.arguments import ModeSpec, check_lora_weight, resolve_mode
from music.acestep_v1.sampling.guidance import MomentumBuffer, apg
from music.acestep_v1.sampling.schedulers import make_schedule, parse_oss_steps, training_sigma_range
from music.engine import ProgressCallback, no_progress

if TYPE_CHECKING:  # the pipeline imports this module
    from music.acestep_v1.pipeline import ACEStepV1Pipeline, ConditionSet, Text2MusicCall

MODE_DEFAULTS: dict[str, Any] = {
    "audio2audio_enable": False, "ref_audio_strength": 0.5, "ref_audio_input": None,
    "lora_name_or_path": "none", "lora_weight": 1.0, "retake_seeds": None, "retake_variance": 0.5,
    "repaint_start": 0.0, "repaint_end": 0.0, "src_audio_path": None, "edit_target_prompt": None,
    "edit_target_lyrics": None, "edit_n_min": 0.0, "edit_n_max": 1.0, "edit_n_avg": 1,
}


@dataclass
class PreparedMode:
    spec: ModeSpec
    arguments: dict[str, Any]  # the mode arguments with defaults filled in
    retake_seeds: list[int] | None = None
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def task(self) -> str:
        return self.spec.task


def prepare_mode(*, task: str, batch_size: int, **mode_kwargs) -> PreparedMode:
    """Validate the mode arguments and read their audio; no model is touched."""
    from music.acestep_v1.pipeline import parse_seeds

    unknown = sorted(set(mode_kwargs) - set(MODE_DEFAULTS))
    if unknown:
        raise TypeError(f"unknown mode argument(s): {', '.join(unknown)}")
    args = {**MODE_DEFAULTS, **mode_kwargs}
    spec = resolve_mode(
        task=task,
        **{k: args[k] for k in (
            "src_audio_path", "repaint_start", "repaint_end", "retake_variance", "audio2audio_enable",
            "ref_audio_input", "ref_audio_strength", "edit_target_prompt", "edit_target_lyrics",
            "edit_n_min", "edit_n_max", "edit_n_avg",
        )},
    )
    check_lora_weight(args["lora_weight"])
    prepared = PreparedMode(spec=spec, arguments=args)
    if spec.uses_retake_noise or spec.task == "edit":
        prepared.retake_seeds = parse_seeds(args["retake_seeds"], batch_size)
    prepared.parameters = _recorded_parameters(prepared)
    return prepared


def _recorded_parameters(prepared: PreparedMode) -> dict[str, Any]:
    spec, args = prepared.spec, prepared.arguments
    out: dict[str, Any] = {"task": spec.task}
    if prepared.retake_seeds is not None:
        out["retake_seeds"] = prepared.retake_seeds
    if spec.uses_retake_noise:
        out["retake_variance"] = spec.retake_variance
    if spec.source is not None:
        out["src_audio_path"] = str(spec.source.path)
    if spec.task == "repaint":
        out.update(repaint_start=args["repaint_start"], repaint_end=args["repaint_end"],
                   repaint_frames=[spec.repaint_start_frame, spec.repaint_end_frame])
    if spec.task == "extend":
        out.update(repaint_start=args["repaint_start"], repaint_end=args["repaint_end"],
                   extend_frames=[spec.extend_left_frames, spec.extend_right_frames])
    if spec.task == "edit":
        out.update(edit_target_prompt=args["edit_target_prompt"], edit_target_lyrics=args["edit_target_lyrics"],
                   edit_n_min=spec.edit_n_min, edit_n_max=spec.edit_n_max, edit_n_avg=spec.edit_n_avg)
    if spec.task == "audio2audio":
        out.update(audio2audio_enable=True, ref_audio_input=str(spec.reference.path),
                   ref_audio_strength=spec.ref_audio_strength)
    return out


def apply_lora(pipe: "ACEStepV1Pipeline", prepared: PreparedMode) -> dict[str, Any]:
    """Load / re-weight / switch / unload the DiT's LoRA as the call asks (base never reloaded);
    returns the parameters to record."""
    pipe.lora.apply(prepared.arguments["lora_name_or_path"], prepared.arguments["lora_weight"])
    if pipe.lora.active:
        return {"lora_name_or_path": pipe.lora.source, "lora_weight": pipe.lora.weight}
    return {}


def encode_audio(pipe: "ACEStepV1Pipeline", waveform: torch.Tensor) -> torch.Tensor:
    """(2, samples) float32 44.1 kHz -> latents (1, 8, 16, W) with the exact mel front-end."""
    with torch.inference_mode(), pipe.offload.use(pipe.dcae.autoencoder, pipe.dcae.vocoder):
        return pipe.dcae.encode(waveform[None].to(device=pipe.device, dtype=pipe.dtype))


def sample_mode(
    pipe: "ACEStepV1Pipeline",
    call: "Text2MusicCall",
    *,
    conditions: "ConditionSet",
    generators: list[torch.Generator],
    progress: ProgressCallback = no_progress,
) -> torch.Tensor:
    """Final latents (B, 8, 16, W) of a retake / repaint / extend / edit / audio2audio run."""
    prepared: PreparedMode = call.mode
    retake_generators = pipe.make_generators(prepared.retake_seeds) if prepared.retake_seeds else None
    loop = dict(conditions=conditions, plan=call.plan, generator=generators[0], progress=progress)
    task = prepared.spec.task
    if task == "retake":
        return _retake(pipe, call, generators, retake_generators, loop)
    if task == "audio2audio":
        return _audio2audio(pipe, call, generators, loop)
    src = encode_audio(pipe, prepared.spec.source.waveform)
    if task == "edit":
        return _flowedit(pipe, call, src=src, generators=retake_generators, progress=progress)
    return _repaint_or_extend(pipe, call, src, generators, retake_generators, loop)


def _upstream_step_count(call: "Text2MusicCall") -> int:
    """N as upstream's repaint n_min and audio2audio use it: max(oss_steps) once they are given."""
    picks = parse_oss_steps(call.schedule_args["oss_steps"])
    return max(picks) if picks else int(call.schedule_args["infer_step"])


def _retake(pipe, call, generators, retake_generators, loop) -> torch.Tensor:
    from music.acestep_v1.models.dcae import frames_for_duration

    frames = frames_for_duration(call.audio_duration)
    noise, retake_noise = pipe.initial_noise(generators, frames), pipe.initial_noise(retake_generators, frames)
    latents = modes.trigflow_mix(noise, retake_noise, call.mode.spec.retake_variance)
    return pipe.denoise(latents=latents, schedule=make_schedule(**call.schedule_args), **loop)


def _audio2audio(pipe, call, generators, loop) -> torch.Tensor:
    spec = call.mode.spec
    ref = encode_audio(pipe, spec.reference.waveform)
    noise = pipe.initial_noise(generators, ref.shape[-1])
    sigma_max, steps = modes.audio2audio_steps(spec.ref_audio_strength, _upstream_step_count(call))
    if sigma_max <= 0:  # strength 1: the reference itself
        return ref.expand(call.batch_size, -1, -1, -1).clone()
    # not upstream: at least one step (upstream returns the half-noised mix when int() gives 0)
    args = call.schedule_args
    schedule = make_schedule(scheduler_type=args["scheduler_type"], infer_step=max(steps, 1),
                             omega_scale=float(args["omega_scale"]), sigma_max=sigma_max, dtype=pipe.dtype)
    start = modes.audio2audio_start(ref, noise, training_sigma_range(sigma_max)[0])
    return pipe.denoise(latents=start, schedule=schedule, **loop)


def _repaint_or_extend(pipe, call, src, generators, retake_generators, loop) -> torch.Tensor:
    spec = call.mode.spec
    width = src.shape[-1]
    noise = pipe.initial_noise(generators, width)
    retake_noise = pipe.initial_noise(retake_generators, spec.frame_length if spec.task == "extend" else width)
    setup_fn = modes.extend_setup if spec.task == "extend" else modes.repaint_setup
    setup = setup_fn(spec, src_latents=src, noise=noise, retake_noise=retake_noise, infer_steps=_upstream_step_count(call))
    if setup is None:  # the region is the whole source: upstream regenerates it like a retake
        latents = modes.trigflow_mix(noise, retake_noise, spec.retake_variance)
        return pipe.denoise(latents=latents, schedule=make_schedule(**call.schedule_args), **loop)
    # plain Euler updates over the N distinct timesteps, whatever the sampler
    euler = make_schedule(**{**call.schedule_args, "scheduler_type": "euler"})
    before_step, update = modes.repaint_hooks(setup, timesteps=euler.timesteps.to(pipe.device))
    start = setup.x0.expand(call.batch_size, -1, -1, -1).clone()  # returned as is when nothing is repainted
    return pipe.denoise(latents=start, schedule=euler, first_step=setup.n_min, before_step=before_step,
                        update=update, **loop)


# ---- edit ---------------------------------------------------------------------------------------

def _edit_conditions(pipe: "ACEStepV1Pipeline", *, prompt: str, lyric_ids: list[int], batch_size: int) -> Conditions:
    """[cond; uncond] rows for FlowEdit: upstream's edit uncond is zero text, zero speaker and zero
    lyric ids with a zero lyric mask (no ERG); each row expanded to the batch."""
    from music.acestep_v1.pipeline import NULL_LYRIC_ID

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
    pipe: "ACEStepV1Pipeline",
    call: "Text2MusicCall",
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
    latents = modes.flowedit_sample(
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
        from music.acestep_v1.pipeline import NonFiniteError

        raise NonFiniteError("non-finite values (NaN/inf) in the edited latents; try float32 or other edit_n_* values")
    return latents
