"""The studio's data folder (DESIGN.md: top-level `data/`): style presets, example prompts and
lyrics, read at run time so they can be edited without touching code.

Where it is found, first match wins:
1. `SONGSTUDIO_DATA_DIR`, when set (an operator's own presets);
2. `data/` beside the packages: a checkout or an editable install;
3. `<prefix>/share/songstudio/data`: where a built wheel installs it (pyproject's data-files).
"""

from __future__ import annotations

import functools
import os
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.errors import EnvironmentProblem

PRESETS, EXAMPLES = "presets.toml", "examples.toml"


def data_dir() -> Path:
    candidates = [Path(os.environ["SONGSTUDIO_DATA_DIR"]).expanduser()] if os.environ.get("SONGSTUDIO_DATA_DIR") else []
    candidates += [Path(__file__).resolve().parents[1] / "data", Path(sys.prefix) / "share" / "songstudio" / "data"]
    for folder in candidates:
        if (folder / PRESETS).is_file():
            return folder
    raise EnvironmentProblem(f"the studio's data folder ({PRESETS}, {EXAMPLES}) was not found in "
                             f"{', '.join(map(str, candidates))}; reinstall the studio or set SONGSTUDIO_DATA_DIR")


@dataclass(frozen=True, kw_only=True)
class Example:
    name: str
    prompt: str
    lyrics: str
    duration: float


@dataclass(frozen=True, kw_only=True)
class Presets:
    genres: tuple[str, ...]
    moods: tuple[str, ...]
    instruments: tuple[str, ...]
    structures: dict[str, tuple[str, ...]]
    examples: tuple[Example, ...]


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise EnvironmentProblem(f"cannot read {path}: {exc}; fix the file or restore it from the studio's copy") from None


def _words(data: dict[str, Any], key: str, path: Path) -> tuple[str, ...]:
    value = data.get(key)
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise EnvironmentProblem(f"{path}: `{key}` must be a list of words, e.g. {key} = [\"pop\", \"rock\"]")
    return tuple(v.strip() for v in value)


def load_presets(folder: Path | None = None) -> Presets:
    """The presets and examples of `folder` (default: `data_dir()`, looked up on each call so a
    changed SONGSTUDIO_DATA_DIR counts), checked, each folder read once per process."""
    return _load(folder or data_dir())


@functools.lru_cache(maxsize=4)
def _load(folder: Path) -> Presets:
    presets_path, examples_path = folder / PRESETS, folder / EXAMPLES
    data = _read(presets_path)
    structures = data.get("structures") or {}
    if not isinstance(structures, dict) or not all(isinstance(v, list) and v for v in structures.values()):
        raise EnvironmentProblem(f"{presets_path}: [structures] maps a name to a list of section tags")
    examples = []
    for n, item in enumerate((_read(examples_path).get("example") or []) if examples_path.is_file() else [], 1):
        try:
            examples.append(Example(name=str(item["name"]), prompt=str(item.get("prompt", "")),
                                    lyrics=str(item.get("lyrics", "")).strip("\n"),
                                    duration=float(item.get("duration", 30))))
        except (KeyError, TypeError, ValueError):
            raise EnvironmentProblem(f"{examples_path}: example {n} needs a name, and a number for duration") from None
    return Presets(genres=_words(data, "genres", presets_path), moods=_words(data, "moods", presets_path),
                   instruments=_words(data, "instruments", presets_path),
                   structures={str(k): tuple(map(str, v)) for k, v in structures.items()},
                   examples=tuple(examples))
