"""Source / reference audio for the editing modes: read, make stereo, resample to 44.1 kHz.

Two steps, so that a job decodes its audio once: `probe_source_audio` reads the header only
(run by the check at submit: the file exists, libsndfile parses it, length and channels), and
`decode_source_audio` decodes those facts' file once, when the job runs. `load_source_audio` does
both, for direct callers.

Any file soundfile (libsndfile) reads is accepted: WAV, FLAC, OGG/Vorbis, Opus, MP3 (libsndfile
>= 1.1), AIFF, ... at any sample rate. Mono is duplicated to both channels (as upstream does);
more than two channels are mixed down to mono first and then duplicated (upstream would crash).

Resampling runs in float64 and the result is float32. The filter is the one torchaudio's default
`Resample` uses (a Hann-windowed sinc, 6 zero crossings, roll-off 0.99 of the lower Nyquist), applied
by the pipeline's own resampler (`resample.py`), so a non-44.1 kHz source encodes to the same latents as upstream's
float32 path (upstream resamples in the model dtype, bf16 by default: that part is not copied).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from music.acestep_v1.audio.resample import resample as resample_tensor
from music.acestep_v1.common import MAX_DURATION_S, NATIVE_SAMPLE_RATE, SAMPLES_PER_FRAME
from music.engine import RequestError

# torchaudio.transforms.Resample defaults ("sinc_interp_hann")


@dataclass(frozen=True, kw_only=True)
class AudioFacts:
    """What a source file's header says, enough to check a mode without decoding it (plain data,
    stored in a checked request): its length at 44.1 kHz as the decoder will give it."""

    path: Path
    original_frames: int
    original_sample_rate: int
    original_channels: int

    @property
    def samples(self) -> int:
        """Samples at 44.1 kHz after resampling (the resampler gives ceil(new / old * frames))."""
        return math.ceil(NATIVE_SAMPLE_RATE * self.original_frames / self.original_sample_rate)

    @property
    def seconds(self) -> float:
        return self.samples / NATIVE_SAMPLE_RATE

    @property
    def frames(self) -> int:
        """Latent frames the encoder gives (the audio is right-padded to whole frames)."""
        return math.ceil(self.samples / SAMPLES_PER_FRAME)

    def to_dict(self) -> dict:
        return {"path": str(self.path), "original_frames": self.original_frames,
                "original_sample_rate": self.original_sample_rate, "original_channels": self.original_channels}

    @classmethod
    def from_dict(cls, data: dict) -> "AudioFacts":
        return cls(**{**data, "path": Path(data["path"])})


@dataclass(frozen=True)
class SourceAudio:
    """Audio ready for the DCAE encoder: float32 (2, samples) at 44.1 kHz."""

    path: Path
    waveform: torch.Tensor
    original_sample_rate: int
    original_channels: int

    @property
    def seconds(self) -> float:
        return self.waveform.shape[-1] / NATIVE_SAMPLE_RATE

    @property
    def frames(self) -> int:
        """Latent frames the encoder gives (the audio is right-padded to whole frames)."""
        return math.ceil(self.waveform.shape[-1] / SAMPLES_PER_FRAME)


def load_source_audio(path: str | Path, *, role: str = "source audio") -> SourceAudio:
    """Read `path` into stereo float32 at 44.1 kHz; a clear `RequestError` for anything unusable.

    `role` names the argument in messages ("source audio", "reference audio").
    """
    return decode_source_audio(probe_source_audio(path, role=role), role=role)


def probe_source_audio(path: str | Path, *, role: str = "source audio") -> AudioFacts:
    """The header facts of `path` (libsndfile parses the header: this proves it is audio it reads)
    without decoding a sample; `RequestError` for a missing, unreadable, empty or too long file."""
    path = Path(path).expanduser()
    if not path.exists():
        raise RequestError(f"{role} file not found: {path}")
    if not path.is_file():
        raise RequestError(f"{role} is not a file: {path}")
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        raise _unreadable(role, path, exc) from exc
    if info.frames <= 0 or info.channels <= 0 or info.samplerate <= 0:
        raise RequestError(f"{role} {path} holds no audio samples")
    if info.frames / info.samplerate > MAX_DURATION_S:
        raise RequestError(
            f"{role} {path} is {info.frames / info.samplerate:.1f} s long; the model handles at most "
            f"{MAX_DURATION_S:g} s, trim it first"
        )
    return AudioFacts(path=path, original_frames=int(info.frames), original_sample_rate=int(info.samplerate),
                      original_channels=int(info.channels))


def decode_source_audio(facts: AudioFacts, *, role: str = "source audio") -> SourceAudio:
    """Decode the file `facts` describes, once: stereo float32 at 44.1 kHz. The header was checked
    already; what only the samples show (NaN / inf, a file changed since) is a `RequestError`."""
    path = facts.path
    try:
        data, sample_rate = sf.read(str(path), dtype="float64", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        raise _unreadable(role, path, exc) from exc
    frames, channels = data.shape
    if (frames, sample_rate, channels) != (facts.original_frames, facts.original_sample_rate, facts.original_channels):
        raise RequestError(f"{role} {path} changed after the job was checked ({frames} samples at {sample_rate} Hz "
                           f"where it had {facts.original_frames} at {facts.original_sample_rate} Hz); submit it again")
    if not np.isfinite(data).all():
        raise RequestError(f"{role} {path} contains NaN or infinite samples")
    stereo = to_stereo(data.T)
    stereo = resample(stereo, sample_rate, NATIVE_SAMPLE_RATE)
    return SourceAudio(
        path=path,
        waveform=torch.from_numpy(np.ascontiguousarray(stereo, dtype=np.float32)),
        original_sample_rate=int(sample_rate),
        original_channels=int(channels),
    )


def _unreadable(role: str, path: Path, exc: Exception) -> RequestError:
    return RequestError(
        f"cannot read {role} {path}: {str(exc).rstrip('.')}. Give an audio file soundfile can decode "
        f"(WAV, FLAC, OGG, MP3, AIFF ...)"
    )


def to_stereo(audio: np.ndarray) -> np.ndarray:
    """(channels, samples) -> (2, samples): mono duplicated, more than two channels averaged first."""
    if audio.ndim != 2:
        raise ValueError(f"expected (channels, samples), got shape {audio.shape}")
    if audio.shape[0] == 2:
        return audio
    mono = audio[:1] if audio.shape[0] == 1 else audio.mean(axis=0, keepdims=True)
    return np.repeat(mono, 2, axis=0)


def resample(audio: np.ndarray, orig_sr: int, new_sr: int) -> np.ndarray:
    """Resample along the last axis with torchaudio's default filter (the pipeline's own
    resampler), computed in float64."""
    orig_sr, new_sr = int(orig_sr), int(new_sr)
    if orig_sr <= 0 or new_sr <= 0:
        raise ValueError(f"sample rates must be positive, got {orig_sr} -> {new_sr}")
    if orig_sr == new_sr:
        return audio
    g = math.gcd(orig_sr, new_sr)
    tensor = torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float64))
    return resample_tensor(tensor, orig_sr // g, new_sr // g).numpy()
