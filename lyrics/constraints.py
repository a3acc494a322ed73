"""Constrained-decoding specs with the ACE-Step tag set built in, and the readers for what comes
back.

Two shapes, one per kind of engine:
- GBNF (llama.cpp in-process and llama.cpp's server): the model writes the lyrics text itself,
  `Title: ...` then `[tag]` lines and lyric lines, so streamed tokens are readable as they come.
  A requested structure is fixed in the grammar, section by section.
- JSON schema (vLLM's structured outputs): `{title, sections: [{tag: enum, lines: [...]}]}` with
  bounds on every string and array, so a bad sample cannot run to `max_tokens`.

Model JSON may hold raw control characters inside strings (llama-cpp-python's schema grammar and
xgrammar both allow them), so it is always parsed with `strict=False`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal, Sequence

from lyrics.tags import GENERATABLE_TAGS, INSTRUMENTAL_TAGS

MAX_LINE_CHARS = 80
MAX_TITLE_CHARS = 60


@dataclass(frozen=True)
class Constraint:
    kind: Literal["gbnf", "json_schema"]
    spec: str | dict[str, Any]


@dataclass(frozen=True)
class Shape:
    """What to constrain: the sections to write and how many lines each may have."""

    structure: tuple[str, ...] | None = None  # fixed tag order, or None for free order
    min_sections: int = 2
    max_sections: int = 8
    min_lines: int = 2
    max_lines: int = 8
    with_title: bool = True
    lines: tuple[int, ...] | None = None  # with `structure`: exact line counts per section (GBNF)


# ---- GBNF -------------------------------------------------------------------------------------

_GBNF_COMMON = r'''
line ::= lstart lchar{0,%d} "\n"
lstart ::= [^\x00-\x20\x7F\[\]#*]
lchar ::= [^\x00-\x1F\x7F\[\]]
title ::= lstart lchar{0,%d}
''' % (MAX_LINE_CHARS - 1, MAX_TITLE_CHARS - 1)


def _gbnf_alternatives(tags: Sequence[str]) -> str:
    return " | ".join(f'"{t}"' for t in tags)


def _section_rule(name: str, tag_expr: str, lines: str) -> str:
    return f'{name} ::= "[" {tag_expr} "]\\n" {lines} "\\n"'


def sections_gbnf(shape: Shape) -> tuple[str, str]:
    """(root body, rules) for the sections: either the exact structure or `section{min,max}`."""
    sung_lines = f"line{{{shape.min_lines},{shape.max_lines}}}"
    rules = []
    if shape.structure:
        names = []
        for i, tag in enumerate(shape.structure):
            lines = "" if tag in INSTRUMENTAL_TAGS else sung_lines
            if shape.lines and shape.lines[i] and tag not in INSTRUMENTAL_TAGS:
                lines = f"line{{{shape.lines[i]}}}"
            names.append(f"s{i}")
            rules.append(_section_rule(f"s{i}", f'"{tag}"', lines))
        body = " ".join(names)
    else:
        body = f"section{{{shape.min_sections},{shape.max_sections}}}"
        rules.append(_section_rule("section", "tag", sung_lines))
        rules.append(f"tag ::= {_gbnf_alternatives([t for t in GENERATABLE_TAGS if t not in INSTRUMENTAL_TAGS])}")
    return body, "\n".join(rules)


def lyrics_gbnf(shape: Shape) -> str:
    body, rules = sections_gbnf(shape)
    head = '"Title: " title "\\n\\n" ' if shape.with_title else ""
    return f"root ::= {head}{body}\n{rules}\n{_GBNF_COMMON}"


def titles_gbnf(count: int) -> str:
    return f'root ::= ("- " title "\\n"){{{count}}}\n{_GBNF_COMMON}'


# ---- JSON schema ------------------------------------------------------------------------------

def _lines_schema(shape: Shape) -> dict[str, Any]:
    # minItems 0: instrumental sections have no lines; empty sung ones are repaired afterwards.
    return {"type": "array", "minItems": 0, "maxItems": shape.max_lines,
            "items": {"type": "string", "minLength": 1, "maxLength": MAX_LINE_CHARS}}


def lyrics_schema(shape: Shape) -> dict[str, Any]:
    count_min = len(shape.structure) if shape.structure else shape.min_sections
    count_max = len(shape.structure) if shape.structure else shape.max_sections
    tags = sorted(set(shape.structure)) if shape.structure else list(GENERATABLE_TAGS)
    section = {"type": "object",
               "properties": {"tag": {"type": "string", "enum": tags}, "lines": _lines_schema(shape)},
               "required": ["tag", "lines"], "additionalProperties": False}
    props: dict[str, Any] = {"sections": {"type": "array", "minItems": count_min, "maxItems": count_max,
                                          "items": section}}
    required = ["sections"]
    if shape.with_title:
        props = {"title": {"type": "string", "minLength": 1, "maxLength": MAX_TITLE_CHARS}, **props}
        required.insert(0, "title")
    return {"type": "object", "properties": props, "required": required, "additionalProperties": False}


def titles_schema(count: int) -> dict[str, Any]:
    return {"type": "object",
            "properties": {"titles": {"type": "array", "minItems": count, "maxItems": count,
                                      "items": {"type": "string", "minLength": 1, "maxLength": MAX_TITLE_CHARS}}},
            "required": ["titles"], "additionalProperties": False}


# ---- reading model output ---------------------------------------------------------------------

_FENCE = re.compile(r"^```[a-zA-Z]*\s*|\s*```$")


def load_json(text: str) -> Any:
    """The first JSON value in `text` (code fences and chatter around it allowed), parsed with
    `strict=False` so raw newlines/tabs inside strings are accepted. Raises ValueError."""
    stripped = _FENCE.sub("", text.strip())
    start = min((i for i in (stripped.find("{"), stripped.find("[")) if i >= 0), default=-1)
    if start < 0:
        raise ValueError("no JSON object in the model output")
    value, _ = json.JSONDecoder(strict=False).raw_decode(stripped, start)
    return value


def constraint_for(kind: str | None, *, gbnf: str, schema: dict[str, Any]) -> Constraint | None:
    if kind == "gbnf":
        return Constraint("gbnf", gbnf)
    if kind == "json_schema":
        return Constraint("json_schema", schema)
    return None
