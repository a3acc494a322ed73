"""State of the Write page's section editor, kept in `st.session_state`.

Each section has a stable uid so its widgets keep their keys when sections move or go.
Widget values (tag, lines) live under `write-tag-<uid>` / `write-lines-<uid>`; the list under
EDITOR_KEY only fixes the order.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from typing import Any

import streamlit as st

from lyrics.format import Lyrics, Section
from lyrics.prosody import analyse_lines
from studio.records import Draft, DraftSection
from studio.ui.presets import SECTION_TAGS

EDITOR_KEY = "write-sections"
REWRITE_KEY = "write-rewrite-target"  # {"job": id, "uid": section uid} of the rewrite in flight
_uids = itertools.count(1)


@dataclass(frozen=True)
class EditorSection:
    uid: int


def lyrics_from_job(result: dict[str, Any]) -> Lyrics:
    """The lyrics a finished lyrics job stored: structured JSON when present, else text to parse."""
    if isinstance(result.get("lyrics"), dict):
        return Lyrics.from_dict(result["lyrics"])
    for key in ("lyrics", "text"):
        if isinstance(result.get(key), str) and result[key].strip():
            lyrics = Lyrics.parse(result[key])
            title = result.get("title")
            if isinstance(title, str) and title.strip() and not lyrics.title:
                lyrics = replace(lyrics, title=title.strip())
            return lyrics
    raise ValueError(f"the lyrics job finished without lyrics (result keys: {', '.join(result) or 'none'})")


def _new_section(tag: str, lines: tuple[str, ...], *, text: str | None = None) -> EditorSection:
    section = EditorSection(uid=next(_uids))
    st.session_state[f"write-tag-{section.uid}"] = tag if tag in SECTION_TAGS else "verse"
    st.session_state[f"write-lines-{section.uid}"] = "\n".join(lines) if text is None else text
    return section


def load_draft(title: str, draft: Draft) -> None:
    """Put a stored song draft into the editor: each section's text exactly as it was typed."""
    sections = draft.sections or (DraftSection(tag="verse", text=""),)
    st.session_state[EDITOR_KEY] = [_new_section(s.tag, (), text=s.text) for s in sections]
    st.session_state["write-title"] = title


def editor_draft() -> Draft:
    """What the editor holds now, as typed (the draft that is saved)."""
    return Draft(sections=tuple(
        DraftSection(tag=st.session_state.get(f"write-tag-{s.uid}", "verse"),
                     text=st.session_state.get(f"write-lines-{s.uid}", ""))
        for s in st.session_state.get(EDITOR_KEY, [])))


def load_into_editor(lyrics: Lyrics | None) -> None:
    """Replace the editor's content (None: one empty verse). Unknown tags are repaired first,
    since the editor only offers the valid tags."""
    if lyrics is None:
        st.session_state[EDITOR_KEY] = [_new_section("verse", ())]
        st.session_state["write-title"] = ""
        return
    fixed, _ = lyrics.repair()
    st.session_state[EDITOR_KEY] = [_new_section(s.tag, s.lines) for s in fixed.sections]
    st.session_state["write-title"] = fixed.title


def editor_lyrics() -> Lyrics:
    sections = []
    for section in st.session_state.get(EDITOR_KEY, []):
        text = st.session_state.get(f"write-lines-{section.uid}", "")
        lines = tuple(line.strip() for line in text.splitlines() if line.strip())
        sections.append(Section(tag=st.session_state.get(f"write-tag-{section.uid}", "verse"), lines=lines))
    return Lyrics(title=st.session_state.get("write-title", ""), sections=tuple(sections))


def add_section() -> None:
    st.session_state[EDITOR_KEY] = [*st.session_state.get(EDITOR_KEY, []), _new_section("chorus", ())]


def remove_section(index: int) -> None:
    sections = list(st.session_state[EDITOR_KEY])
    gone = sections.pop(index)
    st.session_state.pop(f"write-tag-{gone.uid}", None)
    st.session_state.pop(f"write-lines-{gone.uid}", None)
    st.session_state[EDITOR_KEY] = sections


def move_section(index: int, delta: int) -> None:
    sections = list(st.session_state[EDITOR_KEY])
    target = index + delta
    if 0 <= target < len(sections):
        sections[index], sections[target] = sections[target], sections[index]
        st.session_state[EDITOR_KEY] = sections


def request_rewrite(job_id: str, index: int) -> None:
    """Remember which editor section a queued rewrite job belongs to (by uid, so moving
    sections while the job runs still replaces the right one)."""
    st.session_state[REWRITE_KEY] = {"job": job_id, "uid": st.session_state[EDITOR_KEY][index].uid}


def apply_rewrite(job_id: str, result: dict[str, Any]) -> None:
    """Put a finished rewrite job's new lines into the section it was asked for. The section is
    found by the uid remembered at submit time, else (after a reload) by the index the job used."""
    new = result.get("section")
    if not isinstance(new, dict) or not isinstance(new.get("lines"), list):
        raise ValueError("the rewrite job finished without the rewritten section")
    sections = st.session_state.get(EDITOR_KEY, [])
    target = st.session_state.get(REWRITE_KEY) or {}
    lost = " / ".join(new["lines"])
    uid = target.get("uid") if target.get("job") == job_id else None
    if uid is not None and all(section.uid != uid for section in sections):
        raise ValueError(f"the section being rewritten was removed meanwhile; its new lines: {lost}")
    if uid is None:
        index = new.get("index")
        if not isinstance(index, int) or not 0 <= index < len(sections):
            raise ValueError(f"the rewritten section {index} is no longer in the editor; its new lines: {lost}")
        uid = sections[index].uid
    st.session_state[f"write-lines-{uid}"] = "\n".join(new["lines"])
    st.session_state.pop(REWRITE_KEY, None)


def section_hints(text: str, language: str) -> str:
    """One row per lyric line: syllable count and rhyme letter, aligned with the text area."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    analysis = analyse_lines("", lines, language)
    return "\n".join(f"{line.syllables:>2} {line.letter}" for line in analysis.lines)
