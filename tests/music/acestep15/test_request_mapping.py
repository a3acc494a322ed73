"""Request checks and argument building, without any model (plain data + audio headers)."""

from __future__ import annotations

import pytest

from music.acestep15.request_mapping import plan_call
from music.acestep15.variants import VARIANTS
from music.engine import MusicRequest, RequestError
from tests.music.acestep15.conftest import write_wav


def plan(request, *, variant="turbo", has_audio_tokenizer=True, lora_exists=lambda path: True):
    return plan_call(request, variant=VARIANTS[variant], model_id="some/model", has_audio_tokenizer=has_audio_tokenizer,
                     lora_exists=lora_exists)


def test_turbo_defaults_and_batch_lists():
    call = plan(MusicRequest(prompt="p", lyrics="l", duration=12.0, batch_size=3, seeds=[7]))
    kw = call.kwargs
    assert kw["num_inference_steps"] == 8 and kw["guidance_scale"] == 1.0 and kw["shift"] == 3.0
    assert kw["prompt"] == ["p"] * 3 and kw["lyrics"] == ["l"] * 3  # lists: the pipeline indexes lyrics per prompt
    assert kw["audio_duration"] == 12.0 and kw["vocal_language"] == "en" and kw["task_type"] == "text2music"
    assert call.seeds == [7, 8, 9] and call.parameters["seeds"] == [7, 8, 9]
    assert "cfg_interval_start" not in kw and "bpm" not in kw


def test_base_defaults_use_guidance():
    kw = plan(MusicRequest(prompt="p"), variant="base").kwargs
    assert kw["num_inference_steps"] == 50 and kw["guidance_scale"] == 7.0
    assert (kw["cfg_interval_start"], kw["cfg_interval_end"]) == (0.0, 1.0)


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(duration=9.9), r"duration must be in \[10, 600\]"),
        (dict(duration=600.5), r"duration must be in \[10, 600\]"),
        (dict(duration="long"), "duration must be a number"),
        (dict(batch_size=2.0), "batch_size must be 1-8"),
        (dict(batch_size=9), "batch_size must be 1-8"),
        (dict(batch_size=0), "batch_size must be 1-8"),
        (dict(seeds=[1, 2], batch_size=3), "one seed or one per take"),
        (dict(seeds=[-1]), "seeds must be whole numbers"),
        (dict(steps=0), "steps must be"),
        (dict(prompt="", lyrics=" "), "give a prompt, lyrics or both"),
        (dict(options={"bmp": 120}), "unknown option.*bmp.*bpm"),
        (dict(options={"bpm": 500}), r"bpm must be in \[30, 300\]"),
        (dict(options={"bpm": 120.5}), "whole number"),
        (dict(options={"keyscale": "H major"}), "keyscale must look like"),
        (dict(options={"timesignature": "5/4"}), "timesignature must be one of"),
        (dict(options={"vocal_language": "English"}), "language code"),
        (dict(options={"shift": 0}), r"shift must be in"),
        (dict(options={"shift": "3"}), "shift must be a number"),
        (dict(options={"track_name": "vocals"}), "track_name is for the extract/lego/complete"),
        (dict(options={"audio_cover_strength": 0.5}), "audio_cover_strength is for the cover task"),
        (dict(reference_strength=0.5), "no reference strength"),
        (dict(region_start=1.0), "region_start/region_end apply to repaint and lego"),
        (dict(task="remix"), "unknown task 'remix'"),
        (dict(task="retake"), "'ace-step-v1' engine"),
        (dict(lora="x", lora_weight=3.0), r"lora_weight must be in \[0, 2\]"),
        (dict(guidance_scale=4.0), "guidance-distilled"),
    ],
)
def test_bad_requests_say_what_to_fix(change, message):
    request = MusicRequest(**{"prompt": "p", "duration": 30.0, **change})
    with pytest.raises(RequestError, match=message):
        plan(request)


def test_missing_lora_file_is_named():
    with pytest.raises(RequestError, match="LoRA not found: /no/such"):
        plan(MusicRequest(prompt="p", lora="/no/such"), lora_exists=lambda path: False)


