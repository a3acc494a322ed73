"""Finding and loading the official ACE-Step v1 checkpoint folder.

Layout (the hub repo `ACE-Step/ACE-Step-v1-3.5B`, unchanged)::

    <checkpoint>/ace_step_transformer/{config.json, diffusion_pytorch_model.safetensors}
    <checkpoint>/music_dcae_f8c8/{config.json, diffusion_pytorch_model.safetensors}
    <checkpoint>/music_vocoder/{config.json, diffusion_pytorch_model.safetensors}
    <checkpoint>/umt5-base/{config.json, model.safetensors, tokenizer files}

The lyric vocabulary is not part of that repo; it is upstream's
`acestep/models/lyrics_utils/vocab.json`, fetched from GitHub at a pinned commit and checked
against its sha256.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import torch
from huggingface_hub import snapshot_download
from huggingface_hub.errors import LocalEntryNotFoundError

from music.acestep_v1.loading.weights import DIT_UNUSED_KEYS, assign_state_dict, build_on_meta, read_state_dict
from music.acestep_v1.models.transformer import ACEStepDiT, DiTConfig
from music.acestep_v1.models.vocoder import HiFiGANVocoder, VocoderConfig, fold_weight_norm

HUB_REPO_ID = "ACE-Step/ACE-Step-v1-3.5B"
SUBFOLDERS = ("ace_step_transformer", "music_dcae_f8c8", "music_vocoder", "umt5-base")
WEIGHT_FILES = {
    "ace_step_transformer": "diffusion_pytorch_model.safetensors",
    "music_dcae_f8c8": "diffusion_pytorch_model.safetensors",
    "music_vocoder": "diffusion_pytorch_model.safetensors",
    "umt5-base": "model.safetensors",
}
LYRIC_VOCAB_URL = (
    "https://raw.githubusercontent.com/ace-step/ACE-Step/"
    "d612523f50e252c0e138e68ae75b06223f96e934/acestep/models/lyrics_utils/vocab.json"
)
LYRIC_VOCAB_SHA256 = "c2a66ea48c478c0bb9acb5497144b926acdeaa37128faa799508d40f2b9cc558"

LAYOUT_HELP = (
    "expected a folder holding " + ", ".join(f"{name}/" for name in SUBFOLDERS)
    + f" (the hub repo {HUB_REPO_ID}, unchanged). Copy one in with "
    "`songstudio models import ace-step-v1 <folder>`, or run once online to download it."
)


class MissingWeightsError(FileNotFoundError):
    """The checkpoint is absent and cannot be downloaded; the message says what to do."""


def _looks_like_hub_id(value: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z0-9][\w.-]*/[\w.-]+", value)) and not Path(value).exists()


def missing_parts(folder: Path) -> list[str]:
    missing = []
    for sub in SUBFOLDERS:
        for name in ("config.json", WEIGHT_FILES[sub]):
            if not (folder / sub / name).is_file():
                missing.append(f"{sub}/{name}")
    return missing


def resolve_checkpoint(source: str | os.PathLike, *, cache_dir: str | os.PathLike | None = None) -> Path:
    """A local folder in the official layout, or a hub id downloaded into `cache_dir`."""
    text = os.fspath(source)
    if _looks_like_hub_id(text):
        return _download_from_hub(text, cache_dir=cache_dir)
    folder = Path(text).expanduser().resolve()
    if not folder.is_dir():
        raise MissingWeightsError(f"ACE-Step v1 checkpoint folder {folder} does not exist; {LAYOUT_HELP}")
    missing = missing_parts(folder)
    if missing:
        raise MissingWeightsError(f"ACE-Step v1 checkpoint {folder} lacks {', '.join(missing)}; {LAYOUT_HELP}")
    return folder


def _download_from_hub(repo_id: str, *, cache_dir) -> Path:
    try:
        folder = Path(snapshot_download(repo_id, cache_dir=None if cache_dir is None else os.fspath(cache_dir)))
    except LocalEntryNotFoundError as exc:  # offline (HF_HUB_OFFLINE or no network) and not cached
        raise MissingWeightsError(
            f"ACE-Step v1 weights {repo_id} are not in the model cache and cannot be downloaded "
            f"(offline?); {LAYOUT_HELP}"
        ) from exc
    missing = missing_parts(folder)
    if missing:
        raise MissingWeightsError(f"download of {repo_id} lacks {', '.join(missing)}; {LAYOUT_HELP}")
    return folder


def resolve_lyric_vocab(path: str | os.PathLike | None, *, cache_dir: str | os.PathLike | None) -> Path:
    """An explicit vocab.json, else the cached (or freshly downloaded) upstream file."""
    if path is not None:
        vocab = Path(path).expanduser().resolve()
        if not vocab.is_file():
            raise MissingWeightsError(f"lyric vocabulary {vocab} does not exist")
        return vocab
    if cache_dir is None:
        raise MissingWeightsError(
            "no lyric vocabulary: pass lyric_vocab=<path to upstream vocab.json> or a cache_dir to download it into"
        )
    target = Path(cache_dir).expanduser() / "ace-step-v1" / "lyrics_vocab.json"
    if target.is_file():
        return target
    try:
        content = fetch_bytes(LYRIC_VOCAB_URL)
    except OSError as exc:  # URLError, timeouts, refused connections: all mean "offline" here
        raise MissingWeightsError(
            f"the ACE-Step v1 lyric vocabulary is not cached at {target} and could not be downloaded "
            f"from {LYRIC_VOCAB_URL} ({type(exc).__name__}); pass lyric_vocab=<path>"
        ) from exc
    digest = hashlib.sha256(content).hexdigest()
    if digest != LYRIC_VOCAB_SHA256:
        raise MissingWeightsError(f"downloaded lyric vocabulary has sha256 {digest}, expected {LYRIC_VOCAB_SHA256}")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=target.parent, delete=False, suffix=".part") as tmp:
        tmp.write(content)
    os.replace(tmp.name, target)
    return target


def fetch_bytes(url: str, *, timeout: float = 60.0) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read()


def _read_config(folder: Path) -> dict:
    return json.loads((folder / "config.json").read_text(encoding="utf-8"))


def load_transformer(folder: Path, *, device, dtype: torch.dtype) -> ACEStepDiT:
    config = DiTConfig.from_dict(_read_config(folder))
    model = build_on_meta(lambda: ACEStepDiT(config))
    state = read_state_dict(folder / WEIGHT_FILES["ace_step_transformer"], skip=DIT_UNUSED_KEYS, dtype=dtype)
    return assign_state_dict(model, state, what=f"{folder}").to(device).eval().requires_grad_(False)


def load_autoencoder(folder: Path, *, device, dtype: torch.dtype):
    from diffusers import AutoencoderDC  # noqa: PLC0415  (heavy: diffusers' autoencoders, only when loading)

    config = {k: v for k, v in _read_config(folder).items() if not k.startswith("_")}
    model = build_on_meta(lambda: AutoencoderDC.from_config(config))
    state = read_state_dict(folder / WEIGHT_FILES["music_dcae_f8c8"], dtype=dtype)
    return assign_state_dict(model, state, what=f"{folder}").to(device).eval().requires_grad_(False)


MEL_BUFFERS = ("mel_transform.spectrogram.window", "mel_transform.mel_scale.fb")


def load_vocoder(folder: Path, *, device, dtype: torch.dtype) -> HiFiGANVocoder:
    config = VocoderConfig.from_dict(_read_config(folder))
    model = build_on_meta(lambda: HiFiGANVocoder(config))
    state = fold_weight_norm(read_state_dict(folder / WEIGHT_FILES["music_vocoder"]))
    # the mel front-end buffers stay fp32 whatever the model dtype
    state = {k: (v if k in MEL_BUFFERS else v.to(dtype)) for k, v in state.items()}
    return assign_state_dict(model, state, what=f"{folder}").to(device).eval().requires_grad_(False)


@dataclass
class CheckpointInfo:
    folder: Path
    model_id: str
    revision: str | None


def describe(folder: Path, *, source: str) -> CheckpointInfo:
    """Model id and (for hub snapshots) the revision hash, for the take's provenance."""
    revision = folder.name if folder.parent.name == "snapshots" else None
    model_id = source if _looks_like_hub_id(source) else str(folder)
    return CheckpointInfo(folder=folder, model_id=model_id, revision=revision)
