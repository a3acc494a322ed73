"""Every combination of the three ERG switches and double-condition guidance builds upstream's
condition rows. The reference cases cover only (tag, lyric, diffusion) = (T, T, T), (F, F, F)
and (T, F, T); here the other combinations are checked against upstream's recipe, rebuilt with
upstream's own mechanism (separate encoder calls and in-place forward hooks scaling `q` by 0.01)
rather than our batched rows and per-row `q_scale`."""

from __future__ import annotations

import itertools
from contextlib import contextmanager

import pytest
import torch

from music.acestep_v1.sampling.guidance import GuidancePlan
from tests.music.acestep_v1.reference_cases import max_abs

PROMPT = "folk, acoustic guitar, male vocal, warm"
IDS = [261, 259, 6683, 2, 300, 301, 2]
TIGHT = 1e-5


@contextmanager
def weakened(modules):
    """Upstream's ERG hooks: `output[:] *= 0.01` on each module's forward."""

    def hook(module, args, output):
        output[:] *= 0.01
        return output

    handles = [m.register_forward_hook(hook) for m in modules]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


def upstream_rows(pipe, *, use_erg_tag, use_erg_lyric, double):
    """Upstream's `__call__` + `text2music_diffusion_process` condition encodings (batch 1)."""
    te, dit = pipe.text_encoder, pipe.transformer
    inputs = te.tokenize(PROMPT)
    text = te.model(**inputs).last_hidden_state
    text_null = None
    if use_erg_tag:
        with weakened([te.model.encoder.block[i].layer[0].SelfAttention.q for i in (8, 9)]):
            text_null = te.model(**inputs).last_hidden_state
    mask = inputs["attention_mask"]
    ids = torch.tensor([IDS])
    lyric_mask = torch.ones_like(ids)
    speaker = torch.zeros(1, 512)
    lyric_q = [dit.lyric_encoder.encoders[i].self_attn.linear_q for i in (4, 5)]

    def encode(text_states, lyric_ids):
        return dit.encode(text_states=text_states, text_mask=mask, speaker_embeds=speaker, lyric_ids=lyric_ids,
                          lyric_mask=lyric_mask).states

    rows = {"cond": encode(text, ids)}
    if use_erg_lyric:
        with weakened(lyric_q):
            rows["null"] = encode(text_null if text_null is not None else torch.zeros_like(text), ids)
    else:
        rows["null"] = encode(torch.zeros_like(text), torch.zeros_like(ids))
    if double:
        if use_erg_lyric:
            with weakened(lyric_q):
                rows["text_only"] = encode(text, ids)
        else:
            rows["text_only"] = encode(text, torch.zeros_like(ids))
    return rows


@pytest.mark.parametrize(
    "use_erg_tag,use_erg_lyric,use_erg_diffusion,double", list(itertools.product([True, False], repeat=4))
)
def test_condition_rows_equal_upstreams_recipe(v1_pipeline, use_erg_tag, use_erg_lyric, use_erg_diffusion, double):
    plan = GuidancePlan(
        guidance_scale=15.0, guidance_scale_text=5.0 if double else 0.0, guidance_scale_lyric=2.5 if double else 0.0
    )
    with torch.inference_mode():
        expected = upstream_rows(v1_pipeline, use_erg_tag=use_erg_tag, use_erg_lyric=use_erg_lyric, double=double)
        ours = v1_pipeline.encode_conditions(
            prompt=PROMPT, lyric_ids=IDS, batch_size=2, plan=plan,
            use_erg_tag=use_erg_tag, use_erg_lyric=use_erg_lyric, use_erg_diffusion=use_erg_diffusion,
        )
    kinds = {"cond": ours.cond, "null": ours.null, "text_only": ours.text_only}
    assert (ours.text_only is not None) == double
    for name, states in expected.items():
        got = kinds[name].states
        assert got.shape[0] == 2  # expanded to the batch
        assert max_abs(got[0:1], states) < TIGHT, name
        assert torch.equal(got[0], got[1])
    # the guided batch is [cond | text_only | null]; only the null rows get the ERG-diffusion factor
    order = ["cond"] + (["text_only"] if double else []) + ["null"]
    assert max_abs(ours.guided.states, torch.cat([kinds[n].states for n in order])) == 0.0
    weak = 0.01 if use_erg_diffusion else 1.0
    assert ours.guided_q_scale.tolist() == pytest.approx([1.0] * 2 * (len(order) - 1) + [weak] * 2)


def test_no_null_rows_without_guidance(v1_pipeline):
    for scale in (0.0, 1.0):
        with torch.inference_mode():
            ours = v1_pipeline.encode_conditions(
                prompt=PROMPT, lyric_ids=IDS, batch_size=1, plan=GuidancePlan(guidance_scale=scale,
                guidance_scale_text=5.0, guidance_scale_lyric=2.5),
                use_erg_tag=True, use_erg_lyric=True, use_erg_diffusion=True,
            )
        assert ours.null is None and ours.text_only is None and ours.guided is None
