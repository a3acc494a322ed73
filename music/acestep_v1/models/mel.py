"""The log-mel front-end of ACE-Step v1 (what upstream builds from torchaudio), in plain torch.

`torch.stft` with reflect padding of (win - hop) / 2 on each side and `center=False`, magnitude
sqrt(re² + im² + 1e-6), a slaney-normalised slaney-scale filterbank (40-16000 Hz, 128 bands),
then log(clamp(x, 1e-5)). The filterbank and window are stored in the vocoder checkpoint;
`slaney_mel_filterbank` recomputes the same numbers (checked against the stored buffer in the
tests) so that no torchaudio is needed anywhere.
"""

from __future__ import annotations

import math

import torch

_F_SP = 200.0 / 3  # slaney: linear below 1 kHz
_MIN_LOG_HZ = 1000.0
_MIN_LOG_MEL = _MIN_LOG_HZ / _F_SP
_LOG_STEP = math.log(6.4) / 27.0


def _hz_to_mel(freq: float) -> float:
    if freq < _MIN_LOG_HZ:
        return freq / _F_SP
    return _MIN_LOG_MEL + math.log(freq / _MIN_LOG_HZ) / _LOG_STEP


def _mel_to_hz(mels: torch.Tensor) -> torch.Tensor:
    linear = _F_SP * mels
    logarithmic = _MIN_LOG_HZ * torch.exp(_LOG_STEP * (mels - _MIN_LOG_MEL))
    return torch.where(mels >= _MIN_LOG_MEL, logarithmic, linear)


def slaney_mel_filterbank(*, sample_rate: int, n_fft: int, n_mels: int, f_min: float, f_max: float) -> torch.Tensor:
    """(n_fft // 2 + 1, n_mels) triangular filters, each scaled to unit area (slaney norm)."""
    freqs = torch.linspace(0, sample_rate // 2, n_fft // 2 + 1)
    mel_points = torch.linspace(_hz_to_mel(f_min), _hz_to_mel(f_max), n_mels + 2)
    hz_points = _mel_to_hz(mel_points)
    widths = hz_points[1:] - hz_points[:-1]
    slopes = hz_points[None, :] - freqs[:, None]
    rising = (-1.0 * slopes[:, :-2]) / widths[:-1]
    falling = slopes[:, 2:] / widths[1:]
    bank = torch.clamp(torch.minimum(rising, falling), min=0.0)
    return bank * (2.0 / (hz_points[2:] - hz_points[:-2]))[None, :]


def log_mel_spectrogram(
    audio: torch.Tensor, *, window: torch.Tensor, filterbank: torch.Tensor, n_fft: int, hop_length: int
) -> torch.Tensor:
    """audio (N, samples) -> log-mel (N, n_mels, frames), frames = samples // hop."""
    win_length = window.shape[0]
    pad_left = (win_length - hop_length) // 2
    pad_right = (win_length - hop_length + 1) // 2
    dtype = audio.dtype
    padded = torch.nn.functional.pad(audio[:, None], (pad_left, pad_right), mode="reflect")[:, 0]
    spec = torch.stft(
        padded.float(),
        n_fft,
        hop_length=hop_length,
        win_length=win_length,
        window=window.float(),
        center=False,
        normalized=False,
        onesided=True,
        return_complex=True,
    )
    magnitude = torch.sqrt(torch.view_as_real(spec).pow(2).sum(-1) + 1e-6).to(dtype)
    mel = torch.matmul(magnitude.transpose(-1, -2), filterbank.to(magnitude.dtype)).transpose(-1, -2)
    return torch.log(torch.clamp(mel, min=1e-5))
