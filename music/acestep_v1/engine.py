"""`ace-step-v1` engine: maps a `MusicRequest` onto `ACEStepV1Pipeline` and back.

Request fields map to upstream names: prompt -> prompt, lyrics -> lyrics, duration ->
audio_duration, steps -> infer_step, guidance_scale -> guidance_scale, batch_size -> batch_size,
seeds -> manual_seeds. `options` carries any other upstream keyword (scheduler_type, cfg_type,
omega_scale, guidance_interval, use_erg_*, oss_steps, ...) plus `sample_rate` (44100 native or
48000). Giving a mapped field again in `options` is an error, not a silent override.

Seeds: one seed per take, or one seed for all (take i then uses seed + i, so that takes differ;
upstream would repeat the same seed). No seeds draws random ones; the result records the exact
seeds used either way.
"""

from __future__ import annotations

import inspect
import logging
import os
import time
import warnings
from typing import Any

import numpy as np
import torch

from music.acestep_v1.common import MODE_ARGUMENTS, MODE_DEFAULTS, InvalidArguments, parse_seeds, unknown_structure_tags
from music.acestep_v1.loading import checkpoint as ckpt
from music.acestep_v1.loading.lora import check_lora_source
from music.acestep_v1.modes.prepare import prepare_mode
from music.acestep_v1.modes.request import MAPPED_MODE_ARGUMENTS, mode_kwargs
from music.acestep_v1.pipeline import ACEStepV1Pipeline
from music.acestep_v1.sampling.schedulers import make_schedule
from music.engine import (
    TASKS_V1,
    MusicEngine,
    MusicRequest,
    MusicResult,
    ProgressCallback,
    RenderedTake,
    RequestError,
    no_progress,
)

log = logging.getLogger(__name__)

ENGINE_NAME = "ace-step-v1"
DEFAULT_STEPS = 60
DEFAULT_GUIDANCE = 15.0
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
_MAPPED = {
    "prompt": "prompt", "lyrics": "lyrics", "audio_duration": "duration", "infer_step": "steps",
    "guidance_scale": "guidance_scale", "batch_size": "batch_size", "manual_seeds": "seeds",
}