def test_guidance_and_interval_checks_on_base():
    with pytest.raises(RequestError, match="must not exceed"):
        plan(MusicRequest(prompt="p", options={"cfg_interval_start": 0.8, "cfg_interval_end": 0.2}), variant="sft")
    with pytest.raises(RequestError, match=r"guidance_scale must be in \[1, 20\]"):
        plan(MusicRequest(prompt="p", guidance_scale=25.0), variant="sft")


def test_metadata_is_normalised():
    kw = plan(MusicRequest(prompt="p", options={"bpm": 128, "keyscale": " Bb minor ", "timesignature": 6,
                                                "vocal_language": "ZH"})).kwargs
    assert (kw["bpm"], kw["keyscale"], kw["timesignature"], kw["vocal_language"]) == (128, "Bb minor", "6", "zh")


def test_source_tasks_take_the_source_length_and_check_it(tmp_path):
    short = write_wav(tmp_path / "short.wav", 4.0, rate=8000)
    good = write_wav(tmp_path / "good.wav", 12.0, rate=8000, channels=1)
    with pytest.raises(RequestError, match="needs source_audio"):
        plan(MusicRequest(task="repaint", prompt="p", region_start=1.0))
    with pytest.raises(RequestError, match="source_audio file not found"):
        plan(MusicRequest(task="cover", prompt="p", source_audio=str(tmp_path / "gone.wav")))
    with pytest.raises(RequestError, match="10-600 seconds long.*4.00 s"):
        plan(MusicRequest(task="cover", prompt="p", source_audio=short))
    with pytest.raises(RequestError, match="takes no source_audio"):
        plan(MusicRequest(prompt="p", source_audio=good))
    with pytest.raises(RequestError, match="repaint' needs region_start"):
        plan(MusicRequest(task="repaint", prompt="p", source_audio=good))
    with pytest.raises(RequestError, match=r"region_end must be in \[0, 12"):
        plan(MusicRequest(task="repaint", prompt="p", source_audio=good, region_start=5.0, region_end=13.0))
    with pytest.raises(RequestError, match="region must satisfy"):
        plan(MusicRequest(task="repaint", prompt="p", source_audio=good, region_start=5.0, region_end=4.0))
    call = plan(MusicRequest(task="repaint", prompt="", source_audio=good, region_start=5.0, duration=99.0))
    assert call.target_seconds == pytest.approx(12.0)  # the source decides the length, not `duration`
    assert (call.kwargs["repainting_start"], call.kwargs["repainting_end"]) == (5.0, pytest.approx(12.0))
    lego = plan(MusicRequest(task="lego", prompt="", source_audio=good, options={"track_name": "bass"}), variant="base")
    assert "repainting_start" not in lego.kwargs and lego.kwargs["track_name"] == "bass"


def test_track_names_are_required_and_checked(tmp_path):
    source = write_wav(tmp_path / "s.wav", 10.0, rate=8000)
    with pytest.raises(RequestError, match="needs option track_name"):
        plan(MusicRequest(task="extract", source_audio=source), variant="base")
    with pytest.raises(RequestError, match="track_name must name tracks from"):
        plan(MusicRequest(task="extract", source_audio=source, options={"track_name": "kazoo"}), variant="base")
    with pytest.raises(RequestError, match="needs option complete_track_classes"):
        plan(MusicRequest(task="complete", source_audio=source), variant="base")
    kw = plan(MusicRequest(task="complete", source_audio=source, options={"complete_track_classes": "Strings"}),
              variant="base").kwargs
    assert kw["complete_track_classes"] == ["strings"]


def test_task_rejection_lists_capable_models(tmp_path):
    source = write_wav(tmp_path / "s.wav", 10.0, rate=8000)
    with pytest.raises(RequestError) as info:
        plan(MusicRequest(task="lego", source_audio=source, options={"track_name": "drums"}), variant="sft")
    assert str(info.value).endswith(
        "models that can: base (ACE-Step/acestep-v15-base-diffusers), xl-base (ACE-Step/acestep-v15-xl-base-diffusers)"
    )


def test_cover_without_audio_tokenizer_is_refused(tmp_path):
    source = write_wav(tmp_path / "s.wav", 10.0, rate=8000)
    with pytest.raises(RequestError, match="audio_tokenizer and audio_token_detokenizer"):
        plan(MusicRequest(task="cover", source_audio=source), has_audio_tokenizer=False)
