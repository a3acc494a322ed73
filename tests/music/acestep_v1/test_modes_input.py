"""Source audio loading and the editing-mode argument checks (no model involved)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import soundfile as sf
import torch

from music.acestep_v1.audio.source_audio import load_source_audio, resample, to_stereo
from music.acestep_v1.common import FRAMES_PER_SECOND, MAX_FRAMES
from music.acestep_v1.modes.arguments import ModeSpec, check_lora_weight, resolve_mode
from music.acestep_v1.modes.latents import extend_setup, repaint_setup, trigflow_mix
from music.engine import MusicRequest, RequestError

SR = 44100


def write(path, data, sr=SR, **kw):
    sf.write(str(path), data, sr, **kw)
    return str(path)


def tone(seconds, sr=SR, freq=440.0, channels=2):
    t = np.arange(int(seconds * sr)) / sr
    mono = 0.5 * np.sin(2 * np.pi * freq * t)
    return np.stack([mono * (1 - 0.3 * c) for c in range(channels)], axis=1) if channels > 1 else mono


# ---- resampling -------------------------------------------------------------------------------

def direct_sinc_resample(x, orig, new, zeros=6, rolloff=0.99):
    """Straight sum y[j] = sum_k x[k] h(k - j*orig/new) with torchaudio's default windowed sinc."""
    g = math.gcd(orig, new)
    o, n = orig // g, new // g
    base = rolloff * min(o, n)
    out_len = math.ceil(len(x) * n / o)
    k = np.arange(len(x))
    y = np.empty(out_len)
    for j in range(out_len):
        t = np.clip(base * (k - j * o / n) / o, -zeros, zeros)
        h = base / o * np.sinc(t) * np.cos(t * np.pi / zeros / 2) ** 2
        y[j] = (x * h).sum()
    return y


@pytest.mark.parametrize("orig,new", [(48000, 44100), (22050, 44100), (16000, 44100), (44100, 48000)])
def test_resample_equals_the_direct_windowed_sinc_sum(orig, new):
    x = np.random.default_rng(0).standard_normal(700)
    np.testing.assert_allclose(resample(x, orig, new), direct_sinc_resample(x, orig, new), atol=1e-10)


def test_resample_keeps_a_tone_and_is_identity_at_the_same_rate():
    x = tone(0.5, sr=48000, freq=1000.0, channels=1)
    y = resample(x, 48000, SR)
    assert y.shape == (math.ceil(len(x) * 147 / 160),)
    t = np.arange(len(y)) / SR
    interior = slice(200, -200)
    np.testing.assert_allclose(y[interior], 0.5 * np.sin(2 * np.pi * 1000 * t)[interior], atol=2e-3)
    assert resample(x, SR, SR) is x


# ---- loading ----------------------------------------------------------------------------------

def test_mono_is_duplicated_and_resampled_in_float32(tmp_path):
    src = load_source_audio(write(tmp_path / "m.flac", tone(0.3, sr=22050, channels=1), sr=22050))
    assert src.waveform.dtype == torch.float32 and src.waveform.shape[0] == 2
    assert torch.equal(src.waveform[0], src.waveform[1])
    assert src.original_sample_rate == 22050 and src.original_channels == 1
    assert src.waveform.shape[1] == math.ceil(0.3 * 22050 * 2)


def test_stereo_44k_wav_is_read_bit_exact(tmp_path):
    data = tone(0.2).astype(np.float32)
    src = load_source_audio(write(tmp_path / "s.wav", data, subtype="FLOAT"))
    assert torch.equal(src.waveform, torch.from_numpy(data.T.copy()))
    assert src.frames == math.ceil(len(data) / 4096)


def test_more_than_two_channels_are_mixed_down():
    x = np.arange(12, dtype=np.float64).reshape(4, 3)
    np.testing.assert_allclose(to_stereo(x), np.repeat(x.mean(0, keepdims=True), 2, 0))


@pytest.mark.parametrize(
    "setup,message",
    [
        (lambda p: str(p / "missing.wav"), "source audio file not found"),
        (lambda p: (p / "bad.wav").write_bytes(b"RIFF....WAVEnot audio") and str(p / "bad.wav"), "cannot read source audio"),
        (lambda p: str(p), "is not a file"),
        (lambda p: write(p / "empty.wav", np.zeros((0, 2))), "holds no audio"),
        (lambda p: write(p / "nan.wav", np.full((100, 2), np.nan, dtype=np.float32), subtype="FLOAT"), "NaN or infinite"),
    ],
)
def test_unusable_files_are_clear_errors(tmp_path, setup, message):
    with pytest.raises(RequestError, match=message):
        load_source_audio(setup(tmp_path))


