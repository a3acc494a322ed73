"""Line-by-line drafting with candidates: how syllable budgets and rhyme schemes are reached
where a grammar cannot count syllables.

The model writes its reply one line at a time (the reply so far is the `prefix` it continues).
For every line it samples a few candidates, each held to a character range that suits the
line's syllable target by a one-line GBNF grammar, and the composer keeps the one closest to
the target that also rhymes where the section's scheme asks for a rhyme. Candidates that repeat
the request are thrown away; when a whole round is thrown away it samples another round with
new seeds, and gives up with `UnrepairableOutput` (keeping everything written) after three.

Only backends with `supports_prefix` (llama.cpp in-process) can do this; the writer picks the
best of several whole drafts on the others.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Iterator, Sequence

import pronouncing

from lyrics.backends.base import Backend, Message, SamplingParams
from lyrics.budget import SongPlan
from lyrics.constraints import MAX_LINE_CHARS, MAX_TITLE_CHARS, Constraint
from lyrics.errors import LyricsCancelled, UnrepairableOutput
from lyrics.prosody import count_syllables, line_rhyme_key, words
from lyrics.quality import PromptCopyCheck

ROUNDS = 3
RHYME_PENALTY = 2.5  # a missed rhyme weighs like 2.5 syllables off target
REPEAT_PENALTY = 4.0  # a line already in the song
SAME_WORD_PENALTY = 3.0  # "night" / "night" is no rhyme
OVERLAP_PENALTY = 4.0  # times the share of the line's word pairs already in the song
ENDINGS = 24  # rhyme words a forced-rhyme candidate may end with
COMMON_TOKEN_RANK = 20000  # BPE ids below this are frequent merges: common words
RHYME_CANDIDATE_FACTOR = 2  # lines that must rhyme get more candidates: a rhyme is rarer than a length
REPEATED_TAGS = frozenset({"chorus", "hook"})  # sung again as first written
SEED_STRIDE = 7919


def char_range(syllables: int) -> tuple[int, int]:
    """Characters a line of `syllables` syllables usually takes (English averages ~3.5 a
    syllable with spaces); wide enough for other languages, narrow enough to steer length."""
    low = max(3, round(2.2 * syllables))
    return low, min(MAX_LINE_CHARS, max(low + 8, round(5.5 * syllables) + 6))


def line_grammar(syllables: int) -> Constraint:
    low, high = char_range(syllables)
    return Constraint("gbnf", "root ::= lstart lchar{%d,%d} \"\\n\"\n"
                              "lstart ::= [^\\x00-\\x20\\x7F\\[\\]#*(]\n"
                              "lchar ::= [^\\x00-\\x1F\\x7F\\[\\]]\n" % (low - 1, high - 1))


def rhyme_grammar(syllables: int, endings: Sequence[str]) -> Constraint:
    """A line of about `syllables` syllables that must end with one of `endings`."""
    low, high = char_range(syllables)
    words_rule = " | ".join(f'"{w}"' for w in endings)
    return Constraint("gbnf", "root ::= lstart lchar{%d,%d} \" \" end [,.!?]? \"\\n\"\n"
                              "end ::= %s\n"
                              "lstart ::= [^\\x00-\\x20\\x7F\\[\\]#*(]\n"
                              "lchar ::= [^\\x00-\\x1F\\x7F\\[\\]]\n"
                      % (max(0, low - 8), max(1, high - 8), words_rule))


@lru_cache(maxsize=256)
def rhyme_words(word: str, limit: int = 40) -> tuple[str, ...]:
    """Short English words that rhyme with `word` (CMU dictionary), shortest first: short
    rhymes are mostly common words."""
    found = {w for w in pronouncing.rhymes(word.lower())
             if w.isalpha() and 3 <= len(w) <= 7 and w != word.lower() and any(v in w for v in "aeiouy")}
    return tuple(sorted(found, key=lambda w: (len(w), w))[:limit])


TITLE_GRAMMAR = Constraint("gbnf", "root ::= lstart lchar{0,%d} \"\\n\"\n"
                                   "lstart ::= [^\\x00-\\x20\\x7F\\[\\]#*]\n"
                                   "lchar ::= [^\\x00-\\x1F\\x7F\\[\\]]\n" % (MAX_TITLE_CHARS - 1))


@dataclass(frozen=True)
class Candidate:
    text: str
    syllables: int
    score: float


def _norm(line: str) -> str:
    return " ".join(w.lower() for w in words(line))


def _bigrams(line: str) -> set[tuple[str, str]]:
    found = [w.lower() for w in words(line)]
    return set(zip(found, found[1:]))


class LineComposer:
    """Yields the song text ("Title: ...", "[verse]", lines) as each line is chosen."""

    def __init__(self, backend: Backend, messages: Sequence[Message], plan: SongPlan, *, candidates: int,
                 sampling: SamplingParams, seed: int | None, language: str, copy_check: PromptCopyCheck,
                 cancel: threading.Event) -> None:
        self.backend = backend
        self.messages = list(messages)
        self.plan = plan
        self.candidates = max(1, candidates)
        self.sampling = sampling
        self.seed = seed if seed is not None else random.randrange(2**31)
        self.language = language
        self.copy_check = copy_check
        self.cancel = cancel
        self.tokens = 0
        self.calls = 0
        self._text = ""

    def run(self) -> Iterator[str]:
        title = self._sample("Title: ", TITLE_GRAMMAR, seed=self.seed, max_tokens=24).strip()
        yield from self._emit(f"Title: {title or 'Untitled'}\n\n")
        written: dict[str, list[str]] = {}
        used: set[str] = set()
        for index, section in enumerate(self.plan.sections):
            yield from self._emit(f"[{section.tag}]\n")
            if section.tag in REPEATED_TAGS and section.tag in written:
                for line in written[section.tag]:
                    yield from self._emit(line + "\n")
            else:
                lines: list[str] = []
                for number in range(section.lines):
                    partner = self._partner(section.rhyme, number, lines)
                    line = self._choose_line(index, number, section.tag, section.syllables, partner, used)
                    lines.append(line)
                    used.add(_norm(line))
                    yield from self._emit(line + "\n")
                written.setdefault(section.tag, lines)
            if index < len(self.plan.sections) - 1:
                yield from self._emit("\n")

    def _emit(self, text: str) -> Iterator[str]:
        self._text += text
        yield text

    @staticmethod
    def _partner(letters: str, number: int, lines: Sequence[str]) -> str | None:
        """The earlier line of this section that line `number` should rhyme with."""
        if number >= len(letters) or letters[number] == "-":
            return None
        letter = letters[number]
        for i in range(number):
            if letters[i] == letter:
                return lines[i]
        return None

    def _choose_line(self, section: int, number: int, tag: str, target: int, partner: str | None,
                     used: set[str]) -> str:
        partner_key = self._last_key(partner) if partner else None
        partner_word = words(partner)[-1].lower() if partner and words(partner) else None
        # Where a rhyme is due (English), half the candidates must end with a rhyming word: a
        # grammar cannot count syllables, but it can hold the line's last word to a rhyme list.
        endings = self._endings(partner_word) if partner_key and partner_word and self.language == "en" else ()
        rejected: list[str] = []
        for round_ in range(ROUNDS):
            best: Candidate | None = None
            for k in range(self.candidates * (RHYME_CANDIDATE_FACTOR if partner_key else 1)):
                seed = (self.seed + SEED_STRIDE * (section * 64 + number + 1) + 101 * (round_ * self.candidates + k)) % 2**31
                grammar = rhyme_grammar(target, endings) if endings and k % 2 == 1 else line_grammar(target)
                # a round thrown away whole: sample the next one hotter, away from the copied line
                text = self._sample(self._text, grammar, seed=seed, max_tokens=48,
                                    temperature=self.sampling.temperature + 0.2 * round_).strip()
                if not words(text) or self.copy_check.is_copy(text):
                    rejected.append(text)
                    continue
                candidate = self._score(text, target, partner_key, partner_word, used)
                if best is None or candidate.score < best.score:
                    best = candidate
            if best is not None:
                return best.text
        shown = "; ".join(repr(t) for t in rejected[:3]) or "nothing"
        raise UnrepairableOutput(
            f"the model kept repeating the request or writing no words for line {number + 1} of the [{tag}] "
            f"({len(rejected)} tries, e.g. {shown}); try another seed or theme, or edit the text by hand",
            raw=self._text + "\n".join(rejected))

    def _score(self, text: str, target: int, partner_key: str | None, partner_word: str | None,
               used: set[str]) -> Candidate:
        syllables = count_syllables(text, self.language)
        score = float(abs(syllables - target))
        if partner_key is not None:
            key = self._last_key(text)
            if key != partner_key:
                score += RHYME_PENALTY
            elif partner_word is not None and words(text)[-1].lower() == partner_word:
                score += SAME_WORD_PENALTY
        if _norm(text) in used:
            score += REPEAT_PENALTY
        pairs = _bigrams(text)
        if pairs:
            score += OVERLAP_PENALTY * len(pairs & self._song_bigrams()) / len(pairs)
        return Candidate(text=text, syllables=syllables, score=score)

    def _endings(self, word: str) -> tuple[str, ...]:
        """Rhymes for `word` that the model knows as whole words (one token of its vocabulary:
        common words); none when the backend cannot tell."""
        known = getattr(self.backend, "word_token", None)
        if known is None:
            return ()
        ranked = [(token, w) for w in rhyme_words(word, limit=400) if (token := known(w)) is not None]
        return tuple(w for token, w in sorted(ranked)[:ENDINGS] if token < COMMON_TOKEN_RANK)

    def _song_bigrams(self) -> set[tuple[str, str]]:
        return {pair for line in self._text.splitlines() for pair in _bigrams(line)}

    def _last_key(self, line: str) -> str | None:
        return line_rhyme_key(line, self.language)

    def _sample(self, prefix: str, constraint: Constraint, *, seed: int, max_tokens: int,
                temperature: float | None = None) -> str:
        if self.cancel.is_set():
            raise LyricsCancelled("generation cancelled")
        params = replace(self.sampling, seed=seed, max_tokens=max_tokens,
                         temperature=self.sampling.temperature if temperature is None else temperature)
        text = "".join(self.backend.stream(self.messages, params=params, constraint=constraint,
                                           cancel=self.cancel, prefix=prefix))
        self.calls += 1
        self.tokens += self.backend.last_completion_tokens or 0
        return text
