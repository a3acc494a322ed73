"""Write: the lyrics assistant drafts on the job queue; a section editor with syllable and rhyme
hints; send the result to Create.

URL: ?lyrics_job=<id> while a draft or a section rewrite is being written.
"""

import streamlit as st

from studio.ui import paths, presets
from studio.ui.common import demo_notice, shown_errors, studio
from studio.ui.create_form import CreateForm
from studio.ui.lyrics_editor import (
    EDITOR_KEY,
    add_section,
    apply_rewrite,
    editor_lyrics,
    load_into_editor,
    lyrics_from_job,
    move_section,
    remove_section,
    request_rewrite,
    section_hints,
)
from studio.ui.progress import job_status_panel

s = studio()
st.title("Write")
demo_notice(s)

with st.form("write"):
    theme = st.text_input("Theme", placeholder="what the song is about, e.g. leaving a small town at dawn")
    c1, c2, c3, c4, c5 = st.columns([2, 2, 2, 3, 2])
    genre = c1.selectbox("Genre", presets.GENRES)
    mood = c2.selectbox("Mood", presets.MOODS)
    language = c3.selectbox("Language", presets.LANGUAGES)
    structure = c4.selectbox("Structure", list(presets.STRUCTURES))
    length = c5.selectbox("Length", ("short", "medium", "long"), index=1)
    write = st.form_submit_button("Write lyrics", type="primary", icon="✍️")

if write:
    with shown_errors():
        st.query_params["lyrics_job"] = s.submit_lyrics(theme=theme, genre=genre, mood=mood, language=presets.LANGUAGE_CODES[language],
                                                         structure=list(presets.STRUCTURES[structure]), length=length).id
        st.session_state.pop("write_loaded_job", None)

job_id = st.query_params.get("lyrics_job")
if job_id:
    job = job_status_panel(s, job_id, key="write-job")  # shows the streamed text while it runs
    if job is not None and job.status == "done" and st.session_state.get("write_loaded_job") != job_id:
        with shown_errors():
            if "section" in job.result:  # a rewrite: only that section changes
                apply_rewrite(job_id, job.result)
            else:
                load_into_editor(lyrics_from_job(job.result))
            st.session_state["write_loaded_job"] = job_id

st.subheader("Lyrics")
if EDITOR_KEY not in st.session_state:
    load_into_editor(None)
sections = st.session_state[EDITOR_KEY]
st.text_input("Title", key="write-title")
lang_code = presets.LANGUAGE_CODES.get(language, "en")
for index, section in enumerate(sections):
    with st.container(border=True):
        left, right = st.columns([3, 1])
        with left:
            c1, c2, c3, c4 = st.columns([2, 1, 1, 1], vertical_alignment="bottom")
            c1.selectbox("Section", presets.SECTION_TAGS, key=f"write-tag-{section.uid}")
            c2.button("Up", key=f"write-up-{section.uid}", on_click=move_section, args=(index, -1), disabled=index == 0)
            c3.button("Down", key=f"write-down-{section.uid}", on_click=move_section, args=(index, 1),
                      disabled=index == len(sections) - 1)
            c4.button("Remove", key=f"write-remove-{section.uid}", on_click=remove_section, args=(index,))
            st.text_area("Lines", key=f"write-lines-{section.uid}", height=130, label_visibility="collapsed")
            with st.popover("Rewrite", icon="🔁"):
                instruction = st.text_input("Instruction", key=f"write-instruction-{section.uid}",
                                            placeholder="e.g. more hopeful, mention the river")
                if st.button("Rewrite this section", key=f"write-rewrite-{section.uid}"):
                    with shown_errors():
                        rewrite_job = s.submit_rewrite(lyrics=editor_lyrics(), section=index, instruction=instruction,
                                                       language=lang_code).id
                        request_rewrite(rewrite_job, index)
                        st.query_params["lyrics_job"] = rewrite_job
                        st.rerun()
        with right:
            st.caption("syllables · rhyme")
            st.code(section_hints(st.session_state[f"write-lines-{section.uid}"], lang_code) or " ", language=None)
st.button("Add section", icon="➕", on_click=add_section)

lyrics = editor_lyrics()
report = lyrics.validate(language=lang_code)
for issue in report.issues:
    (st.warning if issue.level == "warning" else st.caption)(issue.message)

if st.button("Send to Create", type="primary", icon="🎵", disabled=not lyrics.sections):
    st.session_state["create_prefill"] = CreateForm(
        prompt=presets.compose_prompt("", genres=[genre], moods=[mood]), lyrics=lyrics.render(),
        engine=s.default_engine())
    st.switch_page(paths.CREATE)