class ACEStepV1Engine(MusicEngine):
    name = ENGINE_NAME
    sample_rate = 44100
    max_duration = 240.0

    def __init__(
        self,
        *,
        source: str,
        device: str,
        dtype: torch.dtype,
        cache_dir: str | None,
        lyric_vocab: str | None,
        overlapped_decode: bool = False,
        offload: bool = False,
        pipeline=None,
    ):
        self.source = source
        self.offload = offload
        self.overlapped_decode = overlapped_decode
        self.device = device
        self.dtype = dtype
        self.cache_dir = cache_dir
        self.lyric_vocab = lyric_vocab
        self._pipeline = pipeline

    @classmethod
    def from_settings(
        cls,
        *,
        model_dir: str | os.PathLike | None = None,
        device: str = "cpu",
        dtype: str = "float32",
        cache_dir: str | os.PathLike | None = None,
        lyric_vocab: str | os.PathLike | None = None,
        offload: bool = False,
        overlapped_decode: bool = False,
        **unknown: Any,
    ) -> "ACEStepV1Engine":
        """Cheap: checks the settings and a local folder's layout; weights load on first use.
        `model_dir` None means the hub repo, downloaded into `cache_dir` when online.
        `overlapped_decode` decodes songs over 48 s in DCAE windows (lower peak memory)."""
        if unknown:
            raise TypeError(f"unknown ace-step-v1 setting(s): {', '.join(sorted(unknown))}")
        if dtype not in DTYPES:
            raise RequestError(f"ace-step-v1: dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
        source = os.fspath(model_dir) if model_dir is not None else ckpt.HUB_REPO_ID
        if model_dir is not None:
            ckpt.resolve_checkpoint(source, cache_dir=cache_dir)  # raises MissingWeightsError naming the layout
        return cls(
            source=source, device=device, dtype=DTYPES[dtype],
            cache_dir=None if cache_dir is None else os.fspath(cache_dir),
            lyric_vocab=None if lyric_vocab is None else os.fspath(lyric_vocab),
            overlapped_decode=overlapped_decode, offload=offload,
        )

    @property
    def pipeline(self):
        if self._pipeline is None:
            self._pipeline = ACEStepV1Pipeline.from_pretrained(
                self.source, device=self.device, dtype=self.dtype, lyric_vocab=self.lyric_vocab, cache_dir=self.cache_dir,
                offload=self.offload,
            )
        return self._pipeline

    def tasks(self) -> tuple[str, ...]:
        return TASKS_V1

    def validate(self, request: MusicRequest) -> None:
        super().validate(request)
        clashes = sorted(k for k in request.options if k in _MAPPED)
        if clashes:
            fields = ", ".join(f"{k} (use the request's {_MAPPED[k]!r})" for k in clashes)
            raise RequestError(f"options repeat request fields: {fields}")
        check_arguments(request, mode_kwargs(request))

    @staticmethod
    def seeds_for(request: MusicRequest) -> list[int] | None:
        if request.seeds is None:
            return None
        if len(request.seeds) == 1 and request.batch_size > 1:
            return [(request.seeds[0] + i) % 2**32 for i in range(request.batch_size)]
        return list(request.seeds)

    def generate(self, request: MusicRequest, progress: ProgressCallback = no_progress) -> MusicResult:
        self.validate(request)
        started = time.perf_counter()
        pipe = self.pipeline
        load_seconds = time.perf_counter() - started
        notes = []
        unknown = unknown_structure_tags(request.lyrics)
        if unknown:
            notes.append(f"lyric tags the model does not know (sung or ignored, not used as structure): {', '.join(unknown)}")
            warnings.warn(notes[-1], stacklevel=2)
            log.warning(notes[-1])

        clock = time.perf_counter()
        ids = pipe.tokenize_lyrics(request.lyrics) if request.lyrics else []
        tokenize_seconds = time.perf_counter() - clock
        kwargs = {**request.options, **mode_kwargs(request)}
        kwargs.setdefault("sample_rate", self.sample_rate)
        kwargs.setdefault("overlapped_decode", self.overlapped_decode)
        try:
            call = pipe.prepare_text2music(
                lyric_token_ids=ids,
                prompt=request.prompt,
                audio_duration=request.duration,
                infer_step=request.steps if request.steps is not None else DEFAULT_STEPS,
                guidance_scale=request.guidance_scale if request.guidance_scale is not None else DEFAULT_GUIDANCE,
                batch_size=request.batch_size,
                manual_seeds=self.seeds_for(request),
                _tokenize_seconds=tokenize_seconds,
                **kwargs,
            )
        except InvalidArguments as exc:
            raise RequestError(f"ace-step-v1: {exc}") from exc
        out = pipe.run_text2music(call, progress=progress)

        audio = out.audio.numpy().astype(np.float32, copy=False)
        takes = [RenderedTake(audio=np.ascontiguousarray(audio[i]), seed=seed) for i, seed in enumerate(out.seeds)]
        parameters = {**out.parameters, "lyrics": request.lyrics, "seeds": list(out.seeds)}
        if notes:
            parameters["warnings"] = notes
        info = pipe.info
        return MusicResult(
            takes=takes,
            sample_rate=out.sample_rate,
            engine=ENGINE_NAME,
            model_id=info.model_id if info else self.source,
            revision=info.revision if info else None,
            parameters=parameters,
            timings={"load": load_seconds, **out.timings},
        )


def check_arguments(request: MusicRequest, mode: dict[str, Any]) -> None:
    """What `prepare_text2music` would refuse, checked without a model, so that a bad request fails
    when it is submitted (and in the worker before the weights load): option names, steps, seeds,
    the sampler, and the mode arguments with the audio files they name (read: file work only)."""
    internal = {"self", "lyric_token_ids", "mode_kwargs", "_tokenize_seconds", *_MAPPED}
    known = ((set(inspect.signature(ACEStepV1Pipeline.prepare_text2music).parameters) | set(MODE_ARGUMENTS))
             - internal - set(MAPPED_MODE_ARGUMENTS))  # the mapped ones are request fields
    unknown = sorted(set(request.options) - known - set(mode))
    if unknown:
        raise RequestError(f"unknown ace-step-v1 option(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    options = request.options
    try:
        make_schedule(scheduler_type=options.get("scheduler_type", "euler"),
                      infer_step=request.steps if request.steps is not None else DEFAULT_STEPS,
                      omega_scale=float(options.get("omega_scale", 10.0)), oss_steps=options.get("oss_steps"))
        parse_seeds(ACEStepV1Engine.seeds_for(request), request.batch_size)
        arguments = {k: v for k, v in {**options, **mode}.items() if k in MODE_DEFAULTS}
        prepare_mode(task=mode["task"], batch_size=request.batch_size, **arguments)
        check_lora_source(request.lora)
    except RequestError:
        raise
    except (TypeError, ValueError) as exc:
        raise RequestError(f"ace-step-v1: {exc}") from None
