"""The `ace-step-v1` engine: request mapping, result shape, bad input, registry wiring.

The lyric tokenizer is another module's job (with its own upstream-id tests); here
`tokenize_lyrics` is replaced by upstream's stored ids for the case lyrics."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from music.acestep_v1.engine import ACEStepV1Engine
from music.acestep_v1.loading.checkpoint import MissingWeightsError
from music.engine import Cancelled, MusicRequest, RequestError
from music.registry import engines
from tests.music.acestep_v1.reference_cases import TOLERANCE, stored_lyric_ids

CASE = "t2m_euler_apg"


@pytest.fixture
def engine(v1_pipeline, v1_cases, v1_tensors, monkeypatch):
    known = {v1_cases[CASE]["kwargs"]["lyrics"]: stored_lyric_ids(v1_tensors(CASE))}
    monkeypatch.setattr(v1_pipeline, "tokenize_lyrics", lambda text: known.get(text, [261, 259, 6683, 2]))
    return ACEStepV1Engine(source="tiny", device="cpu", dtype=torch.float32, cache_dir=None, lyric_vocab=None, pipeline=v1_pipeline)


def _request(v1_cases, **changes) -> MusicRequest:
    kw = dict(v1_cases[CASE]["kwargs"])
    base = dict(
        prompt=kw.pop("prompt"), lyrics=kw.pop("lyrics"), duration=kw.pop("audio_duration"),
        steps=kw.pop("infer_step"), guidance_scale=kw.pop("guidance_scale"), seeds=kw.pop("manual_seeds"),
        options=kw,
    )
    base.update(changes)
    return MusicRequest(**base)


def test_request_maps_to_upstream_numbers(engine, v1_cases, v1_tensors):
    steps = []
    result = engine.generate(_request(v1_cases), progress=lambda *a: steps.append(a))
    reference = v1_tensors(CASE)["waveform"][0].numpy()
    assert result.engine == "ace-step-v1" and result.sample_rate == 44100
    assert len(result.takes) == 1 and result.takes[0].seed == 1234
    audio = result.takes[0].audio
    assert audio.dtype == np.float32 and audio.shape == reference.shape
    assert np.abs(audio - reference).max() < TOLERANCE
    assert result.parameters["seeds"] == [1234] and result.parameters["scheduler_type"] == "euler"
    assert result.parameters["infer_step"] == 8 and result.parameters["use_erg_lyric"] is True
    assert {"load", "conditions", "diffusion", "decode"} <= set(result.timings)
    assert steps[-1] == ("decode", 1, 1) and ("diffusion", 8, 8) in steps


def test_unknown_tags_warn_and_are_recorded(engine, v1_cases):
    request = _request(v1_cases, lyrics="[Verse 1]\nla la\n[chorus]\nna", duration=0.5, steps=2)
    with pytest.warns(UserWarning, match=r"\[Verse 1\]"):
        result = engine.generate(request)
    assert "[Verse 1]" in result.parameters["warnings"][0]


@pytest.mark.parametrize("duration", [0.0, -3.0, 241.0])
def test_bad_duration(engine, v1_cases, duration):
    with pytest.raises(RequestError, match="duration"):
        engine.generate(_request(v1_cases, duration=duration))


def test_too_many_lyric_tokens_says_how_many(engine, v1_pipeline, v1_cases, monkeypatch):
    monkeypatch.setattr(v1_pipeline, "tokenize_lyrics", lambda text: [2] * 5000)
    with pytest.raises(RequestError, match="5000 tokens"):
        engine.generate(_request(v1_cases, duration=0.5))


def test_options_may_not_repeat_request_fields(engine, v1_cases):
    request = _request(v1_cases)
    request.options["infer_step"] = 3
    with pytest.raises(RequestError, match="infer_step"):
        engine.generate(request)
    bad = _request(v1_cases)
    bad.options["scheduler_type"] = "ddim"
    with pytest.raises(RequestError, match="scheduler_type"):
        engine.generate(bad)


def test_one_seed_for_a_batch_gives_distinct_recorded_seeds(engine, v1_cases):
    result = engine.generate(_request(v1_cases, duration=0.5, steps=2, seeds=[40], batch_size=2))
    assert [t.seed for t in result.takes] == [40, 41]
    assert not np.array_equal(result.takes[0].audio, result.takes[1].audio)


def test_cancel_propagates(engine, v1_cases):
    def stop(stage, step, total):
        raise Cancelled()

    with pytest.raises(Cancelled):
        engine.generate(_request(v1_cases, duration=0.5, steps=2), progress=stop)


def test_from_settings_checks_cheaply(tmp_path, v1_reference):
    with pytest.raises(MissingWeightsError, match="songstudio models import"):
        ACEStepV1Engine.from_settings(model_dir=tmp_path / "missing")
    with pytest.raises(RequestError, match="dtype"):
        ACEStepV1Engine.from_settings(model_dir=v1_reference / "checkpoint", dtype="int8")
    with pytest.raises(TypeError, match="colour"):
        ACEStepV1Engine.from_settings(model_dir=v1_reference / "checkpoint", colour="blue")
    engine = engines.create("ace-step-v1", model_dir=v1_reference / "checkpoint", dtype="bfloat16")
    assert isinstance(engine, ACEStepV1Engine) and engine.dtype == torch.bfloat16
    assert engine._pipeline is None  # nothing loaded yet
