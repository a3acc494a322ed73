"""The training dataset: the user's clips, each checked before any training starts.

A clip is an audio file (WAV, FLAC, MP3, OGG; anything libsndfile decodes) with prompt tags and
lyrics. From a folder, every audio file needs a sidecar beside it:

* `<name>.json` with `{"tags": "...", "lyrics": "..."}` (`"prompt"` is read as another name for
  `"tags"`), or
* `<name>.txt`: the first line is the tags, every later line is lyrics, or
* upstream's pair `<name>_prompt.txt` + `<name>_lyrics.txt`.

Empty lyrics mean an instrumental. Every clip is read and checked up front: decodable, finite,
not silent, at least `min_seconds` and at most the engine's maximum length. Any other sample rate
is resampled to the engine's rate, mono is duplicated to stereo. A bad clip is an error naming
the file; nothing is skipped silently.

Long clips are cut into windows of `window_seconds` (the last window ends at the clip's end, so
it overlaps its neighbour rather than being a short tail). Lyrics carry no timing, so every
window of a clip gets the clip's whole lyrics; give short clips with their own lyrics when
words matter.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

from music.engine import RequestError
from music.training.adapter_file import file_sha256

AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg", ".aiff", ".aif")
SILENCE_DBFS = -60.0  # RMS below this over the whole clip counts as silent
MIN_SECONDS = 2.0


class ClipError(RequestError):
    """A clip that cannot be trained on; the message names the file and what to fix."""


@dataclass(frozen=True)
class ClipSource:
    """One clip as the user gave it (`label` is how messages name it: a file name or a take)."""

    path: Path
    tags: str
    lyrics: str = ""
    label: str = ""

    @property
    def name(self) -> str:
        return self.label or self.path.name


@dataclass(frozen=True)
class CheckedClip:
    source: ClipSource
    audio: np.ndarray  # float32 (2, samples) at `sample_rate`
    sample_rate: int
    file_digest: str  # sha256 of the file's bytes

    @property
    def seconds(self) -> float:
        return self.audio.shape[-1] / self.sample_rate


@dataclass(frozen=True)
class Window:
    """A stretch of one clip that becomes one training example."""

    clip: CheckedClip
    start: int  # samples
    length: int

    def audio(self) -> np.ndarray:
        return self.clip.audio[:, self.start : self.start + self.length]

    def key(self) -> dict:
        """What the window's features depend on (besides the model): for the feature cache."""
        source = self.clip.source
        return {"file": self.clip.file_digest, "rate": self.clip.sample_rate, "start": self.start,
                "length": self.length, "tags": source.tags, "lyrics": source.lyrics}


