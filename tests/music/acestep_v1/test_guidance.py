"""Guidance rules that the parity cases do not pin down on their own."""

from __future__ import annotations

import pytest
import torch

from music.acestep_v1.sampling.guidance import GuidancePlan, Guider, apg, cfg, cfg_zero_star, double_condition


def _pair(seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(2, 8, 16, 5, generator=g), torch.randn(2, 8, 16, 5, generator=g)


def test_interval_indices_use_int_truncation_like_upstream():
    plan = GuidancePlan(guidance_interval=0.5)
    assert plan.interval(60) == (15, 45)
    assert plan.interval(8) == (2, 6)
    assert GuidancePlan(guidance_interval=0.7).interval(5) == (0, 4)


def test_linear_decay_reaches_min_scale_at_the_last_guided_step():
    plan = GuidancePlan(guidance_scale=15.0, min_guidance_scale=4.0, guidance_interval_decay=1.0)
    assert plan.scale_at(10, 10, 20) == 15.0
    assert plan.scale_at(19, 10, 20) == pytest.approx(4.0)
    assert GuidancePlan(guidance_scale=15.0).scale_at(19, 10, 20) == 15.0


def test_guidance_disabled_for_scale_zero_or_one_and_double_condition_needs_both():
    assert not GuidancePlan(guidance_scale=1.0).enabled and not GuidancePlan(guidance_scale=0.0).enabled
    assert GuidancePlan(guidance_scale_text=5.0, guidance_scale_lyric=2.5).double_condition
    assert not GuidancePlan(guidance_scale_text=5.0, guidance_scale_lyric=1.0).double_condition
    with pytest.raises(ValueError, match="cfg_type"):
        GuidancePlan(cfg_type="pag")


def test_apg_adds_only_the_part_orthogonal_to_cond():
    cond, uncond = _pair()
    out = apg(cond, uncond, scale=5.0, momentum=None)
    update = (out - cond).double()
    inner = (update * cond.double()).sum(dim=(-1, -2))
    assert inner.abs().max() < 1e-3
    # the clipped difference has norm <= 2.5 per (item, channel), so the update is bounded
    assert update.norm(dim=(-1, -2)).max() <= 4 * 2.5 + 1e-4


def test_apg_momentum_carries_over_steps():
    cond, uncond = _pair()
    guider = Guider(GuidancePlan())
    first = guider.combine(step=0, scale=15.0, cond=cond, uncond=uncond, text_only=None)
    second = guider.combine(step=1, scale=15.0, cond=cond, uncond=uncond, text_only=None)
    assert not torch.allclose(first, second)  # running average = diff * (1 - 0.75) on step 2


def test_cfg_star_zero_init_then_optimised_scale():
    cond, uncond = _pair()
    assert torch.count_nonzero(cfg_zero_star(cond, uncond, scale=7.0, step=1)) == 0
    out = cfg_zero_star(cond, uncond, scale=1.0, step=2)
    assert torch.allclose(out, cond, atol=1e-6)  # scale 1 gives back cond whatever alpha is


def test_cfg_and_double_condition_formulas():
    cond, uncond = _pair()
    text_only = (cond + uncond) / 2
    assert torch.allclose(cfg(cond, uncond, scale=1.0), cond, atol=1e-6)
    assert torch.allclose(double_condition(cond, uncond, text_only, text_scale=1.0, lyric_scale=1.0), cond, atol=1e-6)
    guider = Guider(GuidancePlan(guidance_scale_text=5.0, guidance_scale_lyric=2.5))
    out = guider.combine(step=0, scale=15.0, cond=cond, uncond=uncond, text_only=text_only)
    assert torch.allclose(out, -4.0 * uncond + 2.5 * text_only + 2.5 * cond, atol=1e-5)
