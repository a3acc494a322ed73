"""The Create form as plain data: widget values -> `MusicRequest`, and back ("use these settings").

Kept free of Streamlit so the rules (seeds, instrumental, per-engine options) are unit-tested.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from music.acestep_v1.fast.options import DEFAULT_STEP_CACHE_THRESHOLD, INT8, STEP_CACHE, parse_fast_modes
from music.engine import MusicRequest, RequestError

MAX_TAKES = 4
INSTRUMENTAL_LYRICS = "[inst]"
SEED_LIMIT = 2**32  # torch.Generator seeds; also what ACE-Step draws from


@dataclass(kw_only=True)
class AdvancedV1:
    """ACE-Step v1 sampler settings, named as upstream names them."""

    scheduler_type: str = "euler"
    cfg_type: str = "apg"
    omega_scale: float = 10.0
    guidance_interval: float = 0.5
    guidance_interval_decay: float = 0.0
    min_guidance_scale: float = 3.0
    use_erg_tag: bool = True
    use_erg_lyric: bool = False
    use_erg_diffusion: bool = True
    # opt-in fast modes (docs/acestep-v1.md, "Fast modes"): sent only when on
    fast_int8: bool = False
    fast_step_cache: bool = False
    step_cache_threshold: float = DEFAULT_STEP_CACHE_THRESHOLD

    def options(self) -> dict[str, Any]:
        """The engine options: the sampler's by upstream's names, plus the fast modes that are on."""
        options = {k: v for k, v in vars(self).items() if k not in FAST_FIELDS}
        modes = [mode for mode, on in ((INT8, self.fast_int8), (STEP_CACHE, self.fast_step_cache)) if on]
        if modes:
            options["fast_modes"] = modes
        if self.fast_step_cache:
            options["step_cache_threshold"] = float(self.step_cache_threshold)
        return options

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> "AdvancedV1":
        """A stored request's options back into the form (fast modes included)."""
        sampler = {k: options[k] for k in vars(cls()) if k in options and k not in FAST_FIELDS}
        modes = parse_fast_modes(options.get("fast_modes"))  # a stored request passed this check
        threshold = options.get("step_cache_threshold")
        return cls(**sampler, fast_int8=INT8 in modes, fast_step_cache=STEP_CACHE in modes,
                   step_cache_threshold=DEFAULT_STEP_CACHE_THRESHOLD if threshold is None else float(threshold))


FAST_FIELDS = ("fast_int8", "fast_step_cache", "step_cache_threshold")


@dataclass(kw_only=True)
class Advanced15:
    """ACE-Step 1.5 metadata, named as the diffusers pipeline names it (None: let the model decide)."""

    bpm: int | None = None
    keyscale: str | None = None
    timesignature: str | None = None


@dataclass(kw_only=True)
class CreateForm:
    prompt: str = ""
    lyrics: str = ""
    duration: float = 30.0
    instrumental: bool = False
    engine: str = "ace-step-v1"
    takes: int = 2
    lock_seeds: bool = False
    seeds_text: str = ""
    steps: int | None = None
    guidance_scale: float | None = None
    v1: AdvancedV1 = field(default_factory=AdvancedV1)
    v15: Advanced15 = field(default_factory=Advanced15)


def engine_family(engine: str) -> str:
    """'v1', '1.5' or 'other': which advanced options an engine takes."""
    if engine.startswith("ace-step-1.5"):
        return "1.5"
    if engine.startswith("ace-step-v1"):
        return "v1"
    return "other"


def parse_seed_text(text: str, takes: int) -> list[int]:
    """'12, 34' -> [12, 34]; one seed is used for every take (as upstream does). Errors say what to fix."""
    pieces = [p for p in text.replace(";", ",").replace(" ", ",").split(",") if p]
    if not pieces:
        raise RequestError("locked seeds need at least one seed, e.g. 42 or 42, 43")
    seeds = []
    for piece in pieces:
        if not piece.isdigit():
            raise RequestError(f"seed {piece!r} is not a whole number between 0 and {SEED_LIMIT - 1}")
        value = int(piece)
        if value >= SEED_LIMIT:
            raise RequestError(f"seed {value} is too large; use 0 to {SEED_LIMIT - 1}")
        seeds.append(value)
    if len(seeds) == 1:
        return seeds * takes
    if len(seeds) != takes:
        raise RequestError(f"{len(seeds)} seeds for {takes} takes: give one seed, or one per take")
    return seeds


def random_seeds(takes: int) -> list[int]:
    return [secrets.randbelow(SEED_LIMIT) for _ in range(takes)]


def build_request(form: CreateForm) -> MusicRequest:
    """The text2music request for a filled form. Seeds are always explicit so every take can be redone."""
    if not 1 <= form.takes <= MAX_TAKES:
        raise RequestError(f"takes must be between 1 and {MAX_TAKES}, got {form.takes}")
    lyrics = INSTRUMENTAL_LYRICS if form.instrumental else form.lyrics.strip()
    if not form.prompt.strip() and not lyrics:
        raise RequestError("write a prompt (style tags) or lyrics, or both")
    if form.lock_seeds:
        seeds = parse_seed_text(form.seeds_text, form.takes)
    else:
        if form.seeds_text.strip():  # checked even when unused: a typo here is still a typo
            try:
                parse_seed_text(form.seeds_text, form.takes)
            except RequestError as exc:
                raise RequestError(f"{exc} (Lock seeds is off, so they would not be used: fix or clear them)") from None
        seeds = random_seeds(form.takes)
    options: dict[str, Any] = {}
    family = engine_family(form.engine)
    if family == "v1":
        options = form.v1.options()
    elif family == "1.5":
        options = {k: v for k, v in vars(form.v15).items() if v not in (None, "")}
    return MusicRequest(
        task="text2music",
        prompt=form.prompt.strip(),
        lyrics=lyrics,
        duration=float(form.duration),
        seeds=seeds,
        batch_size=form.takes,
        steps=form.steps,
        guidance_scale=form.guidance_scale,
        options=options,
    )


def form_from_request(params: dict[str, Any], *, engine: str, seed: int | None = None) -> CreateForm:
    """"Use these settings": a stored take's request back into a form. With `seed`, one take
    locked to that seed (the take itself can be remade); without, the request's own seeds."""
    options = params.get("options") or {}
    lyrics = params.get("lyrics") or ""
    seeds = [seed] if seed is not None else list(params.get("seeds") or [])
    takes = 1 if seed is not None else max(1, min(MAX_TAKES, int(params.get("batch_size") or 1)))
    v1 = AdvancedV1.from_options(options)
    v15 = Advanced15(**{k: options[k] for k in vars(Advanced15()) if k in options})
    return CreateForm(
        prompt=params.get("prompt") or "",
        lyrics="" if lyrics.strip() == INSTRUMENTAL_LYRICS else lyrics,
        instrumental=lyrics.strip() == INSTRUMENTAL_LYRICS,
        duration=float(params.get("duration") or 30.0),
        engine=engine,
        takes=takes,
        lock_seeds=bool(seeds),
        seeds_text=", ".join(str(s) for s in seeds),
        steps=params.get("steps"),
        guidance_scale=params.get("guidance_scale"),
        v1=v1,
        v15=v15,
    )
