"""The ADaMoS HiFi-GAN vocoder of ACE-Step v1: log-mel (128 bins) -> 44.1 kHz waveform.

A ConvNeXt backbone followed by a HiFi-GAN generator. The official weights store the
generator's convolutions with (old-style) weight norm (`weight_g`, `weight_v`); they are folded
into plain weights at load, which is exact at inference. Module names mirror the official state
dict. The checkpoint also carries the mel front-end buffers (Hann window and slaney filterbank),
kept here as `mel_transform.*` for the DCAE encode path.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(kw_only=True)
class VocoderConfig:
    input_channels: int = 128
    depths: list[int] = field(default_factory=lambda: [3, 3, 9, 3])
    dims: list[int] = field(default_factory=lambda: [128, 256, 384, 512])
    kernel_sizes: list[int] = field(default_factory=lambda: [7])
    upsample_rates: list[int] = field(default_factory=lambda: [4, 4, 2, 2, 2, 2, 2])
    upsample_kernel_sizes: list[int] = field(default_factory=lambda: [8, 8, 4, 4, 4, 4, 4])
    resblock_kernel_sizes: list[int] = field(default_factory=lambda: [3, 7, 11, 13])
    resblock_dilation_sizes: list[list[int]] = field(default_factory=lambda: [[1, 3, 5]] * 4)
    num_mels: int = 512  # backbone output width (the generator's input)
    upsample_initial_channel: int = 1024
    pre_conv_kernel_size: int = 13
    post_conv_kernel_size: int = 13
    sampling_rate: int = 44100
    n_fft: int = 2048
    win_length: int = 2048
    hop_length: int = 512
    f_min: float = 40.0
    f_max: float = 16000.0
    n_mels: int = 128

    @classmethod
    def from_dict(cls, raw: dict) -> "VocoderConfig":
        if raw.get("use_template"):
            raise ValueError("music_vocoder config: use_template=true is not an ACE-Step v1 vocoder")
        if len(raw.get("kernel_sizes", [7])) != 1:
            raise ValueError("music_vocoder config: parallel ConvNeXt kernels are not used by ACE-Step v1")
        names = set(cls.__dataclass_fields__)
        return cls(**{k: raw[k] for k in names if k in raw})


class ChannelsFirstLayerNorm(nn.Module):
    """LayerNorm over dim 1 of (N, C, T), computed the explicit way upstream does."""

    def __init__(self, channels: int, eps: float = 1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.eps = eps

    def forward(self, x):
        mean = x.mean(1, keepdim=True)
        var = (x - mean).pow(2).mean(1, keepdim=True)
        x = (x - mean) / torch.sqrt(var + self.eps)
        return self.weight[:, None] * x + self.bias[:, None]


class ConvNeXtBlock(nn.Module):
    def __init__(self, dim: int, kernel_size: int):
        super().__init__()
        self.dwconv = nn.Conv1d(dim, dim, kernel_size, padding=(kernel_size - 1) // 2, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.pwconv1 = nn.Linear(dim, 4 * dim)
        self.pwconv2 = nn.Linear(4 * dim, dim)
        self.gamma = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        y = self.dwconv(x).transpose(1, 2)
        y = self.pwconv2(F.gelu(self.pwconv1(self.norm(y))))
        return x + (self.gamma * y).transpose(1, 2)


class ConvNeXtBackbone(nn.Module):
    def __init__(self, cfg: VocoderConfig):
        super().__init__()
        dims = cfg.dims
        stem = nn.Sequential(
            nn.Conv1d(cfg.input_channels, dims[0], 7, padding=3, padding_mode="replicate"),
            ChannelsFirstLayerNorm(dims[0]),
        )
        downs = [nn.Sequential(ChannelsFirstLayerNorm(dims[i]), nn.Conv1d(dims[i], dims[i + 1], 1)) for i in range(len(dims) - 1)]
        self.channel_layers = nn.ModuleList([stem, *downs])
        self.stages = nn.ModuleList(
            nn.Sequential(*(ConvNeXtBlock(dims[i], cfg.kernel_sizes[0]) for _ in range(depth)))
            for i, depth in enumerate(cfg.depths)
        )
        self.norm = ChannelsFirstLayerNorm(dims[-1])

    def forward(self, x):
        for channel_layer, stage in zip(self.channel_layers, self.stages):
            x = stage(channel_layer(x))
        return self.norm(x)


def _same_padding(kernel: int, dilation: int = 1) -> int:
    return (kernel * dilation - dilation) // 2


class ResBlock(nn.Module):
    def __init__(self, channels: int, kernel: int, dilations: list[int]):
        super().__init__()
        self.convs1 = nn.ModuleList(
            nn.Conv1d(channels, channels, kernel, dilation=d, padding=_same_padding(kernel, d)) for d in dilations
        )
        self.convs2 = nn.ModuleList(
            nn.Conv1d(channels, channels, kernel, padding=_same_padding(kernel)) for _ in dilations
        )

    def forward(self, x):
        for c1, c2 in zip(self.convs1, self.convs2):
            x = x + c2(F.silu(c1(F.silu(x))))
        return x


class HiFiGANHead(nn.Module):
    def __init__(self, cfg: VocoderConfig):
        super().__init__()
        if math.prod(cfg.upsample_rates) != cfg.hop_length:
            raise ValueError(f"vocoder upsample rates multiply to {math.prod(cfg.upsample_rates)}, hop is {cfg.hop_length}")
        ch0 = cfg.upsample_initial_channel
        self.conv_pre = nn.Conv1d(cfg.num_mels, ch0, cfg.pre_conv_kernel_size, padding=_same_padding(cfg.pre_conv_kernel_size))
        self.ups = nn.ModuleList(
            nn.ConvTranspose1d(ch0 // 2**i, ch0 // 2 ** (i + 1), k, u, padding=(k - u) // 2)
            for i, (u, k) in enumerate(zip(cfg.upsample_rates, cfg.upsample_kernel_sizes))
        )
        self.num_kernels = len(cfg.resblock_kernel_sizes)
        self.resblocks = nn.ModuleList(
            ResBlock(ch0 // 2 ** (i + 1), k, d)
            for i in range(len(self.ups))
            for k, d in zip(cfg.resblock_kernel_sizes, cfg.resblock_dilation_sizes)
        )
        last = ch0 // 2 ** len(self.ups)
        self.conv_post = nn.Conv1d(last, 1, cfg.post_conv_kernel_size, padding=_same_padding(cfg.post_conv_kernel_size))

    def forward(self, x):
        x = self.conv_pre(x)
        for i, up in enumerate(self.ups):
            x = up(F.silu(x))
            blocks = self.resblocks[i * self.num_kernels : (i + 1) * self.num_kernels]
            total = blocks[0](x)
            for block in blocks[1:]:
                total = total + block(x)
            x = total / self.num_kernels
        return torch.tanh(self.conv_post(F.silu(x)))


class _MelBuffers(nn.Module):
    """Holds the checkpoint's `mel_transform.spectrogram.window` and `.mel_scale.fb`."""

    def __init__(self, cfg: VocoderConfig):
        super().__init__()
        self.spectrogram = nn.Module()
        self.spectrogram.register_buffer("window", torch.zeros(cfg.win_length))
        self.mel_scale = nn.Module()
        self.mel_scale.register_buffer("fb", torch.zeros(cfg.n_fft // 2 + 1, cfg.n_mels))


class HiFiGANVocoder(nn.Module):
    def __init__(self, cfg: VocoderConfig):
        super().__init__()
        self.config = cfg
        self.backbone = ConvNeXtBackbone(cfg)
        self.head = HiFiGANHead(cfg)
        self.mel_transform = _MelBuffers(cfg)

    @property
    def window(self) -> torch.Tensor:
        return self.mel_transform.spectrogram.window

    @property
    def mel_filterbank(self) -> torch.Tensor:
        return self.mel_transform.mel_scale.fb

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        """mel (N, 128, T) log-mel -> (N, 1, hop * T) waveform in [-1, 1]."""
        return self.head(self.backbone(mel))

    def decode_channels(self, mel: torch.Tensor) -> torch.Tensor:
        """The channels of one song (C, 128, T) -> (C, 1, hop * T): in one batch on an
        accelerator; one at a time on a CPU, where the batch of two measured 1.28x slower for a
        30 s song (bench/bench_v1_vocoder_same_weights.py; the same numbers either way)."""
        if mel.device.type != "cpu":
            return self(mel)
        return torch.cat([self(mel[channel : channel + 1]) for channel in range(mel.shape[0])])


_WEIGHT_NORM = re.compile(r"^(?:(?P<stem>.+)\.)?(?P<part>weight_g|weight_v|parametrizations\.weight\.original[01])$")


def fold_weight_norm(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """weight = g * v / ||v|| (norm over all dims but 0), for both the old `weight_g/_v` keys and
    the `parametrizations.weight.original0/1` keys of the newer torch API."""
    out: dict[str, torch.Tensor] = {}
    pairs: dict[str, dict[str, torch.Tensor]] = {}
    for key, value in state.items():
        match = _WEIGHT_NORM.match(key)
        if not match:
            out[key] = value
            continue
        role = "g" if match["part"] in ("weight_g", "parametrizations.weight.original0") else "v"
        pairs.setdefault(match["stem"] or "", {})[role] = value
    for stem, pair in pairs.items():
        if set(pair) != {"g", "v"}:
            raise KeyError(f"weight-norm pair incomplete for {stem or 'weight'}: has only {sorted(pair)}")
        g, v = pair["g"].float(), pair["v"].float()
        norm = v.flatten(1).norm(dim=1).view(-1, *([1] * (v.ndim - 1)))
        out[f"{stem}.weight" if stem else "weight"] = (v * (g / norm)).to(pair["v"].dtype)
    return out
