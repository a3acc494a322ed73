"""LoRA training of the ACE-Step v1 DiT, with the objective of upstream's trainer (behaviour
read from `trainer.py` of ace-step/ACE-Step; no code taken from it).

* LoRA (peft) on the DiT's self- and cross-attention projections (`to_q/to_k/to_v/to_out.0`, the
  layers upstream's LoRA config targets in the DiT), on its feed-forward's two 1x1 convolutions
  (`ff.inverted_conv.conv`, `ff.point_conv.conv`: peft Conv1d LoRA, which `GLUMBConv` applies
  token-major; the depthwise convolution stays frozen), and on the lyric Conformer's attention and
  feed-forward projections (`linear_q/k/v/out`, `w_1/w_2`).
* Flow matching: sigma from upstream's shifted training table (1000 steps, shift 3) at an index
  drawn logit-normal (mean 0, std 1); x_t = sigma * noise + (1 - sigma) * x0; the DiT's velocity
  v gives x0_pred = x_t - sigma * v; loss = MSE(x0_pred, x0).
* Condition dropout as upstream: prompt states zeroed for 15 % of examples, lyrics (ids and
  mask) for 15 %. The speaker embedding is always zero (the studio never uses one, and upstream
  zeroes it half the time in training and always at inference).
* Batch 1 (as upstream), gradient checkpointing per DiT block, AdamW etc. in `music.training.loop`.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import torch
import torch.nn.functional as F
from diffusers.utils.peft_utils import recurse_remove_peft_layers
from peft import LoraConfig, inject_adapter_in_model, set_peft_model_state_dict
from peft.utils import get_peft_model_state_dict
from safetensors.torch import save_file
from torch.utils.checkpoint import checkpoint

from music.acestep_v1.training.features import SAMPLE_RATE, window_features
from music.acestep_v1.training.plan import TARGET_MODULES
from music.training.adapter_file import (
    LORA_FILE,
    METADATA_KEY,
    lora_config_metadata,
    weights_digest,
    write_adapter,
)
from music.training.clips import ClipSource, check_clips, dataset_digest, dataset_windows
from music.training.feature_cache import FeatureCache
from music.training.loop import LoraRun, RunResult, TrainSettings, epoch_example, fixed_draw_loss, step_seed

log = logging.getLogger(__name__)

ENGINE = "ace-step-v1"
MAX_SECONDS = 240.0  # the model's maximum length (upstream's training cap)
ADAPTER = "ace_step_lora"
TRAIN_STEPS, SHIFT = 1000, 3.0


def training_sigmas() -> torch.Tensor:
    """Upstream's training table: linspace(1, 1/1000) shifted by 3s / (1 + 2s), index 0 = sigma 1."""
    base = torch.linspace(1.0, TRAIN_STEPS, TRAIN_STEPS, dtype=torch.float64).flip(0) / TRAIN_STEPS
    return (SHIFT * base / (1 + (SHIFT - 1) * base)).float()


def sample_sigma() -> torch.Tensor:
    """One sigma: logit-normal index into the training table (upstream's `get_timestep`)."""
    u = torch.sigmoid(torch.randn(1))
    index = (u * TRAIN_STEPS).long().clamp(0, TRAIN_STEPS - 1)
    return training_sigmas()[index]


@contextlib.contextmanager
def checkpointed_blocks(dit) -> Iterator[None]:
    """Recompute each DiT block's activations in the backward pass instead of keeping them."""
    blocks = list(dit.transformer_blocks)
    for block in blocks:
        def forward(h, _forward=block.forward, **kwargs):
            return checkpoint(_forward, h, use_reentrant=False, **kwargs)

        block.forward = forward  # instance attribute; deleting it restores the class's forward
    try:
        yield
    finally:
        for block in blocks:
            del block.forward


def inject_lora(dit, settings: TrainSettings):
    """Fresh LoRA layers (B = 0: the model starts exactly as the base) on the target projections;
    everything else frozen. Returns the peft config."""
    config = LoraConfig(r=settings.rank, lora_alpha=settings.lora_alpha, target_modules=TARGET_MODULES,
                        lora_dropout=0.0, init_lora_weights=True)
    dit._requires_grad_before_lora = {name: p.requires_grad for name, p in dit.named_parameters()}
    dit.requires_grad_(False)
    with torch.random.fork_rng(devices=[]):  # lora_A's random init follows the run's seed
        torch.manual_seed(step_seed(settings.seed, 0))
        inject_adapter_in_model(config, dit, adapter_name=ADAPTER)
    for name, param in dit.named_parameters():
        param.requires_grad_("lora_" in name)
    return config


