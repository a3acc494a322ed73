"""ACE-Step v1's opt-in fast modes (issue #18) against the exact path: error and speed.

For each mode (int8, step-cache at each --thresholds value, and both) and the exact path:

* random weights at the full config (24 layers unless --layers; N(0, 0.02) as
  bench_v1_full_size.py builds them), one dtype at a time (--dtypes), a DiT-only song of
  --seconds (30 s: W = 322 latent frames; context 1 + 64 text + 300 lyric tokens), APG guidance
  with the default interval 0.5, Euler, --steps steps (27, the seeds' RTF setting):
  - seconds of the whole DiT loop (`pipeline.denoise`; conditions and K/V cache outside it),
    and its ratio to the exact loop of the same dtype;
  - the final latents' max abs difference and SNR (dB) against the exact loop's;
  - one step's velocity (the DiT's output of one forward) against the exact model given the same
    input latents and timestep: max abs and SNR. The forward is the middle one; with the step
    cache, the skipping forward nearest the middle (a forward that ran in full is exact there);
  - the step cache's skipped / run forwards per pass; int8's one-off quantization seconds;
* the shared reference cases (--reference, default ../shared/acestep-v1-reference beside the
  checkout; tiny random-weight checkpoint, fp32): every text2music case through `generate`, the
  same deviations (final latents, middle step's velocity). Their timings are meaningless (tiny).

    python bench/bench_v1_fast_modes.py [--layers 24] [--dtypes bf16] [--seconds 30] [--steps 27]
                                        [--threads 2] [--thresholds 0.05] [--reference PATH | --no-reference]

The last line is one JSON object (`"bench": "v1_fast_modes"`) holding every number printed.
Full size takes about 5.3 GiB of RAM in bf16 plus 2.4 GiB for the int8 variant, and a CPU loop of
27 steps takes minutes per mode; `--layers 2` is a smoke run of the same code.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import sys
from pathlib import Path
from time import perf_counter

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

TEXT2MUSIC_CASES = ("t2m_euler_apg", "t2m_heun_cfg", "t2m_pingpong_cfg_star", "t2m_double_condition",
                    "t2m_oss_steps", "t2m_batch2", "t2m_instrumental")


def deviation(out, exact) -> dict[str, float]:
    """Max abs difference and SNR in dB (inf when equal) of `out` against `exact`."""
    out, exact = out.double(), exact.double()
    noise = float((out - exact).pow(2).sum())
    snr = math.inf if noise == 0 else 10 * math.log10(max(float(exact.pow(2).sum()), 1e-300) / noise)
    return {"max_abs": float((out - exact).abs().max()), "snr_db": snr}


@contextlib.contextmanager
def recorded_decodes():
    """Every `ACEStepDiT.decode` call of the block: (model, keyword arguments, output)."""
    from music.acestep_v1.models.transformer import ACEStepDiT

    calls = []
    original = ACEStepDiT.decode

    def decode(self, **kwargs):
        out = original(self, **kwargs)
        calls.append((self, kwargs, out))
        return out

    ACEStepDiT.decode = decode
    try:
        yield calls
    finally:
        ACEStepDiT.decode = original


def velocity_deviation(exact_calls, mode_calls) -> dict[str, float]:
    """One forward of a run against the exact model on the same latents and timestep (with the
    exact run's conditions, so int8's quantized cross-attention K/V count as its error): the middle
    forward, or the step cache's skipping forward nearest to it."""
    import torch

    middle = len(exact_calls) // 2
    skipping = [i for i, (_, kwargs, _) in enumerate(mode_calls)
                if kwargs.get("step_cache") is not None and kwargs["step_cache"].skipped]
    index = min(skipping, key=lambda i: (abs(i - middle), i)) if skipping else middle
    model, exact_kwargs, _ = exact_calls[index]
    _, mode_kwargs, mode_out = mode_calls[index]
    with torch.inference_mode():
        reference = model.decode(**{**exact_kwargs, "latents": mode_kwargs["latents"],
                                    "timestep": mode_kwargs["timestep"]})
    return {**deviation(mode_out, reference), "forward": index, "skipped": bool(skipping)}


def modes_to_run(thresholds: list[float], *, int8: bool = True) -> list[tuple[str, dict]]:
    """(label, generate's fast arguments): the exact path first; int8 only where it runs (CPU)."""
    runs = [("exact", {})] + ([("int8", {"fast_modes": ["int8"]})] if int8 else [])
    for threshold in thresholds:
        runs.append((f"step-cache@{threshold:g}", {"fast_modes": ["step-cache"], "step_cache_threshold": threshold}))
    for threshold in thresholds if int8 else []:
        runs.append((f"int8+step-cache@{threshold:g}",
                     {"fast_modes": ["int8", "step-cache"], "step_cache_threshold": threshold}))
    return runs


