"""LyricsWriter: drafts, rewrites, continues and names songs with any lyrics backend.

Public API (used by `studio`):

    from lyrics import backends
    from lyrics.writer import LyricsWriter

    writer = LyricsWriter(backends.create("llama-cpp", model_path="song.Q4_K_M.gguf"))
    lyrics = writer.draft(theme="summer rain", genre="indie pop", mood="wistful", language="en",
                          structure=["verse", "chorus", "verse", "chorus"], length="short", seed=7)
    lyrics.render()                                   # text for ACE-Step v1

    stream = writer.draft_stream(theme="summer rain") # same arguments; for the UI
    for chunk in stream:                              # text chunks as the model writes them
        show(chunk)                                   # (JSON text when the backend is constrained by schema)
    lyrics = stream.result()                          # parsed, validated, repaired Lyrics
    stream.report, stream.changes, stream.raw         # validation report, repairs made, model text
    stream.cancel()  /  writer.cancel()               # from another thread; result() raises LyricsCancelled

    writer.rewrite(lyrics, "chorus", "more hopeful")  # section: index, tag or "Verse 2"
    writer.continue_(lyrics, sections=["bridge", "chorus"])
    writer.titles(lyrics, count=5)                    # -> list[str]

Constrained where the backend allows it: a GBNF grammar (llama.cpp, llama.cpp's server) fixes the
exact sections and tag spelling; a JSON schema (vLLM) fixes the tag enum and bounds. Every output
is then parsed, repaired and validated; output that still has no lyric lines raises
`UnrepairableOutput` whose `.raw` keeps the model's full text.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, replace
from typing import Any, Callable, Generic, Iterator, Literal, Sequence, TypeVar

from lyrics import constraints, prompts
from lyrics.backends.base import Backend, Message, SamplingParams
from lyrics.budget import plan_song
from lyrics.composer import SEED_STRIDE, LineComposer
from lyrics.constraints import Constraint, Shape
from lyrics.errors import LyricsCancelled, LyricsRequestError, UnrepairableOutput
from lyrics.format import Lyrics, Section, ValidationReport, clean_title
from lyrics.languages import language_code
from lyrics.quality import PromptCopyCheck, assess
from lyrics.tags import GENERATABLE_TAGS, SUNG_TAGS, parse_header

T = TypeVar("T")
DEFAULT_CANDIDATES = 2  # per line (llama.cpp) or per draft (other backends); 1 = one pass
MAX_CANDIDATES = 8
RETRIES = 2  # more tries with other seeds when a reply copies the prompt or has no lines
Constrain = Literal["auto", "gbnf", "json_schema", "none"]


@dataclass(frozen=True)
class LengthPreset:
    structure: tuple[str, ...]
    lines: int


LENGTHS = {
    "short": LengthPreset(("verse", "chorus", "verse", "chorus"), 4),
    "medium": LengthPreset(("verse", "chorus", "verse", "chorus", "bridge", "chorus"), 4),
    "long": LengthPreset(("intro", "verse", "pre-chorus", "chorus", "verse", "pre-chorus", "chorus",
                          "bridge", "chorus", "outro"), 4),
}


def parse_structure(structure: str | Sequence[str] | None) -> tuple[str, ...]:
    """"verse, chorus" / ["Verse 1", "Chorus"] -> ("verse", "chorus"); unknown names are an error."""
    if structure is None:
        return ()
    if isinstance(structure, str):
        if "[" in structure:
            items = re.findall(r"\[([^\]]+)\]", structure)
        elif "," in structure or "\n" in structure:
            items = [part for part in re.split(r"[,\n]", structure) if part.strip()]
        else:
            items = structure.split()
    else:
        items = list(structure)
    out = []
    for item in items:
        name = parse_header(str(item).strip().strip("[]"), loose=False)
        if name is None or name.tag not in GENERATABLE_TAGS:
            raise LyricsRequestError(f"unknown section {item!r} in the structure; use tags from: "
                                     f"{', '.join(GENERATABLE_TAGS)}")
        out.append(name.tag)
    if len(out) > 16:
        raise LyricsRequestError(f"a structure of {len(out)} sections is too long; use at most 16")
    return tuple(out)


def _length_preset(length: str | int) -> tuple[LengthPreset, float | None]:
    """A preset and, for a length in seconds, that duration (used to validate)."""
    if isinstance(length, (int, float)) and not isinstance(length, bool):
        if length <= 0:
            raise LyricsRequestError(f"length in seconds must be positive, got {length}")
        name = "short" if length < 100 else "medium" if length < 200 else "long"
        return LENGTHS[name], float(length)
    if length not in LENGTHS:
        raise LyricsRequestError(f"length must be one of {', '.join(LENGTHS)} or a duration in seconds, "
                                 f"got {length!r}")
    return LENGTHS[length], None


class GenerationStream(Iterator[str], Generic[T]):
    """Text chunks while the model writes; `result()` then gives the parsed value. Iterating is
    optional: `result()` drains whatever was not read."""

    def __init__(self, chunks: Iterator[str], finish: Callable[[str], tuple[T, list[str], ValidationReport | None]],
                 cancel_event: threading.Event, on_done: Callable[[], None]) -> None:
        self._chunks = chunks
        self._finish = finish
        self._cancel = cancel_event
        self._on_done = on_done
        self._parts: list[str] = []
        self._done = False
        self._cancelled = False
        self._value: Any = None
        self.changes: list[str] = []
        self.report: ValidationReport | None = None
        # Filled while running: tokens generated and seconds spent over all attempts, the
        # attempts made and the replies rejected (prompt copies, empty replies); for drafts,
        # `quality` (QualityReport), `plan` (SongPlan) and `prompt_texts` (what must not be copied).
        self.tokens = 0
        self.seconds: float | None = None
        self.attempts = 0
        self.rejected: list[str] = []
        self.failure: str | None = None
        self.quality: Any = None
        self.plan: Any = None
        self.prompt_texts: list[str] = []

    @property
    def raw(self) -> str:
        """The model's text so far (all of it once finished; after a retry, the kept attempt's)."""
        return "".join(self._parts)

    def _restart(self, text: str = "") -> None:
        """A new attempt starts (or `text`, the best one, is kept): `raw` is that attempt's text."""
        self._parts = [text] if text else []

    def __iter__(self) -> "GenerationStream[T]":
        return self

    def __next__(self) -> str:
        if self._done:
            raise StopIteration
        try:
            chunk = next(self._chunks)
        except StopIteration:
            self._end()
            raise
        except LyricsCancelled:
            self._cancelled = True
            self._end()
            raise StopIteration from None
        except BaseException:
            self._end()
            raise
        self._parts.append(chunk)
        return chunk

    def _end(self) -> None:
        if not self._done:
            self._done = True
            self._on_done()

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancelled or (self._cancel.is_set() and self._done)

    def result(self) -> T:
        for _ in self:
            pass
        if self.cancelled:
            raise LyricsCancelled("generation cancelled; the partial text is in .raw")
        if self._value is None:
            if self.failure is not None:
                raise UnrepairableOutput(self.failure, raw=self.raw)
            self._value, self.changes, self.report = self._finish(self.raw)
        return self._value


