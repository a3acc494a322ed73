"""The model cache in the data home: which weights are known, present, imported or downloaded.

Each known model has a folder layout that is checked on import and on `doctor`, so a wrong
folder is refused with a message naming what is missing instead of failing deep in a loader.
"""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from studio.errors import BadInput, EnvironmentProblem, NotFound
from studio.settings import Settings


@dataclass(frozen=True)
class ModelInfo:
    name: str
    kind: str  # "music" or "lyrics"
    engine: str  # the engine or lyrics backend that loads it
    repo_id: str
    required: tuple[str, ...]  # paths that must exist inside the folder ('*' globs allowed)
    size_hint: str


CATALOG: dict[str, ModelInfo] = {
    m.name: m
    for m in (
        ModelInfo(
            name="ace-step-v1",
            kind="music",
            engine="ace-step-v1",
            repo_id="ACE-Step/ACE-Step-v1-3.5B",
            required=(
                "ace_step_transformer/config.json",
                "ace_step_transformer/*.safetensors",
                "music_dcae_f8c8/config.json",
                "music_dcae_f8c8/*.safetensors",
                "music_vocoder/config.json",
                "music_vocoder/*.safetensors",
                "umt5-base/config.json",
                "umt5-base/*.safetensors",
                "umt5-base/tokenizer.json",
            ),
            size_hint="about 8.3 GB",
        ),
        ModelInfo(
            name="ace-step-1.5",
            kind="music",
            engine="ace-step-1.5",
            repo_id="ACE-Step/acestep-v15-turbo-diffusers",
            required=(
                "model_index.json",
                "transformer/config.json",
                "vae/config.json",
                "text_encoder/config.json",
                "tokenizer/tokenizer.json",
                "condition_encoder/config.json",
                "scheduler/scheduler_config.json",
            ),
            size_hint="several GB",
        ),
        ModelInfo(
            name="llama-song-stream-3b",
            kind="lyrics",
            engine="transformers",
            repo_id="prithivMLmods/Llama-Song-Stream-3B-Instruct",
            required=("config.json", "*.safetensors", "tokenizer.json", "tokenizer_config.json"),
            size_hint="about 6.4 GB",
        ),
    )
}

# cached model folders are named like the engine that loads them, as the engines' messages say
DEFAULT_MODEL_FOR_ENGINE = {"ace-step-v1": "ace-step-v1", "ace-step-1.5": "ace-step-1.5"}


def missing_files(folder: Path, info: ModelInfo) -> list[str]:
    return [pattern for pattern in info.required if not any(folder.glob(pattern))]


def model_info(name: str) -> ModelInfo:
    try:
        return CATALOG[name]
    except KeyError:
        raise BadInput(f"unknown model {name!r}; known models: {', '.join(CATALOG)}") from None


@dataclass
class ModelStatus:
    info: ModelInfo
    folder: Path
    present: bool
    missing: list[str]


def list_models(settings: Settings) -> list[ModelStatus]:
    statuses = []
    for info in CATALOG.values():
        folder = settings.model_cache / info.name
        missing = missing_files(folder, info) if folder.exists() else list(info.required)
        statuses.append(ModelStatus(info=info, folder=folder, present=folder.exists() and not missing, missing=missing))
    return statuses


def resolve_model_dir(settings: Settings, *, engine: str, model: str | None) -> Path | None:
    """The folder to load for a job: a named cached model, a folder path, or the engine's
    default model when it is in the cache (None lets the engine explain what it needs)."""
    if model is None:
        default = DEFAULT_MODEL_FOR_ENGINE.get(engine)
        folder = settings.model_cache / default if default else None
        return folder if folder is not None and folder.is_dir() else None
    if model in CATALOG:
        folder = settings.model_cache / model
        if not folder.is_dir():
            raise NotFound(
                f"model {model!r} is not in the model cache {settings.model_cache}; run "
                f"`songstudio models download {model}` or `songstudio models import {model} FOLDER`"
            )
        return folder
    path = Path(model).expanduser()
    if path.is_dir():
        return path.resolve()
    cached = settings.model_cache / model
    if cached.is_dir():
        return cached
    raise BadInput(
        f"unknown model {model!r}: not a known model ({', '.join(CATALOG)}), not a folder in the model cache "
        f"{settings.model_cache} and not a folder path"
    )


def import_model(settings: Settings, *, name: str, source: Path, link: bool = False) -> Path:
    """Copy (or symlink) a local model folder into the cache after checking its layout."""
    info = model_info(name)
    source = source.expanduser().resolve()
    if not source.is_dir():
        raise BadInput(f"{source} is not a folder; give the folder that holds the model files")
    missing = missing_files(source, info)
    if missing:
        raise BadInput(
            f"{source} does not look like {name} ({info.repo_id}): missing {', '.join(missing)}. "
            f"Expected layout: {', '.join(info.required)}"
        )
    settings.ensure_home()
    target = settings.model_cache / name
    if target.exists() or target.is_symlink():
        raise BadInput(f"{target} already exists; remove it first to import another copy")
    if link:
        target.symlink_to(source, target_is_directory=True)
        return target
    tmp = target.with_name(f".{name}.{uuid.uuid4().hex[:8]}.importing")
    try:
        shutil.copytree(source, tmp)
        os.rename(tmp, target)  # the cache never holds a half-copied model
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise EnvironmentProblem(f"could not copy {source} into {target}: {exc}; check free disk space") from None
    return target


def download_model(settings: Settings, *, name: str, revision: str | None = None) -> Path:
    """Fetch from the Hugging Face Hub into the cache; offline gives a clear way forward."""
    info = model_info(name)
    settings.ensure_home()
    target = settings.model_cache / name
    if target.exists() and not missing_files(target, info):
        return target
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    tmp = target.with_name(f".{name}.download")  # kept between attempts so downloads resume
    try:
        snapshot_download(info.repo_id, revision=revision, local_dir=tmp)
    except (LocalEntryNotFoundError, HfHubHTTPError, OSError) as exc:
        raise EnvironmentProblem(
            f"could not download {info.repo_id} ({info.size_hint}): {type(exc).__name__}: {exc}. "
            f"Without internet, copy the model folder onto this machine and run "
            f"`songstudio models import {name} FOLDER`"
        ) from None
    missing = missing_files(tmp, info)
    if missing:
        raise EnvironmentProblem(f"the download of {info.repo_id} lacks {', '.join(missing)}; run the command again")
    if target.exists():
        shutil.rmtree(target)
    os.rename(tmp, target)
    return target
