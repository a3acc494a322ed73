"""The Lyrics model: a title and ordered sections (tag, lines), read from what people and LLMs
write and rendered as the exact tags ACE-Step understands.

Public API (used by `studio`):

    lyrics = Lyrics.parse(text)            # tolerant: "Verse 1:", "**Chorus**", "[Verse 2 - softer]",
                                           # "(Pre-Chorus)", "Hook", markdown, numbering, blank lines
    lyrics.render()                        # ACE-Step v1: only the 12 tags, each on its own line
    lyrics.render(target="ace-step-1.5")   # keeps numbers/descriptors 1.5 understands ("[Verse 2 - softer]")
    report = lyrics.validate(duration_s=120, bpm=100, language="en")
    report.ok, report.issues               # unknown tags, empty sections, too long for the duration
    fixed, changes = lyrics.repair()       # canonical tags, repeats filled in, empties dropped
    Lyrics.from_dict({"title": ..., "sections": [{"tag": "verse", "lines": [...]}]})

Parsing never drops a lyric line: text that is clearly not lyrics (a chat preamble such as
"Here's your song:", a markdown rule, a code fence) goes to `notes`, never away.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Literal

from lyrics import prosody
from lyrics.tags import GENERATABLE_TAGS, INSTRUMENTAL_TAGS, SUNG_TAGS, V1_TAGS, display_name, parse_header

Target = Literal["ace-step-v1", "ace-step-1.5"]

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_FENCE_OR_RULE = re.compile(r"^(```.*|~~~.*|[-*_=]{3,})$")
_MD_PREFIX = re.compile(r"^(?:>\s*|#{1,6}\s+|[-*+\u2022]\s+|\d{1,3}[.)]\s+)+")
_WRAPPERS = ("***", "**", "__", "*", "_", "`")
_BRACKET = re.compile(r"^\[([^\[\]]+)\]\s*(.*)$")
_PAREN = re.compile(r"^\(([^()]+)\)$")
_COLON = re.compile(r"^([^:]{1,40}):\s*(.*)$")
_TITLE = re.compile(r"^(?:song\s+)?title\s*[:\-]\s*(.+)$", re.I)
_PREAMBLE = re.compile(
    r"^(here('s| is| are)|sure\b|okay\b|ok\b|certainly|of course|absolutely|below is|i've written|i have written)",
    re.I)
_CJK_BRACKETS = str.maketrans({"\u3010": "[", "\u3011": "]", "\u3014": "[", "\u3015": "]"})
_QUOTES = "\"'\u201c\u201d\u2018\u2019\u00ab\u00bb"


@dataclass(frozen=True)
class Section:
    """One section. `tag` is a v1 tag when known, else the lower-cased name as written
    (validate() reports it, repair() maps it). `number`/`descriptor` survive for ACE-Step 1.5."""

    tag: str
    lines: tuple[str, ...] = ()
    number: int | None = None
    descriptor: str | None = None

    @property
    def known(self) -> bool:
        return self.tag in V1_TAGS

    def header(self, target: Target = "ace-step-v1") -> str:
        if target == "ace-step-v1":
            return f"[{self.tag}]"
        name = display_name(self.tag)
        if self.number is not None:
            name += f" {self.number}"
        if self.descriptor:
            name += f" - {self.descriptor}"
        return f"[{name}]"


@dataclass(frozen=True)
class Issue:
    code: str  # unknown_tag | not_v1_tag | empty_section | no_lyrics | too_long
    message: str
    section: int | None = None
    level: Literal["warning", "info"] = "warning"


@dataclass(frozen=True)
class ValidationReport:
    issues: tuple[Issue, ...]
    syllables: int
    sung_seconds: float | None  # None when no tempo was given

    @property
    def ok(self) -> bool:
        return not any(i.level == "warning" for i in self.issues)

    def codes(self) -> list[str]:
        return [i.code for i in self.issues]


@dataclass(frozen=True)
class Lyrics:
    title: str = ""
    sections: tuple[Section, ...] = ()
    notes: tuple[str, ...] = field(default=(), compare=False)

    # ---- reading -------------------------------------------------------------------------
    @classmethod
    def parse(cls, text: str) -> "Lyrics":
        return _Parser().run(text or "")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Lyrics":
        """From the JSON shape models are constrained to (and `to_dict` writes). Tags go through
        the same header reader as text; a `lines` string is split on newlines."""
        if not isinstance(data, dict):
            raise ValueError(f"lyrics JSON must be an object, got {type(data).__name__}")
        sections = []
        for item in data.get("sections") or []:
            if not isinstance(item, dict):
                continue
            raw_lines = item.get("lines") or []
            if isinstance(raw_lines, str):
                raw_lines = [raw_lines]
            lines = [ln for raw in raw_lines if isinstance(raw, str) for ln in _split_clean(raw)]
            name = parse_header(str(item.get("tag") or ""), loose=True)
            if name is None:
                sections.append(Section(tag="verse" if lines else "", lines=tuple(lines)))
                continue
            number = item.get("number") if isinstance(item.get("number"), int) else name.number
            descriptor = item.get("descriptor") if isinstance(item.get("descriptor"), str) else name.descriptor
            sections.append(Section(tag=name.tag, lines=tuple(lines), number=number, descriptor=descriptor or None))
        return cls(title=clean_title(str(data.get("title") or "")), sections=tuple(sections))

    def to_dict(self) -> dict[str, Any]:
        return {"title": self.title,
                "sections": [{"tag": s.tag, "lines": list(s.lines), "number": s.number,
                              "descriptor": s.descriptor} for s in self.sections]}

    # ---- writing -------------------------------------------------------------------------
    def render(self, target: Target = "ace-step-v1") -> str:
        """Lyrics text for the music model. v1: only the 12 exact tags, one per line, each section
        followed by its lines; numbers and descriptors are dropped because v1 would not recognise
        `[verse 1]`. Works on the repaired lyrics, so unknown tags never reach the model
        (validate() tells the user what repair changed)."""
        if target not in ("ace-step-v1", "ace-step-1.5"):
            raise ValueError(f"unknown render target {target!r}; use 'ace-step-v1' or 'ace-step-1.5'")
        fixed, _ = self.repair()
        blocks = ["\n".join((s.header(target), *s.lines)) for s in fixed.sections]
        return "\n\n".join(blocks)

    def text(self) -> str:
        """Editable text with the title and 1.5-style headers; `parse(text())` round-trips."""
        body = "\n\n".join("\n".join((s.header("ace-step-1.5"), *s.lines)) for s in self.sections)
        return f"Title: {self.title}\n\n{body}" if self.title else body

    # ---- checking and fixing ---------------------------------------------------------------
    def validate(self, *, duration_s: float | None = None, bpm: float | None = None,
                 language: str = "en") -> ValidationReport:
        issues: list[Issue] = []
        for i, s in enumerate(self.sections):
            where = f"section {i + 1} ({s.header('ace-step-1.5')})"
            if not s.known:
                issues.append(Issue("unknown_tag", f"{where}: {s.tag!r} is not an ACE-Step tag; "
                                    f"use one of {', '.join(V1_TAGS)}", i))
            elif s.number is not None or s.descriptor:
                issues.append(Issue("not_v1_tag", f"{where}: ACE-Step v1 gets plain [{s.tag}] "
                                    "(number/descriptor kept only for 1.5)", i, level="info"))
            if not s.lines and s.tag not in INSTRUMENTAL_TAGS:
                issues.append(Issue("empty_section", f"{where} has no lines", i))
        all_lines = [ln for s in self.sections for ln in s.lines]
        if not all_lines:
            issues.append(Issue("no_lyrics", "there are no lyric lines"))
        syllables = sum(prosody.count_syllables(ln, language) for ln in all_lines)
        seconds = None
        if bpm is not None:
            seconds = prosody.sung_seconds(all_lines, bpm=bpm, language=language)
            if duration_s is not None and seconds > duration_s:
                issues.append(Issue("too_long", f"about {seconds:.0f} s of singing at {bpm:g} BPM "
                                    f"({syllables} syllables) does not fit {duration_s:g} s; "
                                    "cut lines or sections, or raise the duration"))
        return ValidationReport(issues=tuple(issues), syllables=syllables, sung_seconds=seconds)

    def repair(self) -> tuple["Lyrics", list[str]]:
        """Canonical sections: an unknown tag with lines becomes a verse (its name kept as the
        descriptor), an empty sung section repeats the last section with that tag ("(Repeat
        Chorus)") or is dropped, blank lines go. Returns the new lyrics and what changed."""
        changes: list[str] = []
        out: list[Section] = []
        last_lines: dict[str, tuple[str, ...]] = {}
        for i, s in enumerate(self.sections):
            lines = tuple(ln for raw in s.lines for ln in _split_clean(raw))
            section = replace(s, lines=lines)
            if not s.known:
                if not lines:
                    changes.append(f"dropped empty section {i + 1} with unknown tag {s.tag!r}")
                    continue
                desc = ", ".join(d for d in (s.tag, s.descriptor) if d) or None
                section = replace(section, tag="verse", descriptor=desc)
                changes.append(f"section {i + 1}: unknown tag {s.tag!r} sung as [verse]")
            if section.tag in SUNG_TAGS and not section.lines:
                if section.tag in last_lines:
                    section = replace(section, lines=last_lines[section.tag])
                    changes.append(f"section {i + 1}: empty [{section.tag}] repeats the previous one")
                else:
                    changes.append(f"dropped empty section {i + 1} [{section.tag}]")
                    continue
            if section.lines:
                last_lines[section.tag] = section.lines
            out.append(section)
        title = clean_title(self.title)
        if title != self.title:
            changes.append("cleaned the title")
        return Lyrics(title=title, sections=tuple(out), notes=self.notes), changes

    # ---- editing helpers (used by the writer) --------------------------------------------
    def replace_section(self, index: int, section: Section) -> "Lyrics":
        if not 0 <= index < len(self.sections):
            raise IndexError(f"no section {index}; the lyrics have {len(self.sections)}")
        sections = list(self.sections)
        sections[index] = section
        return replace(self, sections=tuple(sections))

    def extend(self, sections: Iterable[Section]) -> "Lyrics":
        return replace(self, sections=self.sections + tuple(sections))

    def find(self, section: int | str) -> int:
        """Index of a section given as an index, a tag ("chorus": the first one) or a header
        as written ("Verse 2")."""
        if isinstance(section, int):
            if not 0 <= section < len(self.sections):
                raise IndexError(f"no section {section}; the lyrics have {len(self.sections)} (0-based)")
            return section
        name = parse_header(section.strip().strip("[]"), loose=True)
        if name is not None:
            same_tag = [i for i, s in enumerate(self.sections) if s.tag == name.tag]
            if name.number is not None:
                numbered = [i for i in same_tag if self.sections[i].number == name.number]
                if numbered:
                    return numbered[0]
                if len(same_tag) >= name.number:
                    return same_tag[name.number - 1]
            elif same_tag:
                return same_tag[0]
        have = ", ".join(s.header("ace-step-1.5") for s in self.sections) or "none"
        raise KeyError(f"no section {section!r} in these lyrics (sections: {have})")