class LyricsWriter:
    def __init__(self, backend: Backend, *, constrain: Constrain = "auto",
                 sampling: SamplingParams = SamplingParams(), candidates: int = DEFAULT_CANDIDATES) -> None:
        if constrain not in ("auto", "gbnf", "json_schema", "none"):
            raise ValueError(f"constrain must be auto, gbnf, json_schema or none, got {constrain!r}")
        if constrain in ("gbnf", "json_schema") and constrain not in backend.constraint_kinds:
            raise ValueError(f"the {backend.name} backend cannot apply {constrain} constraints "
                             f"(it has: {', '.join(backend.constraint_kinds) or 'none'})")
        self.backend = backend
        self.constrain = constrain
        self.sampling = sampling
        self.candidates = candidates
        self._active: set[threading.Event] = set()
        self._active_lock = threading.Lock()

    # ---- tasks --------------------------------------------------------------------------------
    def draft(self, *, theme: str = "", genre: str = "", mood: str = "", language: str = "en",
              structure: str | Sequence[str] | None = None, length: str | int = "medium",
              bpm: float | None = None, seed: int | None = None, max_tokens: int | None = None,
              rhyme: str = "AABB", candidates: int | None = None, chorus_shorter: bool = True) -> Lyrics:
        """Write a new song; see `draft_stream` for the streaming variant with the reports."""
        return self.draft_stream(theme=theme, genre=genre, mood=mood, language=language, structure=structure,
                                 length=length, bpm=bpm, seed=seed, max_tokens=max_tokens, rhyme=rhyme,
                                 candidates=candidates, chorus_shorter=chorus_shorter).result()

    def draft_stream(self, *, theme: str = "", genre: str = "", mood: str = "", language: str = "en",
                     structure: str | Sequence[str] | None = None, length: str | int = "medium",
                     bpm: float | None = None, seed: int | None = None, max_tokens: int | None = None,
                     rhyme: str = "AABB", candidates: int | None = None,
                     chorus_shorter: bool = True) -> GenerationStream[Lyrics]:
        """`rhyme` (AABB, ABAB, ABCB or none) and the syllable budget per line (from `bpm` and a
        `length` in seconds, chorus lines shorter when `chorus_shorter`) are reached by sampling
        `candidates` per line (backends with `supports_prefix`; default: the writer's) or per
        draft (the others; default 1) and keeping the best fit; `candidates=1` writes in one pass. After `result()`, the stream's
        `quality` is the draft's QualityReport."""
        tags = parse_structure(structure)
        if not (theme or "").strip() and not tags:
            raise LyricsRequestError("give a theme (what the song is about) or a structure "
                                     "(for example: verse, chorus, verse, chorus)")
        lang = language_code(language)
        preset, duration = _length_preset(length)
        tags = tags or preset.structure
        # Line-level candidates are cheap (only the new line's tokens); whole drafts cost a draft
        # each, so other backends write one unless asked for more.
        count = candidates if candidates is not None else self.candidates if self.backend.supports_prefix else 1
        if not 1 <= count <= MAX_CANDIDATES:
            raise LyricsRequestError(f"ask for 1 to {MAX_CANDIDATES} candidates, not {count}")
        plan = plan_song(tags, bpm=bpm, duration_s=duration, chorus_shorter=chorus_shorter, rhyme_scheme=rhyme)
        verse_syllables = max((p.syllables for p in plan.sections if p.tag == "verse"),
                              default=max((p.syllables for p in plan.sections), default=0))
        # the planned line count per section: the grammar holds the model to it
        shape = Shape(structure=tags, min_lines=2, max_lines=max(preset.lines * 2, 4),
                      lines=tuple(p.lines for p in plan.sections))
        kind = self._kind()
        mode = "json" if kind == "json_schema" else "text"
        messages = prompts.draft(theme=theme or "", genre=genre or "", mood=mood or "", language=lang,
                                 structure=tags, lines_per_section=preset.lines, mode=mode,
                                 syllables=verse_syllables or None)
        copy_check = PromptCopyCheck(prompts.draft_prompt_texts(messages))
        constraint = constraints.constraint_for(kind, gbnf=constraints.lyrics_gbnf(shape),
                                                schema=constraints.lyrics_schema(shape))

        def read(raw: str) -> Lyrics:
            lyrics, _ = self._read_lyrics(raw, mode).repair()
            return lyrics

        def problem(raw: str) -> str | None:
            try:
                lines = [ln for s in read(raw).sections for ln in s.lines]
            except UnrepairableOutput:
                return "wrote no lyric lines"
            copied = copy_check.copied(lines)
            return f"copied the request into the lyrics ({copied[0]!r})" if copied else None

        def score(raw: str) -> float:
            report = assess(raw, read(raw), requested=tags, plan=plan, prompt_texts=(), language=lang)
            rhymed, asked = report.rhyme_pairs
            return (report.syllable_fit or 0.0) + (rhymed / asked if asked else 0.0) + report.structure_ok

        def finish(raw: str):
            lyrics = self._read_lyrics(raw, mode)
            lyrics, changes = lyrics.repair()
            if not lyrics.title:
                lyrics, changes = _title_from_lines(lyrics), changes + ["no title: took the first chorus line"]
            got = tuple(s.tag for s in lyrics.sections)
            if got != tags:
                changes.append(f"asked for sections {' '.join(tags)}, the model wrote {' '.join(got)}")
            stream.quality = assess(raw, lyrics, requested=tags, plan=plan, prompt_texts=stream.prompt_texts,
                                    language=lang, tokens=stream.tokens, seconds=stream.seconds,
                                    attempts=stream.attempts)
            report = lyrics.validate(duration_s=duration, bpm=bpm, language=lang)
            return lyrics, changes, report

        budget = max_tokens or _token_budget(shape, len(tags), with_title=True)
        if count > 1 and self.backend.supports_prefix and mode == "text":
            composer = LineComposer(self.backend, messages, plan, candidates=count, sampling=self.sampling,
                                    seed=seed, language=lang, copy_check=copy_check, cancel=threading.Event())
            stream = self._run_composer(composer, finish)
        else:
            stream = self._run(messages, constraint, seed, budget, finish, problem=problem,
                               best_of=count, score=score if count > 1 else None)
        stream.plan, stream.prompt_texts = plan, prompts.draft_prompt_texts(messages)
        return stream

    def rewrite(self, lyrics: Lyrics, section: int | str, instruction: str = "", **kwargs: Any) -> Lyrics:
        return self.rewrite_stream(lyrics, section, instruction, **kwargs).result()

    def rewrite_stream(self, lyrics: Lyrics, section: int | str, instruction: str = "", *,
                       language: str = "en", seed: int | None = None,
                       max_tokens: int | None = None) -> GenerationStream[Lyrics]:
        lang = language_code(language)
        try:
            index = lyrics.find(section)
        except (KeyError, IndexError) as exc:
            raise LyricsRequestError(str(exc.args[0])) from None
        target = lyrics.sections[index]
        tag = target.tag if target.tag in GENERATABLE_TAGS else "verse"
        shape = Shape(structure=(tag,), with_title=False, min_lines=1, max_lines=8)
        kind = self._kind()
        mode = "json" if kind == "json_schema" else "text"
        messages = prompts.rewrite(lyrics_text=lyrics.text(), section_header=target.header("ace-step-1.5"),
                                   section_number=index + 1, instruction=instruction, tag=tag,
                                   language=lang, mode=mode)
        constraint = constraints.constraint_for(kind, gbnf=constraints.lyrics_gbnf(shape),
                                                schema=constraints.lyrics_schema(shape))

        def finish(raw: str):
            written = self._read_lyrics(raw, mode)
            lines = next((s.lines for s in written.repair()[0].sections if s.lines), ())
            if not lines and tag in SUNG_TAGS:
                raise UnrepairableOutput("the model's rewrite has no lyric lines", raw=raw)
            new = lyrics.replace_section(index, replace(target, lines=lines))
            return new, [f"rewrote section {index + 1}"], new.validate(language=lang)

        budget = max_tokens or _token_budget(shape, 1, with_title=False)
        return self._run(messages, constraint, seed, budget, finish, problem=self._no_lines(mode))

    def continue_(self, lyrics: Lyrics, **kwargs: Any) -> Lyrics:
        return self.continue_stream(lyrics, **kwargs).result()

    def continue_stream(self, lyrics: Lyrics, *, sections: int | str | Sequence[str] = 1,
                        language: str = "en", seed: int | None = None,
                        max_tokens: int | None = None) -> GenerationStream[Lyrics]:
        lang = language_code(language)
        if isinstance(sections, int):
            if not 1 <= sections <= 4:
                raise LyricsRequestError(f"continue with 1 to 4 sections, not {sections}")
            tags = _next_sections(lyrics, sections)
        else:
            tags = parse_structure(sections)
            if not tags:
                raise LyricsRequestError("name at least one section to continue with")
        shape = Shape(structure=tags, with_title=False)
        kind = self._kind()
        mode = "json" if kind == "json_schema" else "text"
        messages = prompts.continue_(lyrics_text=lyrics.text(), structure=tags, language=lang, mode=mode)
        constraint = constraints.constraint_for(kind, gbnf=constraints.lyrics_gbnf(shape),
                                                schema=constraints.lyrics_schema(shape))

        def finish(raw: str):
            added, changes = self._read_lyrics(raw, mode).repair()
            if not any(s.lines for s in added.sections):
                raise UnrepairableOutput("the model's continuation has no lyric lines", raw=raw)
            new = lyrics.extend(added.sections)
            return new, changes + [f"added {len(added.sections)} section(s)"], new.validate(language=lang)

        budget = max_tokens or _token_budget(shape, len(tags), with_title=False)
        return self._run(messages, constraint, seed, budget, finish, problem=self._no_lines(mode))

    def titles(self, lyrics: Lyrics, **kwargs: Any) -> list[str]:
        return self.titles_stream(lyrics, **kwargs).result()

    def titles_stream(self, lyrics: Lyrics, *, count: int = 5, language: str = "en",
                      seed: int | None = None) -> GenerationStream[list[str]]:
        lang = language_code(language)
        if not 1 <= count <= 20:
            raise LyricsRequestError(f"ask for 1 to 20 titles, not {count}")
        if not any(s.lines for s in lyrics.sections):
            raise LyricsRequestError("the lyrics have no lines to name")
        kind = self._kind()
        mode = "json" if kind == "json_schema" else "text"
        messages = prompts.titles(lyrics_text=lyrics.text(), count=count, language=lang, mode=mode)
        constraint = constraints.constraint_for(kind, gbnf=constraints.titles_gbnf(count),
                                                schema=constraints.titles_schema(count))

        def finish(raw: str):
            found = _read_titles(raw, mode)
            if not found:
                raise UnrepairableOutput("no titles in the model's reply", raw=raw)
            return found[:count], [], None

        def no_titles(raw: str) -> str | None:
            return None if _read_titles(raw, mode) else "wrote no titles"

        return self._run(messages, constraint, seed, 24 * count + 32, finish, problem=no_titles)

    def cancel(self) -> None:
        """Cancel every generation this writer has in flight (safe from any thread)."""
        with self._active_lock:
            for event in self._active:
                event.set()

    # ---- plumbing -----------------------------------------------------------------------------
    def _kind(self) -> str | None:
        if self.constrain == "none":
            return None
        if self.constrain == "auto":
            return self.backend.constraint_kinds[0] if self.backend.constraint_kinds else None
        return self.constrain

    def _run(self, messages: list[Message], constraint: Constraint | None, seed: int | None,
             max_tokens: int, finish, *, problem: Callable[[str], str | None] | None = None,
             best_of: int = 1, score: Callable[[str], float] | None = None) -> GenerationStream:
        """One generation, or several: a reply with a `problem` (copied prompt, no lines) is
        retried with another seed (RETRIES more times), and with a `score` the best of
        `best_of` good replies is kept. Seeds: `seed`, then `seed + k * SEED_STRIDE`."""
        if seed is not None and not self.backend.supports_seed:
            raise LyricsRequestError(f"the {self.backend.name} backend cannot use a seed")
        params = replace(self.sampling, max_tokens=max_tokens,
                         seed=seed if seed is not None else self.sampling.seed)
        event, done = self._register()

        def chunks() -> Iterator[str]:
            started = time.perf_counter()
            best: tuple[float, str] | None = None
            last_problem = None
            good = 0
            for attempt in range(best_of + (RETRIES if problem else 0)):
                if attempt:
                    stream._restart()
                attempt_params = replace(params, seed=None if params.seed is None
                                         else (params.seed + attempt * SEED_STRIDE) % 2**31)
                yield from self.backend.stream(messages, params=attempt_params, constraint=constraint, cancel=event)
                stream.tokens += self.backend.last_completion_tokens or 0
                stream.attempts = attempt + 1
                stream.seconds = time.perf_counter() - started
                last_problem = problem(stream.raw) if problem else None
                if last_problem is not None:
                    stream.rejected.append(stream.raw)
                    continue
                good += 1
                if score is None:
                    return
                value = score(stream.raw)
                if best is None or value > best[0]:
                    best = (value, stream.raw)
                if good >= best_of:
                    break
            if best is not None:
                stream._restart(best[1])
            elif last_problem is not None:
                stream.failure = (f"the model {last_problem} in {stream.attempts} tries with different seeds; "
                                  "its last reply is kept: edit it by hand, or try another theme or seed")

        stream: GenerationStream = GenerationStream(chunks(), finish, event, done)
        return stream

    def _run_composer(self, composer: LineComposer, finish) -> GenerationStream:
        event, done = self._register()
        composer.cancel = event

        def chunks() -> Iterator[str]:
            started = time.perf_counter()
            try:
                yield from composer.run()
            finally:
                stream.tokens, stream.attempts = composer.tokens, composer.calls
                stream.seconds = time.perf_counter() - started

        stream: GenerationStream = GenerationStream(chunks(), finish, event, done)
        return stream

    def _register(self) -> tuple[threading.Event, Callable[[], None]]:
        event = threading.Event()
        with self._active_lock:
            self._active.add(event)

        def done() -> None:
            with self._active_lock:
                self._active.discard(event)

        return event, done

    def _no_lines(self, mode: str) -> Callable[[str], str | None]:
        def problem(raw: str) -> str | None:
            try:
                lyrics = self._read_lyrics(raw, mode)
            except UnrepairableOutput:
                return "wrote no lyric lines"
            return None if any(s.lines for s in lyrics.repair()[0].sections) else "wrote no lyric lines"

        return problem

    @staticmethod
    def _read_lyrics(raw: str, mode: str) -> Lyrics:
        if mode == "json":
            try:
                data = constraints.load_json(raw)
                return Lyrics.from_dict(data)
            except ValueError as exc:
                raise UnrepairableOutput(f"the model's JSON could not be read ({exc}); "
                                         "the raw text is kept", raw=raw) from None
        lyrics = _parse_tagged(raw) if _EXACT_LAYOUT.match(raw) else Lyrics.parse(raw)
        if not any(s.lines for s in lyrics.sections):
            raise UnrepairableOutput("the model's reply has no lyric lines", raw=raw)
        return lyrics


