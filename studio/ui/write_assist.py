"""The Write page's lyrics-model additions: tempo, duration and rhyme in the form; which model
wrote the draft (and that the starter is small); the draft's quality hints; the syllable
target next to each line. Kept apart from the page so its hook lines stay few.

State: WRITER_KEY holds the last finished draft's {"model", "quality"}; TARGETS_KEY maps an
editor section uid to its per-line syllable target.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from lyrics.budget import RHYME_SCHEMES
from lyrics.prosody import analyse_lines

WRITER_KEY = "write-assist-draft"
TARGETS_KEY = "write-assist-targets"
RHYME_LABELS = {"AABB": "AABB (couplets)", "ABAB": "ABAB (alternate)", "ABCB": "ABCB (even lines)",
                "none": "none"}


def form_fields() -> dict[str, Any]:
    """Inside the Write form: the draft options that set line lengths and rhymes."""
    c1, c2, c3 = st.columns(3)
    bpm = c1.number_input("Tempo (BPM)", min_value=30, max_value=300, value=None, step=1,
                          help="with a duration, sets the syllables per line; empty: about 8 per verse line")
    duration = c2.number_input("Duration (s)", min_value=5, max_value=600, value=None, step=5,
                               help="the length of the music the lyrics are for")
    rhyme = c3.selectbox("Rhyme scheme", RHYME_SCHEMES, format_func=RHYME_LABELS.get,
                         help="which lines in each section should rhyme")
    fields: dict[str, Any] = {"rhyme": rhyme}
    if bpm is not None:
        fields["bpm"] = float(bpm)
    if duration is not None:
        fields["length"] = int(duration)
    return fields


def remember_draft(result: dict[str, Any], section_uids: list[int]) -> None:
    """After a finished draft is loaded into the editor: keep its model and report, and the
    syllable targets of each editor section."""
    quality = result.get("quality") or {}
    st.session_state[WRITER_KEY] = {"model": result.get("model"), "quality": quality}
    targets = quality.get("targets") or []
    st.session_state[TARGETS_KEY] = {uid: (row[0] if row else None)
                                     for uid, row in zip(section_uids, targets)}


def show_model_and_hints() -> None:
    """Which model wrote the draft, and the report's hints (all text, never markup)."""
    draft = st.session_state.get(WRITER_KEY)
    if not draft:
        return
    model = draft.get("model") or {}
    if model:
        line = f"Written by {model.get('label')}"
        if model.get("note"):
            line += f": {model['note']}"
        (st.warning if model.get("kind") == "demo" else st.info if model.get("small") else st.caption)(
            _escape(line))
    quality = draft.get("quality") or {}
    fit = quality.get("syllable_fit")
    rhyme = quality.get("rhyme_hit")
    facts = []
    if fit is not None:
        facts.append(f"{fit:.0%} of lines within 2 syllables of their target")
    if rhyme is not None:
        facts.append(f"{rhyme:.0%} of the asked rhymes")
    if facts:
        st.text("Draft report: " + "; ".join(facts))
    for hint in quality.get("hints") or []:
        st.text(f"Hint: {hint}")


def line_hints(uid: int, text: str, language: str) -> str:
    """One row per lyric line: syllables / target and the rhyme letter, aligned with the text."""
    target = (st.session_state.get(TARGETS_KEY) or {}).get(uid)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    rows = []
    for line in analyse_lines("", lines, language).lines:
        count = f"{line.syllables:>2}/{target:<2}" if target else f"{line.syllables:>2}"
        rows.append(f"{count} {line.letter}")
    return "\n".join(rows)


def _escape(text: str) -> str:
    """Model names come from settings and files: show them literally in a Markdown element."""
    return "".join("\\" + ch if ch in "\\`*_{}[]()#+-.!|<>~$:" else ch for ch in text)