def clips_from_folder(folder: str | Path) -> list[ClipSource]:
    """Every audio file in `folder` (not recursive) with its sidecar tags and lyrics."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise ClipError(f"clip folder not found: {folder}")
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES)
    if not files:
        raise ClipError(f"no audio clips in {folder}; put WAV, FLAC or MP3 files there, each with a .txt or .json beside it")
    return [ClipSource(path=p, label=p.name, **read_sidecar(p)) for p in files]


def read_sidecar(audio: Path) -> dict[str, str]:
    """Tags and lyrics for `audio` from `<stem>.json`, `<stem>.txt` or `<stem>_prompt.txt` (+ `_lyrics.txt`)."""
    as_json, as_txt = audio.with_suffix(".json"), audio.with_suffix(".txt")
    prompt_txt, lyrics_txt = audio.with_name(f"{audio.stem}_prompt.txt"), audio.with_name(f"{audio.stem}_lyrics.txt")
    if as_json.is_file():
        try:
            data = json.loads(as_json.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise ClipError(f"{as_json.name} is not valid JSON ({exc}); write {{\"tags\": \"...\", \"lyrics\": \"...\"}}") from None
        if not isinstance(data, dict):
            raise ClipError(f"{as_json.name} must hold an object like {{\"tags\": \"...\", \"lyrics\": \"...\"}}")
        tags, lyrics = data.get("tags", data.get("prompt", "")), data.get("lyrics", "")
        if not isinstance(tags, str) or not isinstance(lyrics, str):
            raise ClipError(f"{as_json.name}: \"tags\" and \"lyrics\" must be text")
    elif as_txt.is_file():
        first, _, rest = _read_text(as_txt).partition("\n")
        tags, lyrics = first, rest
    elif prompt_txt.is_file():
        tags = _read_text(prompt_txt)
        lyrics = _read_text(lyrics_txt) if lyrics_txt.is_file() else ""
    else:
        raise ClipError(
            f"{audio.name} has no tags: add {as_txt.name} (first line tags, then lyrics) or {as_json.name}"
        )
    tags, lyrics = tags.strip(), lyrics.strip()
    if not tags:
        raise ClipError(f"{audio.name} has empty tags; describe the clip (genre, instruments, mood) in its sidecar")
    return {"tags": tags, "lyrics": lyrics}


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ClipError(f"{path.name} is not UTF-8 text; save it as UTF-8") from None


def check_clip(source: ClipSource, *, sample_rate: int, max_seconds: float, min_seconds: float = MIN_SECONDS) -> CheckedClip:
    """Read and check one clip; a `ClipError` naming it for anything unusable."""
    name = source.name
    if not source.path.is_file():
        raise ClipError(f"clip {name} not found")
    try:
        info = sf.info(str(source.path))
        seconds = info.frames / info.samplerate if info.samplerate > 0 else 0.0
        if seconds > max_seconds:  # from the header: a too-long file is refused before decoding it
            raise ClipError(f"clip {name} is {seconds:.1f} s long; this engine takes at most {max_seconds:g} s, trim it")
        data, rate = sf.read(str(source.path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        if isinstance(exc, ClipError):
            raise
        raise ClipError(f"clip {name} cannot be decoded as audio; re-export it as WAV, FLAC or MP3") from None
    if data.size == 0:
        raise ClipError(f"clip {name} holds no audio samples")
    if not np.isfinite(data).all():
        raise ClipError(f"clip {name} contains NaN or infinite samples; re-export it")
    seconds = data.shape[0] / rate
    if seconds < min_seconds:
        raise ClipError(f"clip {name} is {seconds:.2f} s long; clips must be at least {min_seconds:g} s")
    rms = float(np.sqrt(np.mean(np.square(data, dtype=np.float64))))
    if rms <= 0 or 20 * math.log10(rms) < SILENCE_DBFS:
        raise ClipError(f"clip {name} is silent (below {SILENCE_DBFS:g} dBFS); remove it or pick another take")
    audio = _to_stereo(np.ascontiguousarray(data.T))
    audio = _resample(audio, int(rate), sample_rate)
    return CheckedClip(source=source, audio=audio, sample_rate=sample_rate, file_digest=file_sha256(source.path))


def check_clips(sources: list[ClipSource], **limits) -> list[CheckedClip]:
    """All clips checked (the first bad one raises); at least one is needed."""
    if not sources:
        raise ClipError("the dataset has no clips; give a folder of clips or take ids")
    return [check_clip(source, **limits) for source in sources]


def windows(clip: CheckedClip, *, window_seconds: float) -> list[Window]:
    """`clip` cut into windows of at most `window_seconds`; the last one ends at the clip's end."""
    size = int(round(window_seconds * clip.sample_rate))
    total = clip.audio.shape[-1]
    if total <= size:
        return [Window(clip=clip, start=0, length=total)]
    count = math.ceil(total / size)
    starts = [i * size for i in range(count - 1)] + [total - size]
    return [Window(clip=clip, start=s, length=size) for s in starts]


def dataset_windows(clips: list[CheckedClip], *, window_seconds: float) -> list[Window]:
    return [w for clip in clips for w in windows(clip, window_seconds=window_seconds)]


def dataset_digest(clips: list[CheckedClip]) -> str:
    """sha256 over every clip's bytes, tags and lyrics (order-independent)."""
    parts = sorted(json.dumps([c.file_digest, c.source.tags, c.source.lyrics]) for c in clips)
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()



def _to_stereo(audio: np.ndarray) -> np.ndarray:
    if audio.shape[0] == 2:
        return audio
    mono = audio[:1] if audio.shape[0] == 1 else audio.mean(axis=0, keepdims=True)
    return np.repeat(mono, 2, axis=0)


def _resample(audio: np.ndarray, rate: int, target: int) -> np.ndarray:
    """Polyphase resampling (scipy); an exact no-op at the same rate."""
    if rate == target:
        return np.ascontiguousarray(audio, dtype=np.float32)
    g = math.gcd(rate, target)
    return np.ascontiguousarray(resample_poly(audio, target // g, rate // g, axis=-1), dtype=np.float32)