# ---- random weights, full config ------------------------------------------------------------------

def random_weights(*, dtype_name: str, layers: int, seconds: float, steps: int, thresholds: list[float],
                   text_tokens: int, lyric_tokens: int, device: str = "cpu", model=None) -> dict:
    """`model`: a DiT already built (bench/gpu_check.py passes one on the GPU); None builds the
    random full config with `layers` blocks on the CPU."""
    import torch

    from bench.bench_v1_full_size import build_random_dit
    from music.acestep_v1.common import frames_for_duration
    from music.acestep_v1.fast.options import check_fast
    from music.acestep_v1.pipeline import ACEStepV1Pipeline
    from music.acestep_v1.sampling.guidance import GuidancePlan
    from music.acestep_v1.sampling.schedulers import make_schedule

    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[dtype_name]
    model = build_random_dit(layers=layers, dtype=dtype) if model is None else model
    layers = len(model.transformer_blocks)
    pipe = ACEStepV1Pipeline(transformer=model, dcae=None, text_encoder=None, lyric_vocab=None, device=device, dtype=dtype)
    g = torch.Generator().manual_seed(1)
    frames = frames_for_duration(seconds)
    text = torch.randn(1, text_tokens, model.config.text_embedding_dim, generator=g).to(device, dtype)
    ids = torch.randint(0, model.config.lyric_encoder_vocab_size, (1, lyric_tokens), generator=g).to(device)
    ones = dict(dtype=torch.long, device=device)
    plan = GuidancePlan(cfg_type="apg", guidance_scale=15.0)  # guidance interval 0.5, as a default song

    def loop(fast: dict):
        spec = check_fast(fast.get("fast_modes"), fast.get("step_cache_threshold"), task="text2music", lora=None)
        with pipe.fast.applied(pipe, spec) as run, torch.inference_mode():
            encoded = pipe.transformer.encode(  # cond row, and the ERG-weakened null row
                text_states=torch.cat([text, torch.zeros_like(text)]), text_mask=torch.ones(2, text_tokens, **ones),
                speaker_embeds=torch.zeros(2, model.config.speaker_embedding_dim, dtype=dtype, device=device),
                lyric_ids=ids.repeat(2, 1), lyric_mask=torch.ones(2, lyric_tokens, **ones),
                lyric_q_scale=torch.tensor([1.0, 0.01], device=device))
            conditions = pipe.assemble_conditions(encoded, names=["cond", "null"], batch_size=1, use_erg_diffusion=True)
            noise = pipe.initial_noise(pipe.make_generators([42]), frames)
            schedule = make_schedule(scheduler_type="euler", infer_step=steps, omega_scale=10.0, dtype=dtype)
            with recorded_decodes() as calls:
                _sync(device)
                started = perf_counter()
                latents = pipe.denoise(latents=noise, schedule=schedule, conditions=conditions, plan=plan)
                _sync(device)
                elapsed = perf_counter() - started
        return latents, elapsed, calls, run

    rows = {}
    exact_latents, exact_seconds, exact_calls, _ = loop({})
    for label, fast in modes_to_run(thresholds, int8=str(device).startswith("cpu")):
        if label == "exact":
            latents, elapsed, calls, run = exact_latents, exact_seconds, exact_calls, None
        else:
            latents, elapsed, calls, run = loop(fast)
        rows[label] = {
            "loop_s": elapsed, "ratio": elapsed / exact_seconds,
            "latents": deviation(latents, exact_latents), "velocity": velocity_deviation(exact_calls, calls),
            "step_cache": run.parameters().get("step_cache") if run else None,
            "int8_quantize_s": run.timings.get("int8_quantize") if run else None,
        }
    return {"dtype": dtype_name, "layers": layers, "frames": frames, "steps": steps,
            "context": 1 + text_tokens + lyric_tokens, "modes": rows}


def _sync(device: str) -> None:
    """Wait for the GPU's queued work, so that wall time is the work's time."""
    import torch

    if str(device).startswith("cuda"):
        torch.cuda.synchronize()


# ---- shared reference cases -------------------------------------------------------------------------

