"""Which lyrics model a job runs on, said in words for Write, Settings, `doctor` and the CLI.

Order for the llama.cpp backend (the default): a configured `model_path`; else
Llama-Song-Stream-3B's GGUF when it is in the Hugging Face cache; else the starter model
(SmolLM2-135M, installed by scripts/setup). Song-Stream stays the default wherever it is present.
Other backends load what their options name.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lyrics import starter
from lyrics.backends.model_files import DEFAULT_GGUF_FILE, DEFAULT_GGUF_REPO
from studio.demo_models import is_demo_model
from studio.errors import NotFound
from studio.settings import Settings

SONG_STREAM = "Llama-Song-Stream-3B-Instruct"


@dataclass(frozen=True)
class LyricsModel:
    backend: str
    options: dict[str, Any]  # what the backend is created with
    label: str  # the model's name, as people read it
    kind: str  # song-stream | starter | demo | custom | server | missing
    note: str = ""  # what to expect from it, or how to get it

    @property
    def small(self) -> bool:
        return self.kind in ("starter", "demo")

    def describe(self) -> str:
        return f"{self.label} ({self.note})" if self.note else self.label


def _song_stream_gguf() -> Path | None:
    """The default GGUF from the local Hugging Face cache (never downloads)."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return None
    found = try_to_load_from_cache(DEFAULT_GGUF_REPO, DEFAULT_GGUF_FILE)
    return Path(found) if isinstance(found, str) and Path(found).is_file() else None


def _demo_folder(path: Path) -> bool:
    return any(is_demo_model(parent) for parent in path.parents)


def choose(settings: Settings, backend: str | None = None, overrides: dict[str, Any] | None = None) -> LyricsModel:
    name = backend or settings.lyrics_backend
    options = {**settings.lyrics_options.get(name, {}), **(overrides or {})}
    if name == "openai":
        return LyricsModel(name, options, str(options.get("model") or "?"), "server",
                           f"served at {options.get('base_url') or 'an unset URL'}")
    if name not in ("llama-cpp", "transformers", "vllm"):
        return LyricsModel(name, options, f"the {name} backend's model", "custom")
    if name != "llama-cpp":
        model = str(options.get("model") or f"{SONG_STREAM} (hub cache)")
        if is_demo_model(Path(model).parent) or is_demo_model(Path(model)):
            return LyricsModel(name, options, "demo Llama (random weights)", "demo", "its lyrics are noise")
        return LyricsModel(name, options, Path(model).name if "/" in model else model, "custom")
    path = options.get("model_path")
    if path:
        path = Path(str(path)).expanduser()
        if starter.is_starter(path):
            return LyricsModel(name, options, starter.NAME, "starter", starter.NOTE)
        if _demo_folder(path):
            return LyricsModel(name, options, "demo Llama (random weights)", "demo", "its lyrics are noise")
        kind = "song-stream" if "song-stream" in path.name.lower() else "custom"
        return LyricsModel(name, options, path.name, kind)
    if _song_stream_gguf() is not None:
        return LyricsModel(name, options, f"{SONG_STREAM} Q4_K_M", "song-stream")
    found = starter.starter_gguf()
    if found is not None:
        return LyricsModel(name, {**options, "model_path": str(found)}, starter.NAME, "starter", starter.NOTE)
    return LyricsModel(name, options, f"{SONG_STREAM} Q4_K_M", "missing",
                       f"not on this machine, nor the starter model: {starter.INSTALL_HINT}")


def require(choice: LyricsModel) -> None:
    """Refuse a job before it is queued when no lyrics model can load."""
    if choice.kind == "missing":
        raise NotFound(f"no lyrics model: {SONG_STREAM} is not in the model cache and the starter model is "
                            f"not installed; {starter.INSTALL_HINT}")
