"""Syllable budgets and rhyme schemes: how long each line of a song should be and which lines
should rhyme, from the tempo, the duration and the section.

    plan = plan_song(("verse", "chorus", "verse", "chorus"), bpm=96, duration_s=90)
    plan.sections[1].syllables   # per-line target of the first chorus (shorter than a verse's)
    plan.sections[0].rhyme       # "AABB": lines with the same letter should rhyme

The model of singing is the one `prosody.sung_seconds` uses: about 1.5 syllables a beat plus a
beat of breath after each line. Without a tempo and a duration, lines get the 6-10 syllables
most pop lyrics have. These are targets for choosing among candidates and hints for the
writer, not rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from lyrics.errors import LyricsRequestError
from lyrics.tags import INSTRUMENTAL_TAGS

SYLLABLES_PER_BEAT = 1.5
REST_BEATS_PER_LINE = 1.0
INSTRUMENTAL_BEATS = 8.0  # two bars for an intro, solo, break ...
GAP_BEATS_PER_SECTION = 2.0  # a breath between sections
FILL = 0.9  # leave some of the duration unsung
DEFAULT_VERSE_SYLLABLES = 8
MIN_SYLLABLES, MAX_SYLLABLES = 4, 14
# Relative line length per section: a chorus is punchier than a verse when `chorus_shorter`.
SECTION_WEIGHT = {"verse": 1.0, "pre-chorus": 0.9, "chorus": 0.8, "bridge": 0.9, "hook": 0.7}
SECTION_LINES = {"verse": 4, "pre-chorus": 2, "chorus": 4, "bridge": 2, "hook": 2}
RHYME_SCHEMES = ("AABB", "ABAB", "ABCB", "none")


@dataclass(frozen=True)
class SectionPlan:
    tag: str
    lines: int  # 0 for instrumental sections
    syllables: int  # per-line target (0 for instrumental sections)
    rhyme: str  # one letter per line ("AABB"); "-" marks a line free of rhyme; "" when no rhyme asked

    def targets(self) -> list[int]:
        return [self.syllables] * self.lines


@dataclass(frozen=True)
class SongPlan:
    sections: tuple[SectionPlan, ...]
    bpm: float | None
    duration_s: float | None
    rhyme_scheme: str

    def targets(self) -> list[list[int]]:
        return [s.targets() for s in self.sections]


def scheme_letters(scheme: str, lines: int) -> str:
    """The scheme for a section of `lines` lines: "AABB" -> couplets, "ABAB" -> alternate,
    "ABCB" -> the even lines rhyme; repeated per quatrain with fresh letters; "none" -> ""."""
    scheme = (scheme or "none").upper()
    if scheme == "NONE":
        return ""
    if scheme not in RHYME_SCHEMES:
        raise LyricsRequestError(f"unknown rhyme scheme {scheme!r}; use one of: {', '.join(RHYME_SCHEMES)}")
    out = []
    for i in range(lines):
        quatrain, pos = divmod(i, 4)
        base = quatrain * 2
        if lines - quatrain * 4 < 4 or scheme == "AABB":  # a short tail or couplets
            letter = base + pos // 2
        elif scheme == "ABAB":
            letter = base + pos % 2
        else:  # ABCB: lines 1 and 3 are free
            out.append("-" if pos % 2 == 0 else chr(ord("A") + base))
            continue
        out.append(chr(ord("A") + letter))
    return "".join(out)


def plan_song(structure: Sequence[str], *, lines_per_section: int | None = None, bpm: float | None = None,
              duration_s: float | None = None, chorus_shorter: bool = True,
              rhyme_scheme: str = "AABB") -> SongPlan:
    """Per-section line counts, per-line syllable targets and rhyme letters."""
    if bpm is not None and not 30 <= bpm <= 300:
        raise LyricsRequestError(f"tempo must be 30 to 300 BPM, got {bpm:g}")
    if duration_s is not None and not 5 <= duration_s <= 600:
        raise LyricsRequestError(f"duration must be 5 to 600 seconds, got {duration_s:g}")
    scheme_letters(rhyme_scheme, 4)  # checks the name

    def weight(tag: str) -> float:
        w = SECTION_WEIGHT.get(tag, 1.0)
        return w if chorus_shorter or tag not in ("chorus", "hook") else 1.0

    def count(tag: str) -> int:
        if tag in INSTRUMENTAL_TAGS:
            return 0
        return lines_per_section or SECTION_LINES.get(tag, 4)

    lines = [count(t) for t in structure]
    base = float(DEFAULT_VERSE_SYLLABLES)
    if bpm is not None and duration_s is not None:
        beats = duration_s * bpm / 60.0 * FILL
        beats -= INSTRUMENTAL_BEATS * sum(1 for t in structure if t in INSTRUMENTAL_TAGS)
        beats -= GAP_BEATS_PER_SECTION * len(structure)
        total_lines = sum(lines)
        weighted = sum(n * weight(t) for n, t in zip(lines, structure))
        if total_lines and weighted:
            base = SYLLABLES_PER_BEAT * (beats - REST_BEATS_PER_LINE * total_lines) / weighted
    base = min(max(base, MIN_SYLLABLES), MAX_SYLLABLES)
    sections = []
    for tag, n in zip(structure, lines):
        syllables = 0 if n == 0 else int(min(max(round(base * weight(tag)), MIN_SYLLABLES - 1), MAX_SYLLABLES))
        sections.append(SectionPlan(tag=tag, lines=n, syllables=syllables, rhyme=scheme_letters(rhyme_scheme, n)))
    return SongPlan(sections=tuple(sections), bpm=bpm, duration_s=duration_s,
                    rhyme_scheme=(rhyme_scheme or "none").upper())


def line_fits(syllables: int, target: int, tolerance: int = 2) -> bool:
    return abs(syllables - target) <= tolerance
