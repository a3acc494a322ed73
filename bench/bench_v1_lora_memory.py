"""Peak memory of one full-size ACE-Step v1 LoRA training step, as CPU RSS (the proxy
bench_v1_memory.py uses): 24-layer DiT with random weights in bf16, LoRA rank 64 on the trainer's
targets (DiT attention and feed-forward 1x1 convolutions, lyric Conformer attention + feed-forward;
adapter weights fp32), a 30 s clip (322 latent frames), 64 prompt tokens, 300 lyric tokens,
batch 1, AdamW. (The figures in docs/training.md were measured before the feed-forward targets
were added; `music.training.memory` is calibrated on them.)

The step is exactly the trainer's: `V1LoraTrainer.loss` on precomputed features (the DCAE and
UMT5 run once per clip before training and are not resident during it), backward, gradient
clipping, AdamW step. Each configuration runs in a fresh process; printed: DiT weights, LoRA
parameters, the process's peak RSS and the step's peak above the loaded model. The baseline is
the same step without gradient checkpointing, measured in the same run (ratio column).

    python bench/bench_v1_lora_memory.py                  # full size: about 6 GiB RSS, minutes on 2 cores
    python bench/bench_v1_lora_memory.py --smoke          # 1 DiT layer: checks the wiring

CPU RSS is a proxy for device memory: CUDA allocator caching and kernels differ; read the numbers
as estimates. CUDA-only savings (8-bit or paged AdamW from bitsandbytes) are not run here.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from time import perf_counter

REPO = Path(__file__).resolve().parents[1]
for path in (str(REPO), str(REPO / "bench")):
    if path not in sys.path:
        sys.path.insert(0, path)

from bench_v1_memory import GIB, _kib, _randomise, _reset_peak  # noqa: E402

TARGET_GIB = 12.0


class _Pipeline:
    """What `V1LoraTrainer` reads of a pipeline: the DiT, device, dtype, offload (off)."""

    def __init__(self, dit, dtype):
        import torch

        from music.acestep_v1.loading.offload import ModelOffload

        self.transformer, self.dtype, self.device = dit, dtype, torch.device("cpu")
        self.offload = ModelOffload(device="cpu", enabled=False)
        self.info = None


def measure(*, layers: int, seconds: float, rank: int, checkpointing: bool, threads: int) -> dict:
    import torch

    from music.acestep_v1.common import frames_for_duration
    from music.acestep_v1.loading.weights import build_on_meta
    from music.acestep_v1.models.transformer import ACEStepDiT, DiTConfig
    from music.acestep_v1.training.trainer import V1LoraTrainer, checkpointed_blocks
    from music.training.loop import TrainSettings

    torch.set_num_threads(threads)
    dtype = torch.bfloat16
    clock = perf_counter()
    g = torch.Generator().manual_seed(0)
    dit = _randomise(build_on_meta(lambda: ACEStepDiT(DiTConfig(num_layers=layers))).to(dtype), g)
    weights = sum(p.numel() * p.element_size() for p in dit.parameters())
    settings = TrainSettings(steps=1, rank=rank, checkpoint_every=1, warmup_steps=0, gradient_checkpointing=checkpointing)
    trainer = V1LoraTrainer(_Pipeline(dit, dtype), settings, work_dir="/nonexistent")
    frames = frames_for_duration(seconds)
    trainer.examples = [{
        "latents": torch.randn(8, 16, frames, generator=g), "text_states": torch.randn(64, 768, generator=g),
        "text_mask": torch.ones(64, dtype=torch.long), "lyric_ids": torch.randint(1, 6693, (300,), generator=g),
    }]
    run = trainer.make_run()
    lora = sum(p.numel() for p in run.params)
    build_s = perf_counter() - clock
    _reset_peak()
    loaded = _kib("VmRSS") * 1024
    clock = perf_counter()
    with checkpointed_blocks(dit) if checkpointing else torch.enable_grad():
        torch.manual_seed(1)
        loss = trainer.loss(1, dropout=False)
        loss.backward()
    torch.nn.utils.clip_grad_norm_(run.params, 0.5)
    run.optimizer.step()  # AdamW's two fp32 moments are allocated here
    step_s = perf_counter() - clock
    peak = _kib("VmHWM") * 1024
    assert torch.isfinite(loss)
    return {"layers": layers, "seconds": seconds, "frames": frames, "rank": rank, "checkpointing": checkpointing,
            "dit_weights": weights, "lora_params": lora, "loaded_rss": loaded, "peak_rss": peak,
            "step_peak_above_loaded": peak - loaded, "build_s": build_s, "step_s": step_s, "loss": float(loss.detach())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--layers", type=int, default=24, help="DiT blocks (24 = full size)")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--rank", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-baseline", action="store_true", help="skip the run without gradient checkpointing")
    parser.add_argument("--smoke", action="store_true", help="1 DiT layer, 2 s: a wiring check")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # child process: JSON config
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(**json.loads(args.one))))
        return
    if args.smoke:
        args.layers, args.seconds = 1, 2.0
    rows = []
    for checkpointing in (True,) if args.no_baseline else (True, False):
        config = dict(layers=args.layers, seconds=args.seconds, rank=args.rank, checkpointing=checkpointing, threads=args.threads)
        done = subprocess.run([sys.executable, __file__, "--one", json.dumps(config)], capture_output=True, text=True)
        if done.returncode != 0:
            print(f"{config}: failed\n{done.stderr[-2000:]}", file=sys.stderr)
            continue
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    print(f"DiT layers {args.layers}{' (smoke: not the full size)' if args.layers != 24 else ''}, bf16, rank {args.rank}, "
          f"{args.seconds:g} s clip, batch 1; CPU RSS as a proxy for device memory")
    print(f"{'grad ckpt':9} {'DiT GiB':>8} {'LoRA M':>7} {'loaded GiB':>10} {'peak GiB':>9} {'step +GiB':>9} {'ratio':>6} {'step s':>7}")
    base = next((r for r in rows if not r["checkpointing"]), None)
    for r in rows:
        ratio = f"{r['peak_rss'] / base['peak_rss']:.2f}" if base else "-"
        print(f"{'on' if r['checkpointing'] else 'off':9} {r['dit_weights'] / GIB:>8.2f} {r['lora_params'] / 1e6:>7.1f} "
              f"{r['loaded_rss'] / GIB:>10.2f} {r['peak_rss'] / GIB:>9.2f} {r['step_peak_above_loaded'] / GIB:>9.2f} "
              f"{ratio:>6} {r['step_s']:>7.1f}")
    best = next((r for r in rows if r["checkpointing"]), None)
    if best is not None:
        verdict = "within" if best["peak_rss"] / GIB <= TARGET_GIB else "OVER"
        print(f"target: peak <= {TARGET_GIB:g} GiB with gradient checkpointing: {verdict} ({best['peak_rss'] / GIB:.2f} GiB)")
    print("ratio = peak RSS / peak RSS without gradient checkpointing (same run)")


if __name__ == "__main__":
    main()