_EXACT_LAYOUT = re.compile(r"^(Title: [^\n]*\n\n)?\[(" + "|".join(GENERATABLE_TAGS) + r")\]\n")
_EXACT_TAG = re.compile(r"^\[(" + "|".join(GENERATABLE_TAGS) + r")\]$")


def _parse_tagged(raw: str) -> Lyrics:
    """Text in the grammar's layout (`Title: ...`, then `[tag]` lines): only those exact lines
    are headers, so a lyric line such as "Chorus:" cannot split a section."""
    title, body = "", raw
    if raw.startswith("Title: "):
        first, _, body = raw.partition("\n")
        title = clean_title(first)
    sections: list[Section] = []
    for line in body.splitlines():
        match = _EXACT_TAG.match(line.strip())
        if match:
            sections.append(Section(tag=match.group(1)))
        elif line.strip() and sections:
            sections[-1] = replace(sections[-1], lines=sections[-1].lines + (line.strip(),))
    return Lyrics(title=title, sections=tuple(sections))


def _token_budget(shape: Shape, sections: int, *, with_title: bool) -> int:
    # ~16 tokens per line of up to 80 characters, a few per tag; bounded so a runaway sample stops.
    return min(2048, sections * (shape.max_lines * 16 + 8) + (40 if with_title else 8))


