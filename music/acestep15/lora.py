"""One LoRA slot on a loaded AceStepPipeline: load, re-weight and unload without reloading the model.

diffusers' AceStep LoRA loader reads diffusers-format files (`pytorch_lora_weights.safetensors`)
and original ACE-Step PEFT folders (`adapter_model.safetensors` + `adapter_config.json`). It ignores
`lora_alpha` from `adapter_config.json` (it loads every LoRA at alpha = r), so upstream LoRAs
trained with alpha != r would play at the wrong strength; the slot scales them by alpha / r.
"""

from __future__ import annotations

import json
from pathlib import Path

from safetensors import safe_open

from music.engine import RequestError

ADAPTER_NAME = "songstudio"
METADATA_KEY = "lora_adapter_metadata"  # diffusers stores the LoraConfig (r, alpha) under this header key


def lora_file(path: str) -> Path | None:
    """The weights file a LoRA path names: the file itself, or the one .safetensors in a folder."""
    p = Path(path).expanduser()
    if p.is_file() and p.suffix == ".safetensors":
        return p
    if p.is_dir():
        preferred = [p / "pytorch_lora_weights.safetensors", p / "adapter_model.safetensors"]
        found = [f for f in preferred if f.is_file()] or sorted(p.glob("*.safetensors"))
        if len(found) == 1 or (found and found[0] in preferred):
            return found[0]
    return None


def alpha_scale(weights: Path) -> float:
    """alpha / r for a PEFT folder whose weights carry no diffusers metadata; 1.0 otherwise."""
    config_path = weights.parent / "adapter_config.json"
    if not config_path.is_file():
        return 1.0

    with safe_open(str(weights), framework="pt") as handle:
        if METADATA_KEY in (handle.metadata() or {}):
            return 1.0  # diffusers builds the LoraConfig from the metadata, alpha included
    config = json.loads(config_path.read_text(encoding="utf-8"))
    if config.get("rank_pattern") or config.get("alpha_pattern"):
        raise RequestError(
            f"{config_path} sets per-layer rank_pattern/alpha_pattern, which the diffusers loader cannot honour; "
            "re-save the LoRA with diffusers' save_lora_weights (it stores the config in the file)"
        )
    rank, alpha = config.get("r"), config.get("lora_alpha")
    if not rank or alpha is None:
        return 1.0
    return float(alpha) / float(rank)


class LoraSlot:
    """Holds at most one LoRA on the pipeline's transformer."""

    def __init__(self, pipe) -> None:
        self._pipe = pipe
        self.path: str | None = None
        self.weight: float | None = None
        self._alpha_scale = 1.0

    def load(self, path: str, *, weight: float = 1.0) -> None:
        """Load `path` (replacing any other LoRA) and set its weight; the same path only re-weights."""
        if path == self.path:
            self.set_weight(weight)
            return
        weights = lora_file(path)
        if weights is None:
            raise RequestError(f"LoRA not found: {path} (give a LoRA folder or a .safetensors file)")
        self.unload()
        try:
            scale = alpha_scale(weights)
            self._pipe.load_lora_weights(str(weights.parent), weight_name=weights.name, adapter_name=ADAPTER_NAME)
        except RequestError:
            raise
        except Exception as exc:  # a corrupt file or one for another model: say which, keep the base model clean
            self.unload()
            raise RequestError(f"cannot load LoRA {path} onto the ACE-Step 1.5 transformer: {exc}") from exc
        self.path, self._alpha_scale = path, scale
        self.set_weight(weight)

    def set_weight(self, weight: float) -> None:
        if self.path is None:
            raise RequestError("no LoRA is loaded; load one before setting its weight")
        self._pipe.set_adapters([ADAPTER_NAME], adapter_weights=[weight * self._alpha_scale])
        self.weight = weight

    def unload(self) -> None:
        if self.path is not None or self._pipe.get_list_adapters():
            self._pipe.unload_lora_weights()
        self.path, self.weight, self._alpha_scale = None, None, 1.0