def remove_lora(dit) -> None:
    recurse_remove_peft_layers(dit)
    if hasattr(dit, "peft_config"):
        del dit.peft_config
    before = getattr(dit, "_requires_grad_before_lora", {})
    for name, param in dit.named_parameters():  # the flags change which CPU kernels run
        param.requires_grad_(before.get(name, False))


def adapter_state(dit) -> dict[str, torch.Tensor]:
    """LoRA weights keyed as the v1 loader (and diffusers' `save_lora_adapter`) expect."""
    return {k: v.detach().float().cpu().contiguous() for k, v in get_peft_model_state_dict(dit, adapter_name=ADAPTER).items()}


def load_adapter_state(dit, state: dict[str, torch.Tensor]) -> None:
    result = set_peft_model_state_dict(dit, state, adapter_name=ADAPTER)
    missing = [k for k in getattr(result, "unexpected_keys", []) if "lora_" in k]
    if missing:
        raise RuntimeError(f"checkpoint keys the model did not take: {missing[:5]}")


@dataclass
class TrainOutcome:
    adapter_dir: Path
    run: RunResult
    info: dict = field(default_factory=dict)


class V1LoraTrainer:
    """Train one LoRA on `pipeline` (an `ACEStepV1Pipeline` this trainer may modify: LoRA layers
    are added to its DiT for the run and removed by `close`)."""

    def __init__(self, pipeline, settings: TrainSettings, *, work_dir: str | Path, cache_dir: str | Path | None = None):
        self.pipeline = pipeline
        self.settings = settings
        self.work_dir = Path(work_dir)
        self.cache = FeatureCache(Path(cache_dir) if cache_dir else self.work_dir / "features")
        self.examples: list[dict[str, torch.Tensor]] = []
        self.clips = []
        self.config = None
        self.run: LoraRun | None = None  # the current run (its `losses` grow as it trains)
        self._model_digest: str | None = None

    @property
    def dit(self):
        return self.pipeline.transformer

    def model_digest(self) -> str:
        if self._model_digest is None:
            info = self.pipeline.info
            self._model_digest = weights_digest(info.folder) if info is not None else "unknown"
        return self._model_digest

    # ---- data -------------------------------------------------------------------------------
    def prepare(self, sources: list[ClipSource], *, on_window: Callable[[int, int], None] | None = None) -> int:
        """Check every clip (a bad one raises, naming it), then compute or read each window's features."""
        self.clips = check_clips(sources, sample_rate=SAMPLE_RATE, max_seconds=MAX_SECONDS)
        windows = dataset_windows(self.clips, window_seconds=self.settings.window_seconds)
        self.examples = []
        for i, window in enumerate(windows):
            self.examples.append(window_features(self.pipeline, window, cache=self.cache, model_digest=self.model_digest()))
            if on_window is not None:
                on_window(i + 1, len(windows))
        return len(self.examples)

    def example_for(self, step: int) -> dict[str, torch.Tensor]:
        return epoch_example(self.examples, step, self.settings.seed)

    # ---- one step ---------------------------------------------------------------------------
    def loss(self, step: int, *, dropout: bool = True) -> torch.Tensor:
        s, dit, device, dtype = self.settings, self.dit, self.pipeline.device, self.pipeline.dtype
        example = self.example_for(step)
        x0 = example["latents"][None].to(device, dtype)
        sigma = sample_sigma().to(device)
        noise = torch.randn(x0.shape, dtype=torch.float32).to(device, dtype)  # CPU draw: same on any device
        text = example["text_states"][None].to(device, dtype)
        drop_text, drop_lyrics = torch.rand(()) < s.text_dropout, torch.rand(()) < s.lyric_dropout
        if dropout and drop_text:
            text = torch.zeros_like(text)
        ids = example["lyric_ids"]
        if ids.numel() == 0 or (dropout and drop_lyrics):
            ids, lyric_mask = torch.zeros(1, 1, dtype=torch.long), torch.zeros(1, 1, dtype=torch.long)
        else:
            ids, lyric_mask = ids[None], torch.ones(1, ids.numel(), dtype=torch.long)
        x_t = (sigma * noise.float() + (1 - sigma) * x0.float()).to(dtype)
        conditions = dit.encode(
            text_states=text, text_mask=example["text_mask"][None].to(device),
            speaker_embeds=torch.zeros(1, dit.config.speaker_embedding_dim, device=device, dtype=dtype),
            lyric_ids=ids.to(device), lyric_mask=lyric_mask.to(device),
        )
        velocity = dit.decode(latents=x_t, timestep=(sigma * TRAIN_STEPS).to(dtype), conditions=conditions)
        x0_pred = x_t.float() - sigma * velocity.float()
        return F.mse_loss(x0_pred, x0.float())

    @torch.no_grad()
    def eval_loss(self, draws: int = 16, *, seed: int = 12345) -> float:
        """Mean loss over `draws` fixed (window, sigma, noise) draws, no condition dropout: a
        number that moves only with the weights (the training loss jumps with the draws)."""
        return fixed_draw_loss(self.loss, len(self.examples), draws, seed)

    # ---- the run ----------------------------------------------------------------------------
    def make_run(self) -> LoraRun:
        if not self.examples:
            raise RuntimeError("call prepare() with the clips first")
        if self.config is None:
            self.config = inject_lora(self.dit, self.settings)
        self.dit.train()
        params = [p for p in self.dit.parameters() if p.requires_grad]
        self.run = LoraRun(params=params, settings=self.settings, loss_fn=self.loss,
                           adapter_state=lambda: adapter_state(self.dit),
                           load_adapter_state=lambda state: load_adapter_state(self.dit, state),
                           checkpoint_dir=self.work_dir / "checkpoints", device=self.pipeline.device)
        return self.run

    def train(self, progress=None, *, stop_after: int | None = None) -> RunResult:
        """Train (resuming from the work folder's last checkpoint if there is one)."""
        run = self.make_run()
        run.resume()
        context = checkpointed_blocks(self.dit) if self.settings.gradient_checkpointing else contextlib.nullcontext()
        with context, self.pipeline.offload.use(self.dit):
            return run.run(progress, stop_after=stop_after)

    def save(self, folder: str | Path, *, name: str, result: RunResult) -> Path:
        state = adapter_state(self.dit)
        metadata = {METADATA_KEY: lora_config_metadata(self.config), "format": "pt"}
        info = {
            "name": name, "engine": ENGINE, "base_model": self.pipeline.info.model_id if self.pipeline.info else "unknown",
            "base_digest": self.model_digest(), "dataset_digest": dataset_digest(self.clips),
            "clips": [c.source.name for c in self.clips], "windows": len(self.examples),
            "steps": result.steps, "losses": result.losses, **{k: v for k, v in self.settings.to_dict().items() if k != "steps"},
            "lora_alpha": self.settings.lora_alpha, "target_modules": TARGET_MODULES,
        }
        return write_adapter(folder, write_weights=lambda d: save_file(state, str(d / LORA_FILE), metadata=metadata), info=info)

    def close(self) -> None:
        """Take the LoRA layers off the DiT again: the pipeline is the base model once more."""
        if self.config is not None:
            remove_lora(self.dit)
            self.config = None
        self.dit.eval()


def train_v1_lora(pipeline, sources: list[ClipSource], settings: TrainSettings, *, name: str, output_dir: str | Path,
                  work_dir: str | Path, cache_dir: str | Path | None = None, progress=None) -> TrainOutcome:
    """Check the clips, encode (or read) their features, train with resume, write the adapter."""
    trainer = V1LoraTrainer(pipeline, settings, work_dir=work_dir, cache_dir=cache_dir)
    try:
        trainer.prepare(sources)
        result = trainer.train(progress)
        folder = trainer.save(output_dir, name=name, result=result)
        return TrainOutcome(adapter_dir=folder, run=result, info={"cache_hits": trainer.cache.hits, "cache_misses": trainer.cache.misses})
    finally:
        trainer.close()
