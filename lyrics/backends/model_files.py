"""Where model weights come from: a local path, or the Hugging Face hub cache (downloaded when
online and allowed). A missing model is a `ModelNotFound` that says how to get it."""

from __future__ import annotations

from pathlib import Path

from lyrics.errors import ModelNotFound

DEFAULT_MODEL = "prithivMLmods/Llama-Song-Stream-3B-Instruct"
# The safetensors variant of the default model exists only on this hub branch.
DEFAULT_MODEL_REVISION = "refs/pr/1"
DEFAULT_GGUF_REPO = "prithivMLmods/Llama-Song-Stream-3B-Instruct-GGUF"
DEFAULT_GGUF_FILE = "Llama-Song-Stream-3B-Instruct.Q4_K_M.gguf"


def gguf_howto(repo_id: str, filename: str) -> str:
    return (f"download it with `huggingface-cli download {repo_id} {filename} --local-dir <folder>` "
            f"and pass model_path=<folder>/{filename}, or allow downloads (download=True) on a "
            "machine that can reach the hub")


def resolve_gguf(model_path: str | Path | None = None, *, repo_id: str = DEFAULT_GGUF_REPO,
                 filename: str = DEFAULT_GGUF_FILE, cache_dir: str | Path | None = None,
                 download: bool = False) -> Path:
    """A local GGUF file: `model_path` when given, else the hub file from the cache (fetched
    first when `download`)."""
    if model_path is not None:
        path = Path(model_path).expanduser()
        if path.is_dir():
            candidates = sorted(path.glob("*.gguf"))
            if len(candidates) == 1:
                return candidates[0]
            raise ModelNotFound(f"{path} holds {len(candidates)} .gguf files; pass the file itself "
                                f"as model_path ({gguf_howto(repo_id, filename)})")
        if not path.is_file():
            raise ModelNotFound(f"GGUF model file not found: {path}; {gguf_howto(repo_id, filename)}")
        return path
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return Path(hf_hub_download(repo_id, filename, cache_dir=cache_dir, local_files_only=not download))
    except LocalEntryNotFoundError as exc:
        where = "not in the model cache" if not download else "could not be downloaded (offline?)"
        raise ModelNotFound(f"{repo_id}/{filename} is {where}; {gguf_howto(repo_id, filename)}") from exc
    except Exception as exc:  # hub errors (404, auth, network) all mean the same thing to the user
        raise ModelNotFound(f"{repo_id}/{filename}: {type(exc).__name__}: {exc}; "
                            f"{gguf_howto(repo_id, filename)}") from exc


def resolve_hf_folder(model: str | Path, *, revision: str | None = None,
                      cache_dir: str | Path | None = None, download: bool = False) -> Path:
    """A local transformers folder: `model` itself when it is a folder, else a hub id from the
    cache (fetched first when `download`)."""
    path = Path(model).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ModelNotFound(f"{path} is not a transformers model folder (no config.json)")
        return path
    if path.is_absolute() or str(model).startswith((".", "~")) or str(model).count("/") != 1:
        raise ModelNotFound(f"model folder not found: {path}; pass a folder with config.json or a "
                            f"hub id such as {DEFAULT_MODEL}")
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    howto = (f"download it with `huggingface-cli download {model}"
             + (f" --revision {revision}" if revision else "")
             + " --local-dir <folder>` and pass model=<folder>, or allow downloads (download=True)")
    try:
        return Path(snapshot_download(str(model), revision=revision, cache_dir=cache_dir,
                                      local_files_only=not download,
                                      allow_patterns=["*.json", "*.safetensors", "*.jinja", "*.model", "*.txt"]))
    except LocalEntryNotFoundError as exc:
        raise ModelNotFound(f"{model} is not in the model cache; {howto}") from exc
    except Exception as exc:
        raise ModelNotFound(f"{model}: {type(exc).__name__}: {exc}; {howto}") from exc
