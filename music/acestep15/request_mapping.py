"""Turn a `MusicRequest` into the keyword arguments of `AceStepPipeline.__call__`.

All checks happen here, before any model work: a request the loaded model cannot serve is
refused with a message saying what to change (or which models can serve it). Reading the
source/reference audio headers is the only I/O. Options use diffusers' argument names.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Callable

from music.acestep15.audio_inputs import audio_seconds
from music.acestep15.variants import (
    TASKS_ALL_MODELS,
    TASKS_BASE_ONLY,
    TASKS_NEEDING_SOURCE,
    TRACK_NAMES,
    Variant,
    describe_models,
    models_serving,
)
from music.engine import TASKS_V1, MusicRequest, RequestError

MIN_DURATION = 10.0
MAX_DURATION = 600.0
MAX_BATCH = 8
MAX_STEPS = 200
GUIDANCE_RANGE = (1.0, 20.0)
SHIFT_RANGE = (0.1, 10.0)
BPM_RANGE = (30, 300)
LORA_WEIGHT_RANGE = (0.0, 2.0)
TIME_SIGNATURES = ("2", "3", "4", "6")  # beats per bar, as the model was trained (2/4, 3/4, 4/4, 6/8)
KEYSCALE = re.compile(r"^[A-G](#|b|♯|♭)? (major|minor)$")
LANGUAGE = re.compile(r"^([a-z]{2,3}(-[a-z]{2,4})?|unknown)$")
SEED_LIMIT = 2**32

OPTION_NAMES = (
    "bpm",
    "keyscale",
    "timesignature",
    "vocal_language",
    "shift",
    "cfg_interval_start",
    "cfg_interval_end",
    "audio_cover_strength",
    "track_name",
    "complete_track_classes",
)


@dataclass(kw_only=True)
class PlannedCall:
    """Everything the pipeline call needs, except the tensors (audio, generators) built at run time."""

    kwargs: dict[str, Any]  # plain pipeline keyword arguments
    seeds: list[int]
    target_seconds: float
    source_audio: str | None = None
    reference_audio: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)  # what the result records
    drawn_seeds: bool = False  # no seeds were asked for: `seeds` were drawn at random

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON), for the checked request a job stores."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "PlannedCall":
        return cls(**data)

    def for_this_run(self) -> "PlannedCall":
        """The call with fresh random seeds where none were asked for (so a stored plan run again,
        e.g. a retried job, draws anew as planning it again would); otherwise itself."""
        if not self.drawn_seeds:
            return self
        seeds = random_seeds(len(self.seeds))
        return replace(self, seeds=seeds, parameters={**self.parameters, "seeds": seeds})


def reject_task(task: str, *, variant: Variant, model_id: str) -> RequestError:
    capable = models_serving(task)
    if capable:
        return RequestError(
            f"task {task!r} cannot run on the loaded ACE-Step 1.5 {variant.name} model ({model_id}); "
            f"models that can: {describe_models(capable)}"
        )
    if task in TASKS_V1:
        return RequestError(f"ACE-Step 1.5 does not run task {task!r}; the 'ace-step-v1' engine does")
    return RequestError(f"unknown task {task!r}; ACE-Step 1.5 runs: {', '.join(TASKS_ALL_MODELS + TASKS_BASE_ONLY)}")


def _checked_number(value: Any, name: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise RequestError(f"{name} must be a number, got {value!r}")
    if not low <= value <= high:
        raise RequestError(f"{name} must be in [{low:g}, {high:g}], got {value:g}")
    return float(value)


def _number(options: dict[str, Any], name: str, default: float, low: float, high: float) -> float:
    return _checked_number(options.get(name, default), f"option {name}", low, high)


def _metadata(options: dict[str, Any]) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    if options.get("bpm") is not None:
        bpm = options["bpm"]
        if isinstance(bpm, bool) or not isinstance(bpm, (int, float)) or int(bpm) != bpm:
            raise RequestError(f"option bpm must be a whole number of beats per minute, got {bpm!r}")
        if not BPM_RANGE[0] <= bpm <= BPM_RANGE[1]:
            raise RequestError(f"option bpm must be in [{BPM_RANGE[0]}, {BPM_RANGE[1]}], got {bpm}")
        meta["bpm"] = int(bpm)
    if options.get("keyscale") is not None:
        keyscale = str(options["keyscale"]).strip()
        if not KEYSCALE.match(keyscale):
            raise RequestError(f"option keyscale must look like 'C major' or 'F# minor', got {keyscale!r}")
        meta["keyscale"] = keyscale
    if options.get("timesignature") is not None:
        signature = str(options["timesignature"]).strip()
        beats = signature.split("/", 1)[0]  # "3/4" -> "3": the model is given beats per bar
        if beats not in TIME_SIGNATURES:
            raise RequestError(
                f"option timesignature must be one of {', '.join(TIME_SIGNATURES)} (beats per bar, "
                f"or written as '3/4'), got {signature!r}"
            )
        meta["timesignature"] = beats
    language = str(options.get("vocal_language", "en")).strip().lower()
    if not LANGUAGE.match(language):
        raise RequestError(f"option vocal_language must be a language code such as 'en', 'zh' or 'ja', got {language!r}")
    meta["vocal_language"] = language
    return meta


def random_seeds(count: int) -> list[int]:
    rng = random.SystemRandom()
    return [rng.randrange(SEED_LIMIT) for _ in range(count)]


def _seeds(request: MusicRequest) -> list[int]:
    if request.seeds is None:
        return random_seeds(request.batch_size)
    for seed in request.seeds:
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < SEED_LIMIT:
            raise RequestError(f"seeds must be whole numbers in [0, 2**32), got {seed!r}")
    if len(request.seeds) == request.batch_size:
        return list(request.seeds)
    if len(request.seeds) == 1:  # one seed for a batch: consecutive seeds, each recorded
        return [(request.seeds[0] + i) % SEED_LIMIT for i in range(request.batch_size)]
    raise RequestError(
        f"give one seed or one per take: {len(request.seeds)} seeds for {request.batch_size} takes"
    )


def _tracks(task: str, options: dict[str, Any]) -> dict[str, Any]:
    def check(name: Any, option: str) -> str:
        if not isinstance(name, str) or name.strip().lower() not in TRACK_NAMES:
            raise RequestError(f"option {option} must name tracks from: {', '.join(TRACK_NAMES)}; got {name!r}")
        return name.strip().lower()

    if task in ("extract", "lego"):
        if options.get("track_name") is None:
            raise RequestError(f"task {task!r} needs option track_name, one of: {', '.join(TRACK_NAMES)}")
        return {"track_name": check(options["track_name"], "track_name")}
    if task == "complete":
        classes = options.get("complete_track_classes")
        if isinstance(classes, str):
            classes = [classes]
        if not classes:
            raise RequestError(f"task 'complete' needs option complete_track_classes, a list from: {', '.join(TRACK_NAMES)}")
        return {"complete_track_classes": [check(name, "complete_track_classes") for name in classes]}
    for option in ("track_name", "complete_track_classes"):
        if options.get(option) is not None:
            raise RequestError(f"option {option} is for the extract/lego/complete tasks, not {task!r}")
    return {}


def _guidance(request: MusicRequest, options: dict[str, Any], variant: Variant) -> dict[str, Any]:
    interval_given = any(options.get(k) is not None for k in ("cfg_interval_start", "cfg_interval_end"))
    if variant.turbo:
        if request.guidance_scale is not None and request.guidance_scale != 1.0:
            raise RequestError(
                f"the {variant.name} model is guidance-distilled and ignores guidance_scale; leave it unset "
                "(or 1.0), or load a base/sft model to use guidance"
            )
        if interval_given:
            raise RequestError(f"the {variant.name} model runs without guidance; drop cfg_interval_start/cfg_interval_end")
        return {"guidance_scale": 1.0}
    guidance = variant.default_guidance if request.guidance_scale is None else request.guidance_scale
    guidance = _checked_number(guidance, "guidance_scale", *GUIDANCE_RANGE)
    start = _number(options, "cfg_interval_start", 0.0, 0.0, 1.0)
    end = _number(options, "cfg_interval_end", 1.0, 0.0, 1.0)
    if start > end:
        raise RequestError(f"cfg_interval_start ({start:g}) must not exceed cfg_interval_end ({end:g})")
    return {"guidance_scale": float(guidance), "cfg_interval_start": start, "cfg_interval_end": end}


def _duration_and_region(request: MusicRequest) -> tuple[float, dict[str, Any]]:
    """Seconds to generate, and the repaint/lego window; source tasks take the source's length."""
    task = request.task
    if task not in TASKS_NEEDING_SOURCE:
        if request.source_audio is not None:
            raise RequestError(f"task {task!r} takes no source_audio; use repaint, cover, extract, lego or complete")
        seconds = _checked_number(request.duration, "duration", MIN_DURATION, MAX_DURATION)
    else:
        if request.source_audio is None:
            raise RequestError(f"task {task!r} needs source_audio (a path to the audio to work on)")
        seconds = audio_seconds(request.source_audio, role="source_audio")
        if not MIN_DURATION <= seconds <= MAX_DURATION:
            raise RequestError(
                f"source_audio must be {MIN_DURATION:g}-{MAX_DURATION:g} seconds long; {request.source_audio} "
                f"is {seconds:.2f} s (the output has the source's length)"
            )
    has_region = request.region_start is not None or request.region_end is not None
    if task not in ("repaint", "lego"):
        if has_region:
            raise RequestError(f"region_start/region_end apply to repaint and lego, not {task!r}")
        return seconds, {}
    if task == "repaint" and request.region_start is None:
        raise RequestError("task 'repaint' needs region_start (seconds); region_end defaults to the end")
    if not has_region:
        return seconds, {}
    start = 0.0 if request.region_start is None else request.region_start
    end = seconds if request.region_end is None else request.region_end
    start = _checked_number(start, "region_start", 0.0, seconds)
    end = _checked_number(end, "region_end", 0.0, seconds + 1e-6)
    if not start < end:
        raise RequestError(
            f"region must satisfy 0 <= region_start < region_end <= {seconds:.2f} (the source length); "
            f"got {start:g}..{end:g}"
        )
    return seconds, {"repainting_start": start, "repainting_end": end}


