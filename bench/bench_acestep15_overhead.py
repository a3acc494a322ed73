"""Overhead of ACEStep15Engine over a direct diffusers AceStepPipeline call.

Builds the tiny random ACE-Step 1.5 checkpoint (tests/music/acestep15/tiny_acestep15.py, real
48 kHz VAE hop, toy widths), loads it through the engine, and times `engine.generate` against
calling the engine's own pipeline object directly with the same arguments and seeds. Runs are
interleaved, alternating which goes first. Medians of wall and CPU time and their ratios are
printed (target: ratio <= 1.05); on a shared machine the CPU-time ratio is the steadier one,
since other processes do not inflate it. The audio of both paths must be identical, bit for
bit, or the script fails.

    python bench/bench_acestep15_overhead.py [--repeats 10] [--steps 8] [--duration 10] [--threads 1]

Tiny-model timings measure the engine's own overhead (argument mapping, seeding, progress
callback, output conversion); they say nothing about real-model speed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path
from time import perf_counter, process_time

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def direct_call(pipe, *, source=None, **kwargs):
    """The plain diffusers call a user would write, seeded the way the engine seeds."""
    import torch

    seed = kwargs.pop("seed")
    generator = [torch.Generator().manual_seed(seed)]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)  # the VAE posterior sample of source audio uses the global RNG
        audios = pipe(**kwargs, src_audio=source, generator=generator, output_type="pt").audios
    return audios[0].numpy()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    import numpy as np
    import soundfile as sf
    import torch

    from music.acestep15.engine import ACEStep15Engine
    from music.engine import MusicRequest
    from tests.music.acestep15.tiny_acestep15 import save_tiny_checkpoint

    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        folder = save_tiny_checkpoint(Path(tmp) / "acestep-v15-turbo-tiny", turbo=True)
        engine = ACEStep15Engine.from_settings(model_id_or_dir=str(folder))
        pipe = engine.pipeline
        seconds = args.duration
        t = np.arange(round(seconds * 48000)) / 48000
        tone = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
        source_path = Path(tmp) / "source.wav"
        sf.write(str(source_path), np.stack([tone, 0.7 * tone], axis=1), 48000, subtype="FLOAT")
        source = torch.from_numpy(np.ascontiguousarray(sf.read(str(source_path), dtype="float32", always_2d=True)[0].T))

        common = dict(prompt=["lo-fi piano"], lyrics=["[verse]\nla la"], vocal_language="en", shift=3.0,
                      guidance_scale=1.0, num_inference_steps=args.steps)
        cases = {
            "text2music": (
                MusicRequest(prompt="lo-fi piano", lyrics="[verse]\nla la", duration=seconds, seeds=[0], steps=args.steps),
                dict(common, audio_duration=seconds, task_type="text2music", seed=0),
                None,
            ),
            "repaint": (
                MusicRequest(task="repaint", prompt="lo-fi piano", lyrics="[verse]\nla la", source_audio=str(source_path),
                             region_start=2.0, region_end=5.0, seeds=[1], steps=args.steps),
                dict(common, audio_duration=seconds, task_type="repaint", repainting_start=2.0, repainting_end=5.0, seed=1),
                source,
            ),
        }
        print(f"tiny ACE-Step 1.5 turbo, {seconds:g} s at 48 kHz, {args.steps} steps, {args.threads} thread(s), "
              f"{args.repeats} interleaved repeats")
        failures = 0
        for name, (request, kwargs, src) in cases.items():
            engine.generate(request)  # warm-up both paths
            direct_call(pipe, source=src, **dict(kwargs))
            times = {"engine": ([], []), "direct": ([], [])}  # (wall, cpu) seconds
            runs = {
                "engine": lambda: engine.generate(request).takes[0].audio,
                "direct": lambda: direct_call(pipe, source=src, **dict(kwargs)),
            }
            for repeat in range(args.repeats):
                order = ("engine", "direct") if repeat % 2 == 0 else ("direct", "engine")  # no order bias
                out = {}
                for which in order:
                    wall, cpu = perf_counter(), process_time()
                    out[which] = runs[which]()
                    times[which][0].append(perf_counter() - wall)
                    times[which][1].append(process_time() - cpu)
                if not np.array_equal(out["engine"], out["direct"]):
                    failures += 1
                    diff = np.abs(out["engine"] - out["direct"]).max()
                    print(f"  {name}: audio differs from the direct call (max abs diff {diff:.3g})")
            (ew, ec), (dw, dc) = ([statistics.median(x) for x in times[k]] for k in ("engine", "direct"))
            ratio = ec / dc
            print(f"{name:11s} engine median {ew * 1000:7.1f} ms wall {ec * 1000:7.1f} ms cpu | direct median "
                  f"{dw * 1000:7.1f} ms wall {dc * 1000:7.1f} ms cpu | cpu ratio {ratio:.3f} "
                  f"({'meets' if ratio <= 1.05 else 'misses'} target <= 1.05), wall ratio {ew / dw:.3f} | "
                  f"audio identical: {'yes' if not failures else 'NO'}")
        return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
