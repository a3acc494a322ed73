"""Windowed DCAE + vocoder decode with crossfade, and the offload context manager."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from music.acestep_v1.audio.long_decode import WindowPlan, decode_windowed, windowed_apply
from music.acestep_v1.loading.checkpoint import load_autoencoder, load_vocoder
from music.acestep_v1.loading.offload import ModelOffload
from music.acestep_v1.models.dcae import MusicDCAE


def upsampling_conv(ratio=4, kernel=9):
    torch.manual_seed(0)
    conv = nn.Conv1d(2, 2 * ratio, kernel, padding=kernel // 2)

    def fn(x):  # (C, T) -> (C, ratio*T), receptive field kernel//2 frames each side
        y = conv(x[None])[0]
        return y.view(2, ratio, -1).permute(0, 2, 1).reshape(2, -1)

    return fn


def test_windowed_apply_equals_one_shot_when_context_covers_the_receptive_field():
    fn = upsampling_conv()
    x = torch.randn(2, 203)
    with torch.no_grad():
        whole = fn(x)
        for plan in (WindowPlan(window=40, context=4, crossfade=5), WindowPlan(window=64, context=8, crossfade=0),
                     WindowPlan(window=11, context=4, crossfade=5)):
            torch.testing.assert_close(windowed_apply(fn, x, plan, ratio=4), whole, rtol=0, atol=1e-5)
        assert torch.equal(windowed_apply(fn, x, WindowPlan(window=300, context=0, crossfade=0), ratio=4), whole)


def test_crossfade_ramps_sum_to_one():
    ones = torch.ones(1, 97)
    out = windowed_apply(lambda x: x.repeat_interleave(3, dim=-1), ones, WindowPlan(window=20, context=0, crossfade=6), ratio=3)
    torch.testing.assert_close(out, torch.ones(1, 291), rtol=0, atol=1e-6)


def test_window_plan_checks():
    with pytest.raises(ValueError, match="twice the crossfade"):
        WindowPlan(window=10, context=0, crossfade=5)


@pytest.fixture(scope="module")
def tiny_dcae(v1_reference):
    ck = v1_reference / "checkpoint"
    return MusicDCAE(
        load_autoencoder(ck / "music_dcae_f8c8", device="cpu", dtype=torch.float32),
        load_vocoder(ck / "music_vocoder", device="cpu", dtype=torch.float32),
    )


def test_windowed_decode_of_the_tiny_checkpoint(tiny_dcae):
    z = torch.randn(1, 8, 16, 16, generator=torch.Generator().manual_seed(0))
    whole = tiny_dcae.decode(z)
    # windows larger than the song: identical to the one-shot decode
    big = WindowPlan(window=32, context=8, crossfade=4)
    assert torch.equal(decode_windowed(tiny_dcae, z, dcae_plan=big, vocoder_plan=WindowPlan(window=256, context=0, crossfade=0)), whole)
    # vocoder windows only: equal up to rounding (context covers its receptive field)
    voc = decode_windowed(tiny_dcae, z, dcae_plan=big, vocoder_plan=WindowPlan(window=64, context=24, crossfade=8))
    torch.testing.assert_close(voc, whole, rtol=0, atol=1e-4)
    # DCAE windows too: its attention is global per window, so close but not equal (random tiny weights)
    both = decode_windowed(tiny_dcae, z, dcae_plan=WindowPlan(window=8, context=4, crossfade=2),
                           vocoder_plan=WindowPlan(window=64, context=24, crossfade=8))
    assert both.shape == whole.shape and torch.isfinite(both).all()
    assert (both - whole).abs().max() < 0.25 * whole.abs().max()


class Recorder(nn.Linear):
    def __init__(self, log):
        super().__init__(2, 2)
        self.log = log

    def to(self, *args, **kwargs):
        self.log.append(str(args[0]))
        return self


def test_offload_moves_only_while_in_use():
    log = []
    module = Recorder(log)
    off = ModelOffload(device="cuda", enabled=True)
    off.park_all(module)
    with off.use(module):
        assert log == ["cpu", "cuda"]
    assert log == ["cpu", "cuda", "cpu"]
    with pytest.raises(RuntimeError):
        with off.use(module):
            raise RuntimeError("boom")
    assert log[-1] == "cpu"
    disabled = ModelOffload(device="cpu", enabled=True)
    assert not disabled.enabled
    with disabled.use(module):
        pass
    assert len(log) == 5
