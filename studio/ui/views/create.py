"""Create: prompt + lyrics -> a music job on the queue; progress; the takes side by side.

The ids of the jobs made here live in the URL (?job=<newest>&job=<earlier>...), so a reload or a
shared link shows the same jobs, and a reload fills the form from the newest job's request. A new
job never hides an earlier one: each keeps its own progress and takes, newest first.

Generate queues the job in the submit button's callback and then reruns only the job panel (a
keyed fragment), not the page: redrawing the 35-widget form in the browser after every click
was most of the time between the click and "Queued" (issue #8, bench/bench_ui_generate.py).
An input error is shown in that panel too; the form keeps what was typed either way.
"""

import streamlit as st

from studio.durations import ROUNDING_HELP, rendered_seconds
from studio.ui import presets
from studio.ui.adapter_picker import adapter_controls, chosen_adapter
from studio.ui.common import USER_ERRORS, demo_notice, studio
from studio.ui.create_form import (
    INSTRUMENTAL_LYRICS,
    SEED_LIMIT,
    Advanced15,
    AdvancedV1,
    CreateForm,
    build_request,
    engine_family,
    form_from_request,
)
from studio.ui.job_rows import panel_job
from studio.ui.jobs_panel import fragments_to_rerun_after_submit
from studio.ui.limits import EngineLimits, limits_for
from studio.ui.lyric_meter import measure
from studio.ui.meter_view import show_meter
from studio.ui.plain import md_escape
from studio.ui.progress import job_status_panel
from studio.ui.song_session import CURRENT_SONG, current_song
from studio.ui.takes import take_card

s = studio()
st.title("Create")
demo_notice(s)
song = current_song(s, open_latest=False)  # takes go into this song; none yet: Generate starts one
if song is not None:
    c1, c2 = st.columns([5, 1], vertical_alignment="center")
    c1.text(f"Song: {song.title or 'untitled'} (takes are named after it)")
    if c2.button("New song", key="create-new-song", help="The next Generate starts a new song"):
        st.session_state.pop(CURRENT_SONG, None)
        del st.query_params["song"]
        st.rerun()

# Widgets are keyed and read their values from session state. Values handed over by other pages
# ("send to Create", "use these settings") are written into that state once. (Passing them as
# `value=` instead would make each widget a new one whenever they change, losing what was typed.)
KEYS = ("auto", *presets.KEYS)
SIGNATURES = ("auto", *presets.TIME_SIGNATURES)
JOB_PANEL = "create-job-panel"  # the fragment that Generate reruns
JOBS_SHOWN = 6  # older jobs of this session stay on the Jobs page


def load_form(form: CreateForm) -> None:
    v1, v15 = form.v1, form.v15
    st.session_state.update({
        "create-prompt": form.prompt, "create-genres": [], "create-moods": [], "create-instruments": [],
        "create-lyrics": form.lyrics, "create-duration": max(1, round(form.duration)), "create-instrumental": form.instrumental,
        "create-engine": form.engine, "create-takes": form.takes, "create-lock": form.lock_seeds,
        "create-seeds": form.seeds_text, "create-steps": form.steps or 0,
        "create-guidance": float(form.guidance_scale or 0.0), "create-scheduler": v1.scheduler_type,
        "create-cfg": v1.cfg_type, "create-omega": float(v1.omega_scale), "create-interval": float(v1.guidance_interval),
        "create-decay": float(v1.guidance_interval_decay), "create-min-guidance": float(v1.min_guidance_scale),
        "create-erg-tag": v1.use_erg_tag, "create-erg-lyric": v1.use_erg_lyric,
        "create-erg-diffusion": v1.use_erg_diffusion, "create-fast-int8": v1.fast_int8,
        "create-fast-step-cache": v1.fast_step_cache, "create-step-cache-threshold": float(v1.step_cache_threshold),
        "create-bpm": v15.bpm or 0,
        "create-key": v15.keyscale if v15.keyscale in KEYS else "auto",
        "create-signature": v15.timesignature if v15.timesignature in SIGNATURES else "auto",
    })


