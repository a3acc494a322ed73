"""Checks and normalises the editing-mode arguments before any model work.

`resolve_mode(...)` takes upstream's keyword names, reads the source / reference audio's header
(file work, not model work; the samples are decoded once, when the job runs) and returns a
`ModeSpec` with everything in latent frames, or raises `RequestError` saying what to change. Nothing here touches a model, so a bad request costs no
GPU time and leaves no state behind.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from music.acestep_v1.audio.source_audio import AudioFacts, probe_source_audio
from music.acestep_v1.common import FRAMES_PER_SECOND, MAX_DURATION_S, MAX_FRAMES, frames_for_duration
from music.engine import TASKS_V1, RequestError

LORA_WEIGHT_RANGE = (-3.0, 3.0)
REGION_SLACK_S = 1e-3  # a repaint end this far past the source still counts as its end (rounding)
EDIT_PRESETS = {"only_lyrics": (0.6, 1.0), "remix": (0.2, 0.4)}  # (edit_n_min, edit_n_max), upstream UI


@dataclass(frozen=True, kw_only=True)
class ModeSpec:
    """A validated mode request. Frame indices are latent frames (4096 samples each)."""

    task: str
    retake_variance: float = 0.5
    source: AudioFacts | None = None  # repaint, extend, edit (the header; decoded when the job runs)
    reference: AudioFacts | None = None  # audio2audio
    ref_audio_strength: float = 0.5
    repaint_start_frame: int = 0  # repaint: [start, end) frames of the source
    repaint_end_frame: int = 0
    extend_left_frames: int = 0  # extend: frames added before / after the source
    extend_right_frames: int = 0
    edit_target_prompt: str | None = None
    edit_target_lyrics: str | None = None
    edit_n_min: float = 0.0
    edit_n_max: float = 1.0
    edit_n_avg: int = 1

    @property
    def uses_retake_noise(self) -> bool:
        return self.task in ("retake", "repaint", "extend")

    @property
    def frame_length(self) -> int | None:
        """Latent frames of the output when fixed by the input audio, else None (from duration)."""
        if self.task == "extend":
            return self.extend_left_frames + self.source.frames + self.extend_right_frames
        if self.source is not None:
            return self.source.frames
        if self.reference is not None:
            return self.reference.frames
        return None

    def to_dict(self) -> dict:
        """Plain data (JSON), for a checked request stored in a job."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        for role in ("source", "reference"):
            out[role] = out[role].to_dict() if out[role] is not None else None
        return out

    @classmethod
    def from_dict(cls, data: dict) -> "ModeSpec":
        audio = {role: AudioFacts.from_dict(data[role]) if data.get(role) else None for role in ("source", "reference")}
        return cls(**{**data, **audio})


def _unit_interval(name: str, value: float) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise RequestError(f"{name} must be a number in [0, 1], got {value!r}") from None
    if not (0.0 <= value <= 1.0) or math.isnan(value):
        raise RequestError(f"{name} must be in [0, 1], got {value:g}")
    return value


def check_lora_weight(weight: float) -> float:
    low, high = LORA_WEIGHT_RANGE
    try:
        weight = float(weight)
    except (TypeError, ValueError):
        raise RequestError(f"lora_weight must be a number in [{low:g}, {high:g}], got {weight!r}") from None
    if not (low <= weight <= high):
        raise RequestError(f"lora_weight must be in [{low:g}, {high:g}], got {weight:g}")
    return weight


