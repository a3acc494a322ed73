"""Find an ACE-Step 1.5 checkpoint (local folder or hub cache) and load it as an AceStepPipeline."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from music.engine import RequestError

REQUIRED_COMPONENTS = ("vae", "text_encoder", "tokenizer", "transformer", "condition_encoder", "scheduler")
OPTIONAL_COMPONENTS = ("audio_tokenizer", "audio_token_detokenizer")  # needed for cover from source audio

FOLDER_LAYOUT = """\
  <folder>/model_index.json
  <folder>/transformer/        config.json + diffusion_pytorch_model.safetensors (AceStepTransformer1DModel)
  <folder>/condition_encoder/  config.json + diffusion_pytorch_model.safetensors
  <folder>/vae/                config.json + diffusion_pytorch_model.safetensors (AutoencoderOobleck, 48 kHz)
  <folder>/text_encoder/       config.json + model.safetensors (Qwen3-Embedding-0.6B)
  <folder>/tokenizer/          tokenizer.json + tokenizer_config.json
  <folder>/scheduler/          scheduler_config.json
  <folder>/audio_tokenizer/, <folder>/audio_token_detokenizer/   (optional; cover from source audio needs them)"""

SAMPLE_RATE = 48000
AUDIO_CHANNELS = 2


class ModelNotFound(RequestError):
    """No usable ACE-Step 1.5 weights where the settings point."""


@dataclass(frozen=True, kw_only=True)
class CheckpointLocation:
    folder: Path
    model_id: str
    revision: str | None  # the hub commit for a hub snapshot; None for a plain folder


def _not_found(reason: str, model_id: str) -> ModelNotFound:
    return ModelNotFound(
        f"ACE-Step 1.5 weights for {model_id!r} are not available: {reason}.\n"
        f"Point model_id_or_dir at a diffusers-format folder laid out as:\n{FOLDER_LAYOUT}\n"
        f"or copy one into the model cache with `songstudio models import <folder>`; when online, "
        f"a hub id (for example 'ACE-Step/acestep-v15-turbo-diffusers') is downloaded into the cache."
    )


def check_layout(folder: Path, model_id: str) -> None:
    """Refuse a folder that is not a diffusers AceStepPipeline checkpoint, saying what is missing."""
    index = folder / "model_index.json"
    if not index.is_file():
        if (folder / "vae").is_dir() and any(p.name.startswith("acestep-v15") for p in folder.iterdir()):
            raise _not_found(
                f"{folder} is an original-format ACE-Step 1.5 checkpoint; convert it with diffusers' "
                "scripts/convert_ace_step_to_diffusers.py first",
                model_id,
            )
        raise _not_found(f"{folder} has no model_index.json", model_id)
    try:
        entries = json.loads(index.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise _not_found(f"{index} cannot be read as JSON ({exc})", model_id) from exc
    if entries.get("_class_name") != "AceStepPipeline":
        raise _not_found(f"{index} describes {entries.get('_class_name')!r}, not an AceStepPipeline", model_id)
    missing = [name for name in REQUIRED_COMPONENTS if not (folder / name).is_dir()]
    if missing:
        raise _not_found(f"{folder} lacks the component folder(s) {', '.join(missing)}", model_id)


def locate(model_id_or_dir: str, *, cache_dir: str | None, local_files_only: bool) -> CheckpointLocation:
    """A local folder is used as is; anything else is a hub id, looked up in (or fetched into) the cache."""
    path = Path(model_id_or_dir).expanduser()
    if path.is_dir():
        check_layout(path, model_id_or_dir)
        return CheckpointLocation(folder=path, model_id=model_id_or_dir, revision=None)
    if path.is_absolute() or model_id_or_dir.startswith((".", "~")) or model_id_or_dir.count("/") != 1:
        raise _not_found(f"no folder at {path}", model_id_or_dir)

    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    try:
        snapshot = snapshot_download(model_id_or_dir, cache_dir=cache_dir, local_files_only=local_files_only)
    except LocalEntryNotFoundError:
        raise _not_found(
            f"it is not in the model cache{f' ({cache_dir})' if cache_dir else ''} and the hub cannot be reached",
            model_id_or_dir,
        ) from None
    except (HfHubHTTPError, OSError) as exc:
        raise _not_found(f"the hub download failed ({type(exc).__name__}: {exc})", model_id_or_dir) from None
    folder = Path(snapshot)
    check_layout(folder, model_id_or_dir)
    return CheckpointLocation(folder=folder, model_id=model_id_or_dir, revision=folder.name)


def read_transformer_config(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "transformer" / "config.json").read_text(encoding="utf-8"))


def default_dtype(device: str):
    """bf16 on accelerators (the published weights are bf16), fp32 on CPU."""
    import torch

    return torch.float32 if str(device).startswith("cpu") else torch.bfloat16


def resolve_dtype(dtype: Any, device: str):
    import torch

    if dtype is None:
        return default_dtype(device)
    if isinstance(dtype, torch.dtype):
        return dtype
    names = {"float32": torch.float32, "fp32": torch.float32, "bfloat16": torch.bfloat16, "bf16": torch.bfloat16,
             "float16": torch.float16, "fp16": torch.float16}
    try:
        return names[str(dtype).removeprefix("torch.")]
    except KeyError:
        raise RequestError(f"unknown dtype {dtype!r}; use one of: {', '.join(names)}") from None


def load_pipeline(location: CheckpointLocation, *, device: str, dtype: Any, offload: bool, vae_tiling: bool | None):
    """Load the pipeline, check it makes 48 kHz stereo, and place it on `device` (or offload to it)."""
    from diffusers import AceStepPipeline

    if offload and str(device).startswith("cpu"):
        raise RequestError("offload=True moves models between CPU and an accelerator; pick device='cuda' (or another accelerator) or offload=False")
    torch_dtype = resolve_dtype(dtype, device)
    pipe = AceStepPipeline.from_pretrained(str(location.folder), dtype=torch_dtype)
    vae_config = pipe.vae.config
    if int(vae_config.sampling_rate) != SAMPLE_RATE or int(vae_config.audio_channels) != AUDIO_CHANNELS:
        raise ModelNotFound(
            f"{location.model_id!r} is not an ACE-Step 1.5 checkpoint: its VAE makes "
            f"{vae_config.audio_channels} channel(s) at {vae_config.sampling_rate} Hz, not stereo at {SAMPLE_RATE} Hz"
        )
    if offload:
        pipe.enable_model_cpu_offload(device=device)
    else:
        pipe.to(device)
    # Tiled VAE coding bounds memory for long songs on a GPU; on CPU the untiled path is faster.
    if vae_tiling if vae_tiling is not None else not str(device).startswith("cpu"):
        pipe.vae.enable_tiling()
    pipe.set_progress_bar_config(disable=True)
    # inference only: frozen from the start, so loading and unloading a LoRA (which freezes the
    # base) leaves the same flags, and the same CPU kernels, as before: unload is bit-exact
    pipe.transformer.requires_grad_(False)
    return pipe
