"""A take's recipe: everything needed to make the same audio again, as canonical JSON.

Recorded by the worker for every take (one call: `recipe_context`), sealed into the master's
C2PA manifest as its own assertion, stored with the take, bound into the mint authorization
(`recipeHash` = 0x + sha256 of the canonical JSON) and into the token metadata.

It names things, never local paths: the model by id, revision and a digest over the SHA-256 of
every weight file (computed once per model folder and cached), LoRA and source audio by their
SHA-256. It holds the request with the exact seeds of the whole job (a take is re-rendered by
running the same job and taking the same index, so batching cannot change it), the lyric text,
the parent take and its token, the engine, the code version, device class and dtype.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from importlib import metadata as package_metadata
from pathlib import Path
from typing import Any

from provenance.metadata import canonical_json
from studio.model_store import resolve_model_dir
from studio.settings import Settings
from studio.specs import MusicJobSpec

RECIPE_FORMAT = "songstudio-recipe/1"
PATH_FIELDS = ("source_audio", "reference_audio", "lora")  # request fields that name files
DIGEST_CACHE_VERSION = 1
# seeds an engine draws itself when the request leaves them out (ACE-Step's retake/repaint noise);
# the recipe records the drawn ones among the request's options so a re-render draws the same
DRAWN_SEED_OPTIONS = ("retake_seeds",)


def code_version() -> str:
    """The studio's package version (the engines ship inside it)."""
    return package_metadata.version("songstudio")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def weight_digests(folder: Path, cache_dir: Path) -> dict[str, str]:
    """SHA-256 of every file under a model folder (relative path -> hex). Hashing GBs of weights
    takes minutes, so results are cached per folder and reused while size and mtime match."""
    folder = folder.resolve()
    cache = cache_dir / f"{hashlib.sha256(str(folder).encode()).hexdigest()[:32]}.json"
    try:
        cached = json.loads(cache.read_text())
        if cached.get("version") != DIGEST_CACHE_VERSION:
            cached = {}
    except (OSError, ValueError):
        cached = {}
    known = cached.get("files", {})
    files: dict[str, dict[str, Any]] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        stat = path.stat()
        entry = known.get(rel)
        if not entry or entry["size"] != stat.st_size or entry["mtime_ns"] != stat.st_mtime_ns:
            entry = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": sha256_file(path)}
        files[rel] = entry
    if files != known:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"version": DIGEST_CACHE_VERSION, "files": files}))
        os.replace(tmp, cache)
    return {rel: entry["sha256"] for rel, entry in files.items()}


def model_identity(settings: Settings, *, engine: str, model: str | None, model_dir: Path | None,
                   revision: str | None) -> dict[str, Any]:
    """The model by id (the cache folder's name), revision and digest; never its local path."""
    if model_dir is None:
        return {"id": model or engine, "revision": revision, "digest": None, "weights": {}}
    weights = weight_digests(model_dir, settings.home / "cache" / "weight-digests")
    digest = hashlib.sha256(canonical_json(weights)).hexdigest()
    return {"id": model_dir.name, "revision": revision, "digest": digest, "weights": weights}


@dataclass(frozen=True)
class RecipeContext:
    """What the worker knows about a run beyond the job spec: the engine as loaded."""

    model: dict[str, Any]
    device_class: str
    dtype: str | None
    code_version: str


def device_class(device: str) -> str:
    """'cpu', or 'cuda:<GPU name>' (bit-exact reruns need the same kind of device)."""
    if not device.startswith("cuda"):
        return device.split(":")[0]
    import torch  # heavy; only on a GPU worker

    index = int(device.split(":")[1]) if ":" in device else 0
    return f"cuda:{torch.cuda.get_device_name(index)}"


def loaded_model_dir(settings: Settings, spec: MusicJobSpec) -> Path | None:
    """The folder the worker loads for this spec: the job's model, else the engine's options."""
    folder = resolve_model_dir(settings, engine=spec.engine, model=spec.model)
    if folder is None:
        options = settings.engine_options.get(spec.engine, {})
        named = options.get("model_dir") or options.get("model_id_or_dir")
        folder = Path(named).expanduser() if named and Path(named).expanduser().is_dir() else None
    return folder


def recipe_context(settings: Settings, spec: MusicJobSpec, engine, device: str) -> RecipeContext:
    """Called once per job by the worker, after the engine is loaded."""
    model_dir = loaded_model_dir(settings, spec)
    dtype = getattr(engine, "dtype", None)
    return RecipeContext(
        model=model_identity(settings, engine=spec.engine, model=spec.model, model_dir=model_dir, revision=None),
        device_class=device_class(device), dtype=None if dtype is None else str(dtype).removeprefix("torch."),
        code_version=code_version())


def file_ref(value: str | None) -> dict[str, Any] | str | None:
    """A request's file or folder (a LoRA adapter) by content, never by where it lies here."""
    if not value:
        return value
    path = Path(value).expanduser()
    if path.is_file():
        return {"sha256": sha256_file(path)}
    if path.is_dir():
        files = {p.relative_to(path).as_posix(): sha256_file(p) for p in sorted(path.rglob("*")) if p.is_file()}
        return {"name": path.name, "files": files}
    if os.path.isabs(value) or os.sep in value:
        return {"name": path.name}  # a path that is not here: its name only
    return value  # a name (e.g. a LoRA id in a registry)


def build_recipe(*, context: RecipeContext, spec: MusicJobSpec, result, take_index: int,
                 parent: dict[str, Any] | None) -> dict[str, Any]:
    request = dict(spec.request)
    request["seeds"] = [int(t.seed) for t in result.takes]  # exact seeds of the whole job
    drawn = {name: result.parameters[name] for name in DRAWN_SEED_OPTIONS
             if result.parameters.get(name) is not None and (request.get("options") or {}).get(name) is None}
    if drawn:
        request["options"] = {**(request.get("options") or {}), **drawn}
    for name in PATH_FIELDS:
        if name in request:
            request[name] = file_ref(request[name])
    model = dict(context.model)
    if result.revision and not model.get("revision"):
        model["revision"] = result.revision
    return {
        "format": RECIPE_FORMAT,
        "engine": {"name": result.engine, "code_version": context.code_version},
        "model": model,
        "request": request,
        "parameters": _no_paths(result.parameters),
        "take_index": take_index,
        "seed": int(result.takes[take_index].seed),
        "lyrics": request.get("lyrics", ""),
        "parent": parent,
        "device_class": context.device_class,
        "dtype": context.dtype,
        "sample_rate": result.sample_rate,
    }


def _no_paths(value: Any) -> Any:
    """Engine-reported parameters with absolute paths replaced by their file's digest."""
    if isinstance(value, dict):
        return {k: _no_paths(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_no_paths(v) for v in value]
    if isinstance(value, str) and os.path.isabs(value):
        path = Path(value)
        return {"sha256": sha256_file(path)} if path.is_file() else {"name": path.name}
    return value


def recipe_bytes(recipe: dict[str, Any]) -> bytes:
    return canonical_json(recipe)


def recipe_hash(recipe_json: bytes) -> str:
    return "0x" + hashlib.sha256(recipe_json).hexdigest()