# ---- parsing ------------------------------------------------------------------------------

def _split_clean(raw: str) -> list[str]:
    """A model's "line" may hold newlines or control characters: split, strip, drop blanks."""
    out = []
    for part in re.split(r"[\r\n\u2028\u2029]+", raw):
        part = _CONTROL.sub(" ", part)
        part = re.sub(r"[ \t]+", " ", part).strip()
        if part:
            out.append(part)
    return out


def _unwrap(line: str) -> tuple[str, bool]:
    """Strip markdown emphasis wrapping the whole line; say whether there was any."""
    wrapped = False
    changed = True
    while changed:
        changed = False
        for w in _WRAPPERS:
            if len(line) > 2 * len(w) and line.startswith(w) and line.endswith(w):
                line, wrapped, changed = line[len(w):-len(w)].strip(), True, True
    return line, wrapped


def clean_title(title: str) -> str:
    title = _split_clean(title)[0] if _split_clean(title) else ""
    title = _MD_PREFIX.sub("", title)
    title, _ = _unwrap(title)
    match = _TITLE.match(title)
    if match:
        title = match.group(1)
    title, _ = _unwrap(title.strip())
    return title.strip().strip(_QUOTES).strip()


class _Parser:
    def __init__(self) -> None:
        self.title = ""
        self.sections: list[Section] = []
        self.notes: list[str] = []
        self.pending: list[list[str]] = [[]]  # untagged stanzas before the first header

    def run(self, text: str) -> Lyrics:
        text = unicodedata.normalize("NFC", text)
        seen_content = False
        for raw in re.split(r"\r\n|\r|\n|\u2028|\u2029", text):
            line = re.sub(r"[ \t]+", " ", _CONTROL.sub(" ", raw)).strip()
            if not line:
                if not self.sections and self.pending[-1]:
                    self.pending.append([])
                continue
            if _FENCE_OR_RULE.match(line):
                continue
            if not seen_content and not self.sections:
                kind = self._opening(line)
                if kind == "preamble":
                    continue
                seen_content = True
                if kind == "title":
                    continue
            self._line(line)
        return self._finish()

    def _opening(self, line: str) -> str:
        """Classify the first content line: "title" and "preamble" are consumed, "content" is not."""
        stripped = _MD_PREFIX.sub("", line) if line.startswith("#") else line
        inner, wrapped = _unwrap(stripped)
        if _TITLE.match(inner):
            self.title = clean_title(inner)
            return "title"
        if _PREAMBLE.match(inner) and (inner.endswith(":") or len(inner.split()) > 4):
            self.notes.append(line)
            return "preamble"  # a title may still follow
        if self._header(line) is not None:
            return "content"
        if line.startswith("#") or wrapped or (len(inner) > 2 and inner[0] in _QUOTES and inner[-1] in _QUOTES):
            self.title = clean_title(inner)
            return "title"
        return "content"

    def _header(self, line: str):
        """(TagName, rest-of-line) when the line is a section header, else None. Full-width
        forms ("副歌：", "［Coro］") and CJK brackets ("【サビ】") read like their ASCII ones."""
        body = _MD_PREFIX.sub("", line) if line.startswith(("#", ">")) else line
        body, wrapped = _unwrap(body)
        body = unicodedata.normalize("NFKC", body).translate(_CJK_BRACKETS)
        match = _BRACKET.match(body)
        if match:
            inner, rest = match.groups()
            inner, _ = _unwrap(inner.strip())
            name = parse_header(inner, loose=True)
            if name is not None:
                rest, _ = _unwrap(rest.strip())
                return name, rest
        match = _PAREN.match(body)
        if match:
            name = parse_header(match.group(1), loose=False, colon_or_paren=True)
            return (name, "") if name else None
        match = _COLON.match(body)
        if match:
            name = parse_header(match.group(1), loose=False, colon_or_paren=not match.group(2).strip())
            if name is not None:
                return name, match.group(2).strip()
        name = parse_header(body.rstrip(":"), loose=False)
        return (name, "") if name else None

    def _line(self, line: str) -> None:
        header = self._header(line)
        if header is not None:
            name, rest = header
            self.sections.append(Section(tag=name.tag, number=name.number, descriptor=name.descriptor))
            if rest:
                self._add_lyric(rest)
            return
        self._add_lyric(line)

    def _add_lyric(self, line: str) -> None:
        line = _MD_PREFIX.sub("", line)
        line, _ = _unwrap(line)
        line = line.strip()
        if not line:
            return
        if self.sections:
            last = self.sections[-1]
            self.sections[-1] = replace(last, lines=last.lines + (line,))
        else:
            self.pending[-1].append(line)

    def _finish(self) -> Lyrics:
        stanzas = [tuple(s) for s in self.pending if s]
        # Untagged stanzas are verses: with no headers at all, each stanza is one verse; before
        # the first header, all of them form one opening verse.
        if not self.sections:
            sections = [Section(tag="verse", lines=s) for s in stanzas]
        else:
            lead = tuple(ln for s in stanzas for ln in s)
            sections = ([Section(tag="verse", lines=lead)] if lead else []) + self.sections
        return Lyrics(title=self.title, sections=tuple(sections), notes=tuple(self.notes))


__all__ = ["Lyrics", "Section", "Issue", "ValidationReport", "V1_TAGS", "GENERATABLE_TAGS", "Target"]