def test_too_long_source_is_rejected_before_resampling(tmp_path):
    path = write(tmp_path / "long.wav", np.zeros((241 * 8000, 1), dtype=np.int16), sr=8000, subtype="PCM_16")
    with pytest.raises(RequestError, match="at most 240 s"):
        load_source_audio(path)


# ---- mode arguments ---------------------------------------------------------------------------

@pytest.fixture
def source(tmp_path):
    return write(tmp_path / "src.wav", tone(2.0))  # 88200 samples -> 22 frames


def test_repaint_region_in_frames(source):
    spec = resolve_mode(task="repaint", src_audio_path=source, repaint_start=0.8, repaint_end=1.7, retake_variance=0.6)
    assert (spec.repaint_start_frame, spec.repaint_end_frame) == (int(0.8 * FRAMES_PER_SECOND), int(1.7 * FRAMES_PER_SECOND))
    assert spec.frame_length == 22 and spec.uses_retake_noise
    whole = resolve_mode(task="repaint", src_audio_path=source, repaint_start=0, repaint_end=2.0005)
    assert whole.repaint_end_frame == int(2.0005 * FRAMES_PER_SECOND)  # rounding past the end is the end


@pytest.mark.parametrize(
    "start,end,message",
    [(-0.5, 1.0, "outside the source"), (1.0, 3.5, "outside the source"), (1.9, 2.03, "outside the source"),
     (2.0, 2.04, "outside the source"), (1.2, 1.2, "region is empty"),
     (1.5, 1.0, "region is empty"), (1.0, 1.02, "shorter than one latent frame")],
)
def test_bad_repaint_regions(source, start, end, message):
    with pytest.raises(RequestError, match=message):
        resolve_mode(task="repaint", src_audio_path=source, repaint_start=start, repaint_end=end)


def test_extend_by_requested_lengths_left_right_both(source):
    seconds = 88200 / SR
    left = resolve_mode(task="extend", src_audio_path=source, repaint_start=-3.0, repaint_end=seconds)
    right = resolve_mode(task="extend", src_audio_path=source, repaint_start=0, repaint_end=seconds + 5.0)
    both = resolve_mode(task="extend", src_audio_path=source, repaint_start=-1.0, repaint_end=seconds + 0.9)
    assert (left.extend_left_frames, left.extend_right_frames) == (round(3 * FRAMES_PER_SECOND), 0)
    assert (right.extend_left_frames, right.extend_right_frames) == (0, round(5 * FRAMES_PER_SECOND))
    assert abs(both.extend_right_frames - 0.9 * FRAMES_PER_SECOND) <= 1
    assert both.frame_length == both.extend_left_frames + 22 + both.extend_right_frames


def test_extend_errors_including_the_240_s_cap(source):
    with pytest.raises(RequestError, match="nothing to add"):
        resolve_mode(task="extend", src_audio_path=source, repaint_start=0, repaint_end=88200 / SR)
    with pytest.raises(RequestError, match=r"repaint_end \(1 s\) lies inside the source \(2.00 s\)"):
        resolve_mode(task="extend", src_audio_path=source, repaint_start=-1.0, repaint_end=1.0)
    with pytest.raises(RequestError, match="repaint_start must be <= 0"):
        resolve_mode(task="extend", src_audio_path=source, repaint_start=0.5, repaint_end=9.0)
    with pytest.raises(RequestError, match=r"at most 240 s, so at most 23[0-9]\.\d s can be added"):
        resolve_mode(task="extend", src_audio_path=source, repaint_start=-120, repaint_end=125)
    ok = resolve_mode(task="extend", src_audio_path=source, repaint_start=0, repaint_end=(MAX_FRAMES - 22) / FRAMES_PER_SECOND + 88200 / SR)
    assert ok.frame_length == MAX_FRAMES


