"""ACE-Step 1.5 as a `MusicEngine`, running diffusers' `AceStepPipeline`.

The engine only maps requests onto the pipeline: checks and argument building live in
`request_mapping`, checkpoint lookup in `loading`, the LoRA slot in `lora`, audio inputs in
`audio_inputs`. Given the same arguments and seeds its audio equals a direct pipeline call.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from time import perf_counter
from typing import Any, Mapping

import numpy as np

from music.acestep15.audio_inputs import load_stereo
from music.acestep15.loading import (
    OPTIONAL_COMPONENTS,
    SAMPLE_RATE,
    CheckpointLocation,
    ModelNotFound,
    load_pipeline,
    locate,
    read_transformer_config,
)
from music.acestep15.lora import LoraSlot, lora_file
from music.acestep15.request_mapping import MAX_BATCH, MAX_DURATION, MAX_STEPS, MIN_DURATION, PlannedCall, plan_call
from music.acestep15.variants import DEFAULT_MODEL_ID, TASKS_ALL_MODELS, TASKS_BASE_ONLY, Variant, resolve_variant
from music.engine import (
    TASKS_V1,
    CheckedRequest,
    MusicEngine,
    MusicRequest,
    MusicResult,
    ProgressCallback,
    RenderedTake,
    RequestError,
    no_progress,
)


class ACEStep15Engine(MusicEngine):
    name = "ace-step-1.5"
    sample_rate = SAMPLE_RATE
    max_duration = MAX_DURATION
    min_duration = MIN_DURATION
    max_steps = MAX_STEPS
    max_takes = MAX_BATCH

    def __init__(self, *, pipe, variant: Variant, location: CheckpointLocation, device: str) -> None:
        self._pipe = pipe
        self.variant = variant
        self.location = location
        self.device = device
        self._lora = LoraSlot(pipe)

    @classmethod
    def from_settings(
        cls,
        *,
        model_id_or_dir: str | None = None,
        variant: str | None = None,
        device: str = "cpu",
        dtype: Any = None,
        cache_dir: str | None = None,
        offload: bool = False,
        model_dir: str | None = None,
        local_files_only: bool = False,
        vae_tiling: bool | None = None,
        **unknown: Any,
    ) -> "ACEStep15Engine":
        """Load a checkpoint: a local diffusers folder, or a hub id found in (or, online, fetched into) the cache.

        `model_dir` is accepted as another name for `model_id_or_dir`. `dtype` None means bf16 on an
        accelerator, fp32 on CPU. `offload` keeps models on the CPU and moves each to `device` when it runs.
        `vae_tiling` None tiles VAE coding on accelerators only (bounded memory for long songs).
        """
        if unknown:
            raise RequestError(f"unknown ACE-Step 1.5 setting(s): {', '.join(sorted(unknown))}")
        if model_id_or_dir is not None and model_dir is not None and model_id_or_dir != model_dir:
            raise RequestError("give model_id_or_dir or model_dir, not both")
        source = model_id_or_dir or model_dir or DEFAULT_MODEL_ID
        location = locate(str(source), cache_dir=cache_dir, local_files_only=local_files_only)
        chosen = resolve_variant(
            requested=variant, model_id=location.model_id, transformer_config=read_transformer_config(location.folder)
        )
        pipe = load_pipeline(location, device=device, dtype=dtype, offload=offload, vae_tiling=vae_tiling)
        return cls(pipe=pipe, variant=chosen, location=location, device=device)

    @property
    def pipeline(self):
        """The underlying diffusers pipeline (for benchmarks and advanced callers)."""
        return self._pipe

    def tasks(self) -> tuple[str, ...]:
        return self.variant.tasks

    # --- LoRA: the base weights stay loaded; only the adapter changes ---
    @property
    def lora_path(self) -> str | None:
        return self._lora.path

    def load_lora(self, path: str, *, weight: float = 1.0) -> None:
        self._lora.load(path, weight=weight)

    def set_lora_weight(self, weight: float) -> None:
        self._lora.set_weight(weight)

    def unload_lora(self) -> None:
        self._lora.unload()

    # --- requests ---
    def _plan(self, request: MusicRequest) -> PlannedCall:
        return plan_call(
            request,
            variant=self.variant,
            model_id=self.location.model_id,
            has_audio_tokenizer=self._pipe.audio_tokenizer is not None and self._pipe.audio_token_detokenizer is not None,
            lora_exists=lambda path: lora_file(path) is not None,
        )

    @classmethod
    def tasks_for(cls, model_dir: str | None) -> tuple[str, ...]:
        # every task name passes here so that `plan_call` can say which model or engine runs it
        return tuple(dict.fromkeys(TASKS_V1 + TASKS_ALL_MODELS + TASKS_BASE_ONLY))

    @classmethod
    def check(cls, request: MusicRequest, *, model_dir: str | None = None,
              settings: Mapping[str, Any] | None = None) -> CheckedRequest:
        """Reads the checkpoint's configs (never its weights, never a download) to learn the variant
        and its tasks, then plans the pipeline call as `generate` will."""
        shared = super().check(request, model_dir=model_dir, settings=settings)
        settings = settings or {}
        source = model_dir or settings.get("model_id_or_dir") or settings.get("model_dir") or DEFAULT_MODEL_ID
        try:
            location = locate(str(source), cache_dir=settings.get("cache_dir"), local_files_only=True)
        except ModelNotFound:
            # not on this machine (a hub id fetched on first use, or a worker elsewhere): only the
            # shared limits are checked now; what depends on the variant is checked when it runs
            return CheckedRequest(engine=cls.name, request=shared.request, facts={"variant": None})
        variant = resolve_variant(requested=settings.get("variant"), model_id=location.model_id,
                                  transformer_config=read_transformer_config(location.folder))
        plan = plan_call(
            shared.request, variant=variant, model_id=location.model_id,
            has_audio_tokenizer=all((location.folder / name).is_dir() for name in OPTIONAL_COMPONENTS),
            lora_exists=lambda path: lora_file(path) is not None,
        )
        checked = replace(shared.request, steps=plan.kwargs["num_inference_steps"])
        return CheckedRequest(engine=cls.name, request=checked,
                              facts={"variant": variant.name, "output_seconds": plan.target_seconds,
                                     "call": plan.to_dict()})

    def check_settings(self) -> dict[str, Any]:
        return {"model_dir": str(self.location.folder), "variant": self.variant.name}

    @classmethod
    def stored_weight_bytes(cls, *, settings: Mapping[str, Any]) -> int:
        """The local checkpoint's safetensors as stored (a rough figure: the load may change dtype)."""
        folder = settings.get("model_id_or_dir") or settings.get("model_dir")
        if not folder or not Path(folder).is_dir():
            return 0
        return sum(f.stat().st_size for f in Path(folder).rglob("*.safetensors"))

    def weight_bytes(self) -> int:
        """Parameters and buffers of the pipeline's modules."""
        import torch  # the pipeline is loaded, so torch is too

        modules = [c for c in self._pipe.components.values() if isinstance(c, torch.nn.Module)]
        return sum(t.numel() * t.element_size() for m in modules for t in [*m.parameters(), *m.buffers()])

    def run(self, checked: CheckedRequest, progress: ProgressCallback = no_progress) -> MusicResult:
        """Runs the pipeline call `check` planned (`facts["call"]`) without checking it again. A
        request checked where the model was not on the machine (no planned call) is planned here,
        with the loaded model: for it that is the variant's check, run once."""
        request = checked.request
        import torch

        started = perf_counter()
        if checked.facts.get("call") is not None and checked.facts.get("variant") == self.variant.name:
            plan = PlannedCall.from_dict(checked.facts["call"]).for_this_run()
        else:
            plan = self._plan(request)
        steps = plan.kwargs["num_inference_steps"]
        progress("diffusion", 0, steps)  # a cancel before any work lands here

        if request.lora is not None:
            self._lora.load(request.lora, weight=request.lora_weight)
        elif self._lora.path is not None:
            self._lora.unload()  # the request asks for the base model

        kwargs = dict(plan.kwargs)
        target_samples = round(plan.target_seconds * SAMPLE_RATE)
        if plan.source_audio is not None:
            source = load_stereo(plan.source_audio, target_rate=SAMPLE_RATE, role="source_audio")
            target_samples = source.shape[-1]
            kwargs["src_audio"] = pad_to_hop(source, hop=self._hop)
            kwargs["audio_duration"] = target_samples / SAMPLE_RATE
        if plan.reference_audio is not None:
            kwargs["reference_audio"] = load_stereo(plan.reference_audio, target_rate=SAMPLE_RATE, role="reference_audio")
        inputs_done = perf_counter()

        device = self._pipe._execution_device
        kwargs["generator"] = [torch.Generator(device=device).manual_seed(seed) for seed in plan.seeds]
        marks: list[float] = []

        def on_step_end(pipe, step: int, timestep: float, tensors: dict) -> None:
            marks.append(perf_counter())
            progress("diffusion", step + 1, steps)  # may raise Cancelled: it leaves the pipeline here

        try:
            # The pipeline VAE-encodes source/reference audio with the global RNG; seed it (in a fork,
            # so the caller's RNG state is untouched) to make those tasks repeatable too.
            with torch.random.fork_rng(**fork_args(device)):
                torch.manual_seed(plan.seeds[0])
                audios = self._pipe(**kwargs, callback_on_step_end=on_step_end, output_type="pt").audios
        except BaseException:
            self._pipe.maybe_free_model_hooks()  # offloaded models go back to the CPU
            raise
        finished = perf_counter()
        progress("decode", 1, 1)

        audio = audios[:, :, :target_samples].cpu().numpy()
        if audio.shape[-1] != target_samples or not np.isfinite(audio).all():
            raise RuntimeError(
                f"the pipeline returned {audio.shape[-1]} samples ({'finite' if np.isfinite(audio).all() else 'NaN/inf'}) "
                f"where {target_samples} finite samples were expected"
            )
        takes = [RenderedTake(audio=np.ascontiguousarray(take, dtype=np.float32), seed=seed) for take, seed in zip(audio, plan.seeds)]
        last_step = marks[-1] if marks else finished
        return MusicResult(
            takes=takes,
            sample_rate=SAMPLE_RATE,
            engine=self.name,
            model_id=self.location.model_id,
            revision=self.location.revision,
            parameters={
                **plan.parameters,
                "duration": target_samples / SAMPLE_RATE,
                "dtype": str(self._pipe.transformer.dtype).removeprefix("torch."),
                "device": str(device),
            },
            timings={
                "inputs": inputs_done - started,
                "diffusion": last_step - inputs_done,  # text encoding + all denoising steps
                "decode": finished - last_step,
                "total": finished - started,
            },
        )

    @property
    def _hop(self) -> int:
        return int(math.prod(self._pipe.vae.config.downsampling_ratios))


def pad_to_hop(audio, *, hop: int):
    """Zero-pad `[channels, samples]` to whole latent frames: the VAE drops a partial last frame."""
    import torch

    remainder = audio.shape[-1] % hop
    return audio if remainder == 0 else torch.nn.functional.pad(audio, (0, hop - remainder))


def fork_args(device) -> dict[str, Any]:
    """`torch.random.fork_rng` arguments that also save/restore the accelerator's RNG."""
    import torch

    device = torch.device(device)
    if device.type == "cpu":
        return {"devices": []}
    return {"devices": [device.index or 0], "device_type": device.type}
