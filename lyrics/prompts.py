"""Chat messages for each writer task. Backends render them with the model's own chat template
(Llama-3.x for Song-Stream); nothing here hard-codes special tokens."""

from __future__ import annotations

from typing import Literal, Sequence

from lyrics.backends.base import Message
from lyrics.languages import LANGUAGES
from lyrics.tags import GENERATABLE_TAGS, INSTRUMENTAL_TAGS

OutputMode = Literal["text", "json"]

_SYSTEM = ("You are a songwriter. You write original, singable song lyrics: concrete images, a "
           "memorable chorus, steady meter (about 6 to 10 syllables per line) and natural rhymes.")

_TAG_LIST = " ".join(f"[{t}]" for t in GENERATABLE_TAGS)
_INSTRUMENTAL = " ".join(f"[{t}]" for t in GENERATABLE_TAGS if t in INSTRUMENTAL_TAGS)


def _format_rules(mode: OutputMode, *, with_title: bool) -> str:
    if mode == "json":
        title = '"title": "...", ' if with_title else ""
        return ("Reply with JSON only, no commentary: {" + title + '"sections": [{"tag": "verse", '
                '"lines": ["...", "..."]}, ...]}. Tags must be one of: '
                + ", ".join(GENERATABLE_TAGS) + ". One lyric line per array item.")
    title = "First line: `Title: <the title>`, then a blank line. " if with_title else ""
    return ("Reply with the lyrics only, no commentary. " + title
            + "Start each section with its tag alone on a line, using only these tags: " + _TAG_LIST
            + " (no numbers or descriptions inside the brackets). Then the section's lines, one "
            "lyric line per line, and a blank line between sections. Instrumental sections ("
            + _INSTRUMENTAL + ") have no lines.")


def _language_rule(language: str) -> str:
    if language == "en":
        return ""
    return f" Write the lyrics and the title in {LANGUAGES[language]}; keep the section tags in English."


def system(mode: OutputMode, *, language: str, with_title: bool = True) -> Message:
    return {"role": "system",
            "content": f"{_SYSTEM} {_format_rules(mode, with_title=with_title)}{_language_rule(language)}"}


# One short song in the wanted shape, shown as an earlier turn: small models copy the *shape* of
# an example far more reliably than they follow a description of it. Its lines are checked for
# copying like the request's (PromptCopyCheck gets them through `prompt_texts`).
EXAMPLE_REQUEST = "Write a short, happy pop song about paper boats."
EXAMPLE_SONG = """Title: Paper Boats

[verse]
We folded boats from yesterday's news
and set them sailing down the street
the gutter river took our shoes
and summer rushed around our feet

[chorus]
the paper sinks, the paper floats
we never wanted bigger boats
"""


def _song_phrase(genre: str, mood: str, theme: str) -> str:
    kind = " ".join(part for part in (mood.strip(), genre.strip()) if part)
    about = f" about {theme.strip()}" if theme.strip() else ""
    article = "an" if kind and kind[0].lower() in "aeiou" else "a"
    return f"Write {article} {kind + ' ' if kind else ''}song{about}."


def draft(*, theme: str, genre: str, mood: str, language: str, structure: Sequence[str],
          lines_per_section: int, mode: OutputMode, syllables: int | None = None) -> list[Message]:
    """No "Key: value" lines a model could copy into the lyrics: one plain request, and in text
    mode an example exchange showing the shape."""
    ask = _song_phrase(genre, mood, theme)
    if not theme.strip():
        ask += " Choose what it is about."
    ask += f" Its sections, in order: {', '.join(structure)}."
    ask += f" Each sung section has about {lines_per_section} lines"
    ask += f" of about {syllables} syllables." if syllables else "."
    messages = [system(mode, language=language)]
    if mode == "text":
        messages += [{"role": "user", "content": EXAMPLE_REQUEST}, {"role": "assistant", "content": EXAMPLE_SONG}]
    return messages + [{"role": "user", "content": ask}]


def draft_prompt_texts(messages: Sequence[Message]) -> list[str]:
    """The texts a draft must not repeat: the request and the example."""
    return [m["content"] for m in messages if m["role"] != "system"]


def rewrite(*, lyrics_text: str, section_header: str, section_number: int, instruction: str,
            tag: str, language: str, mode: OutputMode) -> list[Message]:
    ask = (f"Here are song lyrics:\n\n{lyrics_text}\n\n"
           f"Rewrite only section {section_number}, {section_header}. "
           f"{instruction.strip() or 'Make it stronger and more vivid.'}\n"
           f"Reply with just the new section: the tag [{tag}] and its lines.")
    return [system(mode, language=language, with_title=False), {"role": "user", "content": ask}]


def continue_(*, lyrics_text: str, structure: Sequence[str], language: str,
              mode: OutputMode) -> list[Message]:
    ask = (f"Here are song lyrics so far:\n\n{lyrics_text}\n\n"
           f"Continue the song with these new sections, in order: {' '.join(f'[{t}]' for t in structure)}. "
           "Keep the voice, meter and rhyme. Reply with just the new sections.")
    return [system(mode, language=language, with_title=False), {"role": "user", "content": ask}]


def titles(*, lyrics_text: str, count: int, language: str, mode: OutputMode) -> list[Message]:
    if mode == "json":
        fmt = f'Reply with JSON only: {{"titles": [{count} strings]}}.'
    else:
        fmt = f"Reply with exactly {count} titles, one per line, each starting with \"- \", nothing else."
    lang = "" if language == "en" else f" Titles in {LANGUAGES[language]}."
    return [{"role": "system", "content": f"You name songs: short, memorable titles. {fmt}{lang}"},
            {"role": "user", "content": f"Suggest {count} titles for these lyrics:\n\n{lyrics_text}"}]
