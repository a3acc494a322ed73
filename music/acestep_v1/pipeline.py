"""ACE-Step v1 text2music pipeline: orchestration only, numerically equal to upstream.

How a call flows (each piece is a method a mode can reuse on its own):

1. `encode_conditions(prompt=..., lyric_ids=..., ...)` -> `ConditionSet`. UMT5 runs once (the
   ERG-tag "null" text rides in the same batch), the Conformer runs once for every condition
   kind needed (cond / null / text-only), each on one row that is then expanded to the batch;
   the DiT's cross-attention keys/values of each context are computed here too, once per call.
2. `make_generators(seeds)` + `initial_noise(...)`: one `torch.Generator` per batch item on the
   pipeline's device, as upstream's `randn_tensor` (so CPU noise equals upstream's CPU noise).
3. `schedulers.make_schedule(...)`: the loop's timesteps and the sampler.
4. `denoise(latents=..., schedule=..., conditions=..., plan=..., ...)`: the sampling loop. Per
   step it computes the (guided) velocity with all passes of the step in one batched forward
   and hands it to the sampler. Hooks for the editing modes: `first_step` (earlier steps are
   skipped, as upstream's repaint does), `before_step(i, t, latents) -> latents` and
   `update(i, t, velocity, latents) -> latents` (replaces the sampler step, e.g. repaint's
   masked Euler update). Progress is reported per step; the callback may raise `Cancelled`.
   Non-finite latents stop the run with `NonFiniteError` naming the step.
5. `decode(latents, sample_rate=...)`: DCAE + vocoder (both channels in one batch), optional
   windowed decode for long songs (`audio.long_decode`), optional 48 kHz resampling.

`generate(**upstream_kwargs)` wires these for every task and returns latents, audio, seeds:
`prepare_text2music` checks the arguments once (`call_check.check_call`, the one check, which the
engine instead runs at submit) and `build_call` readies the checked call (audio decoded once), and
`run_text2music` encodes the conditions, lets `modes.sampler.sample_latents` (the one place that
runs a task's sampling loop) produce the latents, and decodes them.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import replace
from pathlib import Path
from typing import Callable

import torch

from music.acestep_v1.audio.long_decode import DCAE_WINDOW, decode_windowed
from music.acestep_v1.audio.resample import resample
from music.acestep_v1.call_check import CheckedCall, check_call
from music.acestep_v1.calls import ConditionSet, GenerationOutput, Text2MusicCall
from music.acestep_v1.common import (
    NATIVE_SAMPLE_RATE,
    NULL_LYRIC_ID,
    SAMPLE_RATES,
    STRUCTURE_TAGS,
    NonFiniteError,
    frames_for_duration,
    parse_seeds,
    unknown_structure_tags,
)
from music.acestep_v1.compile_policy import decide as decide_compile
from music.acestep_v1.fast.session import FastModes
from music.acestep_v1.fast.step_cache import step_cache_view
from music.acestep_v1.loading import checkpoint as ckpt
from music.acestep_v1.loading.lora import LoraSlot
from music.acestep_v1.loading.offload import ModelOffload
from music.acestep_v1.lyric_frontend.tokenizer import LyricTokenizer
from music.acestep_v1.models.dcae import MusicDCAE
from music.acestep_v1.models.text_encoder import UMT5TextEncoder
from music.acestep_v1.models.transformer import ACEStepDiT, Conditions
from music.acestep_v1.modes.prepare import load_mode
from music.acestep_v1.modes.sampler import sample_latents
from music.acestep_v1.sampling.guidance import GuidancePlan, Guider
from music.acestep_v1.sampling.schedulers import Schedule
from music.engine import ProgressCallback, no_progress

log = logging.getLogger(__name__)

LONG_DECODE_WINDOW = 512  # latent frames (~47.6 s) per DCAE window with overlapped_decode
ERG_TAU = 0.01

__all__ = ["ACEStepV1Pipeline", "ConditionSet", "GenerationOutput", "Text2MusicCall", "batched_guidance_for"]


def batched_guidance_for(device: torch.device) -> bool:
    """Whether a guided step runs its passes as one batched forward on `device`.

    On a CPU a batch-1 forward already keeps every core busy, and the batched step measured
    slower than two forwards (bench/bench_v1_full_size.py, docs/acestep-v1.md); on a GPU a
    batch-1 forward of a few hundred tokens leaves the device mostly idle, so batching pays."""
    return torch.device(device).type != "cpu"


class ACEStepV1Pipeline:
    def __init__(
        self,
        *,
        transformer: ACEStepDiT,
        dcae: MusicDCAE | None,
        text_encoder: UMT5TextEncoder | None,
        lyric_vocab: Path | None,
        device: torch.device,
        dtype: torch.dtype,
        info: ckpt.CheckpointInfo | None = None,
        cache_dir: str | os.PathLike | None = None,
        offload: bool = False,
        compile_dit: bool | str = False,
    ):
        self.transformer = transformer
        self.dcae = dcae
        self.text_encoder = text_encoder
        self.lyric_vocab = lyric_vocab
        self.device = torch.device(device)
        self.dtype = dtype
        self.info = info
        self.cache_dir = cache_dir
        self._lyric_tokenizer = None
        self.batched_guidance = batched_guidance_for(self.device)
        # cross-attention K/V once per call: 2·blocks·rows·L·width values (about 0.6 GB fp32 for
        # a guided call with 565 context tokens at full size); off recomputes them every step
        self.cache_cross_attention = True
        # modes: sub-models on the device only while used (offload), the DiT's LoRA (_apply_lora)
        self.offload = ModelOffload(device=self.device, enabled=offload)
        # a DiT-only pipeline (benchmarks of the guided step) has no DCAE or text encoder to park
        parked = [transformer]
        parked += [dcae.autoencoder, dcae.vocoder] if dcae is not None else []
        parked += [text_encoder.model] if text_encoder is not None else []
        self.offload.park_all(*parked)
        self.lora = LoraSlot(transformer, cache_dir=cache_dir)
        choice = decide_compile(compile_dit, width=transformer.config.width, device=self.device)
        self.compile_dit = choice.enabled
        if choice.enabled:
            transformer.compile_blocks()
        if compile_dit is not False:
            log.info("ace-step-v1 DiT %s (%s)", "compiled" if choice.enabled else "eager", choice.reason)
        # opt-in fast modes (music.acestep_v1.fast): the int8 variant, kept once built; the step
        # cache of the call running (None: every step runs every block)
        self.fast = FastModes()
        self.step_cache = None

    # ---- loading ----------------------------------------------------------------------------
    @classmethod
    def from_pretrained(
        cls,
        checkpoint_dir: str | os.PathLike = ckpt.HUB_REPO_ID,
        *,
        device: str | torch.device = "cpu",
        dtype: torch.dtype = torch.float32,
        lyric_vocab: str | os.PathLike | None = None,
        cache_dir: str | os.PathLike | None = None,
        offload: bool = False,
        compile_dit: bool | str = False,
    ) -> "ACEStepV1Pipeline":
        """Load the official folder layout (or download a hub id into `cache_dir`)."""
        if dtype not in (torch.float32, torch.bfloat16, torch.float16):
            raise ValueError(f"dtype must be float32, bfloat16 or float16, got {dtype}")
        folder = ckpt.resolve_checkpoint(checkpoint_dir, cache_dir=cache_dir)
        # an explicit vocab must exist now; a download (cache_dir only) waits until lyrics are used
        vocab = ckpt.resolve_lyric_vocab(lyric_vocab, cache_dir=None) if lyric_vocab is not None else None
        device = torch.device(device)
        load_to = torch.device("cpu") if offload else device  # offload: weights wait in CPU memory
        transformer = ckpt.load_transformer(folder / "ace_step_transformer", device=load_to, dtype=dtype)
        autoencoder = ckpt.load_autoencoder(folder / "music_dcae_f8c8", device=load_to, dtype=dtype)
        vocoder = ckpt.load_vocoder(folder / "music_vocoder", device=load_to, dtype=dtype)
        text_encoder = UMT5TextEncoder.from_folder(folder / "umt5-base", device=load_to, dtype=dtype)
        return cls(
            transformer=transformer,
            dcae=MusicDCAE(autoencoder, vocoder),
            text_encoder=text_encoder,
            lyric_vocab=vocab,
            device=device,
            dtype=dtype,
            info=ckpt.describe(folder, source=os.fspath(checkpoint_dir)),
            cache_dir=cache_dir,
            offload=offload,
            compile_dit=compile_dit,
        )

    # ---- lyrics -----------------------------------------------------------------------------
    def tokenize_lyrics(self, lyrics: str) -> list[int]:
        """Token ids equal to upstream's `ACEStepPipeline.tokenize_lyrics`."""
        if self._lyric_tokenizer is None:
            if self.lyric_vocab is None:
                self.lyric_vocab = ckpt.resolve_lyric_vocab(None, cache_dir=self.cache_dir)
            self._lyric_tokenizer = LyricTokenizer.from_file(self.lyric_vocab)
        return list(self._lyric_tokenizer.encode(lyrics))

    # ---- conditions -------------------------------------------------------------------------
    @torch.inference_mode()
    def encode_conditions(
        self,
        *,
        prompt: str,
        lyric_ids: list[int],
        batch_size: int,
        plan: GuidancePlan,
        use_erg_tag: bool,
        use_erg_lyric: bool,
        use_erg_diffusion: bool,
    ) -> ConditionSet:
        """All contexts of one call, each encoded once. `lyric_ids` empty means instrumental."""
        need_null = plan.enabled
        need_text_only = plan.enabled and plan.double_condition
        text = self.text_encoder.encode(prompt, with_null=need_null and use_erg_lyric and use_erg_tag)
        text_states = text.states.to(self.dtype)
        zeros_text = torch.zeros_like(text_states)
        if lyric_ids:
            ids = torch.tensor([lyric_ids], dtype=torch.long, device=self.device)
            lyric_mask = torch.ones_like(ids)
        else:
            ids = torch.full((1, 1), NULL_LYRIC_ID, dtype=torch.long, device=self.device)
            lyric_mask = torch.zeros_like(ids)
        zero_ids = torch.zeros_like(ids)

        # rows: (name, text states, lyric ids, weakened Conformer?)
        rows = [("cond", text_states, ids, False)]
        if need_null:
            if use_erg_lyric:
                null_text = text.null_states.to(self.dtype) if text.null_states is not None else zeros_text
                rows.append(("null", null_text, ids, True))
            else:
                rows.append(("null", zeros_text, zero_ids, False))
        if need_text_only:
            rows.append(("text_only", text_states, ids, True) if use_erg_lyric else ("text_only", text_states, zero_ids, False))

        count = len(rows)
        speaker = torch.zeros(count, self.transformer.config.speaker_embedding_dim, device=self.device, dtype=self.dtype)
        encoded = self.transformer.encode(
            text_states=torch.cat([r[1] for r in rows]),
            text_mask=text.mask.to(self.device).repeat(count, 1),
            speaker_embeds=speaker,
            lyric_ids=torch.cat([r[2] for r in rows]),
            lyric_mask=lyric_mask.repeat(count, 1),
            lyric_q_scale=torch.tensor([ERG_TAU if r[3] else 1.0 for r in rows], device=self.device),
        )

        return self.assemble_conditions(
            encoded, names=[r[0] for r in rows], batch_size=batch_size, use_erg_diffusion=use_erg_diffusion
        )

    @torch.inference_mode()
    def assemble_conditions(
        self, encoded: Conditions, *, names: list[str], batch_size: int, use_erg_diffusion: bool
    ) -> ConditionSet:
        """One encoded row per kind (`names`: "cond", optionally "null" / "text_only") ->
        batch-expanded contexts, the cross-attention K/V cache, and the concatenated
        [cond | text_only | null] rows of a batched guided step."""
        if self.cache_cross_attention:
            encoded = self.transformer.cache_context(encoded)

        def expanded(index: int) -> Conditions:
            def rows(t: torch.Tensor) -> torch.Tensor:
                return t[index : index + 1].expand(batch_size, *t.shape[1:])

            kv = None if encoded.kv is None else [(rows(k), rows(v)) for k, v in encoded.kv]
            return Conditions(states=rows(encoded.states), mask=rows(encoded.mask), kv=kv)

        by_name = {name: expanded(i) for i, name in enumerate(names)}
        conditions = ConditionSet(cond=by_name["cond"], null=by_name.get("null"), text_only=by_name.get("text_only"))
        if "null" in by_name:
            order = ["cond"] + (["text_only"] if "text_only" in by_name else []) + ["null"]
            kinds = [by_name[n] for n in order]
            conditions.guided = Conditions(
                states=torch.cat([c.states for c in kinds]),
                mask=torch.cat([c.mask for c in kinds]),
                kv=None if encoded.kv is None else [
                    (torch.cat([c.kv[b][0] for c in kinds]), torch.cat([c.kv[b][1] for c in kinds]))
                    for b in range(len(encoded.kv))
                ],
            )
            weak = ERG_TAU if use_erg_diffusion else 1.0
            scales = [1.0] * batch_size * (len(order) - 1) + [weak] * batch_size
            conditions.guided_q_scale = torch.tensor(scales, device=self.device)
        return conditions

    # ---- noise ------------------------------------------------------------------------------
    def make_generators(self, seeds: list[int]) -> list[torch.Generator]:
        return [torch.Generator(device=self.device).manual_seed(seed) for seed in seeds]

    def initial_noise(self, generators: list[torch.Generator], frames: int) -> torch.Tensor:
        """Upstream's `randn_tensor` with a list of generators: one draw of (1, 8, 16, W) each."""
        return torch.cat(
            [torch.randn((1, 8, 16, frames), generator=g, device=self.device, dtype=self.dtype) for g in generators]
        )

    # ---- the loop ---------------------------------------------------------------------------
    def velocity(
        self,
        *,
        latents: torch.Tensor,
        timestep: torch.Tensor,
        conditions: ConditionSet,
        guider: Guider | None,
        step: int,
        scale: float,
    ) -> torch.Tensor:
        """Guided (guider given) or conditional velocity for one loop step."""
        batch = latents.shape[0]
        cache = self.step_cache
        if guider is None:
            return self.transformer.decode(latents=latents, timestep=timestep.expand(batch), conditions=conditions.cond,
                                           step_cache=step_cache_view(cache, ["cond"], batch))
        kinds = 3 if conditions.text_only is not None else 2
        names = ["cond"] + (["text_only"] if kinds == 3 else []) + ["null"]  # the step cache's passes
        if self.batched_guidance:
            out = self.transformer.decode(
                latents=latents.repeat(kinds, 1, 1, 1),
                timestep=timestep.expand(batch * kinds),
                conditions=conditions.guided,
                q_scale=conditions.guided_q_scale,
                step_cache=step_cache_view(cache, names, batch),
            )
            parts = list(out.split(batch))
        else:
            q_scales = conditions.guided_q_scale.split(batch)
            contexts = [conditions.cond] + ([conditions.text_only] if kinds == 3 else []) + [conditions.null]
            parts = [
                self.transformer.decode(
                    latents=latents, timestep=timestep.expand(batch), conditions=context,
                    q_scale=None if bool((q == 1).all()) else q, step_cache=step_cache_view(cache, [name], batch),
                )
                for context, q, name in zip(contexts, q_scales, names)
            ]
        cond, uncond = parts[0], parts[-1]
        text_only = parts[1] if kinds == 3 else None
        return guider.combine(step=step, scale=scale, cond=cond, uncond=uncond, text_only=text_only)

    @torch.inference_mode()
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
    ) -> torch.Tensor:
        """Run the sampling loop from `latents`. `generator` feeds PingPong's re-noising
        (upstream: the first item's generator)."""
        timesteps = schedule.timesteps.to(self.device)
        total = len(timesteps)
        start, end = plan.interval(schedule.num_inference_steps)
        guider = Guider(plan) if plan.enabled else None
        for i, t in enumerate(timesteps):
            if i < first_step:
                continue
            if before_step is not None:
                latents = before_step(i, t, latents)
            guided = guider is not None and start <= i < end
            velocity = self.velocity(
                latents=latents,
                timestep=t,
                conditions=conditions,
                guider=guider if guided else None,
                step=i,
                scale=plan.scale_at(i, start, end) if guided else plan.guidance_scale,
            )
            if update is not None:
                latents = update(i, t, velocity, latents)
            else:
                latents = schedule.sampler.step(velocity, latents, generator=generator)
            if not bool(torch.isfinite(latents).all()):
                raise NonFiniteError(
                    f"non-finite values (NaN/inf) in the latents after step {i + 1} of {total} "
                    f"(timestep {float(t):.2f}); try float32, fewer guidance or another seed"
                )
            progress("diffusion", i + 1, total)
        return latents

    # ---- decode -----------------------------------------------------------------------------
    @torch.inference_mode()
    def decode(self, latents: torch.Tensor, *, sample_rate: int = NATIVE_SAMPLE_RATE, window_frames: int | None = None) -> torch.Tensor:
        """Latents -> float32 (B, 2, samples) on the CPU at `sample_rate`."""
        if sample_rate not in SAMPLE_RATES:
            raise ValueError(f"sample_rate must be one of {SAMPLE_RATES}, got {sample_rate}")
        if window_frames is None:
            audio = self.dcae.decode(latents)
        else:  # DCAE and vocoder in windows, crossfaded (long_decode)
            audio = decode_windowed(self.dcae, latents, dcae_plan=replace(DCAE_WINDOW, window=window_frames))
        if sample_rate != NATIVE_SAMPLE_RATE:
            audio = resample(audio, NATIVE_SAMPLE_RATE, sample_rate)
        return audio.float().cpu()

    # ---- text2music -------------------------------------------------------------------------
    def generate(self, *, lyrics: str | None = "", **kwargs) -> GenerationOutput:
        """text2music with upstream's keyword names. Returns latents, audio, seeds."""
        if lyrics is None:  # upstream crashes here; None means no lyrics, as '' does
            lyrics = ""
        started = time.perf_counter()
        warnings = []
        unknown = unknown_structure_tags(lyrics)
        if unknown:
            message = (
                f"lyric tags the model does not know: {', '.join(unknown)}; it knows only "
                + " ".join(f"[{t}]" for t in STRUCTURE_TAGS)
            )
            log.warning(message)
            warnings.append(message)
        ids = self.tokenize_lyrics(lyrics) if lyrics else []
        out = self.generate_with_token_ids(lyric_token_ids=ids, _tokenize_seconds=time.perf_counter() - started, **kwargs)
        out.warnings[:0] = warnings
        out.parameters["lyrics"] = lyrics
        return out

    def generate_with_token_ids(self, *, progress: ProgressCallback = no_progress, **kwargs) -> GenerationOutput:
        """text2music from lyric token ids (the internal entry point `generate` uses)."""
        return self.run_text2music(self.prepare_text2music(**kwargs), progress=progress)

    def prepare_text2music(self, *, lyric_token_ids: list[int], _tokenize_seconds: float = 0.0, **kwargs) -> Text2MusicCall:
        """Check every argument (upstream's keyword names; `call_check.check_call`, no model work),
        then build the call; raises `InvalidArguments` naming what to fix."""
        checked = check_call(lyric_tokens=len(lyric_token_ids), **kwargs)
        return self.build_call(checked, lyric_token_ids=lyric_token_ids, tokenize_seconds=_tokenize_seconds)

    def build_call(self, checked: CheckedCall, *, lyric_token_ids: list[int], tokenize_seconds: float = 0.0) -> Text2MusicCall:
        """A call `check_call` accepted, ready to run, without checking it again: random seeds
        drawn where none were given, the mode's audio decoded (once per call)."""
        seeds = checked.seeds if checked.seeds is not None else parse_seeds(None, checked.batch_size)
        mode = load_mode(checked.mode, batch_size=checked.batch_size)
        overlapped = bool(checked.overlapped_decode)
        parameters = {
            "task": checked.task, "prompt": checked.prompt, "audio_duration": checked.audio_duration,
            "infer_step": checked.infer_step, "guidance_scale": checked.guidance_scale,
            "scheduler_type": checked.scheduler_type, "cfg_type": checked.cfg_type, "omega_scale": checked.omega_scale,
            "manual_seeds": seeds, "guidance_interval": checked.guidance_interval,
            "guidance_interval_decay": checked.guidance_interval_decay,
            "min_guidance_scale": checked.min_guidance_scale, "use_erg_tag": checked.use_erg_tag,
            "use_erg_lyric": checked.use_erg_lyric, "use_erg_diffusion": checked.use_erg_diffusion,
            "oss_steps": list(checked.oss_steps), "guidance_scale_text": checked.guidance_scale_text,
            "guidance_scale_lyric": checked.guidance_scale_lyric, "batch_size": checked.batch_size,
            "sample_rate": checked.sample_rate, "overlapped_decode": overlapped,
            "frames": frames_for_duration(checked.audio_duration), "lyric_tokens": len(lyric_token_ids),
            "dtype": str(self.dtype).removeprefix("torch."), "device": str(self.device),
            **mode.parameters, **checked.fast_spec().to_dict(),
        }
        schedule_args = dict(
            scheduler_type=checked.scheduler_type, infer_step=checked.infer_step, omega_scale=checked.omega_scale,
            oss_steps=list(checked.oss_steps), dtype=self.dtype,
        )
        return Text2MusicCall(
            lyric_token_ids=list(lyric_token_ids), prompt=checked.prompt, audio_duration=checked.audio_duration,
            plan=checked.guidance_plan(), schedule_args=schedule_args, seeds=seeds, batch_size=checked.batch_size,
            sample_rate=checked.sample_rate, use_erg_tag=checked.use_erg_tag, use_erg_lyric=checked.use_erg_lyric,
            use_erg_diffusion=checked.use_erg_diffusion, overlapped_decode=overlapped, parameters=parameters,
            tokenize_seconds=tokenize_seconds, mode=mode, fast=checked.fast_spec(),
        )

    def run_text2music(self, call: Text2MusicCall, *, progress: ProgressCallback = no_progress) -> GenerationOutput:
        """Run a built call; its opt-in fast modes (`call.fast`) hold for this call only."""
        with self.fast.applied(self, call.fast) as fast:
            out = self._run_text2music(call, progress=progress)
        out.parameters.update(fast.parameters())
        out.timings.update(fast.timings)
        return out

    def _run_text2music(self, call: Text2MusicCall, *, progress: ProgressCallback) -> GenerationOutput:
        parameters = dict(call.parameters)
        parameters.update(self._apply_lora(call.mode.arguments))
        if self.transformer.compiled_blocks is not None:  # same maths, other rounding: say so
            parameters["compiled_dit"] = True
        timings = {"tokenize": call.tokenize_seconds}
        clock = time.perf_counter()
        with self.offload.use(self.text_encoder.model, self.transformer):
            conditions = self.encode_conditions(
                prompt=call.prompt, lyric_ids=call.lyric_token_ids, batch_size=call.batch_size, plan=call.plan,
                use_erg_tag=call.use_erg_tag, use_erg_lyric=call.use_erg_lyric, use_erg_diffusion=call.use_erg_diffusion,
            )
        timings["conditions"] = time.perf_counter() - clock

        clock = time.perf_counter()
        generators = self.make_generators(call.seeds)
        with self.offload.use(self.transformer):
            latents = sample_latents(self, call, conditions=conditions, generators=generators, progress=progress)
        timings["diffusion"] = time.perf_counter() - clock

        clock = time.perf_counter()
        frames = latents.shape[-1]
        parameters["frames"] = frames
        window = LONG_DECODE_WINDOW if call.overlapped_decode and frames > frames_for_duration(48) else None
        with self.offload.use(self.dcae.autoencoder, self.dcae.vocoder):
            audio = self.decode(latents, sample_rate=call.sample_rate, window_frames=window)
        progress("decode", 1, 1)
        timings["decode"] = time.perf_counter() - clock
        return GenerationOutput(
            latents=latents, audio=audio, seeds=list(call.seeds), sample_rate=call.sample_rate, timings=timings,
            parameters=parameters,
        )

    def _apply_lora(self, mode_arguments: dict) -> dict:
        """Load / re-weight / switch / unload the DiT's LoRA as the call asks (base never reloaded);
        returns the parameters to record."""
        self.lora.apply(mode_arguments["lora_name_or_path"], mode_arguments["lora_weight"])
        if self.lora.active:
            return {"lora_name_or_path": self.lora.source, "lora_weight": self.lora.weight}
        return {}

