"""LoRA training of the ACE-Step 1.5 transformer through diffusers + peft, as its own trainer does
(behaviour read from ACE-Step 1.5's training code and its published descriptions; no code taken).

* LoRA on every layer's self- and cross-attention (`to_q/to_k/to_v/to_out.0`) and MLP
  (`gate_proj/up_proj/down_proj`) projections, added with diffusers' `add_adapter`.
* Features per window, computed once and cached: the VAE latents (the posterior mean, so they are
  deterministic), the condition encoder's output for the clip's tags and lyrics (text2music
  instruction, no reference audio: the learned silence latent, as the pipeline does), and the
  text2music context latents (silence source + all-ones chunk mask).
* Flow matching with velocity target: x_t = t * noise + (1 - t) * x0, loss = MSE(v, noise - x0).
  Turbo checkpoints draw t from the 8-step shift-3 schedule they were distilled on, without
  condition dropout (upstream's turbo recipe); base / sft draw t logit-normal and replace the
  conditions with the learned `null_condition_emb` for 15 % of examples (CFG dropout).
* Batch 1, gradient checkpointing through diffusers, the step loop of `music.training.loop`.
The adapter is saved with `AceStepPipeline.save_lora_weights` and the LoRA config as diffusers'
adapter metadata, so the engine's loader reproduces alpha exactly.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
import torch.nn.functional as F
from diffusers import AceStepPipeline
from diffusers.utils.peft_utils import recurse_remove_peft_layers
from peft import LoraConfig, set_peft_model_state_dict
from peft.utils import get_peft_model_state_dict

from music.acestep15.loading import SAMPLE_RATE
from music.acestep15.request_mapping import MAX_DURATION
from music.acestep15.training_plan import TARGET_MODULES
from music.training.adapter_file import weights_digest, write_adapter
from music.training.clips import ClipSource, Window, check_clips, dataset_digest, dataset_windows
from music.training.feature_cache import FeatureCache
from music.training.loop import LoraRun, RunResult, TrainSettings, epoch_example, fixed_draw_loss, step_seed

ENGINE = "ace-step-1.5"
ADAPTER = "songstudio_train"
FEATURE_RECIPE = "acestep15-features/1"
TURBO_STEPS, TURBO_SHIFT = 8, 3.0
CFG_DROPOUT = 0.15


def turbo_timesteps() -> torch.Tensor:
    """The 8 shift-3 timesteps turbo samples with (1.0, 0.9545, ..., 0.3)."""
    t = torch.linspace(1.0, 0.0, TURBO_STEPS + 1, dtype=torch.float64)
    return (TURBO_SHIFT * t / (1 + (TURBO_SHIFT - 1) * t))[:-1].float()


class AceStep15LoraTrainer:
    def __init__(self, pipe, settings: TrainSettings, *, turbo: bool, work_dir: str | Path,
                 model_folder: str | Path | None = None, model_id: str = "unknown", cache_dir: str | Path | None = None):
        self.pipe = pipe
        self.settings = settings
        self.turbo = turbo
        self.work_dir = Path(work_dir)
        self.model_folder = Path(model_folder) if model_folder else None
        self.model_id = model_id
        self.cache = FeatureCache(Path(cache_dir) if cache_dir else self.work_dir / "features")
        self.examples: list[dict[str, torch.Tensor]] = []
        self.clips = []
        self.config = None
        self.run: LoraRun | None = None
        self._digest: str | None = None

    @property
    def transformer(self):
        return self.pipe.transformer

    @property
    def device(self) -> torch.device:
        return self.pipe._execution_device

    def model_digest(self) -> str:
        if self._digest is None:
            self._digest = weights_digest(self.model_folder) if self.model_folder else "unknown"
        return self._digest

    # ---- data -------------------------------------------------------------------------------
    def prepare(self, sources: list[ClipSource]) -> int:
        self.clips = check_clips(sources, sample_rate=SAMPLE_RATE, max_seconds=MAX_DURATION)
        self.examples = []
        for window in dataset_windows(self.clips, window_seconds=self.settings.window_seconds):
            parts = {"recipe": FEATURE_RECIPE, "model": self.model_digest(), **window.key()}
            self.examples.append(self.cache.get(parts, lambda w=window: self._features(w)))
        return len(self.examples)

    @torch.no_grad()
    def _features(self, window: Window) -> dict[str, torch.Tensor]:
        pipe, device = self.pipe, self.device
        dtype = self.transformer.dtype
        hop = int(math.prod(pipe.vae.config.downsampling_ratios))
        audio = torch.from_numpy(window.audio())
        remainder = audio.shape[-1] % hop
        if remainder:
            audio = F.pad(audio, (0, hop - remainder))
        x0 = pipe.vae.encode(audio[None].to(device, pipe.vae.dtype)).latent_dist.mean.transpose(1, 2)[0]
        length = x0.shape[0]
        source = window.clip.source
        text, text_mask, lyric, lyric_mask = pipe.encode_prompt(
            prompt=source.tags, lyrics=source.lyrics, device=device, audio_duration=length / pipe.latents_per_second
        )
        frames = math.ceil(30 * pipe.latents_per_second)
        silence = pipe.condition_encoder.silence_latent[:, :frames, :].to(device, dtype)
        states, _ = pipe.condition_encoder(
            text_hidden_states=text.to(dtype), text_attention_mask=text_mask, lyric_hidden_states=lyric.to(dtype),
            lyric_attention_mask=lyric_mask, refer_audio_acoustic_hidden_states_packed=silence,
            refer_audio_order_mask=torch.zeros(1, dtype=torch.long, device=device),
        )
        src, _ = pipe.prepare_src_latents(device=device, dtype=dtype, batch_size=1, latent_length=length)
        chunk = torch.ones(1, length, x0.shape[-1], device=device, dtype=dtype)
        return {"latents": x0.float(), "conditions": states[0].float(), "context": torch.cat([src, chunk], -1)[0].float()}

    def example_for(self, step: int) -> dict[str, torch.Tensor]:
        return epoch_example(self.examples, step, self.settings.seed)

    # ---- one step ---------------------------------------------------------------------------
    def loss(self, step: int, *, dropout: bool = True) -> torch.Tensor:
        device, dtype = self.device, self.transformer.dtype
        example = self.example_for(step)
        x0 = example["latents"][None]
        if self.turbo:
            table = turbo_timesteps()
            t = table[torch.randint(len(table), (1,))]
        else:
            t = torch.sigmoid(torch.randn(1))
        noise = torch.randn(x0.shape)
        conditions = example["conditions"][None].to(device, dtype)
        drop = torch.rand(()) < CFG_DROPOUT
        if dropout and drop and not self.turbo:
            conditions = self.pipe.condition_encoder.null_condition_emb.to(device, dtype).expand_as(conditions)
        x_t = (t[:, None, None] * noise + (1 - t[:, None, None]) * x0).to(device, dtype)
        timestep = t.to(device, dtype)
        velocity = self.transformer(
            hidden_states=x_t, timestep=timestep, timestep_r=timestep, encoder_hidden_states=conditions,
            context_latents=example["context"][None].to(device, dtype), return_dict=False,
        )[0]
        return F.mse_loss(velocity.float(), (noise - x0).to(device))

    @torch.no_grad()
    def eval_loss(self, draws: int = 16, *, seed: int = 12345) -> float:
        """Mean loss over fixed draws without dropout (see the v1 trainer)."""
        return fixed_draw_loss(self.loss, len(self.examples), draws, seed)

    # ---- the run ----------------------------------------------------------------------------
    def inject(self) -> None:
        if self.config is not None:
            return
        self.config = LoraConfig(r=self.settings.rank, lora_alpha=self.settings.lora_alpha, target_modules=TARGET_MODULES,
                                 lora_dropout=0.0, init_lora_weights=True)
        # flags restored by close(): they change which CPU kernels run, hence the last bits
        self._requires_grad = {name: p.requires_grad for name, p in self.transformer.named_parameters()}
        self.transformer.requires_grad_(False)
        with torch.random.fork_rng(devices=[]):  # lora_A's random init follows the run's seed
            torch.manual_seed(step_seed(self.settings.seed, 0))
            self.transformer.add_adapter(self.config, adapter_name=ADAPTER)
        for name, param in self.transformer.named_parameters():
            param.requires_grad_("lora_" in name)
            if param.requires_grad:
                param.data = param.data.float()  # fp32 adapter weights under a bf16 base

    def adapter_state(self) -> dict[str, torch.Tensor]:
        state = get_peft_model_state_dict(self.transformer, adapter_name=ADAPTER)
        return {k: v.detach().float().cpu().contiguous() for k, v in state.items()}

    def load_adapter_state(self, state: dict[str, torch.Tensor]) -> None:
        set_peft_model_state_dict(self.transformer, state, adapter_name=ADAPTER)

    def make_run(self) -> LoraRun:
        if not self.examples:
            raise RuntimeError("call prepare() with the clips first")
        self.inject()
        self.transformer.train()
        if self.settings.gradient_checkpointing:
            self.transformer.enable_gradient_checkpointing()
        params = [p for p in self.transformer.parameters() if p.requires_grad]
        self.run = LoraRun(params=params, settings=self.settings, loss_fn=self.loss, adapter_state=self.adapter_state,
                           load_adapter_state=self.load_adapter_state, checkpoint_dir=self.work_dir / "checkpoints",
                           device=self.device)
        return self.run

    def train(self, progress=None, *, stop_after: int | None = None) -> RunResult:
        run = self.make_run()
        run.resume()
        return run.run(progress, stop_after=stop_after)

    def save(self, folder: str | Path, *, name: str, result: RunResult) -> Path:
        state = self.adapter_state()
        info = {
            "name": name, "engine": ENGINE, "base_model": self.model_id, "base_digest": self.model_digest(),
            "dataset_digest": dataset_digest(self.clips), "clips": [c.source.name for c in self.clips],
            "windows": len(self.examples), "steps": result.steps, "losses": result.losses, "turbo": self.turbo,
            **{k: v for k, v in self.settings.to_dict().items() if k != "steps"},
            "lora_alpha": self.settings.lora_alpha, "target_modules": TARGET_MODULES,
        }

        def write(staging: Path) -> None:
            AceStepPipeline.save_lora_weights(str(staging), transformer_lora_layers=state,
                                              transformer_lora_adapter_metadata=self.config.to_dict())

        return write_adapter(folder, write_weights=write, info=info)

    def close(self) -> None:
        """Remove the training adapter: the pipeline is the base model again."""
        if self.config is not None:
            if self.settings.gradient_checkpointing:
                self.transformer.disable_gradient_checkpointing()
            recurse_remove_peft_layers(self.transformer)
            for attr in ("peft_config",):
                if hasattr(self.transformer, attr):
                    delattr(self.transformer, attr)
            self.transformer._hf_peft_config_loaded = False
            for name, param in self.transformer.named_parameters():
                param.requires_grad_(self._requires_grad.get(name, False))
            self.config = None
        self.transformer.eval()
