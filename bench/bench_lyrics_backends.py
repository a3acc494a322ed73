"""Tokens/s and time to first token per lyrics backend, on the same weights.

    # full-shape 3B (build it first with bench/make_random_3b_gguf.py):
    python bench/bench_lyrics_backends.py --hf /tmp/random-3b/hf --gguf /tmp/random-3b/random-3b.Q4_K_M.gguf
    # quick wiring check on a tiny random model built on the fly:
    python bench/bench_lyrics_backends.py --tiny

Each backend: load, one warm-up, then --repeats runs of --tokens new tokens from the same chat
prompt (with --grammar, under the lyrics GBNF). Prints medians and each backend's tokens/s ratio
to transformers measured in the same run. With --server, llama.cpp's OpenAI-compatible server on
127.0.0.1 is measured through the openai backend too. Random weights: speed only, never quality.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

MESSAGES = [
    {"role": "system", "content": "You are a songwriter. Reply with the lyrics only."},
    {"role": "user", "content": "Write a short indie pop song about summer rain on a city street. "
                                "Sections: [verse] [chorus] [verse] [chorus]."},
]


def measure(backend, *, tokens: int, repeats: int, constraint) -> dict:
    from lyrics.backends.base import SamplingParams

    def one(seed: int) -> tuple[float, float, int]:
        start = time.perf_counter()
        first = None
        for _ in backend.stream(MESSAGES, params=SamplingParams(max_tokens=tokens, seed=seed), constraint=constraint):
            if first is None:
                first = time.perf_counter() - start
        total = time.perf_counter() - start
        n = backend.last_completion_tokens or 0
        return first or total, total, n

    one(0)  # warm-up: page in weights, build caches
    runs = [one(seed) for seed in range(1, repeats + 1)]
    ttft = statistics.median(r[0] for r in runs)
    # decode speed: tokens after the first over the time after the first
    rates = [(n - 1) / (total - first) for first, total, n in runs if n > 1 and total > first]
    return {"ttft_s": ttft, "tok_s": statistics.median(rates) if rates else float("nan"),
            "tokens": statistics.median(r[2] for r in runs)}


def start_server(gguf: Path, threads: int) -> tuple[subprocess.Popen, str]:
    import socket

    import httpx2

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--host", "127.0.0.1",
                             "--port", str(port), "--n_ctx", "4096", "--n_threads", str(threads),
                             "--model_alias", "bench"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/v1"
    for _ in range(600):
        try:
            if httpx2.get(f"{url}/models", timeout=1).status_code == 200:
                return proc, url
        except httpx2.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("llama_cpp.server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hf", type=Path, help="transformers folder")
    parser.add_argument("--gguf", type=Path, help="GGUF of the same weights")
    parser.add_argument("--tiny", action="store_true", help="build a tiny random model and use it for both")
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="default: all cores")
    parser.add_argument("--grammar", action="store_true", help="constrain llama.cpp with the lyrics GBNF")
    parser.add_argument("--server", action="store_true", help="also measure llama_cpp.server over HTTP")
    parser.add_argument("--skip-transformers", action="store_true")
    args = parser.parse_args()

    import torch

    from lyrics import backends
    from lyrics.backends.llama_cpp import default_threads
    from lyrics.constraints import Constraint, Shape, lyrics_gbnf

    threads = args.threads or default_threads()
    torch.set_num_threads(threads)
    if args.tiny:
        from lyrics.gguf_export import export_llama_gguf
        from tests.lyrics.tiny_llama import build_tiny_llama

        work = Path(tempfile.mkdtemp(prefix="bench-lyrics-"))
        args.hf = build_tiny_llama(work / "hf")
        args.gguf = export_llama_gguf(args.hf, work / "tiny.f32.gguf", dtype="f32")
    if not args.gguf or (not args.hf and not args.skip_transformers):
        parser.error("give --hf and --gguf (or --tiny)")
    grammar = Constraint("gbnf", lyrics_gbnf(Shape(structure=("verse", "chorus", "verse", "chorus")))) \
        if args.grammar else None

    results: dict[str, dict] = {}
    print(f"threads={threads} tokens={args.tokens} repeats={args.repeats} grammar={args.grammar}")
    llama = backends.create("llama-cpp", model_path=args.gguf, n_threads=threads, n_ctx=4096)
    results["llama-cpp"] = measure(llama, tokens=args.tokens, repeats=args.repeats, constraint=grammar)
    llama.close()
    if args.server:
        proc, url = start_server(args.gguf, threads)
        try:
            http = backends.create("openai", base_url=url, model="bench", server="llama-cpp")
            results["openai (llama_cpp.server)"] = measure(http, tokens=args.tokens, repeats=args.repeats,
                                                           constraint=grammar)
        finally:
            proc.terminate()
            proc.wait()
    if not args.skip_transformers:
        hf = backends.create("transformers", model=str(args.hf), device="cpu",
                             dtype=os.environ.get("BENCH_HF_DTYPE", "bfloat16"))
        results["transformers"] = measure(hf, tokens=args.tokens, repeats=args.repeats, constraint=None)

    base = results.get("transformers", {}).get("tok_s")
    print(f"{'backend':28} {'TTFT s (median)':>16} {'tok/s (median)':>15} {'x transformers':>15}")
    for name, r in results.items():
        ratio = f"{r['tok_s'] / base:.2f}" if base else "-"
        print(f"{name:28} {r['ttft_s']:16.3f} {r['tok_s']:15.2f} {ratio:>15}")


if __name__ == "__main__":
    main()
