"""Schedules and sampler behaviour against upstream's stored schedules (no model needed)."""

from __future__ import annotations

import pytest
import torch

from music.acestep_v1.sampling.schedulers import (
    EulerSampler,
    HeunSampler,
    make_schedule,
    omega_weight,
    parse_oss_steps,
)
from tests.music.acestep_v1.reference_cases import TEXT2MUSIC_CASES, max_abs


@pytest.mark.parametrize("name", TEXT2MUSIC_CASES)
def test_loop_schedule_equals_upstream(name, v1_cases, v1_tensors):
    kwargs, tensors = v1_cases[name]["kwargs"], v1_tensors(name)
    schedule = make_schedule(
        scheduler_type=kwargs["scheduler_type"], infer_step=kwargs["infer_step"],
        omega_scale=kwargs["omega_scale"], oss_steps=kwargs.get("oss_steps"),
    )
    assert max_abs(schedule.timesteps, tensors["timesteps"]) == 0.0
    assert max_abs(schedule.sampler.sigmas, tensors["sigmas"]) == 0.0


def test_heun_visits_each_inner_timestep_twice_and_keeps_n_for_the_interval():
    schedule = make_schedule(scheduler_type="heun", infer_step=5, omega_scale=5.0)
    assert len(schedule.timesteps) == 9
    assert schedule.num_inference_steps == 5
    assert torch.equal(schedule.timesteps[1], schedule.timesteps[2])


def test_oss_steps_count_and_rejections():
    assert make_schedule(scheduler_type="euler", infer_step=60, omega_scale=10, oss_steps="1,4,9").num_inference_steps == 3
    assert parse_oss_steps("") == [] and parse_oss_steps([2, 5]) == [2, 5]
    with pytest.raises(ValueError, match="comma-separated"):
        parse_oss_steps("1;4")
    with pytest.raises(ValueError, match="1-based"):
        parse_oss_steps("0,3")
    with pytest.raises(ValueError, match="repeat the first step"):
        parse_oss_steps("4,9,4")
    assert parse_oss_steps("1,4,4") == [1, 4, 4]  # a later repeat runs upstream too (a zero-length step)
    with pytest.raises(ValueError, match="Heun"):
        make_schedule(scheduler_type="heun", infer_step=10, omega_scale=10, oss_steps="1,2")
    with pytest.raises(ValueError, match="scheduler_type"):
        make_schedule(scheduler_type="ddim", infer_step=10, omega_scale=10)


def test_omega_mean_shift_couples_the_batch():
    """The mean is over the whole tensor: changing item 1 moves item 0's update."""
    assert omega_weight(10.0) == pytest.approx(0.9 + 0.2 / (1 + torch.exp(torch.tensor(-1.0)).item()))
    sigmas = torch.tensor([1.0, 0.5])
    sample = torch.zeros(2, 8, 16, 4)
    v1 = torch.randn(2, 8, 16, 4, generator=torch.Generator().manual_seed(0))
    v2 = v1.clone()
    v2[1] += 5.0
    out1 = EulerSampler(sigmas, omega=10.0).step(v1, sample)
    out2 = EulerSampler(sigmas, omega=10.0).step(v2, sample)
    assert not torch.allclose(out1[0], out2[0])
    # omega weight 1 (no shift) would leave item 0 untouched
    plain = EulerSampler(sigmas, omega=10.0)
    plain.weight = 1.0
    assert torch.allclose(plain.step(v1, sample)[0], -0.5 * v1[0])


def test_heun_final_step_is_euler_to_zero():
    schedule = make_schedule(scheduler_type="heun", infer_step=2, omega_scale=0.0)
    sampler: HeunSampler = schedule.sampler
    x = torch.ones(1, 8, 16, 2)
    v = torch.full_like(x, 0.5)
    for _ in range(len(schedule.timesteps)):
        x = sampler.step(v, x)
    # constant velocity: Heun = Euler, the whole path integrates to x0 = x1 - sigma_max * v
    assert torch.allclose(x, torch.ones_like(x) - schedule.sampler.sigmas[0] * 0.5, atol=1e-6)
