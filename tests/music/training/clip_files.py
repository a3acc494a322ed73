"""Small audio clips with sidecars for the training tests (written at test time)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

TAGS = "pop, synth, upbeat"


def write_clip(folder: Path, name: str, *, seconds: float = 3.0, rate: int = 44100, freq: float = 220.0,
               amplitude: float = 0.3, lyrics: str = "", tags: str = TAGS, seed: int = 0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * rate)) / rate
    noise = np.random.default_rng(seed).standard_normal(t.size)
    x = amplitude * np.sin(2 * np.pi * freq * t) + amplitude * 0.03 * noise
    path = folder / name
    sf.write(path, np.stack([x, 0.8 * x], 1).astype(np.float32), rate)
    if tags is not None:
        path.with_suffix(".txt").write_text(f"{tags}\n{lyrics}", encoding="utf-8")
    return path


def three_clips(folder: Path) -> Path:
    """Three clips at three sample rates; one instrumental (empty lyrics)."""
    write_clip(folder, "a.wav", freq=220.0, rate=44100, seed=1)
    write_clip(folder, "b.flac", freq=330.0, rate=22050, lyrics="we sing la la la", seed=2)
    write_clip(folder, "c.wav", freq=440.0, rate=48000, lyrics="neon lights are calling me tonight", seed=3)
    return folder