def url_jobs() -> list[str]:
    return [j for j in st.query_params.get_all("job") if j][:JOBS_SHOWN]


def form_of_job(job_id: str) -> CreateForm | None:
    """The form as it was when the job was submitted (after a reload). Seeds come back as text,
    unlocked: the job stores the seeds it used, not whether they were locked."""
    job = panel_job(s.jobs, job_id)
    request = (job.spec.get("request") or {}) if job is not None and job.kind == "music" else {}
    if not request or (request.get("task") or "text2music") != "text2music":
        return None
    form = form_from_request(request, engine=str(job.spec.get("engine") or s.default_engine()))
    form.lock_seeds = False
    return form


prefill = st.session_state.pop("create_prefill", None)
if prefill is None and "create-prompt" not in st.session_state and url_jobs():
    prefill = form_of_job(url_jobs()[0])  # a reload: the form the newest job was made with
if prefill is not None or "create-prompt" not in st.session_state:
    load_form(prefill or CreateForm(engine=s.default_engine()))
engines = s.engine_names()
if st.session_state["create-engine"] not in engines:
    engines = [st.session_state["create-engine"], *engines]


def keep_within(limits: EngineLimits) -> None:
    """Values handed over (another engine's take, an older job) or left from another engine, kept
    inside this engine's limits, so every widget can draw them."""
    v = st.session_state
    v["create-duration"] = max(limits.min_duration, min(limits.max_duration, int(v["create-duration"])))
    v["create-takes"] = max(1, min(limits.max_takes, int(v["create-takes"])))
    v["create-steps"] = max(0, min(limits.max_steps, int(v["create-steps"])))


def use_example(example, limits: EngineLimits) -> None:
    """An example from data/examples.toml into the form (a callback: before the widgets draw)."""
    if example is None:
        return
    lyrics = example.lyrics.strip()
    st.session_state.update({
        "create-prompt": example.prompt, "create-lyrics": "" if lyrics == INSTRUMENTAL_LYRICS else lyrics,
        "create-instrumental": lyrics == INSTRUMENTAL_LYRICS,
        "create-duration": max(limits.min_duration, min(limits.max_duration, round(example.duration))),
        "create-genres": [], "create-moods": [], "create-instruments": [],
    })


def lyrics_help(limits: EngineLimits) -> str:
    parts = ["Sections start with a tag on its own line: " + " ".join(f"[{t}]" for t in presets.SECTION_TAGS) + "."]
    if limits.lyric_token_limit:
        parts.append(f"{limits.engine} reads at most {limits.lyric_token_limit:,} lyric tokens"
                     + (f" and lines of at most {limits.lyric_line_chars:,} characters" if limits.lyric_line_chars
                        else "") + ".")
    return " ".join(parts)


def form_from_state() -> CreateForm:
    """The submitted form: the widgets are keyed, so their values are in session state."""
    v = st.session_state
    return CreateForm(
        prompt=presets.compose_prompt(v["create-prompt"], genres=v["create-genres"], moods=v["create-moods"],
                                      instruments=v["create-instruments"]),
        lyrics=v["create-lyrics"], duration=v["create-duration"], instrumental=v["create-instrumental"],
        engine=v["create-engine"], takes=int(v["create-takes"]), lock_seeds=v["create-lock"],
        seeds_text=v["create-seeds"], steps=int(v["create-steps"]) or None,
        guidance_scale=float(v["create-guidance"]) or None,
        v1=AdvancedV1(scheduler_type=v["create-scheduler"], cfg_type=v["create-cfg"], omega_scale=v["create-omega"],
                      guidance_interval=v["create-interval"], guidance_interval_decay=v["create-decay"],
                      min_guidance_scale=v["create-min-guidance"], use_erg_tag=v["create-erg-tag"],
                      use_erg_lyric=v["create-erg-lyric"], use_erg_diffusion=v["create-erg-diffusion"],
                      fast_int8=v["create-fast-int8"], fast_step_cache=v["create-fast-step-cache"],
                      step_cache_threshold=v["create-step-cache-threshold"]),
        v15=Advanced15(bpm=int(v["create-bpm"]) or None, keyscale=None if v["create-key"] == "auto" else v["create-key"],
                       timesignature=None if v["create-signature"] == "auto" else v["create-signature"]),
    )


