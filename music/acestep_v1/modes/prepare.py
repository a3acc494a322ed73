"""A call's mode, prepared before any model work: upstream's mode / LoRA keywords checked with
their defaults filled in, the source audio read (`arguments.resolve_mode`), the retake seeds
drawn, and the parameters to record."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from music.acestep_v1.common import MODE_DEFAULTS, parse_seeds
from music.acestep_v1.modes.arguments import ModeSpec, check_lora_weight, resolve_mode


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
