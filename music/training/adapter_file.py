"""A trained adapter on disk: `pytorch_lora_weights.safetensors` (diffusers' format, with its
`lora_adapter_metadata` header holding the LoRA config) plus `adapter.json` saying how it was made.

The folder is written under a staging name and renamed into place: a failed or interrupted save
never leaves a half adapter under the final name, and never replaces a good one.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Callable

LORA_FILE = "pytorch_lora_weights.safetensors"
INFO_FILE = "adapter.json"
METADATA_KEY = "lora_adapter_metadata"
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".gguf")
_digest_memo: dict[tuple, str] = {}


def lora_config_metadata(config) -> str:
    """A peft `LoraConfig` as the JSON diffusers stores in the safetensors header."""
    data = config.to_dict()
    clean = {k: (sorted(v) if isinstance(v, set) else v) for k, v in data.items()}
    return json.dumps(clean, sort_keys=True, default=str)


def write_adapter(folder: str | Path, *, write_weights: Callable[[Path], None], info: dict) -> Path:
    """Write an adapter folder atomically. `write_weights(staging)` puts the weights file there."""
    folder = Path(folder)
    if folder.exists():
        raise FileExistsError(f"{folder} already exists; choose another adapter name or delete the old one")
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = folder.with_name(f".{folder.name}.part")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        write_weights(staging)
        if not (staging / LORA_FILE).is_file():
            raise RuntimeError(f"the adapter weights were not written as {LORA_FILE}")
        info = {**info, "weights_digest": file_sha256(staging / LORA_FILE)}
        (staging / INFO_FILE).write_text(json.dumps(info, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return folder


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def weights_digest(folder: str | Path) -> str:
    """sha256 over every weights file under `folder` (relative name + content), memoised per
    (path, size, mtime) so one process hashes a multi-GB checkpoint once."""
    folder = Path(folder)
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in WEIGHT_SUFFIXES)
    stamp = (str(folder.resolve()), tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files))
    if stamp not in _digest_memo:
        digest = hashlib.sha256()
        for path in files:
            digest.update(str(path.relative_to(folder)).encode() + b"\0" + file_sha256(path).encode())
        _digest_memo[stamp] = digest.hexdigest()
    return _digest_memo[stamp]
