"""The ACE-Step 1.5 model family: which variant serves which task, with which defaults.

Plain data, no torch. Task support follows the upstream model zoo: turbo and sft models run
text2music, repaint and cover; only base models run extract, lego and complete.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

TASKS_ALL_MODELS = ("text2music", "repaint", "cover")
TASKS_BASE_ONLY = ("extract", "lego", "complete")
TASKS_NEEDING_SOURCE = ("repaint", "cover", "extract", "lego", "complete")

TRACK_NAMES = (
    "woodwinds",
    "brass",
    "fx",
    "synth",
    "strings",
    "percussion",
    "keyboard",
    "guitar",
    "bass",
    "drums",
    "backing_vocals",
    "vocals",
)

DEFAULT_MODEL_ID = "ACE-Step/acestep-v15-turbo-diffusers"


@dataclass(frozen=True, kw_only=True)
class Variant:
    name: str
    hub_id: str
    turbo: bool  # guidance-distilled: no CFG, 8 steps
    xl: bool
    tasks: tuple[str, ...]
    default_steps: int
    default_guidance: float  # 1.0 = no classifier-free guidance
    default_shift: float = 3.0

    @property
    def uses_guidance(self) -> bool:
        return not self.turbo


def _variant(name: str, hub_id: str, *, turbo: bool, base: bool) -> Variant:
    return Variant(
        name=name,
        hub_id=hub_id,
        turbo=turbo,
        xl=name.startswith("xl-"),
        tasks=TASKS_ALL_MODELS + (TASKS_BASE_ONLY if base else ()),
        # turbo is distilled for 8 steps; base/sft need more (upstream recommends 32-64)
        default_steps=8 if turbo else 50,
        default_guidance=1.0 if turbo else 7.0,
    )


VARIANTS: dict[str, Variant] = {
    v.name: v
    for v in (
        _variant("turbo", DEFAULT_MODEL_ID, turbo=True, base=False),
        _variant("sft", "ACE-Step/acestep-v15-sft-diffusers", turbo=False, base=False),
        _variant("base", "ACE-Step/acestep-v15-base-diffusers", turbo=False, base=True),
        _variant("xl-turbo", "ACE-Step/acestep-v15-xl-turbo-diffusers", turbo=True, base=False),
        _variant("xl-sft", "ACE-Step/acestep-v15-xl-sft-diffusers", turbo=False, base=False),
        _variant("xl-base", "ACE-Step/acestep-v15-xl-base-diffusers", turbo=False, base=True),
    )
}

XL_MIN_HIDDEN_SIZE = 2560  # the 4B XL DiT; the 2B DiT has hidden size 2048


class VariantError(ValueError):
    """The variant cannot be told from the checkpoint, or contradicts it."""


def models_serving(task: str) -> list[Variant]:
    return [v for v in VARIANTS.values() if task in v.tasks]


def describe_models(variants: list[Variant]) -> str:
    return ", ".join(f"{v.name} ({v.hub_id})" for v in variants)


def resolve_variant(*, requested: str | None, model_id: str, transformer_config: dict[str, Any]) -> Variant:
    """Pick the variant from `requested`, else from the DiT config and the model's name.

    The DiT config says turbo or not (`is_turbo` / `model_version`) and XL or not (width);
    base and sft share an architecture, so between them only the name or `variant=` can tell.
    """
    config_turbo = bool(transformer_config.get("is_turbo")) or transformer_config.get("model_version") == "turbo"
    config_xl = int(transformer_config.get("hidden_size", 0)) >= XL_MIN_HIDDEN_SIZE
    if requested is not None:
        variant = VARIANTS.get(requested)
        if variant is None:
            raise VariantError(f"unknown ACE-Step 1.5 variant {requested!r}; choose one of: {', '.join(VARIANTS)}")
        if variant.turbo != config_turbo:
            kind = "a turbo (guidance-distilled)" if config_turbo else "a non-turbo (base or sft)"
            raise VariantError(
                f"variant={requested!r} contradicts the checkpoint {model_id!r}: its transformer config describes "
                f"{kind} model; pass the matching variant or leave variant unset"
            )
        return variant
    prefix = "xl-" if config_xl else ""
    if config_turbo:
        return VARIANTS[prefix + "turbo"]
    name = model_id.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1].lower()
    named = [kind for kind in ("base", "sft") if kind in name.replace("_", "-").split("-")]
    if len(named) == 1:
        return VARIANTS[prefix + named[0]]
    raise VariantError(
        f"cannot tell whether {model_id!r} is a base or an sft model (they share an architecture); "
        f"pass variant='{prefix}base' or variant='{prefix}sft'"
    )
