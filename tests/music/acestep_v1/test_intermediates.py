"""Stage-by-stage parity on case t2m_euler_apg, so that a mismatch points at one component:
UMT5 (and its ERG-tag null), the condition encoder (and its ERG-lyric null), every DiT decode
call of the run (including the ERG-diffusion ones), the probe velocity, the scheduler's
inputs/outputs, the DCAE decoder, the vocoder and the DCAE encode front-end."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import torch

from music.acestep_v1.models.mel import slaney_mel_filterbank
from music.acestep_v1.models.transformer import Conditions
from music.acestep_v1.sampling.guidance import GuidancePlan, Guider
from music.acestep_v1.sampling.schedulers import make_schedule
from tests.music.acestep_v1.reference_cases import TOLERANCE, max_abs

CASE = "t2m_euler_apg"
TIGHT = 1e-4  # single stages agree to ~1e-6 in fp32


@pytest.fixture(scope="module")
def ref(v1_tensors):
    return v1_tensors(CASE)


def test_prompt_tokens_and_text_hidden_states(v1_pipeline, v1_cases, ref):
    prompt = v1_cases[CASE]["kwargs"]["prompt"]
    encoding = v1_pipeline.text_encoder.encode(prompt, with_null=True)
    assert torch.equal(encoding.input_ids, ref["text_input_ids"])
    assert torch.equal(encoding.mask, ref["text_attention_mask"].to(encoding.mask.dtype))
    assert max_abs(encoding.states, ref["text_hidden_states"]) < TIGHT
    assert max_abs(encoding.null_states, ref["text_hidden_states_null"]) < TIGHT
    # the ERG weakening must actually change something
    assert max_abs(encoding.null_states, encoding.states) > 1e-3


def test_condition_encoder_cond_and_erg_null(v1_pipeline, ref):
    common = dict(
        text_mask=ref["text_attention_mask"],
        speaker_embeds=torch.zeros(1, 512),
        lyric_ids=ref["lyric_token_ids"],
        lyric_mask=ref["lyric_mask"],
    )
    with torch.inference_mode():
        cond = v1_pipeline.transformer.encode(text_states=ref["text_hidden_states"], **common)
        null = v1_pipeline.transformer.encode(
            text_states=ref["text_hidden_states_null"], lyric_q_scale=torch.tensor([0.01]), **common
        )
    assert max_abs(cond.states, ref["encoder_hidden_states"]) < TIGHT
    assert torch.equal(cond.mask.float(), ref["encoder_hidden_mask"].float())
    assert max_abs(null.states, ref["encoder_hidden_states_null"]) < TIGHT


def test_pipeline_condition_set_is_upstreams(v1_pipeline, v1_cases, ref):
    """encode_conditions (one UMT5 batch, one Conformer batch) gives upstream's cond and null."""
    kwargs = v1_cases[CASE]["kwargs"]
    plan = GuidancePlan(cfg_type="apg", guidance_scale=15.0)
    conditions = v1_pipeline.encode_conditions(
        prompt=kwargs["prompt"], lyric_ids=ref["lyric_token_ids"][0].tolist(), batch_size=1, plan=plan,
        use_erg_tag=True, use_erg_lyric=True, use_erg_diffusion=True,
    )
    assert max_abs(conditions.cond.states, ref["encoder_hidden_states"]) < TIGHT
    assert max_abs(conditions.null.states, ref["encoder_hidden_states_null"]) < TIGHT
    assert conditions.text_only is None
    assert conditions.guided_q_scale.tolist() == pytest.approx([1.0, 0.01])


def test_probe_velocity(v1_pipeline, ref):
    conditions = Conditions(ref["encoder_hidden_states"], ref["encoder_hidden_mask"])
    with torch.inference_mode():
        velocity = v1_pipeline.transformer.decode(
            latents=ref["noise"], timestep=ref["probe_timestep"], conditions=conditions,
            frame_mask=torch.ones(1, ref["noise"].shape[-1]),
        )
    assert max_abs(velocity, ref["probe_velocity"]) < TIGHT


