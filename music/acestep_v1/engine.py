"""`ace-step-v1` engine: maps a `MusicRequest` onto `ACEStepV1Pipeline` and back.

Request fields map to upstream names: prompt -> prompt, lyrics -> lyrics, duration ->
audio_duration, steps -> infer_step, guidance_scale -> guidance_scale, batch_size -> batch_size,
seeds -> manual_seeds. `options` carries any other upstream keyword (scheduler_type, cfg_type,
omega_scale, guidance_interval, use_erg_*, oss_steps, ...) plus `sample_rate` (44100 native or
48000). Giving a mapped field again in `options` is an error, not a silent override.

Checks: the class method `check` (see `request_check`) runs once at submit without weights and
stores the checked generate arguments (`facts["call"]`, a `call_check.CheckedCall`); `run` hands
them to the pipeline's `build_call`, which checks nothing again and decodes the source audio once.

Seeds: one seed per take, or one seed for all (take i then uses seed + i, so that takes differ;
upstream would repeat the same seed). No seeds draws random ones; the result records the exact
seeds used either way.
"""

from __future__ import annotations

import json
import logging
import os
import time
import warnings
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import torch

from music.acestep_v1.call_check import CheckedCall
from music.acestep_v1.common import InvalidArguments, unknown_structure_tags
from music.acestep_v1.compile_policy import parse_compile_setting
from music.acestep_v1.fast.int8 import variant_bytes
from music.acestep_v1.fast.options import FastSpec, check_fast_device
from music.acestep_v1.loading import checkpoint as ckpt
from music.acestep_v1.modes.arguments import EDIT_PRESETS
from music.acestep_v1.pipeline import ACEStepV1Pipeline
from music.acestep_v1.request_check import check_v1_request, seeds_for
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

log = logging.getLogger(__name__)

ENGINE_NAME = "ace-step-v1"
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
MAX_STEPS = 1000  # upstream's UI slider ends at 1000 steps
FULL_WIDTH = 2560  # the released DiT's width (20 heads x 128)
FULL_LAYERS = 24
# Activation memory per take and second of song at the full config, from bench/bench_v1_memory.py
# (docs/acestep-v1-modes.md, 240 s rows): (guided step + one-shot decode), and the guided step
# alone plus a fixed windowed decode when overlapped_decode is on.
GIB = 2**30
ONE_SHOT_PER_TAKE_SECOND = {"float32": (1.07 + 5.68) / 240 * GIB, "bfloat16": (0.51 + 4.10) / 240 * GIB}
WINDOWED_PER_TAKE_SECOND = {"float32": 0.93 / 240 * GIB, "bfloat16": 0.57 / 240 * GIB}
WINDOWED_DECODE = {"float32": 0.64 * GIB, "bfloat16": 0.53 * GIB}


