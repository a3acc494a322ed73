"""User text shown as text. Titles, prompts, lyrics and tags are never read as Markdown or HTML:
where Streamlit only takes Markdown (headings, link labels, captions), every ASCII punctuation
character is backslash-escaped (CommonMark lets any of them be escaped), so `![t](http://…)` is
shown as those characters and nothing is fetched. Line breaks become spaces in one-line places."""

from __future__ import annotations

import re

_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")


def md_escape(text: str) -> str:
    """`text` for a Markdown-only place (a heading, a link label): shown exactly, never rendered."""
    return _PUNCTUATION.sub(r"\\\1", " ".join(text.split()))
