"""Create: prompt + lyrics -> a music job on the queue; progress; the takes side by side.

The job id lives in the URL (?job=...), so a reload or a shared link shows the same job.
"""

import streamlit as st

from studio.ui import presets
from studio.ui.common import demo_notice, shown_errors, studio
from studio.ui.create_form import MAX_TAKES, Advanced15, AdvancedV1, CreateForm, build_request, engine_family
from studio.ui.progress import job_status_panel
from studio.ui.takes import take_card

s = studio()
st.title("Create")
demo_notice(s)

# Widgets are keyed and read their values from session state. Values handed over by other pages
# ("send to Create", "use these settings") are written into that state once. (Passing them as
# `value=` instead would make each widget a new one whenever they change, losing what was typed.)
KEYS = ("auto", *presets.KEYS)
SIGNATURES = ("auto", *presets.TIME_SIGNATURES)


def load_form(form: CreateForm) -> None:
    v1, v15 = form.v1, form.v15
    st.session_state.update({
        "create-prompt": form.prompt, "create-genres": [], "create-moods": [], "create-instruments": [],
        "create-lyrics": form.lyrics, "create-duration": max(1, min(240, round(form.duration))), "create-instrumental": form.instrumental,
        "create-engine": form.engine, "create-takes": form.takes, "create-lock": form.lock_seeds,
        "create-seeds": form.seeds_text, "create-steps": form.steps or 0,
        "create-guidance": float(form.guidance_scale or 0.0), "create-scheduler": v1.scheduler_type,
        "create-cfg": v1.cfg_type, "create-omega": float(v1.omega_scale), "create-interval": float(v1.guidance_interval),
        "create-decay": float(v1.guidance_interval_decay), "create-min-guidance": float(v1.min_guidance_scale),
        "create-erg-tag": v1.use_erg_tag, "create-erg-lyric": v1.use_erg_lyric,
        "create-erg-diffusion": v1.use_erg_diffusion, "create-bpm": v15.bpm or 0,
        "create-key": v15.keyscale if v15.keyscale in KEYS else "auto",
        "create-signature": v15.timesignature if v15.timesignature in SIGNATURES else "auto",
    })


prefill = st.session_state.pop("create_prefill", None)
if prefill is not None or "create-prompt" not in st.session_state:
    load_form(prefill or CreateForm(engine=s.default_engine()))
engines = s.engine_names()
if st.session_state["create-engine"] not in engines:
    engines = [st.session_state["create-engine"], *engines]

with st.form("create"):
    prompt = st.text_area("Style prompt", key="create-prompt", placeholder="e.g. dreamy synthwave, female vocal, 90 bpm")
    c1, c2, c3 = st.columns(3)
    genres = c1.multiselect("Genre", presets.GENRES, key="create-genres")
    moods = c2.multiselect("Mood", presets.MOODS, key="create-moods")
    instruments = c3.multiselect("Instruments", presets.INSTRUMENTS, key="create-instruments")
    lyrics = st.text_area("Lyrics", key="create-lyrics", height=220,
                          help="Sections start with a tag on its own line: " + " ".join(f"[{t}]" for t in presets.SECTION_TAGS))
    c1, c2, c3 = st.columns(3)
    duration = c1.slider("Duration (seconds)", 1, 240, key="create-duration")
    instrumental = c2.toggle("Instrumental", key="create-instrumental")
    engine = c3.selectbox("Engine", engines, key="create-engine")
    c1, c2, c3 = st.columns(3)
    takes = c1.number_input("Takes", 1, MAX_TAKES, key="create-takes")
    lock_seeds = c2.toggle("Lock seeds", key="create-lock", help="Off: new random seeds every time")
    seeds_text = c3.text_input("Seeds", key="create-seeds", placeholder="42 or 42, 43")
    with st.expander("Advanced settings"):
        c1, c2 = st.columns(2)
        steps = c1.number_input("Steps (0 = engine default)", 0, 200, key="create-steps")
        guidance = c2.number_input("Guidance scale (0 = engine default)", 0.0, 30.0, key="create-guidance")
        st.markdown("**ACE-Step v1**")
        c1, c2, c3 = st.columns(3)
        scheduler = c1.selectbox("Scheduler", presets.V1_SCHEDULERS, key="create-scheduler")
        cfg_type = c2.selectbox("CFG type", presets.V1_CFG_TYPES, key="create-cfg")
        omega = c3.number_input("Granularity (omega)", -100.0, 100.0, key="create-omega")
        c1, c2, c3 = st.columns(3)
        interval = c1.slider("Guidance interval", 0.0, 1.0, key="create-interval")
        decay = c2.slider("Guidance interval decay", 0.0, 1.0, key="create-decay")
        min_guidance = c3.number_input("Min guidance scale", 0.0, 200.0, key="create-min-guidance")
        c1, c2, c3 = st.columns(3)
        erg_tag = c1.checkbox("ERG for tags", key="create-erg-tag")
        erg_lyric = c2.checkbox("ERG for lyrics", key="create-erg-lyric")
        erg_diffusion = c3.checkbox("ERG for diffusion", key="create-erg-diffusion")
        st.markdown("**ACE-Step 1.5**")
        c1, c2, c3 = st.columns(3)
        bpm = c1.number_input("BPM (0 = auto)", 0, 300, key="create-bpm")
        key = c2.selectbox("Key", KEYS, key="create-key")
        signature = c3.selectbox("Time signature", SIGNATURES, key="create-signature")
    submitted = st.form_submit_button("Generate", type="primary", icon="🎵")

if submitted:
    form = CreateForm(
        prompt=presets.compose_prompt(prompt, genres=genres, moods=moods, instruments=instruments),
        lyrics=lyrics, duration=duration, instrumental=instrumental, engine=engine, takes=int(takes),
        lock_seeds=lock_seeds, seeds_text=seeds_text, steps=int(steps) or None, guidance_scale=float(guidance) or None,
        v1=AdvancedV1(scheduler_type=scheduler, cfg_type=cfg_type, omega_scale=omega, guidance_interval=interval,
                      guidance_interval_decay=decay, min_guidance_scale=min_guidance, use_erg_tag=erg_tag,
                      use_erg_lyric=erg_lyric, use_erg_diffusion=erg_diffusion),
        v15=Advanced15(bpm=int(bpm) or None, keyscale=None if key == "auto" else key,
                       timesignature=None if signature == "auto" else signature),
    )
    with shown_errors():
        request = build_request(form)
        job_id = s.submit_music(request, engine=engine)
        st.query_params["job"] = job_id
        if engine_family(engine) == "other" and (form.v1 != AdvancedV1() or form.v15 != Advanced15()):
            st.caption(f"The {engine} engine takes no ACE-Step sampler options; they were not sent.")

job_id = st.query_params.get("job")
if job_id:
    st.subheader("Job")
    st.caption(f"Job id `{job_id}`")
    job = job_status_panel(s, job_id, key="create-job")
    if job is not None and job.status == "done":
        takes_done = s.takes_of_job(job_id)
        if not takes_done:
            st.warning("The job finished but stored no takes.", icon="⚠️")
        for column, take in zip(st.columns(max(1, len(takes_done))), takes_done):
            with column:
                take_card(s, take, key=f"create-take-{take.id}")
