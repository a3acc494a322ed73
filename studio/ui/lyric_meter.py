"""The lyric-length meter on Create: lyric tokens against the engine's limit, the longest line
against the check's line limit, and the time the words take to sing against the song's length.

Plain data, so the rules are unit-tested. Tokens come from the engine's own lyric tokenizer when
its vocabulary is on this machine (`studio.ui.limits`); sung time is an estimate (syllables at
about one and a half per beat plus a breath per line, at the song's bpm or 100), said as such.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lyrics.prosody import sung_seconds
from studio.settings import Settings
from studio.ui.limits import EngineLimits, count_lyric_tokens

DEFAULT_BPM = 100.0
TAG_LINE = re.compile(r"^\s*\[[^\]]*\]\s*$")
COUNT_CHARS_MAX = 50_000  # past this the text is refused anyway; counting it would only keep the page busy


@dataclass(kw_only=True)
class Meter:
    chars: int
    lines: int
    tokens: int | None
    token_limit: int | None
    sung_seconds: float
    duration: float
    bpm: float
    problems: list[str] = field(default_factory=list)  # the submit check will refuse these
    warnings: list[str] = field(default_factory=list)  # allowed, but probably not what is meant

    @property
    def token_fraction(self) -> float | None:
        if self.tokens is None or not self.token_limit:
            return None
        return min(1.0, self.tokens / self.token_limit)

    def summary(self) -> str:
        """One line, our words only (safe as Markdown)."""
        parts = [f"{self.chars:,} characters, {self.lines} sung line{'s' if self.lines != 1 else ''}"]
        if self.tokens is not None and self.token_limit:
            parts.append(f"{self.tokens:,} of {self.token_limit:,} lyric tokens")
        elif self.token_limit:
            parts.append(f"the engine takes at most {self.token_limit:,} lyric tokens (not counted here: its "
                         "lyric vocabulary is not on this machine; Generate needs it to measure the lyrics: set "
                         "the engine option lyric_vocab, or it is fetched when online)")
        parts.append(f"about {self.sung_seconds:.0f} s to sing at {self.bpm:g} bpm, for a {self.duration:g} s song")
        return " · ".join(parts)


def measure(lyrics: str, *, limits: EngineLimits, duration: float, settings: Settings,
            bpm: float | None = None, instrumental: bool = False) -> Meter:
    bpm = float(bpm) if bpm else DEFAULT_BPM
    if instrumental:
        return Meter(chars=0, lines=0, tokens=None, token_limit=limits.lyric_token_limit, sung_seconds=0.0,
                     duration=duration, bpm=bpm)
    sung = [line for line in lyrics.split("\n") if line.strip() and not TAG_LINE.match(line)]
    meter = Meter(chars=len(lyrics), lines=len(sung), tokens=None, token_limit=limits.lyric_token_limit,
                  sung_seconds=0.0, duration=duration, bpm=bpm)
    if len(lyrics) > COUNT_CHARS_MAX:
        meter.problems.append(f"the lyrics are {len(lyrics):,} characters; far more than a song holds "
                              f"(the engine takes at most {limits.lyric_token_limit or 'a few thousand'} lyric "
                              "tokens). Shorten them")
        return meter
    longest = max((len(line) for line in lyrics.split("\n")), default=0)
    if limits.lyric_line_chars and longest > limits.lyric_line_chars:
        meter.problems.append(f"a lyric line is {longest:,} characters long; lines are at most "
                              f"{limits.lyric_line_chars:,} characters (put each sung line on its own line)")
    else:
        meter.tokens = count_lyric_tokens(settings, limits.engine, lyrics) if lyrics.strip() else 0
    if meter.tokens is not None and limits.lyric_token_limit and meter.tokens > limits.lyric_token_limit:
        meter.problems.append(f"the lyrics are {meter.tokens:,} lyric tokens; the engine takes at most "
                              f"{limits.lyric_token_limit:,}. Shorten them (fewer lines or repeats)")
    meter.sung_seconds = sung_seconds(sung, bpm=bpm)
    if meter.sung_seconds > duration * 1.1 and sung:
        meter.warnings.append(f"the words take about {meter.sung_seconds:.0f} s to sing but the song is "
                              f"{duration:g} s: the model will rush or drop lines. Make the song longer or the "
                              "lyrics shorter")
    return meter
