"""`songstudio lyrics draft|rewrite|continue|titles`: lyrics jobs on the queue, like every job.

    songstudio lyrics draft "leaving a small town at dawn" --structure verse,chorus,verse,chorus --seed 7
    songstudio lyrics rewrite song.txt --section chorus --instruction "more hopeful"
    songstudio lyrics titles song.txt --count 5

With --wait (the default) a worker must be running (`songstudio worker` or `serve`); the lyrics
are printed as ACE-Step v1 text, the model that wrote them and the quality hints on stderr;
--json prints title, sections, lyrics, model and the quality report instead.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import click

from lyrics.budget import RHYME_SCHEMES
from lyrics.format import Lyrics
from studio.errors import BadInput


def _progress(view) -> None:
    job = view  # the one JobView: the job's fields and its queue position
    where = f" #{view.position} in queue" if view.position else ""
    click.echo(f"job {job.id}: {job.status} {job.stage}{where}", err=True)


def _read_lyrics(path: Path | None, text: str | None) -> str:
    if (path is None) == (text is None):
        raise BadInput("give the lyrics as a file (LYRICS_FILE, or - for stdin) or with --text, once")
    if text is not None:
        return text
    try:
        return click.open_file(str(path), encoding="utf-8").read()
    except UnicodeDecodeError:
        raise BadInput(f"{path} is not UTF-8 text") from None
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror or exc}") from None


def _show(job, *, as_json: bool) -> None:
    result = json.loads(job.result) if isinstance(job.result, str) else (job.result or {})
    if as_json:
        data: dict[str, Any] = {"job": job.id, **result}
        if "lyrics" in result:
            data["sections"] = Lyrics.parse(result["lyrics"]).to_dict()["sections"]
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    model = result.get("model") or {}
    if model:
        note = f": {model['note']}" if model.get("note") else ""
        click.echo(f"written by {model.get('label')}{note}", err=True)
    for hint in (result.get("quality") or {}).get("hints", []):
        click.echo(f"hint: {hint}", err=True)
    if "titles" in result:
        click.echo("\n".join(result["titles"]))
        return
    if result.get("title"):
        click.echo(f"Title: {result['title']}\n")
    click.echo(result.get("lyrics", ""))


def register(main: click.Group, pass_state: Callable, exit_unless_done: Callable) -> None:
    @main.group("lyrics")
    def lyrics_group() -> None:
        """Draft, rewrite, continue and name lyrics (jobs on the queue, run by the worker)."""

    def submit_and_show(state, fields: dict[str, Any], *, backend: str | None, wait: bool, timeout: float | None,
                        as_json: bool) -> None:
        studio = state.studio()
        job = studio.submit_lyrics(backend=backend, **fields)
        if not wait:
            click.echo(job.id)
            return
        job = studio.wait(job.id, timeout=timeout, on_change=_progress)
        exit_unless_done(job)
        _show(job, as_json=as_json)

    def common(func):
        for option in reversed((
            click.option("--language", default="en", show_default=True, help="lyrics language (code or name)"),
            click.option("--seed", type=int, help="seed, for the same lyrics again"),
            click.option("--backend", help="lyrics backend (default SONGSTUDIO_LYRICS_BACKEND)"),
            click.option("--json", "as_json", is_flag=True, help="print JSON: title, sections, model, report"),
            click.option("--wait/--no-wait", default=True, show_default=True,
                         help="wait and print the lyrics / print the job id"),
            click.option("--timeout", type=float, help="seconds to wait before giving up (the job stays queued)"),
        )):
            func = option(func)
        return func

    lyrics_input = (click.argument("lyrics_file", required=False, type=click.Path(dir_okay=False, allow_dash=True, path_type=Path)),
                    click.option("--text", help="the lyrics as text instead of a file"))

    @lyrics_group.command("draft")
    @click.argument("theme")
    @click.option("--genre", default="", help="e.g. indie folk")
    @click.option("--mood", default="", help="e.g. wistful")
    @click.option("--structure", help="sections in order, e.g. verse,chorus,verse,chorus")
    @click.option("--length", type=click.Choice(["short", "medium", "long"]), default="medium", show_default=True,
                  help="structure and size when no --structure/--duration is given")
    @click.option("--duration", type=click.FloatRange(min=5, max=600), help="seconds of music (sets line lengths)")
    @click.option("--bpm", type=click.FloatRange(min=30, max=300), help="tempo (with --duration: syllables per line)")
    @click.option("--rhyme", type=click.Choice(RHYME_SCHEMES, case_sensitive=False), default="AABB",
                  show_default=True, help="rhyme scheme inside sections")
    @click.option("--candidates", type=click.IntRange(1, 8), help="candidates per line to choose from (1: one pass)")
    @common
    @pass_state
    def draft(state, theme: str, genre: str, mood: str, structure: str | None, length: str,
              duration: float | None, bpm: float | None, rhyme: str, candidates: int | None, language: str,
              seed: int | None, backend: str | None, as_json: bool, wait: bool, timeout: float | None) -> None:
        """Write new lyrics about THEME."""
        fields = dict(theme=theme, genre=genre, mood=mood, language=language, structure=structure,
                      length=duration if duration is not None else length, bpm=bpm, rhyme=rhyme.upper()
                      if rhyme.lower() != "none" else "none", candidates=candidates, seed=seed)
        submit_and_show(state, fields, backend=backend, wait=wait, timeout=timeout, as_json=as_json)

    @lyrics_group.command("rewrite")
    @lyrics_input[0]
    @lyrics_input[1]
    @click.option("--section", required=True, help="which section: its number from 0, a tag or a header ('Verse 2')")
    @click.option("--instruction", required=True, help="how to rewrite it, e.g. 'more hopeful'")
    @common
    @pass_state
    def rewrite(state, lyrics_file: Path | None, text: str | None, section: str, instruction: str, language: str,
                seed: int | None, backend: str | None, as_json: bool, wait: bool, timeout: float | None) -> None:
        """Rewrite one section of the lyrics in LYRICS_FILE (- for stdin)."""
        fields = dict(action="rewrite", lyrics=_read_lyrics(lyrics_file, text),
                      section=int(section) if section.isdigit() else section, instruction=instruction,
                      language=language, seed=seed)
        submit_and_show(state, fields, backend=backend, wait=wait, timeout=timeout, as_json=as_json)

    @lyrics_group.command("continue")
    @lyrics_input[0]
    @lyrics_input[1]
    @click.option("--sections", default="1", show_default=True,
                  help="how many sections to add (1-4), or which: bridge,chorus")
    @common
    @pass_state
    def continue_(state, lyrics_file: Path | None, text: str | None, sections: str, language: str,
                  seed: int | None, backend: str | None, as_json: bool, wait: bool, timeout: float | None) -> None:
        """Add sections after the lyrics in LYRICS_FILE (- for stdin)."""
        fields = dict(action="continue", lyrics=_read_lyrics(lyrics_file, text),
                      sections=int(sections) if sections.isdigit() else sections, language=language, seed=seed)
        submit_and_show(state, fields, backend=backend, wait=wait, timeout=timeout, as_json=as_json)

    @lyrics_group.command("titles")
    @lyrics_input[0]
    @lyrics_input[1]
    @click.option("--count", type=click.IntRange(1, 20), default=5, show_default=True)
    @common
    @pass_state
    def titles(state, lyrics_file: Path | None, text: str | None, count: int, language: str, seed: int | None,
               backend: str | None, as_json: bool, wait: bool, timeout: float | None) -> None:
        """Suggest titles for the lyrics in LYRICS_FILE (- for stdin)."""
        fields = dict(action="titles", lyrics=_read_lyrics(lyrics_file, text), count=count, language=language,
                      seed=seed)
        submit_and_show(state, fields, backend=backend, wait=wait, timeout=timeout, as_json=as_json)
