"""Tiny demo models with random weights, installed into the model cache so that every flow of the
studio can be tried on a machine without the real weights.

THEIR OUTPUT IS NOISE. They run through the real engine and backend code (same loaders, same
pipelines), which is what makes them useful for trying the studio and for end-to-end tests; they
say nothing about musical or lyric quality. Each folder carries `DEMO_RANDOM_WEIGHTS.txt`.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable

from lyrics.tiny import GGUF_FILE, GGUF_SUBFOLDER, HF_SUBFOLDER, build_tiny_lyrics_models
from studio.errors import BadInput, EnvironmentProblem

MARKER_FILE = "DEMO_RANDOM_WEIGHTS.txt"
MARKER_TEXT = (
    "RANDOM WEIGHTS - DEMO MODEL\n"
    "This tiny model was built from random numbers by Song Studio (`songstudio models demo`).\n"
    "Its output is noise: it lets every flow be tried without the real weights and proves the\n"
    "wiring, never musical or lyric quality. Download or import the real models for real songs.\n"
)
SEED = 0

V1_FOLDER = "demo-ace-step-v1-tiny"
V15_FOLDER = "demo-ace-step-1.5-turbo-tiny"
LLAMA_FOLDER = "demo-llama-3-tiny"
DEMO_FOLDERS = (V1_FOLDER, V15_FOLDER, LLAMA_FOLDER)


def is_demo_model(folder: str | os.PathLike) -> bool:
    """True for a folder installed here (random weights: label its output as noise)."""
    return (Path(folder) / MARKER_FILE).is_file()


def _build_v1(staging: Path) -> None:
    from music.acestep_v1.loading.tiny import build_tiny_checkpoint  # noqa: PLC0415  (heavy: imports cutlet, diffusers, hangul_romanize, py3langid, torch)

    build_tiny_checkpoint(staging, seed=SEED)


def _build_v15(staging: Path) -> None:
    from music.acestep15.tiny import build_tiny_checkpoint  # noqa: PLC0415  (heavy: imports torch)

    build_tiny_checkpoint(staging, turbo=True, seed=SEED)


def _build_llama(staging: Path) -> None:
    build_tiny_lyrics_models(staging, seed=SEED)


def _install(cache: Path, name: str, build: Callable[[Path], None]) -> Path:
    """Build into a staging folder beside the target and rename it into place: the cache never
    holds a half-built model. An existing demo folder is kept (idempotent); a folder of that name
    without the marker is not ours and is left alone."""
    target = cache / name
    if target.exists():
        if not is_demo_model(target):
            raise BadInput(
                f"{target} exists but is not a Song Studio demo model (no {MARKER_FILE}); "
                "move it away to install the demo models"
            )
        return target
    staging_root = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".building", dir=cache))
    try:
        staging = staging_root / name
        build(staging)
        (staging / MARKER_FILE).write_text(MARKER_TEXT, encoding="utf-8")
        try:
            os.rename(staging, target)
        except OSError:
            if not is_demo_model(target):  # not a concurrent install that finished first
                raise
    except OSError as exc:
        raise EnvironmentProblem(f"could not write the demo model {target}: {exc}; check free disk space") from None
    finally:
        shutil.rmtree(staging_root, ignore_errors=True)
    return target


def demo_options(cache_dir: str | os.PathLike) -> dict:
    """Where the demo models live and the options that load them (nothing is checked or built).
    Everything runs on the CPU: the models are tiny."""
    from music.acestep_v1.loading.tiny import LYRIC_VOCAB_FILE  # noqa: PLC0415  (heavy: imports cutlet, diffusers, hangul_romanize, py3langid, torch)

    cache = Path(cache_dir).expanduser().resolve()
    v1, v15, llama = (cache / name for name in DEMO_FOLDERS)
    return {
        "music": {
            "ace-step-v1": {
                "folder": str(v1),
                "options": {"model_dir": str(v1), "lyric_vocab": str(v1 / LYRIC_VOCAB_FILE), "device": "cpu",
                            "dtype": "float32"},
            },
            "ace-step-1.5": {
                "folder": str(v15),
                "options": {"model_id_or_dir": str(v15), "variant": "turbo", "device": "cpu"},
            },
        },
        "lyrics": {
            "transformers": {
                "folder": str(llama),
                "options": {"model": str(llama / HF_SUBFOLDER), "device": "cpu", "dtype": "float32"},
            },
            "llama-cpp": {
                "folder": str(llama),
                "options": {"model_path": str(llama / GGUF_SUBFOLDER / GGUF_FILE)},
            },
        },
        "random_weights": True,
    }


def install_demo_models(cache_dir: str | os.PathLike) -> dict:
    """Build the three tiny demo models into `cache_dir` (skipping those already there) and
    return `demo_options(cache_dir)`: per engine / backend name, its folder and the keyword
    options for `music.registry.engines.create(name, **options)` or
    `lyrics.registry.backends.create(name, **options)`."""
    cache = Path(cache_dir).expanduser()
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EnvironmentProblem(f"cannot create the model cache {cache}: {exc}") from None
    for name, build in zip(DEMO_FOLDERS, (_build_v1, _build_v15, _build_llama)):
        _install(cache.resolve(), name, build)
    return demo_options(cache)


def demo_settings_env(cache_dir: str | os.PathLike, *, engine_options: dict | None = None,
                      lyrics_options: dict | None = None) -> dict[str, str]:
    """Install the demo models and return the SONGSTUDIO_* variables that point the worker at them
    (merged over the given per-engine / per-backend options, which they override)."""

    installed = install_demo_models(cache_dir)
    engines = dict(engine_options or {})
    engines.update({name: entry["options"] for name, entry in installed["music"].items()})
    backends = dict(lyrics_options or {})
    backends.update({name: entry["options"] for name, entry in installed["lyrics"].items()})
    return {"SONGSTUDIO_ENGINE_OPTIONS": json.dumps(engines, sort_keys=True),
            "SONGSTUDIO_LYRICS_OPTIONS": json.dumps(backends, sort_keys=True)}
