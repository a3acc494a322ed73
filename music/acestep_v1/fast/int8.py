"""The int8 fast mode: a variant of the DiT whose blocks run their linear layers in int8.

Scheme (the one torchao's `Int8DynamicActivationInt8WeightConfig` uses): weights quantized once,
symmetric per output channel; activations quantized on every call, symmetric per token; the
product in int8 with int32 accumulation (`torch._int_mm`), then rescaled in fp32 and cast back to
the activation dtype. A bf16 or fp16 model therefore feeds its activations through fp32 scales:
the int8 layers take any float input and return the model's dtype.

Why this and not `torch.ao.quantization.quantize_dynamic` or torchao (both tried, torch 2.13, CPU,
one thread, a (644 x 2560) x (2560 x 12800) layer, see docs/acestep-v1.md): torch.ao's fbgemm
layer is 5 % faster but quantizes activations per tensor (SNR 32 dB against 38.5 dB here), warns
on every use that it is deprecated and due for removal, and takes fp32 input only; torchao gives
38.5 dB but was 29-60 % slower in eager mode on the CPU and is one more dependency that loads CUDA
libraries at import. `torch._int_mm` is the op torchao's CPU path rests on.

What is quantized: every linear layer inside the DiT blocks (self- and cross-attention q/k/v/out)
and GLUMBConv's two 1x1 convolutions, which the model applies as linear layers on the conv
weights (`_Conv1d.linear`): their holders are replaced by `Int8Pointwise`, which keeps that
method. That is about 94 % of the full model's parameters and nearly all of a step's matrix work.
The depthwise convolution, the norms' tables, the embedders, the lyric encoder and the final
layer stay exact and are shared with the exact model, never copied.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from music.acestep_v1.models.transformer import (
    ACEStepDiT,
    CrossAttention,
    DiTBlock,
    GLUMBConv,
    LinearSelfAttention,
    _Conv1d,
)

QMAX = 127  # symmetric int8: -127..127 (no -128, so negating a value never overflows)
_EPS = 1e-12  # scale floor: an all-zero row or channel quantizes to zeros instead of 0/0


def quantize_rows(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(M, K) float -> int8 (M, K) and fp32 scales (M, 1), one symmetric scale per row."""
    x = x.float()
    scale = x.abs().amax(dim=-1, keepdim=True).clamp(min=_EPS) / QMAX
    return torch.round(x / scale).clamp(-QMAX, QMAX).to(torch.int8), scale


class Int8Linear(nn.Module):
    """y = x W^T + b with W int8 per output channel and x int8 per token (dynamic)."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None):
        super().__init__()
        with torch.no_grad():
            quantized, scale = quantize_rows(weight.detach())  # (N, K), (N, 1)
        self.out_features, self.in_features = weight.shape
        self.register_buffer("weight_t", quantized.t().contiguous())  # (K, N), as _int_mm takes it
        self.register_buffer("weight_scale", scale.reshape(-1))
        self.register_buffer("bias", None if bias is None else bias.detach().float().clone())

    @classmethod
    def from_linear(cls, linear: nn.Linear) -> "Int8Linear":
        return cls(linear.weight, linear.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rows = x.reshape(-1, self.in_features)
        quantized, scale = quantize_rows(rows)
        y = torch._int_mm(quantized, self.weight_t).float().mul_(scale).mul_(self.weight_scale)
        if self.bias is not None:
            y.add_(self.bias)
        return y.to(x.dtype).reshape(*x.shape[:-1], self.out_features)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, int8"


class Int8Pointwise(nn.Module):
    """A 1x1 `_Conv1d` holder in int8: the same `linear(x)` the GLUMBConv calls."""

    def __init__(self, holder: _Conv1d):
        super().__init__()
        conv = holder.conv
        if conv.kernel_size != (1,) or conv.groups != 1:
            raise TypeError(f"int8: only 1x1 dense convolutions are linear layers, got {conv}")
        self.inner = Int8Linear(conv.weight[..., 0], conv.bias)

    def linear(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(x)


def _with_children(module: nn.Module, children: dict[str, nn.Module]) -> nn.Module:
    """A shallow copy of `module` with some children replaced: every other child, parameter and
    buffer is the same object as in `module` (nothing is copied, the original is untouched)."""
    twin = copy.copy(module)
    twin.__dict__["_modules"] = dict(module._modules)
    for name, child in children.items():
        setattr(twin, name, child)
    return twin


def _quantized_block(block: DiTBlock) -> DiTBlock:
    parts = {}
    for name in ("attn", "cross_attn"):
        attention = getattr(block, name)
        if type(attention) not in (LinearSelfAttention, CrossAttention):
            raise TypeError(f"int8: unexpected {type(attention).__name__} as {name}")
        linears = {n: _linear(getattr(attention, n)) for n in ("to_q", "to_k", "to_v")}
        linears["to_out"] = nn.ModuleList([_linear(attention.to_out[0])])
        parts[name] = _with_children(attention, linears)
    ff = block.ff
    if type(ff) is not GLUMBConv:
        raise TypeError(f"int8: unexpected {type(ff).__name__} as the feed-forward")
    parts["ff"] = _with_children(ff, {"inverted_conv": Int8Pointwise(ff.inverted_conv),
                                      "point_conv": Int8Pointwise(ff.point_conv)})
    return _with_children(block, parts)


def _linear(module: nn.Module) -> Int8Linear:
    # exactly nn.Linear: a LoRA layer wrapping one (peft) would lose its adapter silently
    if type(module) is not nn.Linear:
        raise TypeError(f"int8: expected a plain nn.Linear, got {type(module).__name__} (is a LoRA still loaded?)")
    return Int8Linear.from_linear(module)


@torch.no_grad()
def int8_variant(dit: ACEStepDiT) -> ACEStepDiT:
    """The DiT with int8 blocks. Shares every other module and tensor with `dit`, which stays exact."""
    if dit.transformer_blocks[0].attn.to_q.weight.device.type != "cpu":
        raise ValueError("int8: the DiT must be in CPU memory to build its int8 variant")
    blocks = nn.ModuleList(_quantized_block(block) for block in dit.transformer_blocks)
    variant = _with_children(dit, {"transformer_blocks": blocks}).eval()
    variant.compiled_blocks = None  # the exact model's compiled blocks would run its bf16/fp32 weights
    return variant


def variant_bytes(dit_width: int, layers: int, mlp_ratio: float = 2.5) -> int:
    """Memory the int8 variant adds beside the exact model (int8 weights, fp32 scales and biases),
    from the config alone: for the submit-time memory check."""
    hidden = int(dit_width * mlp_ratio)
    shapes = [(dit_width, dit_width)] * 8 + [(dit_width, 2 * hidden), (hidden, dit_width)]  # (in, out)
    per_block = sum(k * n + 4 * n + 4 * n for k, n in shapes)
    return layers * per_block


def quantized_bytes(variant: ACEStepDiT) -> int:
    """What the built variant holds of its own (its int8 layers' buffers)."""
    return sum(b.numel() * b.element_size() for m in variant.modules() if isinstance(m, Int8Linear)
               for b in m.buffers())