def generate() -> None:
    """Generate's callback: queue the job (or keep the error for the panel), then rerun the panel only.
    The form is not redrawn; it still shows exactly what was submitted."""
    st.session_state.pop("create-outcome", None)
    form = form_from_state()
    meter = measure(form.lyrics, limits=limits_for(form.engine), duration=float(form.duration), settings=s.settings,
                    instrumental=form.instrumental)
    if meter.problems:  # what the meter already showed in red: the same words, nothing queued
        st.session_state["create-outcome"] = ("error", "; ".join(meter.problems))
        st.rerun(fragments_to_rerun_after_submit(JOB_PANEL))
    try:
        request = build_request(form)
        request.lora, request.lora_weight = chosen_adapter()  # a library adapter, by name
        job_id = s.submit_music(request, engine=form.engine, song_id=song.id if song else None).id
    except USER_ERRORS as exc:
        st.session_state["create-outcome"] = ("error", str(exc))
    else:
        st.query_params["job"] = [job_id, *url_jobs()][:JOBS_SHOWN]
        if song is None:  # the job started a song: the next Generate adds to it
            st.session_state[CURRENT_SONG] = s.song_of_job(job_id)
        if engine_family(form.engine) == "other" and (form.v1 != AdvancedV1() or form.v15 != Advanced15()):
            st.session_state["create-outcome"] = (
                "note", f"The {form.engine} engine takes no ACE-Step sampler options; they were not sent.")
    st.rerun(fragments_to_rerun_after_submit(JOB_PANEL))


limits = limits_for(st.session_state["create-engine"])
keep_within(limits)


@st.fragment
def words_and_length() -> None:
    """Prompt, lyrics, length and engine, with the lyric meter. A fragment, not the form: the meter
    follows each edit (when the box loses focus or on Ctrl+Enter) without redrawing the page."""
    examples = {e.name: e for e in presets.EXAMPLES}
    st.selectbox("Start from an example", list(examples), index=None, key="create-example",
                 placeholder="Choose one to fill the prompt, lyrics and duration (all stay editable)",
                 on_change=lambda: use_example(examples.get(st.session_state["create-example"]), limits))
    st.text_area("Style prompt", key="create-prompt", placeholder="e.g. dreamy synthwave, female vocal, 90 bpm")
    c1, c2, c3 = st.columns(3)
    c1.multiselect("Genre", presets.GENRES, key="create-genres")
    c2.multiselect("Mood", presets.MOODS, key="create-moods")
    c3.multiselect("Instruments", presets.INSTRUMENTS, key="create-instruments")
    st.text_area("Lyrics", key="create-lyrics", height=220, help=lyrics_help(limits))
    c1, c2, c3 = st.columns(3)
    c1.slider("Duration (seconds)", limits.min_duration, limits.max_duration, key="create-duration",
              help=f"{limits.engine} makes {limits.min_duration} to {limits.max_duration} s. {ROUNDING_HELP}")
    c2.toggle("Instrumental", key="create-instrumental", help="No vocals: the lyrics are not sent")
    c3.selectbox("Engine", engines, key="create-engine", help="Each engine has its own limits; the form shows them")
    if st.session_state["create-engine"] != limits.engine:
        st.rerun(scope="app")  # another engine: redraw the form with its limits
    v = st.session_state
    show_meter(measure(v["create-lyrics"], limits=limits, duration=float(v["create-duration"]), settings=s.settings,
                       bpm=v.get("create-bpm") or None, instrumental=v["create-instrumental"]),
               made=rendered_seconds(limits.engine, float(v["create-duration"])))


words_and_length()

