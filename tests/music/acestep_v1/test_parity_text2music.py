"""End-to-end parity with upstream ACE-Step v1 for every text2music reference case: final
latents and the 44.1 kHz waveform within 1e-3 max abs (tiny random weights: this proves wiring
and numerics, not audio quality)."""

from __future__ import annotations

import pytest

from tests.music.acestep_v1.reference_cases import TEXT2MUSIC_CASES, TOLERANCE, max_abs, stored_lyric_ids


@pytest.mark.parametrize("name", TEXT2MUSIC_CASES)
def test_text2music_matches_upstream(name, v1_pipeline, v1_cases, v1_tensors):
    """Through the parity contract's surface: upstream's kwargs, lyrics text included."""
    case, tensors = v1_cases[name], v1_tensors(name)
    out = v1_pipeline.generate(**case["kwargs"], sample_rate=44100)

    assert out.seeds == case["actual_seeds"]
    assert out.sample_rate == 44100
    assert out.audio.dtype.is_floating_point and str(out.audio.dtype) == "torch.float32"
    assert max_abs(out.latents, tensors["target_latents"]) < TOLERANCE
    assert max_abs(out.audio, tensors["waveform"]) < TOLERANCE


def test_initial_noise_is_upstreams(v1_pipeline, v1_tensors):
    """One CPU generator per item, each drawing (1, 8, 16, W): the batch2 case's two seeds."""
    tensors = v1_tensors("t2m_batch2")
    noise = v1_pipeline.initial_noise(v1_pipeline.make_generators([11, 12]), tensors["noise"].shape[-1])
    assert max_abs(noise, tensors["noise"]) == 0.0


def test_tokenize_lyrics_equals_upstreams_stored_ids(v1_pipeline, v1_cases, v1_tensors):
    for name in TEXT2MUSIC_CASES:
        lyrics, ids = v1_cases[name]["kwargs"]["lyrics"], stored_lyric_ids(v1_tensors(name))
        assert (v1_pipeline.tokenize_lyrics(lyrics) if lyrics else []) == ids, name
