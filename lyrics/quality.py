"""A lyric-quality report for one draft: did the model write the exact tags and the requested
structure, did it copy the request instead of writing, how close are the lines to their
syllable targets, do the requested lines rhyme, how repetitive is it.

    report = assess(raw, lyrics, requested=("verse", "chorus"), plan=plan, prompt_texts=[...])
    report.hints()      # short sentences for the Write page
    report.to_dict()    # for the job's result and `songstudio lyrics draft --json`

`copied_lines` is also what the writer uses to reject a reply that repeats its prompt.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Iterable, Sequence

from lyrics.budget import SongPlan, line_fits
from lyrics.format import Lyrics
from lyrics.prosody import analyse_lines, count_syllables
from lyrics.tags import V1_TAGS, parse_header

_EXACT_HEADER = re.compile(r"^\[(" + "|".join(re.escape(t) for t in V1_TAGS) + r")\]$")
_ANY_HEADER = re.compile(r"^\s*\[[^\]]*\]\s*$")
# Lines a model copies from a request: "Theme: ...", "Mood: wistful", "Sections: 4", "About 4 lines ...".
_METADATA = re.compile(
    r"^\W*(theme|topic|mood|genre|style|sections?|structure|language|tempo|bpm|rhyme( scheme)?|syllables?|"
    r"length|lines|instructions?|example)\s*[:=-]|^\W*about \d+ (lines|syllables)|in each sung section|"
    r"sections,? in this order|^\W*(verse|chorus|bridge|intro|outro)\s*\d*\s*:\s*\d+\s*(lines|syllables)",
    re.I)
_WORDS = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*")
COPY_MIN_WORDS = 4


def _norm_words(text: str) -> list[str]:
    return [w.lower() for w in _WORDS.findall(text)]


def _is_header(line: str) -> bool:
    """A section name written as a lyric line ("Chorus:", "(Verse 2)"): format, not lyrics."""
    inner = line.strip().strip("[]()*#_ ").rstrip(":").strip()
    return bool(inner) and parse_header(inner, loose=False) is not None


class PromptCopyCheck:
    """Recognises lyric lines that repeat the request: metadata lines ("Mood: wistful"),
    section names written as lines ("Chorus:") and lines of 4+ words found word for word in a
    prompt text (the request or the example)."""

    def __init__(self, prompt_texts: Iterable[str]) -> None:
        self._texts = [" " + " ".join(_norm_words(t)) + " " for t in prompt_texts if t]

    def is_copy(self, line: str) -> bool:
        if _METADATA.search(line) or _is_header(line):
            return True
        words = _norm_words(line)
        if len(words) < COPY_MIN_WORDS:
            return False
        needle = " " + " ".join(words) + " "
        return any(needle in text for text in self._texts)

    def copied(self, lines: Iterable[str]) -> list[str]:
        return [line for line in lines if self.is_copy(line)]


def tag_exact(raw: str) -> bool:
    """Every section header in the model's own text is one of ACE-Step v1's exact tags."""
    headers = [ln.strip() for ln in raw.splitlines() if _ANY_HEADER.match(ln)]
    return bool(headers) and all(_EXACT_HEADER.match(h) for h in headers)


def distinct_2(lines: Sequence[str]) -> float | None:
    """Distinct word bigrams / all bigrams over the lyrics (1.0: nothing repeated)."""
    bigrams = []
    for line in lines:
        words = _norm_words(line)
        bigrams.extend(zip(words, words[1:]))
    return len(set(bigrams)) / len(bigrams) if bigrams else None


def _last_word(line: str) -> str:
    found = _norm_words(line)
    return found[-1] if found else ""


def rhyme_hits(lines: Sequence[str], letters: str, language: str) -> tuple[int, int]:
    """(pairs that rhyme, pairs asked to rhyme): each line with a scheme letter seen before
    against the first line of that letter. The same word twice ("light" / "light") is not a
    rhyme."""
    keys = [line.rhyme_key for line in analyse_lines("", lines, language).lines]
    hit = asked = 0
    seen: dict[str, int] = {}
    for i, letter in enumerate(letters[: len(lines)]):
        if letter in ("-", ""):
            continue
        if letter in seen:
            asked += 1
            first = keys[seen[letter]]
            hit += int(first is not None and keys[i] == first
                       and _last_word(lines[i]) != _last_word(lines[seen[letter]]))
        else:
            seen[letter] = i
    return hit, asked


@dataclass(frozen=True)
class QualityReport:
    tag_exact: bool
    structure_ok: bool
    prompt_copy_lines: tuple[str, ...]
    lines_per_section: tuple[int, ...]
    syllables: tuple[tuple[int, ...], ...]  # per section, per line
    targets: tuple[tuple[int, ...], ...]  # per section, per line (empty without a plan)
    syllable_fit: float | None  # share of lines within +-2 syllables of their target
    rhyme_pairs: tuple[int, int]  # (rhymed, asked)
    rhyme_sections: tuple[int, int]  # (sections whose asked pairs all rhyme, sections with pairs)
    distinct2: float | None
    tokens: int | None = None
    seconds: float | None = None
    attempts: int = 1

    @property
    def rhyme_hit(self) -> float | None:
        rhymed, asked = self.rhyme_pairs
        return rhymed / asked if asked else None

    @property
    def tokens_per_s(self) -> float | None:
        return self.tokens / self.seconds if self.tokens and self.seconds else None

    def hints(self) -> list[str]:
        out = []
        if not self.tag_exact:
            out.append("the model wrote section headers ACE-Step v1 does not know; they were mapped to its tags")
        if not self.structure_ok:
            out.append("the sections differ from the structure asked for")
        if self.prompt_copy_lines:
            out.append(f"{len(self.prompt_copy_lines)} line(s) repeat the request, e.g. "
                       f"{self.prompt_copy_lines[0]!r}: rewrite them")
        if self.syllable_fit is not None and self.syllable_fit < 0.75:
            out.append(f"{self.syllable_fit:.0%} of the lines are within 2 syllables of their target: "
                       "long lines will be rushed, short ones stretched")
        if self.rhyme_hit is not None and self.rhyme_hit < 0.5:
            rhymed, asked = self.rhyme_pairs
            out.append(f"{rhymed} of {asked} lines that should rhyme do")
        if self.distinct2 is not None and self.distinct2 < 0.6:
            out.append(f"repetitive wording (distinct word pairs {self.distinct2:.0%})")
        return out

    def to_dict(self) -> dict:
        data = asdict(self)
        data.update(rhyme_hit=self.rhyme_hit, tokens_per_s=self.tokens_per_s, hints=self.hints())
        return data


def assess(raw: str, lyrics: Lyrics, *, requested: Sequence[str] | None, plan: SongPlan | None,
           prompt_texts: Iterable[str], language: str = "en", tokens: int | None = None,
           seconds: float | None = None, attempts: int = 1) -> QualityReport:
    sections = lyrics.sections
    all_lines = [ln for s in sections for ln in s.lines]
    syllables = tuple(tuple(count_syllables(ln, language) for ln in s.lines) for s in sections)
    targets: tuple[tuple[int, ...], ...] = ()
    fit = None
    rhymed = asked = full = with_pairs = 0
    if plan is not None and tuple(s.tag for s in sections) == tuple(p.tag for p in plan.sections):
        targets = tuple(tuple([p.syllables] * len(s.lines)) for s, p in zip(sections, plan.sections))
        pairs = [(n, t) for row, trow in zip(syllables, targets) for n, t in zip(row, trow)]
        fit = sum(line_fits(n, t) for n, t in pairs) / len(pairs) if pairs else None
        for s, p in zip(sections, plan.sections):
            hit, ask = rhyme_hits(s.lines, p.rhyme, language)
            rhymed, asked = rhymed + hit, asked + ask
            if ask:
                with_pairs += 1
                full += int(hit == ask)
    return QualityReport(
        tag_exact=tag_exact(raw),
        structure_ok=requested is None or tuple(s.tag for s in sections) == tuple(requested),
        prompt_copy_lines=tuple(PromptCopyCheck(prompt_texts).copied(all_lines)),
        lines_per_section=tuple(len(s.lines) for s in sections),
        syllables=syllables, targets=targets, syllable_fit=fit,
        rhyme_pairs=(rhymed, asked), rhyme_sections=(full, with_pairs),
        distinct2=distinct_2(all_lines), tokens=tokens, seconds=seconds, attempts=attempts)
