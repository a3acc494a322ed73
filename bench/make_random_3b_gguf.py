"""Build a random-weight model with the exact Llama-3.2-3B shape (what Llama-Song-Stream-3B
is) for speed benchmarks: a transformers folder (bf16 safetensors) and a Q4_K_M GGUF of the same
weights. Speed does not depend on weight values, so tokens/s match the real Q4_K_M; the text is
noise. Never commit the output (~6.4 GB + 2.0 GB).

    python bench/make_random_3b_gguf.py --out /tmp/random-3b      # ~5 min on 2 cores, ~8 GB RAM

Then: python bench/bench_lyrics_backends.py --hf /tmp/random-3b/hf --gguf /tmp/random-3b/random-3b.Q4_K_M.gguf
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# Llama-3.2-3B-Instruct's config.json.
LLAMA_32_3B = dict(
    vocab_size=128256, hidden_size=3072, intermediate_size=8192, num_hidden_layers=28,
    num_attention_heads=24, num_key_value_heads=8, head_dim=128, rms_norm_eps=1e-5,
    max_position_embeddings=131072, rope_theta=500000.0, tie_word_embeddings=True,
    rope_scaling={"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0,
                  "high_freq_factor": 4.0, "original_max_position_embeddings": 8192},
)


def build_hf(folder: Path, seed: int, *, device: str = "cpu") -> None:
    """`device`: where the random weights are drawn (a GPU draws 3 B of them in a second)."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from tests.lyrics.tiny_llama import train_tokenizer

    tokenizer = train_tokenizer()  # small trained vocab, padded to 128256 below
    config = LlamaConfig(**LLAMA_32_3B, bos_token_id=tokenizer.bos_token_id,
                         eos_token_id=tokenizer.convert_tokens_to_ids("<|eot_id|>"))
    torch.manual_seed(seed)
    torch.set_default_dtype(torch.bfloat16)
    try:
        with torch.device(device):
            model = LlamaForCausalLM(config)
    finally:
        torch.set_default_dtype(torch.float32)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    pad_vocab(folder / "tokenizer.json", config.vocab_size)


def pad_vocab(path: Path, size: int) -> None:
    """Give every model row a printable word (" pad123"; "\u0120" is byte-level BPE's space), so
    random samples decode to text in both transformers and llama.cpp, and transformers' streamer,
    which emits at word boundaries, streams them one by one: time to first token then means the
    same in both."""
    data = json.loads(path.read_text(encoding="utf-8"))
    vocab = data["model"]["vocab"]
    taken = set(vocab.values()) | {t["id"] for t in data.get("added_tokens", [])}
    for i in range(size):
        if i not in taken:
            vocab[f"\u0120pad{i}"] = i
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep-f16", action="store_true", help="keep the 6.4 GB f16 GGUF")
    args = parser.parse_args()

    from lyrics.gguf_export import export_llama_gguf, quantize_gguf

    hf = args.out / "hf"
    f16 = args.out / "random-3b.f16.gguf"
    q4 = args.out / "random-3b.Q4_K_M.gguf"
    t = time.perf_counter()
    if not (hf / "config.json").is_file():
        build_hf(hf, args.seed)
        print(f"transformers folder: {hf} ({time.perf_counter() - t:.0f} s)")
    if not q4.is_file():
        t = time.perf_counter()
        export_llama_gguf(hf, f16, dtype="f16")
        print(f"f16 GGUF: {f16} {f16.stat().st_size / 1e9:.2f} GB ({time.perf_counter() - t:.0f} s)")
        t = time.perf_counter()
        quantize_gguf(f16, q4, ftype="Q4_K_M")
        print(f"Q4_K_M GGUF: {q4} {q4.stat().st_size / 1e9:.2f} GB ({time.perf_counter() - t:.0f} s)")
        if not args.keep_f16:
            f16.unlink()
    print(q4)


if __name__ == "__main__":
    main()
