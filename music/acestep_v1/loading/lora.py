"""LoRA adapters on the v1 DiT through peft: load, re-weight, unload, switch; base never reloaded.

Files are the ones upstream's trainer writes (`save_lora_adapter`): a folder (or hub repo) with
`pytorch_lora_weights.safetensors` whose keys are `<module>.lora_A.weight` / `<module>.lora_B.weight`
relative to the transformer (e.g. `transformer_blocks.3.attn.to_q.lora_A.weight`,
`lyric_encoder.encoders.0.self_attn.linear_q.lora_B.weight`). Targets are linear layers and the
DiT feed-forward's two 1x1 convolutions (`ff.inverted_conv.conv`, `ff.point_conv.conv`), whose
LoRA matrices are stored as peft's Conv1d ones: lora_A (r, in, 1), lora_B (out, r, 1). The
depthwise convolution is not a target. The adapter configuration comes from
the file's `lora_adapter_metadata` when diffusers wrote one; otherwise rank is read off the
weights and alpha = rank, exactly as diffusers' loader (and so upstream) does. The effective
scale is `lora_weight * alpha / r` (`alpha / sqrt(r)` with rsLoRA).

Every key is checked against the model before anything is injected: a LoRA for another model
is an error naming the keys that do not fit, and the model is left as it was.
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import torch
from huggingface_hub import hf_hub_download
from safetensors import safe_open
from torch import nn

from music.acestep_v1.modes.arguments import check_lora_weight
from music.engine import RequestError

log = logging.getLogger(__name__)

LORA_FILE = "pytorch_lora_weights.safetensors"
METADATA_KEY = "lora_adapter_metadata"  # diffusers' safetensors metadata entry
_KEY = re.compile(r"^(?P<module>.+)\.(?P<part>lora_A\.weight|lora_B\.weight|lora_B\.bias|alpha)$")
_CONFIG_FIELDS = ("r", "lora_alpha", "use_rslora", "rank_pattern", "alpha_pattern", "use_dora", "lora_bias")


class LoraError(RequestError):
    """A LoRA that cannot be used with this model; the message names what does not fit."""


@dataclass(frozen=True)
class LoraFile:
    source: str  # what the user gave (path or hub id)
    path: Path  # the safetensors file
    tensors: dict[str, torch.Tensor]
    metadata: dict | None


def resolve_lora_file(name_or_path: str, *, cache_dir: str | Path | None = None) -> Path:
    """A local folder / file, or a hub repo id downloaded into `cache_dir` when online."""
    local = Path(name_or_path).expanduser()
    if local.is_file():
        return local
    if local.is_dir():
        candidate = local / LORA_FILE
        if not candidate.is_file():
            raise LoraError(f"LoRA folder {local} has no {LORA_FILE}")
        return candidate
    if not is_hub_id(name_or_path):
        raise LoraError(f"LoRA not found: {name_or_path!r} is neither a folder with {LORA_FILE} nor a hub repo id")
    try:
        return Path(hf_hub_download(name_or_path, LORA_FILE, cache_dir=str(cache_dir) if cache_dir else None))
    except Exception as exc:  # offline, missing repo, missing file: one actionable message
        raise LoraError(
            f"cannot fetch LoRA {name_or_path!r} from the hub ({type(exc).__name__}); when offline, download "
            f"it elsewhere and pass the folder holding {LORA_FILE}"
        ) from exc


def is_hub_id(name_or_path: str) -> bool:
    """`owner/name` that is not a local path: fetched from the hub when used."""
    local = Path(name_or_path).expanduser()
    return not (local.exists() or local.is_absolute() or name_or_path.startswith((".", "~"))
                or name_or_path.count("/") != 1)


def check_lora_source(name_or_path: str | None) -> None:
    """A local LoRA must be there now (no model needed); a hub id is fetched when it is used."""
    if name_or_path and str(name_or_path).lower() != "none" and not is_hub_id(name_or_path):
        resolve_lora_file(name_or_path)


def read_lora_file(name_or_path: str, *, cache_dir: str | Path | None = None) -> LoraFile:
    path = resolve_lora_file(name_or_path, cache_dir=cache_dir)
    try:
        with safe_open(str(path), framework="pt", device="cpu") as handle:
            tensors = {key: handle.get_tensor(key) for key in handle.keys()}
            raw_meta = (handle.metadata() or {}).get(METADATA_KEY)
    except Exception as exc:
        raise LoraError(f"cannot read LoRA file {path}: {exc}") from exc
    if not tensors:
        raise LoraError(f"LoRA file {path} holds no tensors")
    metadata = json.loads(raw_meta) if raw_meta else None
    return LoraFile(source=name_or_path, path=path, tensors=tensors, metadata=metadata)


def _check_against_model(model: nn.Module, lora: LoraFile) -> tuple[dict[str, torch.Tensor], dict[str, int], dict[str, float]]:
    """Split keys per module and validate names and shapes. Returns (peft state dict, ranks, alphas)."""
    # layers already wrapped by a loaded LoRA are checked through their base layer
    modules = {name: getattr(m, "get_base_layer", lambda m=m: m)() for name, m in model.named_modules()}
    bad_names, bad_shapes, state, ranks, alphas = [], [], {}, {}, {}
    per_module: dict[str, dict[str, torch.Tensor]] = {}
    for key, tensor in lora.tensors.items():
        match = _KEY.match(key)
        if not match:
            bad_names.append(key)
            continue
        per_module.setdefault(match["module"], {})[match["part"]] = tensor
    for name, parts in sorted(per_module.items()):
        sizes = _target_sizes(modules.get(name))
        if sizes is None:
            bad_names.extend(f"{name}.{part}" for part in sorted(parts))
            continue
        a, b = parts.get("lora_A.weight"), parts.get("lora_B.weight")
        if a is None or b is None:
            bad_names.append(f"{name} (needs both lora_A.weight and lora_B.weight)")
            continue
        n_in, n_out, kernel = sizes
        rank = a.shape[0] if a.ndim else 0
        if tuple(a.shape) != (rank, n_in, *kernel) or tuple(b.shape) != (n_out, rank, *kernel):
            bad_shapes.append(f"{name}: lora_A {tuple(a.shape)}, lora_B {tuple(b.shape)} vs layer in={n_in} out={n_out}"
                              + (" (a 1x1 convolution: lora_A (r, in, 1), lora_B (out, r, 1))" if kernel else ""))
            continue
        ranks[name] = int(b.shape[1])
        if "alpha" in parts:
            alphas[name] = float(parts["alpha"].item())
        for part, tensor in parts.items():
            if part != "alpha":
                state[f"{name}.{part}"] = tensor
    if bad_names or bad_shapes:
        problems = []
        if bad_names:
            problems.append("keys with no matching linear layer or 1x1 feed-forward convolution in the ACE-Step v1 "
                            "transformer: " + _list(bad_names))
        if bad_shapes:
            problems.append("keys whose shapes do not fit: " + _list(bad_shapes))
        raise LoraError(f"LoRA {lora.source!r} does not match this model; " + "; ".join(problems))
    return state, ranks, alphas


def _target_sizes(module: nn.Module | None) -> tuple[int, int, tuple[int, ...]] | None:
    """(inputs, outputs, kernel) of a layer a LoRA may adapt: a linear layer, or a 1x1 Conv1d (the
    DiT feed-forward's, whose forward honours a wrapped conv); None for anything else."""
    if isinstance(module, nn.Linear):
        return module.in_features, module.out_features, ()
    if isinstance(module, nn.Conv1d) and module.kernel_size == (1,) and module.groups == 1 and module.stride == (1,):
        return module.in_channels, module.out_channels, (1,)
    return None


def _list(items: list[str], limit: int = 10) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" ... ({len(items) - limit} more)" if len(items) > limit else "")


