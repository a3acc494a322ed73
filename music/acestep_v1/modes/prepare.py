"""A call's mode in two steps, so that a job checks its arguments once and decodes its audio once.

`check_mode` (no model, no decoding): upstream's mode / LoRA keywords checked with their defaults
filled in and the source / reference audio's header read (`arguments.resolve_mode`); plain data
that a checked request stores. `load_mode` (no checking): the retake seeds drawn when none were
given, the audio decoded once, and the parameters to record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from music.acestep_v1.audio.source_audio import SourceAudio, decode_source_audio
from music.acestep_v1.common import MODE_DEFAULTS, parse_seeds
from music.acestep_v1.modes.arguments import ModeSpec, check_lora_weight, resolve_mode


@dataclass
class CheckedMode:
    """A mode whose arguments passed `check_mode`: plain data (`to_dict` / `from_dict`)."""

    spec: ModeSpec
    arguments: dict[str, Any]  # the mode arguments with defaults filled in
    retake_seeds: list[int] | None = None  # as given (parsed); None draws them when the call is built

    @property
    def task(self) -> str:
        return self.spec.task

    @property
    def uses_retake_seeds(self) -> bool:
        return self.spec.uses_retake_noise or self.spec.task == "edit"

    def to_dict(self) -> dict[str, Any]:
        return {"spec": self.spec.to_dict(), "arguments": dict(self.arguments), "retake_seeds": self.retake_seeds}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "CheckedMode":
        return cls(spec=ModeSpec.from_dict(data["spec"]), arguments=dict(data["arguments"]),
                   retake_seeds=data.get("retake_seeds"))


@dataclass
class PreparedMode:
    """A checked mode ready to run: seeds drawn, audio decoded."""

    spec: ModeSpec
    arguments: dict[str, Any]
    retake_seeds: list[int] | None = None
    source: SourceAudio | None = None  # decoded spec.source (repaint, extend, edit)
    reference: SourceAudio | None = None  # decoded spec.reference (audio2audio)
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def task(self) -> str:
        return self.spec.task


def check_mode(*, task: str, batch_size: int, **mode_kwargs) -> CheckedMode:
    """Validate the mode arguments and read their audio's header; no model is touched, nothing decoded."""
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
    checked = CheckedMode(spec=spec, arguments=args)
    if checked.uses_retake_seeds and args["retake_seeds"] not in (None, [], ""):
        checked.retake_seeds = parse_seeds(args["retake_seeds"], batch_size)
    return checked


def load_mode(checked: CheckedMode, *, batch_size: int) -> PreparedMode:
    """The checked mode ready to run, without checking it again: retake seeds drawn when none
    were given, the source / reference audio decoded (once per call)."""
    spec = checked.spec
    seeds = checked.retake_seeds
    if seeds is None and checked.uses_retake_seeds:
        seeds = parse_seeds(None, batch_size)  # None: random seeds, one per take
    prepared = PreparedMode(
        spec=spec, arguments=dict(checked.arguments), retake_seeds=seeds,
        source=decode_source_audio(spec.source, role="source audio (src_audio_path)") if spec.source else None,
        reference=(decode_source_audio(spec.reference, role="reference audio (ref_audio_input)")
                   if spec.reference else None),
    )
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