def test_edit_and_audio2audio_checks(source):
    with pytest.raises(RequestError, match="edit_n_min must be below edit_n_max"):
        resolve_mode(task="edit", src_audio_path=source, edit_n_min=0.6, edit_n_max=0.6)
    with pytest.raises(RequestError, match=r"edit_n_max must be in \[0, 1\]"):
        resolve_mode(task="edit", src_audio_path=source, edit_n_min=0.2, edit_n_max=1.5)
    with pytest.raises(RequestError, match="edit_n_avg"):
        resolve_mode(task="edit", src_audio_path=source, edit_n_avg=0)
    with pytest.raises(RequestError, match=r"ref_audio_strength must be in \[0, 1\]"):
        resolve_mode(audio2audio_enable=True, ref_audio_input=source, ref_audio_strength=1.2)
    with pytest.raises(RequestError, match=r"ref_audio_strength must be in \[0, 1\]"):
        resolve_mode(task="audio2audio", ref_audio_input=source, ref_audio_strength=-0.1)
    spec = resolve_mode(audio2audio_enable=True, ref_audio_input=source, ref_audio_strength=0.3)
    assert spec.task == "audio2audio" and spec.frame_length == 22


def test_missing_inputs_and_wrong_combinations(source, tmp_path):
    with pytest.raises(RequestError, match="needs src_audio_path"):
        resolve_mode(task="repaint")
    with pytest.raises(RequestError, match="source audio .* not found"):
        resolve_mode(task="edit", src_audio_path=str(tmp_path / "gone.wav"))
    with pytest.raises(RequestError, match="does not use src_audio_path"):
        resolve_mode(task="retake", src_audio_path=source)
    with pytest.raises(RequestError, match="needs ref_audio_input"):
        resolve_mode(task="audio2audio")
    with pytest.raises(RequestError, match="ref_audio_input is missing"):
        resolve_mode(audio2audio_enable=True)
    with pytest.raises(RequestError, match="unknown task"):
        resolve_mode(task="remix")
    with pytest.raises(RequestError, match=r"retake_variance must be in \[0, 1\]"):
        resolve_mode(task="retake", retake_variance=2)
    with pytest.raises(RequestError, match=r"lora_weight"):
        check_lora_weight(-3.01)


# ---- model-free mode arithmetic ---------------------------------------------------------------

def test_trigflow_mix_keeps_unit_variance_and_its_ends():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(1, 8, 16, 4000, generator=g), torch.randn(1, 8, 16, 4000, generator=g)
    assert torch.equal(trigflow_mix(a, b, 0.0), a)
    torch.testing.assert_close(trigflow_mix(a, b, 1.0), b, rtol=0, atol=1e-6)
    assert abs(trigflow_mix(a, b, 0.4).std().item() - 1.0) < 0.01


def test_extend_and_repaint_layouts():
    src = torch.full((1, 8, 16, 6), 7.0)
    noise = torch.full((1, 8, 16, 6), 1.0)
    retake = torch.arange(11.0).view(1, 1, 1, 11).expand(1, 8, 16, 11)
    spec = ModeSpec(task="extend", extend_left_frames=2, extend_right_frames=3, retake_variance=1.0)
    setup = extend_setup(spec, src_latents=src, noise=noise, retake_noise=retake, infer_steps=10)
    assert setup.mask[0, 0, 0].tolist() == [True] * 2 + [False] * 6 + [True] * 3 and setup.n_min == 0
    assert setup.x0[..., :2].abs().sum() == 0 and torch.equal(setup.x0[..., 2:8], src)
    assert setup.z0[0, 0, 0].tolist() == [0.0, 1.0] + [1.0] * 6 + [8.0, 9.0, 10.0]

    spec = ModeSpec(task="repaint", repaint_start_frame=1, repaint_end_frame=3, retake_variance=0.6)
    setup = repaint_setup(spec, src_latents=src, noise=noise, retake_noise=retake[..., :6], infer_steps=8)
    assert setup.n_min == 3 and setup.mask[0, 0, 0].tolist() == [False, True, True, False, False, False]
    assert torch.equal(setup.z0[..., 0], noise[..., 0]) and not torch.equal(setup.z0[..., 1], noise[..., 1])
    whole = ModeSpec(task="repaint", repaint_start_frame=0, repaint_end_frame=6)
    assert repaint_setup(whole, src_latents=src, noise=noise, retake_noise=noise, infer_steps=8) is None


def test_music_request_fields_are_type_checked_and_none_means_no_text():
    assert MusicRequest.from_dict({"prompt": None, "lyrics": None}).lyrics == ""
    assert MusicRequest.from_dict({"batch_size": "2"}).batch_size == 2  # lax, as a form sends it
    for bad, field in [({"duration": "abc"}, "duration"), ({"seeds": [1.5]}, "seeds.0"), ({"options": []}, "options")]:
        with pytest.raises(RequestError, match=f"bad request field.*{field}"):
            MusicRequest.from_dict(bad)