def plan_call(
    request: MusicRequest,
    *,
    variant: Variant,
    model_id: str,
    has_audio_tokenizer: bool,
    lora_exists: Callable[[str], bool],
) -> PlannedCall:
    """Validate `request` for the loaded model and build the pipeline arguments (no model work)."""
    if request.task not in variant.tasks:
        raise reject_task(request.task, variant=variant, model_id=model_id)
    unknown = sorted(set(request.options) - set(OPTION_NAMES))
    if unknown:
        raise RequestError(f"unknown option(s) {', '.join(unknown)}; ACE-Step 1.5 options are: {', '.join(OPTION_NAMES)}")
    options = request.options
    if not isinstance(request.prompt, str) or not isinstance(request.lyrics, str):
        raise RequestError("prompt and lyrics must be text")
    if request.task == "text2music" and not request.prompt.strip() and not request.lyrics.strip():
        raise RequestError("give a prompt, lyrics or both")
    if isinstance(request.batch_size, bool) or not isinstance(request.batch_size, int) or not 1 <= request.batch_size <= MAX_BATCH:
        raise RequestError(f"batch_size must be 1-{MAX_BATCH}, got {request.batch_size}")
    steps = variant.default_steps if request.steps is None else request.steps
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= MAX_STEPS:
        raise RequestError(f"steps must be a whole number in [1, {MAX_STEPS}], got {steps!r}")
    if request.reference_strength is not None:
        raise RequestError("ACE-Step 1.5 has no reference strength; drop reference_strength (reference_audio alone sets the timbre/style)")
    if request.reference_audio is not None:
        audio_seconds(request.reference_audio, role="reference_audio")
    if request.task == "cover" and not has_audio_tokenizer:
        raise RequestError(
            f"cover needs the audio_tokenizer and audio_token_detokenizer components, which {model_id} lacks; "
            "use a checkpoint converted with them"
        )
    if request.task != "cover" and options.get("audio_cover_strength") is not None:
        raise RequestError(f"option audio_cover_strength is for the cover task, not {request.task!r}")
    if request.lora is not None:
        if not lora_exists(request.lora):
            raise RequestError(f"LoRA not found: {request.lora} (give a LoRA folder or a .safetensors file)")
        _checked_number(request.lora_weight, "lora_weight", *LORA_WEIGHT_RANGE)

    seconds, region = _duration_and_region(request)
    meta = _metadata(options)
    kwargs: dict[str, Any] = {
        "prompt": [request.prompt] * request.batch_size,
        # a lyrics list of the same length: the pipeline indexes lyrics per prompt
        "lyrics": [request.lyrics] * request.batch_size,
        "audio_duration": seconds,
        "num_inference_steps": steps,
        "shift": _number(options, "shift", variant.default_shift, *SHIFT_RANGE),
        "task_type": request.task,
        **meta,
        **_guidance(request, options, variant),
        **_tracks(request.task, options),
        **region,
    }
    if request.task == "cover":
        kwargs["audio_cover_strength"] = _number(options, "audio_cover_strength", 1.0, 0.0, 1.0)
    seeds = _seeds(request)
    parameters = {
        **{k: v for k, v in kwargs.items() if k not in ("prompt", "lyrics")},
        "prompt": request.prompt,
        "lyrics": request.lyrics,
        "batch_size": request.batch_size,
        "seeds": seeds,
        "variant": variant.name,
        "source_audio": request.source_audio,
        "reference_audio": request.reference_audio,
        "lora": request.lora,
        "lora_weight": request.lora_weight if request.lora is not None else None,
    }
    return PlannedCall(
        kwargs=kwargs,
        seeds=seeds,
        target_seconds=seconds,
        source_audio=request.source_audio,
        reference_audio=request.reference_audio,
        parameters=parameters,
        drawn_seeds=request.seeds is None,
    )
