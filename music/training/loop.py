"""The LoRA step loop shared by the engines: AdamW, warm-up then linear decay, gradient clipping,
checkpoints every K steps, and resume that gives the same weights as an uninterrupted run.

Reproducibility without saving RNG states: every random draw of step i (which example, the
timestep, the noise, condition dropout) comes from the global RNG re-seeded with
`step_seed(seed, i)` inside a fork (the caller's RNG is untouched). A run resumed at step k
therefore draws exactly what the uninterrupted run drew at step k; together with the adapter
weights, the optimizer's and the scheduler's state from the checkpoint, the weights match.

Hyper-parameters follow upstream ACE-Step v1's trainer: AdamW betas (0.8, 0.9), weight decay
1e-2, 10 warm-up steps then linear decay to 0 at the last step, gradient norm clipped at 0.5.
"""

from __future__ import annotations

import hashlib
import math
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Sequence, TypeVar

import torch
from safetensors.torch import load_file, save_file

from music.engine import Cancelled, RequestError

T = TypeVar("T")

MAX_STEPS = 100_000
MAX_RANK = 256
LATEST = "latest"  # file naming the newest complete checkpoint folder


@dataclass(kw_only=True)
class TrainSettings:
    steps: int
    rank: int = 16
    alpha: float | None = None  # None: alpha = rank (scale 1, diffusers' convention)
    learning_rate: float = 1e-4
    weight_decay: float = 1e-2
    betas: tuple[float, float] = (0.8, 0.9)
    warmup_steps: int = 10
    grad_clip: float = 0.5
    seed: int = 0
    checkpoint_every: int = 50
    window_seconds: float = 30.0
    text_dropout: float = 0.15  # upstream: prompt states zeroed for 15 % of examples
    lyric_dropout: float = 0.15  # upstream: lyric ids and mask zeroed for 15 %
    gradient_checkpointing: bool = True

    def __post_init__(self) -> None:
        check_settings(self)

    @property
    def lora_alpha(self) -> float:
        return float(self.rank if self.alpha is None else self.alpha)

    def to_dict(self) -> dict:
        return asdict(self)


def check_settings(s: TrainSettings) -> None:
    """Limits checked before a run is queued: each message says what to change."""
    if not (isinstance(s.steps, int) and 1 <= s.steps <= MAX_STEPS):
        raise RequestError(f"steps must be a whole number from 1 to {MAX_STEPS}, got {s.steps!r}")
    if not (isinstance(s.rank, int) and 1 <= s.rank <= MAX_RANK):
        raise RequestError(f"rank must be a whole number from 1 to {MAX_RANK}, got {s.rank!r}")
    if not (isinstance(s.learning_rate, (int, float)) and math.isfinite(s.learning_rate) and 0 < s.learning_rate <= 1e-2):
        raise RequestError(f"learning rate must be above 0 and at most 0.01, got {s.learning_rate!r}")
    if s.alpha is not None and not (math.isfinite(s.alpha) and s.alpha > 0):
        raise RequestError(f"alpha must be a positive number, got {s.alpha!r}")
    if not (isinstance(s.checkpoint_every, int) and s.checkpoint_every >= 1):
        raise RequestError(f"checkpoint interval must be at least 1 step, got {s.checkpoint_every!r}")
    if not (1.0 <= s.window_seconds <= 600.0):
        raise RequestError(f"window length must be from 1 to 600 seconds, got {s.window_seconds!r}")
    for name in ("text_dropout", "lyric_dropout"):
        if not 0.0 <= getattr(s, name) <= 1.0:
            raise RequestError(f"{name.replace('_', ' ')} must be from 0 to 1")


def step_seed(seed: int, step: int) -> int:
    """A 63-bit seed for step `step` of a run seeded with `seed` (independent streams per step)."""
    return int.from_bytes(hashlib.sha256(f"{seed}:{step}".encode()).digest()[:8], "big") >> 1


def epoch_example(examples: Sequence[T], step: int, seed: int) -> T:
    """The example for training step `step` (from 1): each epoch visits every example once, in an
    order fixed by (seed, epoch), so a resumed run sees what an uninterrupted one would."""
    epoch, position = divmod(step - 1, len(examples))
    order = torch.randperm(len(examples), generator=torch.Generator().manual_seed(step_seed(seed, -1 - epoch)))
    return examples[int(order[position])]


def fixed_draw_loss(loss: Callable[..., torch.Tensor], examples: int, draws: int, seed: int) -> float:
    """Mean of `loss(step, dropout=False)` over `draws` fixed seeded draws, the global RNG restored:
    a number that moves only with the weights (the training loss jumps with the draws)."""
    total = 0.0
    with torch.random.fork_rng(devices=[]):
        for i in range(draws):
            torch.manual_seed(step_seed(seed, i))
            total += float(loss(1 + i % max(1, examples), dropout=False))
    return total / draws


def lr_factor(step: int, *, warmup: int, total: int) -> float:
    """Upstream's schedule: linear warm-up over `warmup` steps, then linear decay to 0 at `total`."""
    if step < warmup:
        return step / max(1, warmup)
    return max(0.0, 1.0 - (step - warmup) / max(1, total - warmup))


@dataclass
class TrainProgress:
    step: int
    total: int
    loss: float
    seconds: float  # wall time of this run so far (resumed runs count from the resume)

    @property
    def eta_seconds(self) -> float | None:
        return None if self.step == 0 else self.seconds


@dataclass
class RunResult:
    steps: int
    losses: list[float] = field(default_factory=list)
    resumed_from: int = 0


