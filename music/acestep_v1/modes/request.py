"""`MusicRequest` mode fields -> upstream keyword arguments of `ACEStepV1Pipeline.generate`.

| request field        | upstream argument                                   |
|----------------------|-----------------------------------------------------|
| task                 | task (audio2audio also sets audio2audio_enable)     |
| source_audio         | src_audio_path (repaint, extend, edit)              |
| region_start / _end  | repaint_start / repaint_end, seconds on the source  |
| reference_audio      | ref_audio_input (audio2audio)                       |
| reference_strength   | ref_audio_strength                                  |
| lora / lora_weight   | lora_name_or_path / lora_weight                     |

Extend uses upstream's convention: region_start < 0 adds that many seconds before the source,
region_end past the source's end adds the difference after it. Other mode arguments
(retake_seeds, retake_variance, edit_target_prompt, edit_target_lyrics, edit_n_min / _max / _avg)
travel in `options` under their upstream names. Giving a mapped argument in `options` as well
is an error, not a silent override.
"""

from __future__ import annotations

from typing import Any

from music.engine import MusicRequest, RequestError

MAPPED_MODE_ARGUMENTS = {
    "task": "task", "audio2audio_enable": "task", "src_audio_path": "source_audio",
    "repaint_start": "region_start", "repaint_end": "region_end", "ref_audio_input": "reference_audio",
    "ref_audio_strength": "reference_strength", "lora_name_or_path": "lora", "lora_weight": "lora_weight",
}
SOURCE_TASKS = ("repaint", "extend", "edit")


def mode_kwargs(request: MusicRequest) -> dict[str, Any]:
    """The upstream mode / LoRA keywords for `request`; RequestError for fields that do not fit."""
    clashes = sorted(k for k in request.options if k in MAPPED_MODE_ARGUMENTS)
    if clashes:
        fields = ", ".join(f"{k} (use the request's {MAPPED_MODE_ARGUMENTS[k]!r})" for k in clashes)
        raise RequestError(f"options repeat request fields: {fields}")
    task = request.task
    out: dict[str, Any] = {"task": task}
    if request.source_audio:
        if task not in SOURCE_TASKS:
            hint = " (audio2audio takes reference_audio)" if task == "audio2audio" else ""
            raise RequestError(f"task {task!r} does not take source_audio; it is for {', '.join(SOURCE_TASKS)}{hint}")
        out["src_audio_path"] = request.source_audio
    elif task in SOURCE_TASKS:
        raise RequestError(f"task {task!r} needs source_audio")
    has_region = request.region_start is not None or request.region_end is not None
    if has_region and task not in ("repaint", "extend"):
        raise RequestError(f"region_start / region_end are for repaint and extend, not {task!r}")
    if task in ("repaint", "extend"):
        if request.region_start is None or request.region_end is None:
            raise RequestError(f"{task} needs region_start and region_end (seconds)")
        out["repaint_start"], out["repaint_end"] = float(request.region_start), float(request.region_end)
    if request.reference_audio or request.reference_strength is not None:
        if task != "audio2audio":
            raise RequestError(f"reference_audio / reference_strength are for audio2audio, not {task!r}")
    if task == "audio2audio":
        if not request.reference_audio:
            raise RequestError("audio2audio needs reference_audio")
        out.update(audio2audio_enable=True, ref_audio_input=request.reference_audio)
        if request.reference_strength is not None:
            out["ref_audio_strength"] = request.reference_strength
    if request.lora:
        out.update(lora_name_or_path=request.lora, lora_weight=request.lora_weight)
    return out
