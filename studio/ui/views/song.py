"""Song: one take of a song with its player and region, edit actions as jobs (their takes join the
same song), downloads, lineage, provenance. User text (titles, prompts) is escaped or shown as
plain text, never rendered as Markdown.

URL: ?take=<id>[&job=<id of an action started here>].
"""

import json

import streamlit as st

from studio.durations import clock
from studio.errors import BadInput
from studio.ui import edits, paths
from studio.ui import region as region_picker
from studio.ui.c2pa_state import c2pa_state
from studio.ui.common import query_int, shown_errors, studio
from studio.ui.create_form import form_from_request
from studio.ui.plain import md_escape
from studio.ui.progress import job_status_panel
from studio.ui.provenance_view import provenance_facts
from studio.ui.takes import SONG_PAGE, favourite_button, player, take_label
from studio.ui.uploads import check_uploaded_audio
from studio.ui.waveform import mss

s = studio()
take_id = query_int("take")
take = s.take(take_id) if take_id is not None else None
if take is None:
    st.title("Song")
    st.info("Open a take from the Library or the Create page to see it here.", icon=":material/headphones:")
    st.page_link(paths.LIBRARY, label="Go to the Library", icon=":material/library_music:")
    st.stop()

st.title(md_escape(take_label(take)))
song = s.songs.find(take.song_id)
if song is not None:
    c1, c2 = st.columns([5, 1], vertical_alignment="center")
    count = len(s.songs.takes([song.id])[song.id])
    c1.text(f"Song: {song.title or 'untitled'} · {count} take{'s' if count != 1 else ''}")
    c2.page_link(paths.WRITE, label="Write", icon=":material/edit_note:", query_params={"song": str(song.id)})
    st.session_state["current-song"] = song.id  # Create adds to the song being listened to
st.caption(md_escape(f"{take.task} · {take.engine} ({take.model_id or 'default model'}) · seed {take.seed} · "
                     f"{clock(take.duration)} · {take.sample_rate} Hz · created {take.created_at:%Y-%m-%d %H:%M}"
                     + (" · in the trash" if take.trashed else "")))

# The region (drag on the waveform or exact numbers) for Repaint; the Extend tab shows its new parts.
region_picker.reset_for(take)
player(s, take, **region_picker.aimed(take), key=region_picker.CHART,
       on_select=lambda: region_picker.apply_chart_selection(float(take.duration)))
region = region_picker.region_inputs(take)

c1, c2, c3 = st.columns([1, 1, 2])
with c1:
    favourite_button(s, take, key="song-fav")
with c2:
    if st.button("Use these settings", icon=":material/tune:", help="Open Create with this take's prompt, lyrics and seed"):
        st.session_state["create_prefill"] = form_from_request(take.request, engine=take.engine,
                                                                        seed=take.seed)
        st.switch_page(paths.CREATE)

# Lineage: where this take came from and what was made from it.
parent = s.take(take.parent_take_id) if take.parent_take_id else None
children = s.children(take.id)
if parent or children:
    with st.container(border=True):
        st.markdown("**Lineage**")
        if parent:
            st.page_link(SONG_PAGE, label=f"from: {md_escape(take_label(parent))}", icon=":material/arrow_upward:", query_params={"take": str(parent.id)})
        for child in children:
            st.page_link(SONG_PAGE, label=f"{child.task}: {md_escape(take_label(child))}", icon=":material/subdirectory_arrow_right:",
                         query_params={"take": str(child.id)})

source = edits.Source(engine=take.engine, prompt=take.prompt, lyrics=take.lyrics, duration=take.duration,
                      seed=take.seed, master_path=str(s.file_path(take, "master")), request=take.request)


def submit(build) -> None:
    with shown_errors():
        job = s.submit_music(build(), engine=take.engine, parent_take_id=take.id)
        st.query_params["job"] = job.id


st.subheader("Make a new take from this one")
retake_tab, repaint_tab, extend_tab, edit_tab, a2a_tab = st.tabs(
    ["Retake", "Repaint region", "Extend", "Edit lyrics / remix", "Audio to audio"], key=region_picker.TABS,
    on_change="rerun")
with retake_tab:
    variance = st.slider("Variance", 0.0, 1.0, 0.2, key="retake-variance", help="0 keeps the take, 1 is all new")
    takes = st.number_input("Takes", 1, 4, 1, key="retake-takes")
    if st.button("Retake", key="retake-go", type="primary"):
        submit(lambda: edits.retake(source, variance=variance, takes=int(takes)))
with repaint_tab:
    st.write(f"Repaints {region[0]:.1f} s to {region[1]:.1f} s ({mss(region[0], decimals=1)} to "
             f"{mss(region[1], decimals=1)}): the shaded part of the waveform.")
    variance = st.slider("Variance", 0.0, 1.0, 0.2, key="repaint-variance")
    if st.button("Repaint", key="repaint-go", type="primary"):
        submit(lambda: edits.repaint(source, start=region[0], end=region[1], variance=variance))