def _next_sections(lyrics: Lyrics, count: int) -> tuple[str, ...]:
    """A natural continuation: after a chorus comes a verse or bridge, otherwise a chorus."""
    order = []
    last = lyrics.sections[-1].tag if lyrics.sections else "verse"
    has_bridge = any(s.tag == "bridge" for s in lyrics.sections)
    for _ in range(count):
        if last == "chorus":
            nxt = "verse" if has_bridge or len(lyrics.sections) + len(order) < 4 else "bridge"
        else:
            nxt = "chorus"
        has_bridge = has_bridge or nxt == "bridge"
        order.append(nxt)
        last = nxt
    return tuple(order)


def _title_from_lines(lyrics: Lyrics) -> Lyrics:
    source = next((s for s in lyrics.sections if s.tag == "chorus" and s.lines), None) \
        or next((s for s in lyrics.sections if s.lines), None)
    title = source.lines[0].strip(" ,.;:!?-") if source else ""
    return replace(lyrics, title=title[:60])


def _read_titles(raw: str, mode: str) -> list[str]:
    items: list[Any]
    if mode == "json":
        try:
            data = constraints.load_json(raw)
        except ValueError:
            return []
        items = data.get("titles", []) if isinstance(data, dict) else data if isinstance(data, list) else []
    else:
        items = raw.splitlines()
    out: list[str] = []
    for item in items:
        if not isinstance(item, str):
            continue
        title = clean_title(re.sub(r"^\s*(?:[-*\u2022]|\d{1,2}[.)])\s*", "", item))
        if title and title.lower() not in {t.lower() for t in out} and not title.endswith(":"):
            out.append(title)
    return out
