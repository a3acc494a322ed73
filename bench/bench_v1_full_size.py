"""ACE-Step v1 DiT at the full 3.5B config with random weights, on CPU: our guided step.

For each dtype (fp32, bf16) and a song of --seconds (30 s: W = 322 latent frames; context of
1 + 64 text + 300 lyric tokens, as in docs/../reference v1-cpu-baseline), prints:

* resident parameters of our DiT (the unused `cross_attn.add_*`, `to_add_out` and REPA
  `projectors` are never built; target <= 2.6 B; upstream allocates 3.31 B);
* seconds per guided step (APG, ERG-diffusion uncond) three ways, medians of --repeats runs:
  - ours: cond + uncond in one batched forward, cross-attention K/V cached once per call;
  - ours, two separate forwards (K/V still cached);
  - upstream-style: two separate forwards, K/V recomputed every step (what upstream does);
  and the ratios batched / upstream-style (target <= 0.7) and batched / separate;
* peak resident memory of the process (VmHWM) and RSS after building the model.

    python bench/bench_v1_full_size.py [--dtypes fp32,bf16] [--seconds 30] [--repeats 3]
                                       [--threads 2] [--layers 24]

`--layers` below 24 gives a quick smoke run (parameter count and times then scale down; the
target applies to 24). Weights are N(0, 0.02) (norms 1/0): speed and memory only, no audio.
Full size needs about 10.5 GiB (fp32) or 5.3 GiB (bf16) of RAM. Wall times on a shared
machine are noisy; the process CPU time per step is printed next to them.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path
from time import perf_counter, process_time

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

GIB = 2**30


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def build_random_dit(*, layers: int, dtype):
    import torch
    from torch import nn

    from music.acestep_v1.loading.weights import build_on_meta
    from music.acestep_v1.models.transformer import ACEStepDiT, DiTConfig

    config = DiTConfig(num_layers=layers)
    model = build_on_meta(lambda: ACEStepDiT(config)).to(dtype)
    model = model.to_empty(device="cpu")
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (nn.LayerNorm, nn.GroupNorm)):
                module.weight.fill_(1.0)
                module.bias.zero_()
                continue
            for param in module.parameters(recurse=False):
                param.normal_(0.0, 0.02, generator=generator)
    return model.eval().requires_grad_(False)


def timed_interleaved(fns: dict, repeats: int) -> dict[str, tuple[float, float]]:
    """Median (wall, process CPU) seconds of each function; runs are interleaved so that load
    from other processes drifting over time hits every variant alike."""
    for fn in fns.values():
        fn()  # warm-up
    samples = {name: ([], []) for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            wall, cpu = perf_counter(), process_time()
            fn()
            samples[name][0].append(perf_counter() - wall)
            samples[name][1].append(process_time() - cpu)
    return {name: (statistics.median(w), statistics.median(c)) for name, (w, c) in samples.items()}


def run_one(*, dtype_name: str, seconds: float, layers: int, repeats: int, text_tokens: int, lyric_tokens: int) -> dict:
    import torch

    from music.acestep_v1.common import frames_for_duration
    from music.acestep_v1.pipeline import ACEStepV1Pipeline
    from music.acestep_v1.sampling.guidance import GuidancePlan, Guider
    from music.acestep_v1.sampling.schedulers import make_schedule

    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[dtype_name]
    model = build_random_dit(layers=layers, dtype=dtype)
    params = sum(p.numel() for p in model.parameters())
    rss_built = _status_kib("VmRSS") / 2**20
    pipe = ACEStepV1Pipeline(transformer=model, dcae=None, text_encoder=None, lyric_vocab=None, device="cpu", dtype=dtype)

    g = torch.Generator().manual_seed(1)
    frames = frames_for_duration(seconds)
    text = torch.randn(1, text_tokens, 768, generator=g).to(dtype)
    ids = torch.randint(0, 6693, (1, lyric_tokens), generator=g)
    with torch.inference_mode():
        encoded = model.encode(
            text_states=torch.cat([text, torch.zeros_like(text)]),
            text_mask=torch.ones(2, text_tokens, dtype=torch.long),
            speaker_embeds=torch.zeros(2, 512, dtype=dtype),
            lyric_ids=ids.repeat(2, 1),
            lyric_mask=torch.ones(2, lyric_tokens, dtype=torch.long),
            lyric_q_scale=torch.tensor([1.0, 0.01]),
        )
    latents = torch.randn(1, 8, 16, frames, generator=g).to(dtype)
    timestep = torch.tensor(600.0)
    plan = GuidancePlan(cfg_type="apg", guidance_scale=15.0)

    def guided_step(*, batched: bool, cached: bool):
        pipe.batched_guidance, pipe.cache_cross_attention = batched, cached
        conditions = pipe.assemble_conditions(encoded, names=["cond", "null"], batch_size=1, use_erg_diffusion=True)
        guider, sampler = Guider(plan), make_schedule(scheduler_type="euler", infer_step=60, omega_scale=10.0).sampler

        def step():
            pipe.batched_guidance = batched  # read by pipe.velocity at call time
            with torch.inference_mode():
                velocity = pipe.velocity(
                    latents=latents, timestep=timestep, conditions=conditions, guider=guider, step=20, scale=15.0
                )
                sampler.index = 20
                return sampler.step(velocity, latents)

        return step

    times = timed_interleaved(
        {
            "batched": guided_step(batched=True, cached=True),
            "separate": guided_step(batched=False, cached=True),
            "upstream_style": guided_step(batched=False, cached=False),
        },
        repeats,
    )
    return {
        "dtype": dtype_name, "layers": layers, "frames": frames, "context": 1 + text_tokens + lyric_tokens,
        "params": params, "rss_built_gib": rss_built, "peak_gib": _status_kib("VmHWM") / 2**20, **times,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dtypes", default="fp32,bf16")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--layers", type=int, default=24)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--text-tokens", type=int, default=64)
    parser.add_argument("--lyric-tokens", type=int, default=300)
    args = parser.parse_args()

    import multiprocessing as mp

    import torch

    torch.set_num_threads(args.threads)
    ctx = mp.get_context("spawn")  # one fresh process per dtype so VmHWM is that dtype's peak
    for dtype_name in args.dtypes.split(","):
        with ctx.Pool(1) as pool:
            r = pool.apply(
                _child,
                (args.threads,),
                dict(dtype_name=dtype_name, seconds=args.seconds, layers=args.layers, repeats=args.repeats,
                     text_tokens=args.text_tokens, lyric_tokens=args.lyric_tokens),
            )
        (bw, bc), (sw, sc), (uw, uc) = r["batched"], r["separate"], r["upstream_style"]
        print(f"== {r['dtype']}: {r['layers']} layers, W={r['frames']} frames, context {r['context']} tokens")
        print(f"resident parameters        {r['params'] / 1e9:.3f} B (target <= 2.6 B at 24 layers)")
        print(f"RSS after build / peak     {r['rss_built_gib']:.2f} / {r['peak_gib']:.2f} GiB")
        print(f"guided step, batched+cache {bw:.3f} s wall  {bc:.3f} s cpu")
        print(f"guided step, 2 fwd + cache {sw:.3f} s wall  {sc:.3f} s cpu")
        print(f"guided step, upstream-style {uw:.3f} s wall  {uc:.3f} s cpu  (2 forwards, K/V per step)")
        print(f"ratio batched / upstream-style  {bw / uw:.3f} wall  {bc / uc:.3f} cpu  (target <= 0.7)")
        print(f"ratio batched / 2 forwards      {bw / sw:.3f} wall  {bc / sc:.3f} cpu")
    return 0


def _child(threads: int, **kwargs) -> dict:
    import torch

    torch.set_num_threads(threads)
    return run_one(**kwargs)


if __name__ == "__main__":
    raise SystemExit(main())
