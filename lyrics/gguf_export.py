"""Write a transformers Llama checkpoint (config.json + safetensors + tokenizer.json) as a GGUF
that llama.cpp loads, using only the `gguf` package: for a fine-tune of your own, for the
offline test models, and for the full-shape benchmark model. Tensors are streamed one at a time,
so a 3B checkpoint needs no more memory than its largest tensor.

    export_llama_gguf("my-llama-folder", "my-llama.f16.gguf", dtype="f16")

Quantise the result (Q4_K_M) with `quantize_gguf`, which calls llama.cpp through
llama-cpp-python. Byte-level BPE tokenizers are written as `gpt2` with the `llama-bpe`
pre-tokenizer (Llama 3's); the chat template and the BOS/EOT ids are copied so
`create_chat_completion` uses the model's own template.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
from safetensors import safe_open

_LAYER_MAP = {
    "input_layernorm": "attn_norm", "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k",
    "self_attn.v_proj": "attn_v", "self_attn.o_proj": "attn_output",
    "post_attention_layernorm": "ffn_norm", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down",
}


def gguf_name(hf_name: str) -> str:
    if hf_name == "model.embed_tokens.weight":
        return "token_embd.weight"
    if hf_name == "model.norm.weight":
        return "output_norm.weight"
    if hf_name == "lm_head.weight":
        return "output.weight"
    parts = hf_name.split(".")
    if parts[:2] == ["model", "layers"] and parts[-1] == "weight":
        layer, module = parts[2], ".".join(parts[3:-1])
        if module in _LAYER_MAP:
            return f"blk.{layer}.{_LAYER_MAP[module]}.weight"
    raise ValueError(f"no GGUF name for tensor {hf_name!r}: is this a plain Llama checkpoint?")


def permute_qk(weight: np.ndarray, n_head: int) -> np.ndarray:
    """HF stores rotary halves split ([x0..x63, x64..x127]); llama.cpp expects them interleaved
    per head. Same reshuffle the reference converter applies to q_proj/k_proj."""
    rows = weight.shape[0]
    return (weight.reshape(n_head, 2, rows // n_head // 2, *weight.shape[1:])
            .swapaxes(1, 2).reshape(weight.shape))


def llama3_rope_factors(config: dict[str, Any], head_dim: int) -> np.ndarray | None:
    """Per-frequency scaling for Llama 3.1+ long context (`rope_type: llama3`), stored by
    llama.cpp as the `rope_freqs.weight` tensor. None when the model has no llama3 scaling."""
    scaling = config.get("rope_scaling") or config.get("rope_parameters") or {}
    if scaling.get("rope_type", scaling.get("type")) != "llama3":
        return None
    base = scaling.get("rope_theta", config.get("rope_theta", 10000.0))
    factor = scaling.get("factor", 8.0)
    low, high = scaling.get("low_freq_factor", 1.0), scaling.get("high_freq_factor", 4.0)
    old_ctx = scaling.get("original_max_position_embeddings", 8192)
    low_wavelen, high_wavelen = old_ctx / low, old_ctx / high
    factors = []
    for i in range(0, head_dim, 2):
        wavelen = 2 * math.pi * base ** (i / head_dim)
        if wavelen < high_wavelen:
            factors.append(1.0)
        elif wavelen > low_wavelen:
            factors.append(factor)
        else:
            smooth = (old_ctx / wavelen - low) / (high - low)
            factors.append(1.0 / ((1 - smooth) / factor + smooth))
    return np.asarray(factors, dtype=np.float32)


def _rope_theta(config: dict[str, Any]) -> float:
    params = config.get("rope_parameters") or {}
    return float(config.get("rope_theta") or params.get("rope_theta") or 10000.0)


def _read_tokenizer(folder: Path, vocab_size: int) -> dict[str, Any]:
    import gguf

    data = json.loads((folder / "tokenizer.json").read_text(encoding="utf-8"))
    model = data["model"]
    if model.get("type") != "BPE":
        raise ValueError(f"only byte-level BPE tokenizers are supported, got {model.get('type')}")
    by_id: dict[int, tuple[str, int]] = {i: (tok, gguf.TokenType.NORMAL) for tok, i in model["vocab"].items()}
    for added in data.get("added_tokens", []):
        kind = gguf.TokenType.CONTROL if added.get("special") else gguf.TokenType.USER_DEFINED
        by_id[added["id"]] = (added["content"], kind)
    if max(by_id) >= vocab_size:
        raise ValueError(f"tokenizer has id {max(by_id)} but the model's vocab_size is {vocab_size}")
    tokens, types = [], []
    for i in range(vocab_size):  # the model may have more rows than the tokenizer has tokens
        tok, kind = by_id.get(i, (f"[PAD{i}]", gguf.TokenType.UNUSED))
        tokens.append(tok)
        types.append(kind)
    merges = [m if isinstance(m, str) else " ".join(m) for m in model.get("merges", [])]
    config = {}
    if (folder / "tokenizer_config.json").is_file():
        config = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))
    template = config.get("chat_template")
    if not template and (folder / "chat_template.jinja").is_file():
        template = (folder / "chat_template.jinja").read_text(encoding="utf-8")
    ids = {tok: i for i, tok in enumerate(tokens)}

    def special_id(*names: Any) -> int | None:
        for name in names:
            if isinstance(name, dict):
                name = name.get("content")
            if name in ids:
                return ids[name]
        return None

    return {"tokens": tokens, "types": types, "merges": merges, "template": template,
            "bos": special_id(config.get("bos_token"), "<|begin_of_text|>"),
            "eos": special_id("<|eot_id|>", config.get("eos_token"), "<|end_of_text|>")}


def export_llama_gguf(folder: str | Path, out_path: str | Path, *, dtype: str = "f16") -> Path:
    """Write `folder` (a transformers LlamaForCausalLM) to `out_path` as GGUF (f16 or f32).
    The file appears only when complete (temp file + rename)."""
    import gguf

    if dtype not in ("f16", "f32"):
        raise ValueError(f"dtype must be f16 or f32, got {dtype!r}")
    folder, out_path = Path(folder), Path(out_path)
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    if config.get("model_type") != "llama":
        raise ValueError(f"{folder} is a {config.get('model_type')!r} model; only llama is supported")
    n_head, n_kv = config["num_attention_heads"], config.get("num_key_value_heads", config["num_attention_heads"])
    head_dim = config.get("head_dim") or config["hidden_size"] // n_head
    tok = _read_tokenizer(folder, config["vocab_size"])

    files = sorted(folder.glob("*.safetensors"))
    if not files:
        raise FileNotFoundError(f"no .safetensors files in {folder}")
    tmp = out_path.with_name(out_path.name + ".partial")
    with contextlib.ExitStack() as stack:
        handles = [stack.enter_context(safe_open(str(f), framework="pt")) for f in files]
        plan = [(name, gguf_name(name), h) for h in handles for name in h.keys()
                if not name.endswith("rotary_emb.inv_freq")
                and not (name == "lm_head.weight" and config.get("tie_word_embeddings"))]
        _write(gguf.GGUFWriter(tmp, arch="llama"), tmp, out_path, plan=plan, config=config, tok=tok,
               dtype=dtype, n_head=n_head, n_kv=n_kv, head_dim=head_dim)
    return out_path


def _write(writer: Any, tmp: Path, out_path: Path, *, plan: list, config: dict[str, Any],
           tok: dict[str, Any], dtype: str, n_head: int, n_kv: int, head_dim: int) -> None:
    import gguf

    hidden = config["hidden_size"]
    matrix_type = np.float16 if dtype == "f16" else np.float32
    try:
        writer.add_context_length(config.get("max_position_embeddings", 8192))
        writer.add_embedding_length(hidden)
        writer.add_block_count(config["num_hidden_layers"])
        writer.add_feed_forward_length(config["intermediate_size"])
        writer.add_head_count(n_head)
        writer.add_head_count_kv(n_kv)
        writer.add_rope_freq_base(_rope_theta(config))
        writer.add_layer_norm_rms_eps(config.get("rms_norm_eps", 1e-5))
        writer.add_rope_dimension_count(head_dim)
        writer.add_key_length(head_dim)
        writer.add_value_length(head_dim)
        writer.add_vocab_size(config["vocab_size"])
        writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16 if dtype == "f16" else gguf.LlamaFileType.ALL_F32)
        writer.add_tokenizer_model("gpt2")
        writer.add_tokenizer_pre("llama-bpe")
        writer.add_token_list(tok["tokens"])
        writer.add_token_types(tok["types"])
        writer.add_token_merges(tok["merges"])
        if tok["bos"] is not None:
            writer.add_bos_token_id(tok["bos"])
            writer.add_add_bos_token(True)
        if tok["eos"] is not None:
            writer.add_eos_token_id(tok["eos"])
            writer.add_eot_token_id(tok["eos"])
        if tok["template"]:
            writer.add_chat_template(tok["template"])

        def converted(hf_name: str, handle: Any) -> np.ndarray:
            array = handle.get_tensor(hf_name).float().numpy()
            if hf_name.endswith("q_proj.weight"):
                array = permute_qk(array, n_head)
            elif hf_name.endswith("k_proj.weight"):
                array = permute_qk(array, n_kv)
            return array.astype(matrix_type if array.ndim > 1 else np.float32)

        rope = llama3_rope_factors(config, head_dim)
        infos = []
        for hf_name, name, handle in plan:
            shape = tuple(handle.get_slice(hf_name).get_shape())
            out_dtype = np.dtype(matrix_type if len(shape) > 1 else np.float32)
            infos.append((name, shape, out_dtype))
        if rope is not None:
            infos.append(("rope_freqs.weight", rope.shape, rope.dtype))
        for name, shape, out_dtype in infos:
            writer.add_tensor_info(name, shape, out_dtype, int(np.prod(shape)) * out_dtype.itemsize)
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_ti_data_to_file()
        for hf_name, _, handle in plan:
            writer.write_tensor_data(converted(hf_name, handle))
        if rope is not None:
            writer.write_tensor_data(rope)
        writer.close()
        os.replace(tmp, out_path)
    except BaseException:
        writer.close()
        tmp.unlink(missing_ok=True)
        raise


def quantize_gguf(src: str | Path, dst: str | Path, *, ftype: str = "Q4_K_M", threads: int = 0) -> Path:
    """Quantise with llama.cpp (through llama-cpp-python). K-quants need rows that are multiples
    of 256, i.e. real model widths, not the tiny test models."""

    import llama_cpp

    src, dst = Path(src), Path(dst)
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, f"LLAMA_FTYPE_MOSTLY_{ftype}")
    params.nthread = threads
    tmp = dst.with_name(dst.name + ".partial")
    rc = llama_cpp.llama_model_quantize(str(src).encode(), str(tmp).encode(), ctypes.byref(params))
    if rc != 0:
        tmp.unlink(missing_ok=True)
        raise RuntimeError(f"llama.cpp quantisation of {src} to {ftype} failed (rc {rc})")
    os.replace(tmp, dst)
    return dst
