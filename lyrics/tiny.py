"""Tiny random-weight Llama-3-style lyrics models, built offline in a few seconds.

A byte-level BPE trained on a few song-ish lines with the Llama-3 special tokens and chat format,
a LlamaForCausalLM with seeded random weights, saved as a transformers folder (loaded by the
`transformers` backend) and exported to GGUF with `lyrics.gguf_export` (loaded by `llama-cpp`).
The caller's torch RNG state is left untouched.

THE OUTPUT IS NOISE: random weights prove the wiring and numerics, never lyric quality.
"""

from __future__ import annotations

import os
import string
from pathlib import Path

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

from lyrics.gguf_export import export_llama_gguf

HF_SUBFOLDER = "hf"
GGUF_SUBFOLDER = "gguf"
GGUF_FILE = "tiny-llama.f32.gguf"

SPECIAL_TOKENS = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>",
                  "<|eot_id|>"]

# The Llama 3 chat format (header tokens, blank line, content, <|eot_id|>), written here (no hub file).
CHAT_TEMPLATE = (
    "{{- bos_token }}"
    "{%- for message in messages %}"
    "{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{%- endif %}"
)

_CORPUS = [
    "Title: Summer Rain", "[verse]", "[chorus]", "[bridge]", "[pre-chorus]", "[intro]", "[outro]",
    "Drops are falling on the street, dancing to a steady beat",
    "Oh the rain, the summer rain, washing all my doubts away",
    "Windows fogging, hearts aglow, nowhere else I'd rather go",
    "We were young and the night was long, singing every word of our song",
    "You are a songwriter. Write a song about love, loss and the open road.",
    "Theme: city lights. Mood: hopeful. Sections, in this order: verse chorus verse chorus",
    '{"title": "Night Drive", "sections": [{"tag": "verse", "lines": ["a", "b"]}]}',
    "system user assistant - 0123456789 ,.;:!?'\"()",
    string.printable,  # every ASCII character, newline included
    "Title: Rain\n\n[verse]\nline one\nline two\n\n[chorus]\nsing\n",
]


def train_tokenizer(vocab_size: int = 512):
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    # Alphabet = the ASCII the corpus holds, not all 256 byte tokens: random weights then cannot
    # emit invalid UTF-8, on which llama_cpp.server's streaming stalls (it re-decodes all pending
    # tokens each step). Prompts to the tiny model are ASCII, so nothing needs the missing bytes.
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS, show_progress=False)
    tok.train_from_iterator(_CORPUS * 4, trainer=trainer)
    bos = tok.token_to_id("<|begin_of_text|>")
    # Like Llama 3: plain encode() prepends BOS; the chat template writes it itself.
    tok.post_processor = processors.TemplateProcessing(single="<|begin_of_text|> $A",
                                                       special_tokens=[("<|begin_of_text|>", bos)])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<|begin_of_text|>", eos_token="<|eot_id|>")
    fast.chat_template = CHAT_TEMPLATE
    return fast


def build_tiny_llama(folder: str | os.PathLike, *, hidden: int = 64, heads: int = 4, kv_heads: int = 2,
                     layers: int = 2, seed: int = 0) -> Path:
    """A random LlamaForCausalLM (tied embeddings, Llama-3 rope theta) and its tokenizer, saved as
    a transformers folder in `folder` (created)."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    tokenizer = train_tokenizer()
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=hidden * 2,
        num_hidden_layers=layers, num_attention_heads=heads, num_key_value_heads=kv_heads,
        head_dim=hidden // heads, max_position_embeddings=8192, rms_norm_eps=1e-5,
        rope_theta=500000.0, tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.convert_tokens_to_ids("<|eot_id|>"))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = LlamaForCausalLM(config).eval()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def build_tiny_lyrics_models(folder: str | os.PathLike, *, seed: int = 0) -> tuple[Path, Path]:
    """Both forms of the tiny model under `folder` (which must not exist yet): the transformers
    folder `hf/` and its GGUF export `gguf/tiny-llama.f32.gguf` (f32: the same weights).
    Returns (hf folder, GGUF file)."""

    root = Path(folder)
    if root.exists():
        raise FileExistsError(f"{root} already exists; remove it or choose another folder")
    hf = build_tiny_llama(root / HF_SUBFOLDER, seed=seed)
    (root / GGUF_SUBFOLDER).mkdir()
    gguf = export_llama_gguf(hf, root / GGUF_SUBFOLDER / GGUF_FILE, dtype="f32")
    return hf, gguf