class ACEStepV1Engine(MusicEngine):
    name = ENGINE_NAME
    sample_rate = 44100
    max_duration = 240.0
    max_steps = MAX_STEPS
    max_takes = 8

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
        compile_dit: bool | str = "auto",
        pipeline=None,
    ):
        self.source = source
        self.offload = offload
        self.compile_dit = compile_dit
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
        compile_dit: bool | str = "auto",
        **unknown: Any,
    ) -> "ACEStepV1Engine":
        """Cheap: checks the settings and a local folder's layout; weights load on first use.
        `model_dir` None means the hub repo, downloaded into `cache_dir` when online.
        `overlapped_decode` decodes songs over 48 s in DCAE windows (lower peak memory).
        `compile_dit` (true, false or "auto") runs the DiT blocks through torch.compile: exact
        path, rounding-level differences, the first song of a worker pays the compile; "auto"
        compiles the full-size DiT on a CPU (music.acestep_v1.compile_policy, docs/acestep-v1.md)."""
        if unknown:
            raise TypeError(f"unknown ace-step-v1 setting(s): {', '.join(sorted(unknown))}")
        if dtype not in DTYPES:
            raise RequestError(f"ace-step-v1: dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
        try:
            compile_dit = parse_compile_setting(compile_dit)
        except ValueError as exc:
            raise RequestError(f"ace-step-v1: {exc}") from None
        source = os.fspath(model_dir) if model_dir is not None else ckpt.HUB_REPO_ID
        if model_dir is not None:
            ckpt.resolve_checkpoint(source, cache_dir=cache_dir)  # raises MissingWeightsError naming the layout
        return cls(
            source=source, device=device, dtype=DTYPES[dtype],
            cache_dir=None if cache_dir is None else os.fspath(cache_dir),
            lyric_vocab=None if lyric_vocab is None else os.fspath(lyric_vocab),
            overlapped_decode=overlapped_decode, offload=offload, compile_dit=compile_dit,
        )

    @property
    def pipeline(self):
        if self._pipeline is None:
            self._pipeline = ACEStepV1Pipeline.from_pretrained(
                self.source, device=self.device, dtype=self.dtype, lyric_vocab=self.lyric_vocab, cache_dir=self.cache_dir,
                offload=self.offload, compile_dit=self.compile_dit,
            )
        return self._pipeline

    @classmethod
    def tasks_for(cls, model_dir: str | None) -> tuple[str, ...]:
        return TASKS_V1

    @classmethod
    def presets(cls) -> dict[str, dict[str, Any]]:
        """Upstream's edit strengths: only_lyrics keeps the music, remix changes more."""
        return {name: {"edit_n_min": low, "edit_n_max": high} for name, (low, high) in EDIT_PRESETS.items()}

    @classmethod
    def check(cls, request: MusicRequest, *, model_dir: str | None = None,
              settings: Mapping[str, Any] | None = None) -> CheckedRequest:
        """No weights needed; the lyrics are counted with the lyric vocabulary (`lyric_vocab` or the
        one in `cache_dir`). See `request_check`."""
        shared = super().check(request, model_dir=model_dir, settings=settings)
        return check_v1_request(shared.request, settings=settings or {}, sample_rate=cls.sample_rate)

    def check_settings(self) -> dict[str, Any]:
        settings = {"model_dir": self.source if self.source != ckpt.HUB_REPO_ID else None,
                    "lyric_vocab": self.lyric_vocab, "cache_dir": self.cache_dir, "device": self.device}
        if self._pipeline is not None:  # loaded: count lyrics with its tokenizer, as the run will
            settings["tokenize_lyrics"] = self._pipeline.tokenize_lyrics
        return settings

    seeds_for = staticmethod(seeds_for)

    @classmethod
    def run_memory_bytes(cls, checked: CheckedRequest, *, settings: Mapping[str, Any]) -> int:
        """From the full-size measurements, scaled by the model's width (a tiny demo model needs
        a fraction); float16 counts as bfloat16. The int8 fast mode adds its variant's int8 weights
        (counted for every int8 job, also once the variant is built and kept)."""
        dtype = "float32" if str(settings.get("dtype") or "float32") == "float32" else "bfloat16"
        seconds = float(checked.facts.get("output_seconds", checked.request.duration))
        take_seconds = checked.request.batch_size * seconds
        if checked.request.options.get("overlapped_decode", settings.get("overlapped_decode", False)):
            need = take_seconds * WINDOWED_PER_TAKE_SECOND[dtype] + WINDOWED_DECODE[dtype]
        else:
            need = take_seconds * ONE_SHOT_PER_TAKE_SECOND[dtype]
        config = _dit_config(settings.get("model_dir"))
        width = _width(config)
        int8 = 0
        if FastSpec.from_dict(checked.facts.get("call")).int8:
            int8 = variant_bytes(width, int(config.get("num_layers", FULL_LAYERS)), float(config.get("mlp_ratio", 2.5)))
        return int(need * width / FULL_WIDTH) + int8

    @classmethod
    def stored_weight_bytes(cls, *, settings: Mapping[str, Any]) -> int:
        """The checkpoint's safetensors (stored in fp32), halved for bf16 / fp16."""
        model_dir = settings.get("model_dir")
        if not model_dir or not os.path.isdir(model_dir):
            return 0
        stored = sum(f.stat().st_size for f in Path(model_dir).rglob("*.safetensors"))
        return stored if str(settings.get("dtype") or "float32") == "float32" else stored // 2

    def load(self) -> None:
        """The four models, and the lyric tokenizer with its language tools when its vocabulary is set."""
        pipe = self.pipeline
        if self.lyric_vocab is not None:
            pipe.tokenize_lyrics("[verse]\nla")

    def weight_bytes(self) -> int:
        if self._pipeline is None:
            return 0
        pipe = self._pipeline
        modules = [pipe.transformer, pipe.dcae.autoencoder, pipe.dcae.vocoder, pipe.text_encoder.model]
        return sum(t.numel() * t.element_size() for m in modules for t in [*m.parameters(), *m.buffers()])

    def run(self, checked: CheckedRequest, progress: ProgressCallback = no_progress) -> MusicResult:
        """Run a checked request without checking it again: the source audio is decoded once, by `build_call`."""
        request = checked.request
        try:  # before the weights load: the device the job was checked for may not be this worker's
            check_fast_device(FastSpec.from_dict(checked.facts.get("call")), self.device)
        except InvalidArguments as exc:
            raise RequestError(f"ace-step-v1: {exc}") from None
        started = time.perf_counter()
        pipe = self.pipeline
        load_seconds = time.perf_counter() - started
        notes = []
        unknown = unknown_structure_tags(request.lyrics)
        if unknown:
            notes.append(f"lyric tags the model does not know (sung or ignored, not used as structure): {', '.join(unknown)}")
            warnings.warn(notes[-1], stacklevel=2)
            log.warning(notes[-1])

        if "call" not in checked.facts:  # a job stored before checked calls were kept: check it now, once
            checked = self.validate(request)
        arguments = CheckedCall.from_dict(checked.facts["call"])
        if arguments.overlapped_decode is None:
            arguments.overlapped_decode = self.overlapped_decode
        clock = time.perf_counter()
        ids = pipe.tokenize_lyrics(request.lyrics) if request.lyrics else []
        call = pipe.build_call(arguments, lyric_token_ids=ids, tokenize_seconds=time.perf_counter() - clock)
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


def _dit_config(model_dir: str | None) -> dict[str, Any]:
    """The DiT's config.json (no weights read); empty when unknown (the full config is assumed)."""
    if not model_dir:
        return {}
    try:
        config = json.loads((Path(model_dir) / "ace_step_transformer" / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return config if isinstance(config, dict) else {}


def _width(config: dict[str, Any]) -> int:
    """The DiT's width from its config; the full width when unknown."""
    try:
        return int(config["num_attention_heads"]) * int(config["attention_head_dim"])
    except (KeyError, TypeError, ValueError):
        return FULL_WIDTH
