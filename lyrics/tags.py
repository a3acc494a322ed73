"""Section tags: the ACE-Step v1 tag set and the names people and LLMs use for them.

ACE-Step v1's lyric tokenizer has exactly twelve structure tokens; `[Verse 1]` or
`[Chorus - anthemic]` do not hit them. Everything else here maps free-form section names
("Refrain", "Pre chorus", "Guitar solo", "Verse 2 - softer") onto that set.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from lyrics import header_names

# Order of ACE-Step v1's own vocabulary listing does not matter; this order reads naturally.
V1_TAGS: tuple[str, ...] = (
    "intro", "verse", "pre-chorus", "chorus", "bridge", "outro",
    "inst", "solo", "hook", "break", "start", "end",
)
# Sections that are sung; the others may legitimately carry no lines.
SUNG_TAGS = frozenset({"verse", "pre-chorus", "chorus", "bridge", "hook"})
INSTRUMENTAL_TAGS = frozenset(V1_TAGS) - SUNG_TAGS
# What a model may generate: start/end are markers the studio adds, not something to write.
GENERATABLE_TAGS: tuple[str, ...] = tuple(t for t in V1_TAGS if t not in ("start", "end"))

_ALIASES = {
    "intro": "intro", "introduction": "intro", "opening": "intro",
    "verse": "verse",
    "pre-chorus": "pre-chorus", "prechorus": "pre-chorus", "pre-hook": "pre-chorus",
    "lift": "pre-chorus", "build": "pre-chorus", "build-up": "pre-chorus", "buildup": "pre-chorus",
    "chorus": "chorus", "refrain": "chorus",
    "bridge": "bridge", "middle 8": "bridge", "middle eight": "bridge",
    "outro": "outro", "coda": "outro", "ending": "outro",
    "inst": "inst", "instrumental": "inst", "interlude": "inst",
    "solo": "solo",
    "hook": "hook", "post-chorus": "hook", "postchorus": "hook",
    "break": "break", "breakdown": "break", "drop": "break",
    "start": "start", "end": "end",
}
# The names in the other lyric languages (English ones win where both spell a name alike).
_ALIASES = {**header_names.all_names(), **_ALIASES}
# Names that are common words: headers only inside [brackets], never as a bare line.
_BRACKET_ONLY = frozenset({"start", "end", "build", "lift", "drop", "opening", "ending", "coda"})
# ...and those of other languages, which may also stand alone with a colon or in parentheses.
_COMMON_WORDS = header_names.BRACKET_ONLY
# Words that may precede a tag name in a bold or bare header ("Final Chorus").
_PREFIX_WORDS = frozenset({"final", "last", "first", "second", "third", "double", "extended",
                           "half", "short", "repeat", "instrumental", "guitar", "piano", "sax"})
_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
                 "i": 1, "ii": 2, "iii": 3, "iv": 4}
_REPEAT = re.compile(r"\(?\s*(?:x\s*\d+|\d+\s*x)\s*\)?\s*$")
_DESC_SPLIT = re.compile(r"\s+-\s+|\s*[:(|,]\s*|\s+-(?=\S)|(?<=\S)-\s+")
_TRAILING_NUMBER = re.compile(r"(?:\s+(\d+|" + "|".join(_NUMBER_WORDS) + r")|(?<=[^\W\d])(\d+))$")

TITLE_NAMES = {"pre-chorus": "Pre-Chorus", "inst": "Instrumental"}


@dataclass(frozen=True)
class TagName:
    """A parsed section header: `tag` is canonical when `known`, else the lower-cased name."""

    tag: str
    known: bool
    number: int | None = None
    descriptor: str | None = None


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).strip().lower().replace("\u2013", "-").replace("\u2014", "-").replace("_", " ")
    text = re.sub(r"\s+", " ", text)
    return re.sub(r"\bpre\s*-?\s*(chorus|hook)\b", r"pre-\1", re.sub(r"\bpost\s*-?\s*chorus\b", "post-chorus", text))


def canonical(name: str) -> str | None:
    """The v1 tag for an exact section name ("Refrain" -> "chorus"), or None."""
    return _ALIASES.get(_normalise(name))


def parse_header(text: str, *, loose: bool, colon_or_paren: bool = False) -> TagName | None:
    """Read a section header's inside ("Verse 2 - softer", "Chorus x2", "guitar solo").

    `loose` (used for `[...]` lines, which ACE-Step always treats as structure) also finds a tag
    word anywhere in the name and returns unknown names instead of None. Strict mode (bare,
    bold or parenthesised lines, which could be lyrics) accepts only a known name with an
    optional number, a few prefix words, a repeat mark and a separated descriptor;
    `colon_or_paren` (a line that is just "Name:" or "(Name)") also accepts the names that are
    common words in another language ("Coro:", "(Final)").
    """
    norm = _normalise(text)
    if not norm:
        return None
    descriptors: list[str] = []
    repeat = _REPEAT.search(norm)
    if repeat and repeat.start() > 0:
        descriptors.append(re.sub(r"[()\s]", "", repeat.group(0)))
        norm = norm[: repeat.start()].strip()
    parts = _DESC_SPLIT.split(norm, maxsplit=1)
    name = parts[0].strip(" -)")
    if len(parts) > 1 and parts[1].strip(" )"):
        descriptors.insert(0, parts[1].strip(" )"))
    number = None
    match = None if name in _ALIASES else _TRAILING_NUMBER.search(name)
    if match:
        token = match.group(1) or match.group(2)
        number = int(token) if token.isdigit() else _NUMBER_WORDS[token]
        name = name[: match.start()].strip()
    if not loose and (name in _BRACKET_ONLY or (name in _COMMON_WORDS and not colon_or_paren)):
        return None
    tag = _ALIASES.get(name)
    if tag is None:
        words = name.split()
        if len(words) > 1 and words[-1] in _ALIASES and all(w in _PREFIX_WORDS for w in words[:-1]):
            tag, descriptors = _ALIASES[words[-1]], [" ".join(words[:-1]), *descriptors]
        elif len(words) > 1 and " ".join(words[-2:]) in _ALIASES and all(w in _PREFIX_WORDS for w in words[:-2]):
            tag, descriptors = _ALIASES[" ".join(words[-2:])], [" ".join(words[:-2]), *descriptors]
    if tag is None and loose:
        for alias in sorted(_ALIASES, key=len, reverse=True):
            if re.search(rf"(?<![\w-]){re.escape(alias)}(?![\w-])", name):
                rest = re.sub(rf"(?<![\w-]){re.escape(alias)}(?![\w-])", " ", name)
                rest = re.sub(r"\s+", " ", rest).strip(" -")
                tag, descriptors = _ALIASES[alias], [d for d in (rest, *descriptors) if d]
                break
    descriptor = ", ".join(d for d in descriptors if d) or None
    if tag is None:
        return TagName(tag=name, known=False, number=number, descriptor=descriptor) if loose and name else None
    return TagName(tag=tag, known=True, number=number, descriptor=descriptor)


def display_name(tag: str) -> str:
    """Title-case name as ACE-Step 1.5 documents it ("Pre-Chorus", "Instrumental")."""
    return TITLE_NAMES.get(tag, tag.title())
