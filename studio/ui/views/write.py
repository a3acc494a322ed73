"""Write: the song's title, lyric draft and notes, saved as they are edited (every saved edit is a
version; any can be restored); the lyrics assistant drafts and rewrites sections on the job
queue; a section editor with syllable and rhyme hints; send the song to Create.

URL: ?song=<id> (the song being written); ?lyrics_job=<id> while a draft or a section rewrite
is being written.
"""

import streamlit as st

from studio.lyrics_limits import MAX_THEME_CHARS
from studio.ui import paths, presets, write_assist
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
)
from studio.ui.plain import md_escape
from studio.ui.progress import job_status_panel
from studio.ui.song_session import CURRENT_SONG, current_song, restore_version, save_edits, start_new_song, sync_editor

s = studio()
st.title("Write")
demo_notice(s)
song = current_song(s, open_latest=True)
sync_editor(song)

with st.form("write"):
    theme = st.text_input("Theme", placeholder="what the song is about, e.g. leaving a small town at dawn",
                          help=f"at most {MAX_THEME_CHARS:,} characters")
    c1, c2, c3, c4, c5 = st.columns([2, 2, 2, 3, 2])
    genre = c1.selectbox("Genre", presets.GENRES)
    mood = c2.selectbox("Mood", presets.MOODS)
    language = c3.selectbox("Language", presets.LANGUAGES)
    structure = c4.selectbox("Structure", list(presets.STRUCTURES))
    length = c5.selectbox("Length", ("short", "medium", "long"), index=1)
    draft_options = {"length": length, **write_assist.form_fields()}
    write = st.form_submit_button("Write lyrics", type="primary", icon=":material/edit:")

if write:
    with shown_errors():
        st.query_params["lyrics_job"] = s.submit_lyrics(theme=theme, genre=genre, mood=mood, language=presets.LANGUAGE_CODES[language],
                                                         structure=list(presets.STRUCTURES[structure]), **draft_options).id

job_id = st.query_params.get("lyrics_job")
if job_id:
    job = job_status_panel(s, job_id, key="write-job")  # shows the streamed text while it runs
    if job is not None and job.status == "done":
        with shown_errors():
            if "section" in job.result:  # a rewrite: only that section changes
                apply_rewrite(job_id, job.result)
            else:
                title = st.session_state.get("write-title", "")
                load_into_editor(lyrics_from_job(job.result))
                write_assist.remember_draft(job.result, [sec.uid for sec in st.session_state[EDITOR_KEY]])
                if title.strip():  # the song keeps the title it was given; a draft's title is a suggestion
                    st.session_state["write-title"] = title
        del st.query_params["lyrics_job"]  # applied once: a reload keeps the edits made since

c1, c2 = st.columns([4, 1], vertical_alignment="bottom")
c1.subheader("Lyrics")
c2.button("New song", icon=":material/add:", on_click=start_new_song, args=(s,), help="Start another song (this one is kept)")
write_assist.show_model_and_hints()
if EDITOR_KEY not in st.session_state:
    load_into_editor(None)
sections = st.session_state[EDITOR_KEY]
st.text_input("Title", key="write-title", live="700ms", help="Names the song and its takes everywhere")
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
            with st.popover("Rewrite", icon=":material/autorenew:"):
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
            st.caption("syllables / target · rhyme")
            st.code(write_assist.line_hints(section.uid, st.session_state[f"write-lines-{section.uid}"], lang_code)
                    or " ", language=None)
st.button("Add section", icon=":material/add:", on_click=add_section)
st.text_area("Notes", key="write-notes", height=80, placeholder="ideas, chords, references: kept with the song")

with shown_errors():
    song = save_edits(s, song)  # every change of this tab becomes the song's next version
st.caption(f"Saved: version {song.version}" if song.version else "Nothing saved yet")

lyrics = editor_lyrics()
report = lyrics.validate(language=lang_code)
for issue in report.issues:
    if issue.level == "warning":
        st.warning(md_escape(issue.message))  # it may quote the user's lines: escaped, never Markdown
    else:
        st.text(issue.message)

with st.expander(f"Versions ({song.version})"):
    for version in s.songs.versions(song.id)[:30]:
        c1, c2 = st.columns([5, 1], vertical_alignment="center")
        c1.text(f"version {version.number} · {version.created_at:%Y-%m-%d %H:%M:%S} · {version.title or 'untitled'}")
        c2.button("Restore", key=f"write-restore-{version.number}", disabled=version.number == song.version,
                  on_click=restore_version, args=(s, song.id, version.number))

if st.button("Send to Create", type="primary", icon=":material/music_note:", disabled=not lyrics.sections):
    takes = s.songs.takes([song.id])[song.id]
    st.session_state[CURRENT_SONG] = song.id
    # the style prompt stays the song's own (its last take's), never a preset put in its place
    st.session_state["create_prefill"] = CreateForm(prompt=takes[-1].prompt if takes else "",
                                                    lyrics=lyrics.render(), engine=s.default_engine())
    st.switch_page(paths.CREATE, query_params={"song": str(song.id)})
