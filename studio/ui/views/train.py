"""Train: a LoRA adapter from your own takes or clips, as a queued job, with a live loss plot.

Pick takes from the library and/or upload clips (each with its tags and lyrics; empty lyrics =
instrumental), choose rank, steps and learning rate (defaults that work), and Train queues a
`train` job. The job id lives in the URL (?job=...). While it runs the panel polls: step i/N,
loss, ETA, the loss curve, Cancel. A cancelled or failed run resumes from its last checkpoint
with Resume. When it is done, "Try it on Create" opens Create with the adapter picked.
"""

import json

import streamlit as st

from studio.train_spec import DEFAULTS, TRAINABLE, TrainClip, TrainJobSpec
from studio.ui.adapter_picker import try_on_create
from studio.ui.common import USER_ERRORS, demo_notice, studio
from studio.ui.paths import CREATE
from studio.ui.plain import md_escape

s = studio()
st.title("Train")
demo_notice(s)
st.caption("Teach an engine your sound: a LoRA adapter trained on your own takes or clips.")

engines = [e for e in s.engine_names() if e in TRAINABLE] or list(TRAINABLE)
engines.sort(key=lambda e: e != s.default_engine())  # the studio's engine first
engine = st.selectbox("Engine", engines, key="train-engine")
name = st.text_input("Adapter name", key="train-name", placeholder="e.g. my-sound")

st.subheader("Clips")
recent = s.library.search(engine=engine, limit=100).items  # takes of this engine, newest first
labels = {f"#{t.id} {t.title}": t.id for t in recent}
picked = st.multiselect("Takes from the library", list(labels), key="train-takes",
                        help="Each take trains with its own prompt as tags and its lyrics")
uploads = st.file_uploader("Or upload clips (WAV, FLAC, MP3)", type=["wav", "flac", "mp3"],
                           accept_multiple_files=True, key="train-uploads")
for index, upload in enumerate(uploads or []):
    with st.container(border=True):
        st.text(upload.name)
        st.text_input("Tags", key=f"train-tags-{index}", placeholder="genre, instruments, mood")
        st.text_area("Lyrics (empty = instrumental)", key=f"train-lyrics-{index}", height=80)

c1, c2, c3 = st.columns(3)
c1.number_input("Rank", 1, 256, value=DEFAULTS["rank"], key="train-rank")
c2.number_input("Steps", 1, 100_000, value=DEFAULTS["steps"], key="train-steps")
c3.number_input("Learning rate", 1e-6, 1e-2, value=DEFAULTS["learning_rate"], format="%.6f", key="train-lr")


def clips_from_page() -> tuple[list[TrainClip], list[int]]:
    clips, take_ids = [], []
    for label in picked:
        take = s.library.get(labels[label])
        take_ids.append(take.id)
        clips.append(TrainClip(path=str(s.settings.library_dir / take.master_file), tags=take.prompt or take.title,
                               lyrics=take.lyrics, label=f"take {take.id} ({take.title})"))
    for index, upload in enumerate(uploads or []):
        path = s.store_upload(upload.name, upload.getvalue())
        clips.append(TrainClip(path=str(path), tags=st.session_state.get(f"train-tags-{index}", ""),
                               lyrics=st.session_state.get(f"train-lyrics-{index}", ""), label=upload.name))
    return clips, take_ids


if st.button("Train", type="primary", icon=":material/school:", key="train-submit"):
    try:
        clips, take_ids = clips_from_page()
        spec = TrainJobSpec(engine=engine, name=name.strip(), clips=clips, take_ids=take_ids,
                            steps=int(st.session_state["train-steps"]), rank=int(st.session_state["train-rank"]),
                            learning_rate=float(st.session_state["train-lr"]))
        job = s.submit(spec)
    except USER_ERRORS as exc:
        st.error(md_escape(str(exc)), icon=":material/warning:")
    else:
        st.query_params["job"] = job.id


def loss_panel(job) -> None:
    data = json.loads(job.partial) if job.partial else {}
    if job.status == "done":
        st.progress(1.0, text=f"Done: {job.step}/{job.total} steps")
    elif job.stage == "train" and job.total:
        eta = f", about {data['eta_s']:.0f} s left" if "eta_s" in data else ""
        loss = f", loss {data['loss']:.4f}" if "loss" in data else ""
        st.progress(job.step / job.total, text=f"Step {job.step}/{job.total}{loss}{eta}")
    else:
        st.progress(0.0, text=f"{job.status}: {job.stage}")
    if data.get("losses"):
        st.line_chart({"loss": data["losses"]}, x_label="step", y_label="loss")


job_id = st.query_params.get("job")
if job_id:
    st.subheader("Training")
    st.caption(f"Job id `{job_id}`")

    @st.fragment(run_every=1.0)
    def live() -> None:
        job = s.job(job_id)
        if job is None:
            st.warning(f"Job {job_id} is not in this library.", icon=":material/warning:")
            return
        if job.kind != "train":
            st.warning("That job is not a training job.", icon=":material/warning:")
            return
        loss_panel(job)
        if job.status in ("queued", "running"):
            if st.button("Cancel", key="train-cancel", icon=":material/stop_circle:"):
                s.cancel(job_id)
        elif job.status in ("failed", "cancelled"):
            if job.error:
                st.error(md_escape(job.error), icon=":material/warning:")
            st.info("Stopped. Resume continues from the last checkpoint.", icon=":material/stop_circle:")
            if st.button("Resume", key="train-resume", icon=":material/play_arrow:"):
                s.retry(job_id)
        elif job.status == "done":
            adapter = job.result.get("adapter", "")
            st.success("Adapter ready", icon=":material/check_circle:")
            st.text(f"{adapter}: loss {job.result['first_loss']:.4f} -> {job.result['final_loss']:.4f} "
                    f"in {job.result['steps']} steps")
            if st.button("Try it on Create", key="train-try", icon=":material/music_note:"):
                spec = json.loads(s.jobs.get(job_id).spec)
                try_on_create(adapter, spec["engine"])
                st.switch_page(str(CREATE))

    live()