ProgressFn = Callable[[int, int, float, float], None]  # (step, total, loss, eta seconds); may raise Cancelled


class LoraRun:
    """Runs `loss_fn(step)` for steps 1..N on the trainable parameters of `model`.

    `adapter_state()` / `load_adapter_state(state)` move the LoRA weights in and out of a
    checkpoint (the engine's peft adapter). Checkpoints go to `checkpoint_dir/step-NNNNNN/`;
    `latest` names the newest complete one, older ones are removed after it is written."""

    def __init__(self, *, params: list[torch.nn.Parameter], settings: TrainSettings, loss_fn: Callable[[int], torch.Tensor],
                 adapter_state: Callable[[], dict[str, torch.Tensor]],
                 load_adapter_state: Callable[[dict[str, torch.Tensor]], None],
                 checkpoint_dir: str | Path, device: torch.device):
        if not params:
            raise RuntimeError("no trainable LoRA parameters: the adapter was not injected")
        self.params = params
        self.settings = settings
        self.loss_fn = loss_fn
        self.adapter_state = adapter_state
        self.load_adapter_state = load_adapter_state
        self.checkpoint_dir = Path(checkpoint_dir)
        self.device = torch.device(device)
        self.optimizer = torch.optim.AdamW(
            params, lr=settings.learning_rate, weight_decay=settings.weight_decay, betas=tuple(settings.betas)
        )
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda i: lr_factor(i, warmup=settings.warmup_steps, total=settings.steps)
        )
        self.step = 0
        self.losses: list[float] = []

    # ---- checkpoints ------------------------------------------------------------------------
    def latest_checkpoint(self) -> Path | None:
        pointer = self.checkpoint_dir / LATEST
        if not pointer.is_file():
            return None
        folder = self.checkpoint_dir / pointer.read_text(encoding="utf-8").strip()
        return folder if (folder / "state.pt").is_file() else None

    def save_checkpoint(self) -> Path:
        self.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        name = f"step-{self.step:06d}"
        final = self.checkpoint_dir / name
        staging = self.checkpoint_dir / f".{name}.part"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        save_file({k: v.detach().cpu().contiguous() for k, v in self.adapter_state().items()}, str(staging / "adapter.safetensors"))
        torch.save({"step": self.step, "losses": self.losses, "optimizer": self.optimizer.state_dict(),
                    "scheduler": self.scheduler.state_dict(), "settings": self.settings.to_dict()}, staging / "state.pt")
        shutil.rmtree(final, ignore_errors=True)
        os.replace(staging, final)
        pointer_tmp = self.checkpoint_dir / f".{LATEST}.part"
        pointer_tmp.write_text(name, encoding="utf-8")
        os.replace(pointer_tmp, self.checkpoint_dir / LATEST)
        for old in self.checkpoint_dir.glob("step-*"):
            if old.name != name:
                shutil.rmtree(old, ignore_errors=True)
        return final

    def resume(self) -> int:
        """Load the newest checkpoint if there is one; returns the step it ends at (0 if none)."""
        folder = self.latest_checkpoint()
        if folder is None:
            return 0
        state = torch.load(folder / "state.pt", map_location="cpu", weights_only=False)
        saved = state["settings"]
        mine = self.settings.to_dict()
        changed = [k for k in ("rank", "alpha", "learning_rate", "seed", "steps", "window_seconds") if saved.get(k) != mine.get(k)]
        if changed:
            raise RequestError(
                f"the checkpoint in {self.checkpoint_dir.name} was made with other settings ({', '.join(changed)}); "
                "resume with the same settings or start a new run"
            )
        self.load_adapter_state({k: v.to(self.device) for k, v in load_file(str(folder / "adapter.safetensors")).items()})
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.step, self.losses = int(state["step"]), list(state["losses"])
        return self.step

    # ---- the loop ---------------------------------------------------------------------------
    def run(self, progress: ProgressFn | None = None, *, stop_after: int | None = None) -> RunResult:
        """Train up to `settings.steps` (or to `stop_after`, for tests of an interrupted run)."""
        s = self.settings
        resumed_from = self.step
        started = time.perf_counter()
        last = s.steps if stop_after is None else min(stop_after, s.steps)
        fork = {"devices": []} if self.device.type != "cuda" else {"devices": [self.device.index or 0]}
        while self.step < last:
            index = self.step + 1
            with torch.random.fork_rng(**fork):
                torch.manual_seed(step_seed(s.seed, index))
                loss = self.loss_fn(index)
                if not torch.isfinite(loss):
                    raise FloatingPointError(f"the loss became {loss.item()} at step {index}; lower the learning rate")
                loss.backward()
            torch.nn.utils.clip_grad_norm_(self.params, s.grad_clip)
            self.optimizer.step()
            self.scheduler.step()
            self.optimizer.zero_grad(set_to_none=True)
            self.step = index
            self.losses.append(float(loss.detach()))
            if index % s.checkpoint_every == 0 or index == s.steps:
                self.save_checkpoint()
            if progress is not None:
                done = index - resumed_from
                elapsed = time.perf_counter() - started
                eta = elapsed / done * (s.steps - index)
                try:
                    progress(index, s.steps, self.losses[-1], eta)
                except Cancelled:
                    if index % s.checkpoint_every and index != s.steps:
                        self.save_checkpoint()  # a cancelled run resumes from here
                    raise
        return RunResult(steps=self.step, losses=list(self.losses), resumed_from=resumed_from)

