"""The model-free check of an `ace-step-v1` request, run once when a job is submitted.

The request's fields become upstream's generate arguments, checked by the one argument check
the pipeline also uses (`call_check.check_call`: steps and the sampler, guidance, seeds, the
sample rate, the editing-mode arguments with the audio they name, whose header is read: no
decoding), plus what only the engine knows: option names (an explicit list, `OPTION_NAMES`), the
LoRA file, and the lyrics' length in tokens counted by the model's own lyric tokenizer (it needs
only the vocabulary file). The result is a `CheckedRequest` with the defaults filled in and the
facts learned (lyric tokens, source / reference audio header, and the checked call itself,
`facts["call"]`) that the engine runs as is.
"""

from __future__ import annotations

import functools
import os
from dataclasses import replace
from pathlib import Path
from typing import Any, Mapping

import torch

from music.acestep_v1.call_check import check_call
from music.acestep_v1.common import MAX_LYRIC_TOKENS, MODE_DEFAULTS, NATIVE_SAMPLE_RATE, SAMPLES_PER_FRAME
from music.acestep_v1.fast.options import check_fast_device
from music.acestep_v1.loading import checkpoint as ckpt
from music.acestep_v1.loading.lora import check_lora_source
from music.acestep_v1.lyric_frontend.tokenizer import LyricTokenizer
from music.acestep_v1.modes.request import MAPPED_MODE_ARGUMENTS, mode_kwargs
from music.engine import CheckedRequest, MusicRequest, RequestError

DEFAULT_STEPS = 60
DEFAULT_GUIDANCE = 15.0
# A sung line is short; the language detector's cost grows with the square of a line's length
# (a single 100,000-character line took minutes), so longer lines are refused before counting.
MAX_LYRIC_LINE_CHARS = 1000
# request field -> upstream keyword: giving one of these in `options` as well is an error
MAPPED_FIELDS = {
    "prompt": "prompt", "lyrics": "lyrics", "audio_duration": "duration", "infer_step": "steps",
    "guidance_scale": "guidance_scale", "batch_size": "batch_size", "manual_seeds": "seeds",
}
# upstream keywords `options` may carry (prepare_text2music's own plus the unmapped mode ones)
SAMPLER_OPTIONS = (
    "scheduler_type", "cfg_type", "omega_scale", "guidance_interval", "guidance_interval_decay",
    "min_guidance_scale", "use_erg_tag", "use_erg_lyric", "use_erg_diffusion", "oss_steps",
    "guidance_scale_text", "guidance_scale_lyric", "sample_rate", "overlapped_decode", "debug",
)
FAST_OPTIONS = ("fast_modes", "step_cache_threshold")  # ours (music.acestep_v1.fast), not upstream's
MODE_OPTIONS = tuple(k for k in MODE_DEFAULTS if k not in MAPPED_MODE_ARGUMENTS)
OPTION_NAMES = SAMPLER_OPTIONS + MODE_OPTIONS + FAST_OPTIONS


def check_v1_request(request: MusicRequest, *, settings: Mapping[str, Any], sample_rate: int) -> CheckedRequest:
    """`request` already passed the shared checks (limits, absolute paths); RequestError otherwise.
    The generate arguments are checked by `check_call`, once: the engine runs `facts["call"]`."""
    clashes = sorted(k for k in request.options if k in MAPPED_FIELDS)
    if clashes:
        fields = ", ".join(f"{k} (use the request's {MAPPED_FIELDS[k]!r})" for k in clashes)
        raise RequestError(f"options repeat request fields: {fields}")
    mode = mode_kwargs(request)
    unknown = sorted(set(request.options) - set(OPTION_NAMES))
    if unknown:
        raise RequestError(f"unknown ace-step-v1 option(s): {', '.join(unknown)}; known: {', '.join(sorted(OPTION_NAMES))}")
    steps = request.steps if request.steps is not None else DEFAULT_STEPS
    guidance = request.guidance_scale if request.guidance_scale is not None else DEFAULT_GUIDANCE
    lyric_tokens = count_lyric_tokens(request.lyrics, settings=settings)
    try:
        call = check_call(
            lyric_tokens=lyric_tokens, prompt=request.prompt, audio_duration=request.duration, infer_step=steps,
            guidance_scale=guidance, batch_size=request.batch_size, manual_seeds=seeds_for(request),
            **{"sample_rate": sample_rate, **request.options, **mode},
        )
        check_lora_source(request.lora)
        device = run_device(settings)
        if device is not None:  # where the engine will run, as the settings say (the run checks again)
            check_fast_device(call.fast_spec(), device)
    except RequestError:
        raise
    except (TypeError, ValueError) as exc:
        raise RequestError(f"ace-step-v1: {exc}") from None
    if "overlapped_decode" not in request.options:
        call.overlapped_decode = None  # the engine's own setting decides
    facts: dict[str, Any] = {"lyric_tokens": lyric_tokens, "call": call.to_dict()}
    spec = call.mode.spec
    for role, audio in (("source", spec.source), ("reference", spec.reference)):
        if audio is not None:
            facts[role] = {"seconds": audio.seconds, "frames": audio.frames,
                           "sample_rate": audio.original_sample_rate, "channels": audio.original_channels}
    frames = spec.frame_length
    facts["output_seconds"] = frames * SAMPLES_PER_FRAME / NATIVE_SAMPLE_RATE if frames is not None else request.duration
    return CheckedRequest(engine="ace-step-v1", request=replace(request, steps=steps, guidance_scale=guidance),
                          facts=facts)