def _lora_config(lora: LoraFile, ranks: dict[str, int], alphas: dict[str, float]):
    from peft import LoraConfig  # noqa: PLC0415  (heavy: peft takes ~7 s to import; only when a LoRA is used)

    # exact module names: peft matches target_modules entries as name suffixes
    kwargs: dict = {"target_modules": sorted(ranks)}
    if lora.metadata:
        kwargs.update({k: lora.metadata[k] for k in _CONFIG_FIELDS if k in lora.metadata})
    else:
        r = Counter(ranks.values()).most_common(1)[0][0]
        kwargs["r"] = r
        kwargs["rank_pattern"] = {f"^{name}$": rank for name, rank in ranks.items() if rank != r}
        if alphas:
            alpha = Counter(alphas.values()).most_common(1)[0][0]
            kwargs["lora_alpha"] = alpha
            kwargs["alpha_pattern"] = {f"^{name}$": a for name, a in alphas.items() if a != alpha}
        else:  # diffusers' convention without alphas: alpha == rank per module (scale 1)
            kwargs["lora_alpha"] = r
            kwargs["alpha_pattern"] = {f"^{name}$": rank for name, rank in ranks.items() if rank != r}
    return LoraConfig(**kwargs)


class LoraSlot:
    """The (at most one) LoRA active on a model. `apply(name, weight)` is what `generate` calls."""

    ADAPTER = "ace_step_lora"

    def __init__(self, model: nn.Module, *, cache_dir: str | Path | None = None):
        self.model = model
        self.cache_dir = cache_dir
        self.source: str | None = None
        self.weight: float = 1.0

    @property
    def active(self) -> bool:
        return self.source is not None

    def apply(self, name_or_path: str | None, weight: float = 1.0) -> None:
        """Make `name_or_path` at `weight` the active LoRA ("none"/None/"" unloads)."""
        weight = check_lora_weight(weight)
        if not name_or_path or str(name_or_path).lower() == "none":
            self.unload()
            return
        if name_or_path != self.source:
            self.load(name_or_path, weight)
        elif weight != self.weight:
            self.set_weight(weight)

    def load(self, name_or_path: str, weight: float = 1.0) -> None:
        weight = check_lora_weight(weight)
        lora = read_lora_file(name_or_path, cache_dir=self.cache_dir)
        state, ranks, alphas = _check_against_model(self.model, lora)  # raises before any change
        config = _lora_config(lora, ranks, alphas)
        self.unload()
        from peft import inject_adapter_in_model, set_peft_model_state_dict  # noqa: PLC0415  (heavy, as above)

        try:
            inject_adapter_in_model(config, self.model, adapter_name=self.ADAPTER)
            result = set_peft_model_state_dict(self.model, state, adapter_name=self.ADAPTER)
            unexpected = [k for k in getattr(result, "unexpected_keys", []) if "lora_" in k]
            if unexpected:
                raise LoraError(f"LoRA {name_or_path!r}: keys not taken by the model: {_list(unexpected)}")
        except Exception:
            self._remove_layers()
            raise
        self.source = name_or_path
        self._set_scale(weight)
        log.info("LoRA %s loaded (%d layers, weight %g)", name_or_path, len(ranks), weight)

    def set_weight(self, weight: float) -> None:
        if not self.active:
            raise LoraError("no LoRA is loaded; pass lora_name_or_path first")
        self._set_scale(check_lora_weight(weight))

    def unload(self) -> None:
        if self.active:
            self._remove_layers()
            log.info("LoRA %s unloaded", self.source)
        self.source = None
        self.weight = 1.0

    def _set_scale(self, weight: float) -> None:
        from diffusers.utils.peft_utils import set_weights_and_activate_adapters  # noqa: PLC0415  (pulls in peft)

        set_weights_and_activate_adapters(self.model, [self.ADAPTER], [weight])
        self.weight = weight

    def _remove_layers(self) -> None:
        # puts each wrapped layer's base nn.Linear back: the base weights were never touched
        from diffusers.utils.peft_utils import recurse_remove_peft_layers  # noqa: PLC0415  (pulls in peft)

        recurse_remove_peft_layers(self.model)
        if hasattr(self.model, "peft_config"):
            del self.model.peft_config
