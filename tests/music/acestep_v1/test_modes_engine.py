"""The editing modes through the `ace-step-v1` engine's `MusicRequest` fields."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from music.acestep_v1.engine import ACEStepV1Engine
from music.acestep_v1.modes.request import mode_kwargs
from music.engine import TASKS_V1, MusicRequest, RequestError

TOL = 1e-3


def test_mapping_of_mode_fields():
    assert mode_kwargs(MusicRequest(task="repaint", source_audio="a.wav", region_start=1.0, region_end=2.5)) == {
        "task": "repaint", "src_audio_path": "a.wav", "repaint_start": 1.0, "repaint_end": 2.5}
    assert mode_kwargs(MusicRequest(task="audio2audio", reference_audio="r.flac", reference_strength=0.3,
                                    lora="some/lora", lora_weight=-1.5)) == {
        "task": "audio2audio", "audio2audio_enable": True, "ref_audio_input": "r.flac", "ref_audio_strength": 0.3,
        "lora_name_or_path": "some/lora", "lora_weight": -1.5}
    assert mode_kwargs(MusicRequest(task="edit", source_audio="a.wav")) == {"task": "edit", "src_audio_path": "a.wav"}
    assert mode_kwargs(MusicRequest()) == {"task": "text2music"}


@pytest.mark.parametrize(
    "fields,message",
    [
        ({"task": "text2music", "source_audio": "a.wav"}, "does not take source_audio"),
        ({"task": "audio2audio", "source_audio": "a.wav"}, "audio2audio takes reference_audio"),
        ({"task": "repaint"}, "needs source_audio"),
        ({"task": "repaint", "source_audio": "a.wav", "region_start": 1.0}, "needs region_start and region_end"),
        ({"task": "edit", "source_audio": "a.wav", "region_end": 2.0}, "are for repaint and extend"),
        ({"task": "retake", "reference_audio": "r.wav"}, "are for audio2audio"),
        ({"task": "audio2audio"}, "needs reference_audio"),
        ({"task": "repaint", "source_audio": "a.wav", "region_start": 0, "region_end": 1,
          "options": {"src_audio_path": "b.wav"}}, "options repeat request fields: src_audio_path"),
    ],
)
def test_fields_that_do_not_fit_the_task(fields, message):
    with pytest.raises(RequestError, match=message):
        mode_kwargs(MusicRequest(**fields))


@pytest.fixture
def engine(v1_pipeline, v1_cases, v1_tensors, monkeypatch):
    table = {}
    for name in ("repaint", "audio2audio", "edit"):
        tensors = v1_tensors(name)
        table[v1_cases[name]["kwargs"]["lyrics"]] = tensors["lyric_token_ids"][0].tolist()
    table[v1_cases["edit"]["kwargs"]["edit_target_lyrics"]] = v1_tensors("edit")["target_lyric_token_ids"][0].tolist()
    monkeypatch.setattr(v1_pipeline, "tokenize_lyrics", lambda text: table[text])
    return ACEStepV1Engine(source="tiny", device="cpu", dtype=torch.float32, cache_dir=None, lyric_vocab=None, pipeline=v1_pipeline)


def _request(case, source, **fields):
    kw = dict(case["kwargs"])
    for name in ("task", "src_audio_path", "repaint_start", "repaint_end", "audio2audio_enable", "ref_audio_input",
                 "ref_audio_strength"):
        kw.pop(name, None)
    return MusicRequest(prompt=kw.pop("prompt"), lyrics=kw.pop("lyrics"), duration=kw.pop("audio_duration"),
                        steps=kw.pop("infer_step"), guidance_scale=kw.pop("guidance_scale"), seeds=kw.pop("manual_seeds"),
                        options=kw, **fields)


def test_engine_runs_every_v1_task(engine):
    assert engine.tasks() == TASKS_V1


@pytest.mark.parametrize("name", ["repaint", "audio2audio"])
def test_engine_modes_match_upstream(engine, v1_cases, v1_tensors, v1_reference, name):
    source = str(v1_reference / "source_44k.wav")
    case = v1_cases[name]
    if name == "repaint":
        request = _request(case, source, task="repaint", source_audio=source,
                           region_start=case["kwargs"]["repaint_start"], region_end=case["kwargs"]["repaint_end"])
    else:
        request = _request(case, source, task="audio2audio", reference_audio=source,
                           reference_strength=case["kwargs"]["ref_audio_strength"])
    steps = []
    result = engine.generate(request, progress=lambda *a: steps.append(a))
    expected = v1_tensors(name)["waveform"][0].numpy()
    assert result.takes[0].audio.shape == expected.shape
    assert np.abs(result.takes[0].audio - expected).max() < TOL
    assert result.parameters["task"] == name and steps[-1] == ("decode", 1, 1)


def test_engine_refuses_bad_mode_requests_before_model_work(engine, v1_reference, monkeypatch):
    monkeypatch.setattr(engine.pipeline.transformer, "encode", lambda **k: pytest.fail("model work started"))
    source = str(v1_reference / "source_44k.wav")
    with pytest.raises(RequestError, match="outside the source"):
        engine.generate(MusicRequest(task="repaint", prompt="pop", source_audio=source, region_start=1.0, region_end=9.0))
    with pytest.raises(RequestError, match=r"ref_audio_strength must be in \[0, 1\]"):
        engine.generate(MusicRequest(task="audio2audio", prompt="pop", reference_audio=source, reference_strength=2.0))
    with pytest.raises(RequestError, match="not found"):
        engine.generate(MusicRequest(task="edit", prompt="pop", source_audio=str(v1_reference / "nope.wav")))
