"""User text shown as text. Titles, prompts, lyrics and tags are never read as Markdown or HTML:
where Streamlit only takes Markdown (headings, link labels, captions), every ASCII punctuation
character is backslash-escaped (CommonMark lets any of them be escaped), so `![t](http://…)` is
shown as those characters and nothing is fetched. Streamlit also turns URL-like text into links
after parsing, escapes or not, so an invisible word joiner (U+2060) goes between a scheme and
its colon, after "www" and after "@": the text reads the same and stays plain text. Line breaks
become spaces (these are one-line places)."""

from __future__ import annotations

import re

_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
_LINK_LIKE = re.compile(r"(?i)(?<=[a-z0-9])(?=:)|(?<=www)(?=\.)|(?<=@)")
WORD_JOINER = "\u2060"


def md_escape(text: str) -> str:
    """`text` for a Markdown-only place (a heading, a link label): shown exactly, never rendered."""
    joined = _LINK_LIKE.sub(WORD_JOINER, " ".join(text.split()))
    return _PUNCTUATION.sub(r"\\\1", joined)


def shown(text: str) -> str:
    """What a reader sees of `md_escape(text)` (for tests and comparisons)."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", text).replace(WORD_JOINER, "")