def test_every_decode_call_of_the_run(v1_pipeline, v1_cases, ref):
    contexts = {
        "cond": Conditions(ref["encoder_hidden_states"], ref["encoder_hidden_mask"]),
        "null": Conditions(ref["encoder_hidden_states_null"], ref["encoder_hidden_mask"]),
    }
    calls = v1_cases[CASE]["decode_calls"]
    assert {c["erg_diffusion_hooks"] for c in calls} == {0, 10}
    with torch.inference_mode():
        for k, call in enumerate(calls):
            q_scale = torch.tensor([0.01]) if call["erg_diffusion_hooks"] else None
            velocity = v1_pipeline.transformer.decode(
                latents=ref["decode_hidden_states"][k], timestep=ref["decode_timestep"][k],
                conditions=contexts[call["encoder_states"]], q_scale=q_scale,
            )
            assert max_abs(velocity, ref["decode_out"][k]) < TIGHT, f"decode call {k} ({call})"


def test_guidance_and_scheduler_steps(v1_cases, ref):
    """Replays upstream's decode outputs through our guidance and sampler, step by step."""
    kwargs = v1_cases[CASE]["kwargs"]
    schedule = make_schedule(scheduler_type="euler", infer_step=kwargs["infer_step"], omega_scale=kwargs["omega_scale"])
    assert max_abs(schedule.timesteps, ref["timesteps"]) == 0.0
    assert max_abs(schedule.sampler.sigmas, ref["sigmas"]) == 0.0
    plan = GuidancePlan(cfg_type="apg", guidance_scale=15.0, guidance_interval=0.5)
    guider = Guider(plan)
    start, end = plan.interval(schedule.num_inference_steps)
    calls = iter(range(ref["decode_out"].shape[0]))
    for i in range(len(schedule.timesteps)):
        cond = ref["decode_out"][next(calls)]
        if start <= i < end:
            velocity = guider.combine(step=i, scale=15.0, cond=cond, uncond=ref["decode_out"][next(calls)], text_only=None)
        else:
            velocity = cond
        assert max_abs(velocity, ref["step_model_output"][i]) < TIGHT, f"guided velocity at step {i}"
        after = schedule.sampler.step(velocity, ref["step_sample"][i])
        expected = ref["step_sample"][i + 1] if i + 1 < ref["step_sample"].shape[0] else ref["target_latents"]
        assert max_abs(after, expected) < TIGHT, f"sampler output at step {i}"


def test_dcae_decoder_and_vocoder(v1_pipeline, ref):
    with torch.inference_mode():
        mel = v1_pipeline.dcae.latents_to_mel(ref["target_latents"])
        audio = v1_pipeline.dcae.mel_to_audio(ref["dcae_decoder_out"])
    assert max_abs(mel, ref["dcae_decoder_out"]) < TIGHT
    assert max_abs(audio, ref["waveform"]) < TIGHT


def test_mel_filterbank_and_window_equal_the_checkpoint_buffers(v1_pipeline):
    vocoder = v1_pipeline.dcae.vocoder
    bank = slaney_mel_filterbank(sample_rate=44100, n_fft=2048, n_mels=128, f_min=40, f_max=16000)
    assert max_abs(bank, vocoder.mel_filterbank) < 1e-7
    assert max_abs(torch.hann_window(2048), vocoder.window) == 0.0


def test_dcae_encode_matches_upstream_src_latents(v1_pipeline, v1_reference, v1_tensors):
    """The audio->latent front-end (no torchaudio) against upstream's infer_latents. The tiny
    random DCAE is ill-conditioned here (1e-7 input noise moves latents by ~4e-4), hence the
    end-to-end tolerance rather than the tight one."""
    data, rate = sf.read(v1_reference / "source_44k.wav", dtype="float32", always_2d=True)
    assert rate == 44100
    audio = torch.from_numpy(np.ascontiguousarray(data.T))[None]
    with torch.inference_mode():
        latents = v1_pipeline.dcae.encode(audio)
    assert max_abs(latents, v1_tensors("repaint")["src_latents"]) < TOLERANCE
