"""Features of a training window (latents, text and lyric conditions) computed once, kept on disk.

The key is a sha256 over what the features depend on: the window (file bytes digest, position,
tags, lyrics), the model's digest and the encoder recipe's version. Epochs and resumed runs read
the file instead of running the encoders again. A file is written beside its final name and
renamed into place, so an interrupted write never leaves a half file under a valid key.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Callable

import torch
from safetensors.torch import load_file, save_file


class FeatureCache:
    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(parts: dict) -> str:
        return hashlib.sha256(json.dumps(parts, sort_keys=True, ensure_ascii=False).encode()).hexdigest()

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.safetensors"

    def get(self, parts: dict, compute: Callable[[], dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
        """The cached tensors for `parts`, computing and storing them on a miss."""
        path = self.path(self.key(parts))
        if path.is_file():
            self.hits += 1
            return load_file(str(path))
        self.misses += 1
        tensors = {name: t.detach().to("cpu").contiguous() for name, t in compute().items()}
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
        os.close(fd)
        try:
            save_file(tensors, tmp)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return tensors
