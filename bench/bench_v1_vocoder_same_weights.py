"""The v1 vocoder, ours against upstream's code, with the same weights and the same mel input.

    python bench/bench_v1_vocoder_same_weights.py --upstream PATH [--seconds 5] [--threads 2] [--dtype bf16]

Random weights make speed depend on the numbers (values that decay into denormals are slow on a
CPU), so the whole-song bench, whose two processes draw their own random weights, cannot compare
this stage fairly. Here upstream's `ADaMoSHiFiGANV1` (a checkout of ace-step/ACE-Step, on
sys.path of this process only) is built and randomised, its weight norm folded into our
`HiFiGANVocoder`'s state (`fold_weight_norm`, as our loader does), and both decode one stereo mel:
ours through `decode_channels` (the pipeline's call: one channel at a time on a CPU, both in one
batch on an accelerator), upstream one channel at a time (its pipeline's way). Prints the
max abs difference of the audio and the median of --repeats timed runs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path
from time import perf_counter

REPO = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
for folder in (REPO, BENCH):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--upstream", type=Path, required=True)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--dtype", choices=("fp32", "bf16"), default="bf16")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    import diffusers  # noqa: F401  (imported before the stand-ins, which it would otherwise probe)
    import torch
    from v1_bench_inputs import randomise_
    from v1_upstream import import_upstream, register_stand_ins

    from music.acestep_v1.models.vocoder import HiFiGANVocoder, VocoderConfig, fold_weight_norm

    torch.set_num_threads(args.threads)
    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[args.dtype]
    import_upstream(args.upstream.resolve())
    register_stand_ins()
    from acestep.music_dcae.music_vocoder import ADaMoSHiFiGANV1  # noqa: PLC0415  (upstream code)

    upstream = randomise_(ADaMoSHiFiGANV1()).to(dtype)
    ours = HiFiGANVocoder(VocoderConfig())
    state = fold_weight_norm({k: v.float() for k, v in upstream.state_dict().items()})
    result = ours.load_state_dict(state, strict=False)
    if result.unexpected_keys or [k for k in result.missing_keys if not k.startswith("mel_transform")]:
        raise SystemExit(f"weights do not map: {result}")
    ours = ours.to(dtype).eval()
    frames = int(args.seconds * 44100 / 512)
    mel = (torch.randn(1, 2, 128, frames, generator=torch.Generator().manual_seed(3)) * 2 - 4).to(dtype)

    def run_ours():
        return ours.decode_channels(mel[0])  # what the pipeline calls

    def run_upstream():
        return torch.cat([upstream.decode(mel[:, 0]), upstream.decode(mel[:, 1])])

    times = {"ours": [], "upstream": []}
    with torch.inference_mode():
        difference = (run_ours().float() - run_upstream().float()).abs().max().item()
        for _ in range(args.repeats):
            for name, fn in (("ours", run_ours), ("upstream", run_upstream)):
                clock = perf_counter()
                fn()
                times[name].append(perf_counter() - clock)
    ours_s, upstream_s = statistics.median(times["ours"]), statistics.median(times["upstream"])
    print(f"{args.seconds:g} s stereo, {args.dtype}, {args.threads} thread(s); audio max abs difference {difference:.2e}")
    print(f"v1 vocoder, same weights: ours {ours_s:.2f} s, upstream {upstream_s:.2f} s, ratio {ours_s / upstream_s:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