with extend_tab:
    c1, c2 = st.columns(2)
    left = c1.number_input("Seconds before", 0.0, 120.0, 0.0, key="extend-left")
    right = c2.number_input("Seconds after", 0.0, 120.0, 10.0, key="extend-right")
    if st.button("Extend", key="extend-go", type="primary"):
        submit(lambda: edits.extend(source, left=left, right=right))
with edit_tab:
    new_prompt = st.text_area("Prompt", value=take.prompt, key="edit-prompt")
    new_lyrics = st.text_area("Lyrics", value=take.lyrics, key="edit-lyrics", height=160)
    try:
        presets = s.engine_presets(source.engine)  # the service registers plug-in engines first
    except BadInput as exc:  # a take from an engine this studio does not have
        presets = {}
        st.info(md_escape(f"Editing is not available here: {exc}"), icon=":material/info:")
    if presets:
        mode = st.radio("Edit type", list(presets), horizontal=True, key="edit-mode",
                        format_func={"only_lyrics": "Only lyrics", "remix": "Remix"}.get)
        if st.button("Edit", key="edit-go", type="primary"):
            submit(lambda: edits.edit(source, prompt=new_prompt, lyrics=new_lyrics, mode=mode, presets=presets))
with a2a_tab:
    origin = st.radio("Reference", ["This take", "Another library take", "Upload"], horizontal=True, key="a2a-origin")
    reference: str | None = str(s.file_path(take, "master")) if origin == "This take" else None
    if origin == "Another library take":
        other = st.number_input("Take id", 1, value=take.id, key="a2a-take")
        other_take = s.take(int(other))
        reference = str(s.file_path(other_take, "master")) if other_take else None
        if other_take is None:
            st.caption(f"There is no take {other}.")
    elif origin == "Upload":
        upload = st.file_uploader("Audio file", type=["wav", "flac", "mp3", "ogg"], key="a2a-upload")
        reference = None
        if upload is not None:
            with shown_errors():  # a file that is not audio is named as the person knows it
                check_uploaded_audio(upload.name, upload.getvalue())
                reference = str(s.store_upload(upload.name, upload.getvalue()))
    strength = st.slider("Reference strength", 0.0, 1.0, 0.5, key="a2a-strength")
    if st.button("Audio to audio", key="a2a-go", type="primary", disabled=reference is None):
        submit(lambda: edits.audio2audio(source, reference_path=reference, strength=strength))

job_id = st.query_params.get("job")
if job_id:
    job = job_status_panel(s, job_id, key="song-job")
    if job is not None and job.status == "done":
        for new in s.takes_of_job(job_id):
            st.page_link(SONG_PAGE, label=f"New take: {md_escape(take_label(new))}", icon=":material/auto_awesome:", query_params={"take": str(new.id)})

st.subheader("Download")
stem = s.download_stem(take)
c1, c2, c3, c4, c5 = st.columns(5)
c1.download_button("FLAC", data=lambda: s.file_path(take, "master").read_bytes(), file_name=f"{stem}.flac",
                   mime="audio/flac", on_click="ignore", icon=":material/download:")
c2.download_button("WAV", data=lambda: s.wav_bytes(take), file_name=f"{stem}.wav", mime="audio/wav",
                   on_click="ignore", icon=":material/download:")
c3.download_button("MP3 320", data=lambda: s.file_path(take, "mp3").read_bytes(), file_name=f"{stem}.mp3",
                   mime="audio/mpeg", on_click="ignore", icon=":material/download:")
c4.download_button("Parameters JSON", data=lambda: json.dumps(take.parameters, indent=2, sort_keys=True),
                   file_name=f"{stem}.json", mime="application/json", on_click="ignore", icon=":material/download:")
manifest = s.manifest_path(take)
if manifest is not None:  # the FLAC's C2PA manifest: same name, so C2PA readers find it beside the file
    c5.download_button("C2PA manifest", data=manifest.read_bytes, file_name=f"{stem}.c2pa", mime="application/c2pa",
                       on_click="ignore", icon=":material/download:",
                       help="keep it beside the FLAC: it signs the FLAC's exact bytes")

st.subheader("Provenance")
with st.container(border=True):
    facts = provenance_facts(audio_sha256=take.audio_sha256, mint=s.mint_state(take.id),
                             c2pa=c2pa_state(s.file_path(take, "master")), recipe_sha256=take.recipe_sha256)
    for label, value in facts.items():
        st.markdown(f"**{label}:** {value}")
    st.page_link(paths.MINT, label="Sign and mint this take", icon=":material/token:", query_params={"take": str(take.id)})

with st.expander("Parameters"):
    st.json(take.parameters)