def resolve_mode(
    *,
    task: str = "text2music",
    src_audio_path: str | None = None,
    repaint_start: float = 0.0,
    repaint_end: float = 0.0,
    retake_variance: float = 0.5,
    audio2audio_enable: bool = False,
    ref_audio_input: str | None = None,
    ref_audio_strength: float = 0.5,
    edit_target_prompt: str | None = None,
    edit_target_lyrics: str | None = None,
    edit_n_min: float = 0.0,
    edit_n_max: float = 1.0,
    edit_n_avg: int = 1,
) -> ModeSpec:
    """Validate the mode arguments (upstream names); read the header of the audio they point to."""
    # upstream: audio2audio_enable with a reference forces the task; we also accept task="audio2audio"
    if audio2audio_enable and ref_audio_input is not None:
        task = "audio2audio"
    if task not in TASKS_V1:
        raise RequestError(f"unknown task {task!r}; ACE-Step v1 runs: {', '.join(TASKS_V1)}")
    needs_source = task in ("repaint", "extend", "edit")
    if src_audio_path is not None and not needs_source:
        raise RequestError(
            f"task {task!r} does not use src_audio_path; it is for repaint, extend and edit"
            + (" (audio2audio takes ref_audio_input)" if task == "audio2audio" else "")
        )
    if needs_source and not src_audio_path:
        raise RequestError(f"task {task!r} needs src_audio_path (the audio to {task})")
    if task == "audio2audio" and not ref_audio_input:
        raise RequestError("audio2audio needs ref_audio_input (the reference audio)")
    if task != "audio2audio" and audio2audio_enable:
        raise RequestError("audio2audio_enable is set but ref_audio_input is missing")

    variance = _unit_interval("retake_variance", retake_variance) if task in ("retake", "repaint", "extend") else 0.5
    if task == "retake" or task == "text2music":
        return ModeSpec(task=task, retake_variance=variance)

    if task == "audio2audio":
        strength = _unit_interval("ref_audio_strength", ref_audio_strength)
        reference = probe_source_audio(ref_audio_input, role="reference audio (ref_audio_input)")
        return ModeSpec(task=task, reference=reference, ref_audio_strength=strength)

    if task == "edit":
        n_min = _unit_interval("edit_n_min", edit_n_min)
        n_max = _unit_interval("edit_n_max", edit_n_max)
        if n_min >= n_max:
            raise RequestError(
                f"edit_n_min must be below edit_n_max, got {n_min:g} >= {n_max:g} "
                f"(presets: only_lyrics {EDIT_PRESETS['only_lyrics']}, remix {EDIT_PRESETS['remix']})"
            )
        if isinstance(edit_n_avg, bool) or not isinstance(edit_n_avg, int) or edit_n_avg < 1:
            raise RequestError(f"edit_n_avg must be a whole number >= 1, got {edit_n_avg!r}")
        source = probe_source_audio(src_audio_path, role="source audio (src_audio_path)")
        return ModeSpec(
            task=task,
            source=source,
            edit_target_prompt=edit_target_prompt,
            edit_target_lyrics=edit_target_lyrics,
            edit_n_min=n_min,
            edit_n_max=n_max,
            edit_n_avg=edit_n_avg,
        )

    source = probe_source_audio(src_audio_path, role="source audio (src_audio_path)")
    if task == "repaint":
        return _repaint_spec(source, float(repaint_start), float(repaint_end), variance)
    return _extend_spec(source, float(repaint_start), float(repaint_end), variance)


def _repaint_spec(source: AudioFacts, start: float, end: float, variance: float) -> ModeSpec:
    length = source.seconds
    start_frame, end_frame = frames_for_duration(start), frames_for_duration(end)  # upstream truncates
    # the end may pass the source by rounding only: the encoder's padding of the last frame is
    # not source audio, so a region there would repaint silence
    if start < 0 or end > length + REGION_SLACK_S or end_frame > source.frames:
        raise RequestError(
            f"repaint region {start:g}-{end:g} s lies outside the source audio (0-{length:.2f} s); "
            "to add audio before or after the source use task='extend'"
        )
    if end <= start:
        raise RequestError(f"repaint region is empty: repaint_end ({end:g} s) must be after repaint_start ({start:g} s)")
    if end_frame <= start_frame:
        raise RequestError(
            f"repaint region {start:g}-{end:g} s is shorter than one latent frame "
            f"({1 / FRAMES_PER_SECOND * 1000:.1f} ms); widen it"
        )
    return ModeSpec(
        task="repaint",
        source=source,
        retake_variance=variance,
        repaint_start_frame=start_frame,
        repaint_end_frame=end_frame,
    )


def _extend_spec(source: AudioFacts, start: float, end: float, variance: float) -> ModeSpec:
    """Extend by the requested lengths: repaint_start < 0 adds -repaint_start seconds before the
    source, repaint_end past the source's end adds the difference after it. Upstream measures the
    right side against the already left-padded length; we do not."""
    if start > 0:
        raise RequestError(
            f"extend: repaint_start must be <= 0 (minus the seconds to add before the source), got {start:g}"
        )
    if end < source.seconds - REGION_SLACK_S:  # extend never cuts the source: say so, do not ignore it
        raise RequestError(
            f"extend: repaint_end ({end:g} s) lies inside the source ({source.seconds:.2f} s); give the source "
            f"length to add nothing after it, or more to add the difference"
        )
    left = round(-start * FRAMES_PER_SECOND)
    right_seconds = end - source.seconds
    right = round(right_seconds * FRAMES_PER_SECOND) if right_seconds > 0 else 0
    if left == 0 and right == 0:
        raise RequestError(
            f"extend: nothing to add; set repaint_start < 0 to add audio before the source and/or "
            f"repaint_end > {source.seconds:.2f} s (the source length) to add audio after it, by at least "
            f"{1 / FRAMES_PER_SECOND * 1000:.1f} ms"
        )
    total = left + source.frames + right
    if total > MAX_FRAMES:
        room = (MAX_FRAMES - source.frames) / FRAMES_PER_SECOND
        raise RequestError(
            f"extend: the result would be {total / FRAMES_PER_SECOND:.1f} s; the model handles at most "
            f"{MAX_DURATION_S:g} s, so at most {max(room, 0):.1f} s can be added to this {source.seconds:.1f} s source"
        )
    return ModeSpec(
        task="extend",
        source=source,
        retake_variance=variance,
        extend_left_frames=left,
        extend_right_frames=right,
    )