def run_device(settings: Mapping[str, Any]) -> str | None:
    """The device the settings name ("auto" resolved as the worker resolves it on this machine);
    None when the caller named none."""
    device = settings.get("device")
    if device != "auto":
        return device
    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    return "mps" if mps is not None and mps.is_available() else "cpu"


def seeds_for(request: MusicRequest) -> list[int] | None:
    """One seed per take; one seed for several takes gives take i the seed + i (so that takes differ)."""
    if request.seeds is None:
        return None
    if len(request.seeds) == 1 and request.batch_size > 1:
        return [(request.seeds[0] + i) % 2**32 for i in range(request.batch_size)]
    return list(request.seeds)


def count_lyric_tokens(lyrics: str, *, settings: Mapping[str, Any], limit: int = MAX_LYRIC_TOKENS) -> int:
    """The lyrics' length in the model's lyric tokens; RequestError over `limit` (counting stops there)."""
    if not lyrics.strip():
        return 0
    lines = lyrics.split("\n")
    longest = max(lines, key=len)
    if len(longest) > MAX_LYRIC_LINE_CHARS:
        raise RequestError(
            f"a lyric line is {len(longest)} characters long; lines are at most {MAX_LYRIC_LINE_CHARS} "
            "characters (put each sung line on its own line)"
        )
    if settings.get("tokenize_lyrics") is not None:  # a loaded pipeline's own tokenizer (Python API)
        count = len(settings["tokenize_lyrics"](lyrics))
        if count > limit:
            raise RequestError(f"the lyrics are over the lyric token limit: {count} tokens where ACE-Step v1 "
                               f"takes at most {limit}; shorten them (fewer lines or repeats)")
        return count
    tokenizer = lyric_tokenizer(settings)
    count = 1  # [START]
    for line in lines:  # the tokenizer reads each line on its own: the sum is the whole count
        (analysed,) = tokenizer.analyse(line)
        if not analysed.dropped:
            count += len(analysed.token_ids) + 1  # the line's ids and its [SPACE]
        if count > limit:
            raise RequestError(
                f"the lyrics are over the lyric token limit: at least {count} tokens where ACE-Step v1 takes "
                f"at most {limit}; shorten them (fewer lines or repeats)"
            )
    return count


def lyric_tokenizer(settings: Mapping[str, Any]) -> LyricTokenizer:
    """The tokenizer the engine will use: `lyric_vocab`, else the vocabulary in the model cache
    (downloaded there when online, as the engine would)."""
    vocab = settings.get("lyric_vocab")
    cache_dir = settings.get("cache_dir")
    try:
        path = ckpt.resolve_lyric_vocab(vocab, cache_dir=cache_dir)
    except ckpt.MissingWeightsError as exc:
        raise RequestError(
            f"the lyrics cannot be measured against the model's {MAX_LYRIC_TOKENS}-token limit without its lyric "
            f"vocabulary: {exc} (for the studio: the ace-step-v1 engine option lyric_vocab, e.g. in "
            "SONGSTUDIO_ENGINE_OPTIONS, or the vocabulary copied into that cache path)"
        ) from None
    return _tokenizer_for(os.fspath(Path(path).resolve()))


@functools.lru_cache(maxsize=4)
def _tokenizer_for(path: str) -> LyricTokenizer:
    try:
        return LyricTokenizer.from_file(path)
    except (OSError, ValueError) as exc:
        raise RequestError(f"the lyric vocabulary {path} cannot be read: {exc}") from None