with st.form("create"):
    c1, c2, c3 = st.columns(3)
    c1.number_input("Takes", 1, limits.max_takes, key="create-takes",
                    help=f"{limits.engine} makes at most {limits.max_takes} takes per job")
    c2.toggle("Lock seeds", key="create-lock",
              help="Off: new random seeds every time (seeds typed here are still checked). On: the seeds below")
    c3.text_input("Seeds", key="create-seeds", placeholder="42 or 42, 43",
                  help=f"Whole numbers from 0 to {SEED_LIMIT - 1:,}: one for every take, or one per take")
    with st.expander("Advanced settings"):
        c1, c2 = st.columns(2)
        c1.number_input("Steps (0 = engine default)", 0, limits.max_steps, key="create-steps",
                        help=f"{limits.engine} takes 1 to {limits.max_steps} steps")
        c2.number_input("Guidance scale (0 = engine default)", 0.0, 30.0, key="create-guidance")
        st.markdown("**ACE-Step v1**")
        c1, c2, c3 = st.columns(3)
        c1.selectbox("Scheduler", presets.V1_SCHEDULERS, key="create-scheduler")
        c2.selectbox("CFG type", presets.V1_CFG_TYPES, key="create-cfg")
        c3.number_input("Granularity (omega)", -100.0, 100.0, key="create-omega")
        c1, c2, c3 = st.columns(3)
        c1.slider("Guidance interval", 0.0, 1.0, key="create-interval")
        c2.slider("Guidance interval decay", 0.0, 1.0, key="create-decay")
        c3.number_input("Min guidance scale", 0.0, 200.0, key="create-min-guidance")
        c1, c2, c3 = st.columns(3)
        c1.checkbox("ERG for tags", key="create-erg-tag")
        c2.checkbox("ERG for lyrics", key="create-erg-lyric")
        c3.checkbox("ERG for diffusion", key="create-erg-diffusion")
        c1, c2, c3 = st.columns(3)
        c1.checkbox("Fast: int8", key="create-fast-int8",
                    help="Int8 linear layers in the DiT: faster on a CPU, slightly different audio. CPU only")
        c2.checkbox("Fast: step cache", key="create-fast-step-cache",
                    help="Skips most of the DiT on steps where its input barely changes: faster, slightly "
                         "different audio. Any device")
        c3.number_input("Step cache threshold", 0.001, 1.0, key="create-step-cache-threshold", step=0.01,
                        format="%.3f", help="Larger skips more steps and changes the audio more")
        st.markdown("**ACE-Step 1.5**")
        c1, c2, c3 = st.columns(3)
        c1.number_input("BPM (0 = auto)", 0, 300, key="create-bpm")
        c2.selectbox("Key", KEYS, key="create-key")
        c3.selectbox("Time signature", SIGNATURES, key="create-signature")
    adapter_controls(s, st.session_state["create-engine"])
    st.form_submit_button("Generate", type="primary", icon=":material/music_note:", on_click=generate)


@st.fragment(key=JOB_PANEL)
def job_panel() -> None:
    """What Generate produced: an error, or the jobs made here (from the URL), newest first, each
    with its progress and then its takes."""
    outcome = st.session_state.pop("create-outcome", None)
    if outcome is not None:
        kind, text = outcome
        if kind == "error":
            st.error(md_escape(text), icon=":material/warning:")  # it may quote user text
        else:
            st.caption(text)
    job_ids = url_jobs()
    if not job_ids:
        return
    st.subheader("Jobs")
    for job_id in job_ids:
        with st.container(border=True):
            st.caption(f"Job `{job_id}`")
            job = job_status_panel(s, job_id, key=f"create-job-{job_id}")
            if job is not None and job.status == "done":
                takes_done = s.takes_of_job(job_id)
                if not takes_done:
                    st.warning("The job finished but stored no takes.", icon=":material/warning:")
                for column, take in zip(st.columns(max(1, len(takes_done))), takes_done):
                    with column:
                        take_card(s, take, key=f"create-take-{take.id}")


job_panel()
