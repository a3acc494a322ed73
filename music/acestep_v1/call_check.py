"""The one check of ACE-Step v1's generate arguments (upstream's keyword names), without a model.

`check_call` is called once per job: by the engine's request check at submit, or by the
pipeline's `prepare_text2music` for callers who use the pipeline directly. It returns a
`CheckedCall`, plain data with every default filled in and the mode's audio measured (header
only), that `ACEStepV1Pipeline.build_call` turns into a runnable call without checking again.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from music.acestep_v1.common import (
    MAX_LYRIC_TOKENS,
    MODE_ARGUMENTS,
    SAMPLE_RATES,
    InvalidArguments,
    check_duration,
    parse_seeds,
)
from music.acestep_v1.fast.options import FastSpec, check_fast
from music.acestep_v1.modes.prepare import CheckedMode, check_mode
from music.acestep_v1.sampling.guidance import GuidancePlan
from music.acestep_v1.sampling.schedulers import make_schedule, parse_oss_steps


@dataclass(kw_only=True)
class CheckedCall:
    """generate's arguments after `check_call`. `seeds` None draws random ones when the call is
    built (each run of a stored job draws afresh, as an unchecked call would); `overlapped_decode`
    None leaves it to the engine's setting."""

    prompt: str
    audio_duration: float
    infer_step: int
    guidance_scale: float
    scheduler_type: str
    cfg_type: str
    omega_scale: float
    seeds: list[int] | None
    guidance_interval: float
    guidance_interval_decay: float
    min_guidance_scale: float
    use_erg_tag: bool
    use_erg_lyric: bool
    use_erg_diffusion: bool
    oss_steps: list[int]
    guidance_scale_text: float
    guidance_scale_lyric: float
    batch_size: int
    task: str
    sample_rate: int
    overlapped_decode: bool | None
    lyric_tokens: int
    mode: CheckedMode
    # opt-in fast modes (music.acestep_v1.fast.options); absent from jobs stored before them: none
    fast_modes: list[str] = field(default_factory=list)
    step_cache_threshold: float | None = None

    def fast_spec(self) -> FastSpec:
        return FastSpec(modes=tuple(self.fast_modes), step_cache_threshold=self.step_cache_threshold)

    def guidance_plan(self) -> GuidancePlan:
        return GuidancePlan(
            cfg_type=self.cfg_type, guidance_scale=self.guidance_scale, guidance_interval=self.guidance_interval,
            guidance_interval_decay=self.guidance_interval_decay, min_guidance_scale=self.min_guidance_scale,
            guidance_scale_text=self.guidance_scale_text, guidance_scale_lyric=self.guidance_scale_lyric,
        )

    def to_dict(self) -> dict[str, Any]:
        return {**{f.name: getattr(self, f.name) for f in fields(self) if f.name != "mode"}, "mode": self.mode.to_dict()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "CheckedCall":
        return cls(**{**data, "mode": CheckedMode.from_dict(data["mode"])})


def check_call(
    *,
    lyric_tokens: int,
    prompt: str = "",
    audio_duration: float = 60.0,
    infer_step: int = 60,
    guidance_scale: float = 15.0,
    scheduler_type: str = "euler",
    cfg_type: str = "apg",
    omega_scale: float = 10.0,
    manual_seeds=None,
    guidance_interval: float = 0.5,
    guidance_interval_decay: float = 0.0,
    min_guidance_scale: float = 3.0,
    use_erg_tag: bool = True,
    use_erg_lyric: bool = True,
    use_erg_diffusion: bool = True,
    oss_steps=None,
    guidance_scale_text: float = 0.0,
    guidance_scale_lyric: float = 0.0,
    batch_size: int = 1,
    task: str = "text2music",
    sample_rate: int = 48000,
    overlapped_decode: bool = False,
    debug: bool = False,  # upstream's logging switch; accepted, no effect on numbers
    fast_modes=None,  # ours, not upstream's: "int8", "step-cache" (music.acestep_v1.fast)
    step_cache_threshold: float | None = None,
    **mode_kwargs,
) -> CheckedCall:
    """Check every argument of generate (no model work, no decoding); `InvalidArguments` (or the
    mode check's `RequestError`) naming what to fix. `lyric_tokens` is the lyrics' token count."""
    writing = sorted(set(mode_kwargs) & {"format", "save_path"})  # upstream's file-output arguments
    if writing:
        raise InvalidArguments(
            f"{', '.join(writing)}: generate writes no file, it returns the audio (out.audio at out.sample_rate)"
        )
    unknown = sorted(set(mode_kwargs) - set(MODE_ARGUMENTS))
    if unknown:
        raise InvalidArguments(f"unknown argument(s) for ACE-Step v1 generate: {', '.join(unknown)}")
    try:
        check_duration(audio_duration)
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        if lyric_tokens > MAX_LYRIC_TOKENS:
            raise ValueError(f"lyrics are {lyric_tokens} tokens long; the model takes at most {MAX_LYRIC_TOKENS}: shorten them")
        if sample_rate not in SAMPLE_RATES:
            raise ValueError(f"sample_rate must be one of {SAMPLE_RATES}, got {sample_rate}")
        checked = CheckedCall(
            prompt=prompt or "", audio_duration=float(audio_duration), infer_step=int(infer_step),
            guidance_scale=float(guidance_scale), scheduler_type=scheduler_type, cfg_type=cfg_type,
            omega_scale=float(omega_scale),
            seeds=None if manual_seeds in (None, [], "") else parse_seeds(manual_seeds, batch_size),
            guidance_interval=float(guidance_interval), guidance_interval_decay=float(guidance_interval_decay),
            min_guidance_scale=float(min_guidance_scale), use_erg_tag=use_erg_tag, use_erg_lyric=use_erg_lyric,
            use_erg_diffusion=use_erg_diffusion, oss_steps=parse_oss_steps(oss_steps),
            guidance_scale_text=float(guidance_scale_text or 0.0),
            guidance_scale_lyric=float(guidance_scale_lyric or 0.0), batch_size=batch_size, task=task,
            sample_rate=sample_rate, overlapped_decode=overlapped_decode, lyric_tokens=int(lyric_tokens),
            # editing modes and LoRA: mode arguments checked, the audio's header read
            mode=check_mode(task=task, batch_size=batch_size, **mode_kwargs),
        )
        fast = check_fast(fast_modes, step_cache_threshold, task=task,
                          lora=checked.mode.arguments.get("lora_name_or_path"))
        checked.fast_modes, checked.step_cache_threshold = list(fast.modes), fast.step_cache_threshold
        checked.guidance_plan()  # cfg_type
        make_schedule(scheduler_type=scheduler_type, infer_step=checked.infer_step, omega_scale=checked.omega_scale,
                      oss_steps=checked.oss_steps)
    except InvalidArguments:
        raise
    except ValueError as exc:
        raise InvalidArguments(str(exc)) from exc
    return checked