def reference_cases(folder: Path, thresholds: list[float]) -> dict:
    import torch
    from safetensors.torch import load_file

    from music.acestep_v1 import ACEStepV1Pipeline

    pipe = ACEStepV1Pipeline.from_pretrained(folder / "checkpoint", device="cpu", dtype=torch.float32,
                                             lyric_vocab=folder / "lyrics_vocab.json")
    cases = {c["name"]: c for c in json.loads((folder / "cases.json").read_text(encoding="utf-8"))["cases"]}
    results = {}
    for name in TEXT2MUSIC_CASES:
        kwargs = {k: v for k, v in cases[name]["kwargs"].items() if k != "lyrics"}
        stored = load_file(folder / f"case_{name}.safetensors")
        ids = [] if int(stored["lyric_mask"].sum()) == 0 else stored["lyric_token_ids"][0].tolist()

        def generate(fast: dict):
            with recorded_decodes() as calls:
                out = pipe.generate_with_token_ids(lyric_token_ids=ids, sample_rate=44100, **kwargs, **fast)
            return out, calls

        exact, exact_calls = generate({})
        rows = {"exact": {"vs_upstream": deviation(exact.latents, stored["target_latents"])}}
        for label, fast in modes_to_run(thresholds)[1:]:
            out, calls = generate(fast)
            rows[label] = {"latents": deviation(out.latents, exact.latents),
                           "velocity": velocity_deviation(exact_calls, calls),
                           "step_cache": out.parameters.get("step_cache")}
        results[name] = rows
    return results


# ---- report -----------------------------------------------------------------------------------------

def _db(value: float) -> str:
    return "inf" if math.isinf(value) else f"{value:.1f}"


def _skips(record: dict | None) -> str:
    if not record:
        return ""
    return ", ".join(f"{name} {record['skipped'][name]}/{record['calls'][name]}" for name in record["calls"])


def print_random(result: dict) -> None:
    print(f"== random weights, {result['dtype']}, {result['layers']} layers, W={result['frames']} frames, "
          f"context {result['context']} tokens, {result['steps']} steps (APG, interval 0.5, Euler)")
    print("| mode | DiT loop | x exact | latents max abs | latents SNR dB | velocity max abs | velocity SNR dB "
          "| skipped / run | int8 build |")
    print("|---|---|---|---|---|---|---|---|---|")
    for label, row in result["modes"].items():
        build = f"{row['int8_quantize_s']:.2f} s" if row["int8_quantize_s"] else ""
        print(f"| {label} | {row['loop_s']:.2f} s | {row['ratio']:.2f} | {row['latents']['max_abs']:.3g} | "
              f"{_db(row['latents']['snr_db'])} | {row['velocity']['max_abs']:.3g} | {_db(row['velocity']['snr_db'])} "
              f"| {_skips(row['step_cache'])} | {build} |")


def print_reference(results: dict) -> None:
    print("== shared reference cases (tiny random-weight checkpoint, fp32): against our exact path")
    print("| case | mode | latents max abs | latents SNR dB | velocity max abs | velocity SNR dB | skipped / run |")
    print("|---|---|---|---|---|---|---|")
    for case, rows in results.items():
        up = rows["exact"]["vs_upstream"]
        print(f"| {case} | exact vs upstream | {up['max_abs']:.3g} | {_db(up['snr_db'])} | | | |")
        for label, row in rows.items():
            if label == "exact":
                continue
            print(f"| {case} | {label} | {row['latents']['max_abs']:.3g} | {_db(row['latents']['snr_db'])} | "
                  f"{row['velocity']['max_abs']:.3g} | {_db(row['velocity']['snr_db'])} | {_skips(row['step_cache'])} |")


def _json_safe(value):
    """inf (an SNR of identical outputs) as the string "inf": strict JSON has no infinity."""
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    if isinstance(value, float) and math.isinf(value):
        return "inf"
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--layers", type=int, default=24)
    parser.add_argument("--dtypes", default="bf16", help="comma-separated: fp32, bf16")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--steps", type=int, default=27)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--thresholds", default="0.05", help="step-cache thresholds, comma-separated")
    parser.add_argument("--text-tokens", type=int, default=64)
    parser.add_argument("--lyric-tokens", type=int, default=300)
    parser.add_argument("--reference", type=Path, default=REPO.parent / "shared" / "acestep-v1-reference")
    parser.add_argument("--no-reference", action="store_true", help="skip the shared reference cases")
    parser.add_argument("--no-random", action="store_true", help="skip the random-weight runs")
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    thresholds = [float(t) for t in args.thresholds.split(",") if t]
    summary: dict = {"bench": "v1_fast_modes", "threads": args.threads, "random": [], "reference": None}
    if not args.no_random:
        for dtype_name in args.dtypes.split(","):
            result = random_weights(dtype_name=dtype_name, layers=args.layers, seconds=args.seconds, steps=args.steps,
                                    thresholds=thresholds, text_tokens=args.text_tokens, lyric_tokens=args.lyric_tokens)
            print_random(result)
            summary["random"].append(result)
    if not args.no_reference:
        if not (args.reference / "cases.json").is_file():
            print(f"error: no reference cases at {args.reference} (give --reference PATH or --no-reference)",
                  file=sys.stderr)
            return 2
        summary["reference"] = reference_cases(args.reference, thresholds)
        print_reference(summary["reference"])
    print(json.dumps(_json_safe(summary)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
