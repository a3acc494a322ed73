"""DCAE glue: audio <-> normalised mel <-> DiT latents, around `diffusers.AutoencoderDC`.

The stereo pair is the DCAE's two image channels: mel (N, 2, 128, 8W) <-> latent (N, 8, 16, W).
Constants are upstream's: log-mel range [-11, 3] mapped to [-1, 1]; latent = (z + 1.9091) *
0.1786. The AutoencoderDC `scaling_factor` in its config is not used (upstream calls the encoder
and decoder directly).

Beyond upstream: the vocoder runs both stereo channels (and all batch items) in one batch. Long
songs are decoded in windows by `audio.long_decode`, which calls this class's stages.
"""

from __future__ import annotations

import torch

from music.acestep_v1.common import SAMPLES_PER_FRAME
from music.acestep_v1.models.mel import log_mel_spectrogram
from music.acestep_v1.models.vocoder import HiFiGANVocoder

MEL_MIN, MEL_MAX = -11.0, 3.0
LATENT_SCALE, LATENT_SHIFT = 0.1786, -1.9091
HOP = 512
TIME_DOWNSAMPLE = 8  # mel frames per latent frame: HOP * TIME_DOWNSAMPLE == SAMPLES_PER_FRAME


class MusicDCAE:
    def __init__(self, autoencoder, vocoder: HiFiGANVocoder):
        self.autoencoder = autoencoder
        self.vocoder = vocoder

    @property
    def dtype(self) -> torch.dtype:
        return next(self.vocoder.parameters()).dtype

    # ---- audio -> latents -------------------------------------------------------------------
    @torch.no_grad()
    def encode(self, audio: torch.Tensor) -> torch.Tensor:
        """44.1 kHz stereo audio (N, 2, samples) -> latents (N, 8, 16, ceil(samples / 4096)).

        Right-pads to a multiple of 4096 samples, as upstream does. Resampling other rates is the
        caller's job (music.audio)."""
        if audio.ndim != 3 or audio.shape[1] != 2:
            raise ValueError(f"expected stereo audio (N, 2, samples), got shape {tuple(audio.shape)}")
        remainder = audio.shape[-1] % SAMPLES_PER_FRAME
        if remainder:
            audio = torch.nn.functional.pad(audio, (0, SAMPLES_PER_FRAME - remainder))
        cfg = self.vocoder.config
        batch = audio.shape[0]
        mel = log_mel_spectrogram(
            audio.reshape(batch * 2, -1),
            window=self.vocoder.window,
            filterbank=self.vocoder.mel_filterbank,
            n_fft=cfg.n_fft,
            hop_length=cfg.hop_length,
        ).reshape(batch, 2, cfg.n_mels, -1)
        mel = (mel - MEL_MIN) / (MEL_MAX - MEL_MIN)
        mel = (mel - 0.5) / 0.5
        latents = torch.cat([self.autoencoder.encoder(item[None]) for item in mel])
        return (latents - LATENT_SHIFT) * LATENT_SCALE

    # ---- latents -> audio -------------------------------------------------------------------
    @torch.no_grad()
    def latents_to_mel(self, latents: torch.Tensor) -> torch.Tensor:
        """Normalised DCAE decoder output (N, 2, 128, 8W), item by item (upstream's memory profile)."""
        z = latents / LATENT_SCALE + LATENT_SHIFT
        return torch.cat([self.autoencoder.decoder(item[None]) for item in z])

    @torch.no_grad()
    def mel_to_audio(self, normalised_mel: torch.Tensor) -> torch.Tensor:
        """(N, 2, 128, T) normalised mel -> float32 (N, 2, 512 T); see `decode_channels`."""
        mel = (normalised_mel * 0.5 + 0.5) * (MEL_MAX - MEL_MIN) + MEL_MIN
        # item by item keeps the peak bounded for long songs; channels as the device prefers
        waves = [self.vocoder.decode_channels(item.to(self.dtype))[:, 0].float() for item in mel]
        return torch.stack(waves)

    @torch.no_grad()
    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """Latents (N, 8, 16, W) -> float32 44.1 kHz audio (N, 2, 4096 W)."""
        return self.mel_to_audio(self.latents_to_mel(latents))
