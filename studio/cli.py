"""`songstudio`: the command line. Every error a person can fix is printed as one line
starting with `error:` and a distinct exit code (see studio/errors.py):
2 bad input, 3 not found, 4 environment (home, database, queue, disk), 5 job failed/cancelled.
"""

from __future__ import annotations

import importlib
import json
import logging
import shlex
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import click

from studio import cli_lyrics, lyrics_model
from studio.demo_models import demo_settings_env
from studio.doctor import render, run_checks
from studio.durations import clock
from studio.errors import BadInput, JobFailed, StudioError, disk_problem
from studio.mint_state import mint_state
from studio.model_store import download_model, import_model, list_models
from studio.serve import serve_studio
from studio.service import Studio
from studio.settings import Settings, load_settings
from studio.worker import Worker, resolve_device


class StudioGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except StudioError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except Exception as exc:
            # a full or read-only disk under any command: the documented one line and exit 4,
            # wherever the write was (database, queue file, settings, keystore, export)
            problem = disk_problem(exc)
            if problem is None:
                raise
            click.echo(f"error: {problem}", err=True)
            ctx.exit(problem.exit_code)


class MainGroup(StudioGroup):
    # Provenance commands load web3's signing stack (~2 s): click's lazy subcommands import them
    # only when one of them runs, so `songstudio --help` and the other commands start fast.
    lazy_commands = {name: "studio.cli_minting" for name in ("keys", "chain", "sign", "mint", "pin", "verify")}
    lazy_commands |= {"train": "studio.cli_train", "adapters": "studio.cli_train"}  # torch only when training

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy_commands:
            return importlib.import_module(self.lazy_commands[name]).COMMANDS[name]
        return super().get_command(ctx, name)


class State:
    def __init__(self, overrides: dict[str, Any]) -> None:
        self.overrides = overrides
        self._settings: Settings | None = None
        self._studio = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            try:
                self._settings = load_settings(**self.overrides)
            except Exception as exc:  # pydantic's ValidationError names the bad variable
                raise BadInput(f"bad settings: {exc}") from None
        return self._settings

    def studio(self):
        if self._studio is None:
            self._studio = Studio.open(self.settings)
        return self._studio


pass_state = click.make_pass_decorator(State)


@click.group(cls=MainGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--home", type=click.Path(path_type=Path), help="data home (default ~/.songstudio; env SONGSTUDIO_HOME)")
@click.option("--database-url", help="SQLAlchemy URL of the library (env SONGSTUDIO_DATABASE_URL)")
@click.option("-v", "--verbose", is_flag=True, help="log more")
@click.pass_context
def main(ctx: click.Context, home: Path | None, database_url: str | None, verbose: bool) -> None:
    """Song Studio: lyrics, music takes, a song library and signed mints."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("songstudio").setLevel(logging.DEBUG if verbose else logging.INFO)
    ctx.obj = State({"home": home, "database_url": database_url})


# -- serve / worker --------------------------------------------------------------------------


@main.command()
@click.option("--port", type=int, help="UI port (default 8501; env SONGSTUDIO_UI_PORT)")
@click.option("--device", help="worker device: auto, cpu, cuda, cuda:1 ...")
@click.option("--no-worker", is_flag=True, help="start only the UI (a worker runs elsewhere)")
@click.option("--demo", is_flag=True,
              help="install the tiny random-weight demo models and use them (every flow works; the output is noise)")
@pass_state
def serve(state: State, port: int | None, device: str | None, no_worker: bool, demo: bool) -> None:
    """Start the UI on 127.0.0.1 and a worker process."""

    state.studio()  # migrations and the queue are checked before anything starts
    if not no_worker:
        resolve_device(device or state.settings.device)  # a device this machine lacks: say so now
    extra_env = _demo_env(state.settings) if demo else {}
    sys.exit(serve_studio(state.settings, port=port, device=device, worker=not no_worker, extra_env=extra_env,
                          notes=start_notes(state.settings, extra_env)))


def start_notes(settings: Settings, demo_env: dict[str, str]) -> list[str]:
    """What a person should know when the studio starts: demo models, and who writes lyrics."""
    notes = []
    if demo_env:
        settings = settings.model_copy(update={
            "engine_options": json.loads(demo_env["SONGSTUDIO_ENGINE_OPTIONS"]),
            "lyrics_options": json.loads(demo_env["SONGSTUDIO_LYRICS_OPTIONS"])})
        notes.append("Demo mode: the music models are tiny with random weights, so every take is noise.")
    notes.append(f"Lyrics: {lyrics_model.choose(settings).describe()}")
    return notes


def _demo_env(settings: Settings) -> dict[str, str]:
    return demo_settings_env(settings.model_cache, engine_options=settings.engine_options,
                             lyrics_options=settings.lyrics_options)


@main.command()
@click.option("--device", help="auto, cpu, cuda, cuda:1 ... (default: SONGSTUDIO_DEVICE or auto)")
@click.option("--drain", is_flag=True, help="run the queued jobs, then exit (no waiting for new ones)")
@pass_state
def worker(state: State, device: str | None, drain: bool) -> None:
    """Run the worker: owns the models, runs one job at a time."""

    studio = state.studio()
    runner = Worker(settings=state.settings, db=studio.db, queue=studio.queue, device=device)
    if drain:
        runner.prepare()
        while runner.run_next() is not None:
            pass
        return
    runner.run_forever()


# -- generate ------------------------------------------------------------------------------


def _option_pairs(pairs: tuple[str, ...]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise BadInput(f"--option wants KEY=VALUE, got {pair!r}")
        try:
            options[key] = json.loads(value)
        except json.JSONDecodeError:
            options[key] = value
    return options


def _print_progress(job) -> None:
    where = f" #{job.position} in queue" if job.position else ""
    steps = f" {job.step}/{job.total}" if job.total else ""
    click.echo(f"job {job.id}: {job.status} {job.stage}{steps}{where}", err=True)


@main.command()
@click.argument("prompt", required=False, default="")
@click.option("-p", "--prompt", "prompt_opt", help="style prompt / tags (or give it as the argument)")
@click.option("-l", "--lyrics", default="", help="lyrics text with [verse] [chorus] ... tags")
@click.option("--lyrics-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="read lyrics from a file")
@click.option("-d", "--duration", type=float, default=30.0, show_default=True, help="seconds")
@click.option("-s", "--seed", "seeds", type=int, multiple=True, help="seed; repeat for one per take")
@click.option("-n", "--takes", type=click.IntRange(min=1), default=1, show_default=True, help="takes to render")
@click.option("-e", "--engine", help="music engine (default SONGSTUDIO_ENGINE)")
@click.option("-m", "--model", help="model name in the cache, or a model folder")
@click.option("--steps", type=click.IntRange(min=1), help="diffusion steps (engine default if omitted)")
@click.option("--guidance", type=float, help="guidance scale")
@click.option("--task", default="text2music", show_default=True,
              help="text2music, retake, repaint, extend, edit, audio2audio (ACE-Step 1.5 adds cover, lego, ...)")
@click.option("--source", type=click.Path(path_type=Path), help="source audio for repaint, extend and edit")
@click.option("--region", type=(float, float), metavar="START END",
              help="seconds on the source: repaint redoes START..END; extend adds -START s before (START < 0) "
                   "and END minus the source length after")
@click.option("--reference", type=click.Path(path_type=Path), help="reference audio for audio2audio")
@click.option("--reference-strength", type=float, help="audio2audio: 0 (ignore the reference) to 1 (keep it)")
@click.option("--preset", "--edit-preset", "preset",
              help="a named group of the engine's options; ace-step-v1's edit strengths: only_lyrics "
                   "(edit_n_min 0.6, edit_n_max 1.0) or remix (0.2, 0.4)")
@click.option("--lora", help="LoRA folder (with pytorch_lora_weights.safetensors) or hub id")
@click.option("--lora-weight", type=float, help="LoRA weight, -3 to 3 (default 1)")
@click.option("--title", default="", help="title of the new song the takes start (default: the prompt)")
@click.option("--song", "song_id", type=int,
              help="song id to add the takes to (default: the parent's song, else a new song)")
@click.option("--tag", "tags", multiple=True, help="library tag; repeatable")
@click.option("--parent", type=int, help="parent take id (lineage)")
@click.option("-o", "--option", "options", multiple=True, help="engine option KEY=VALUE (JSON values allowed)")
@click.option("--fast", "fast", multiple=True, metavar="MODES",
              help="ace-step-v1 opt-in fast modes, comma-separated or repeated: int8 (CPU only), step-cache; "
                   "faster, with slightly different audio (docs/acestep-v1.md)")
@click.option("--cache-threshold", type=float,
              help="step-cache threshold (default 0.05): larger skips more steps and changes the audio more")
@click.option("--wait/--no-wait", default=True, show_default=True, help="wait and print the files / print the job id")
@click.option("--timeout", type=float, help="seconds to wait before giving up (the job stays queued)")
@pass_state
def generate(state: State, prompt: str, prompt_opt: str | None, lyrics: str, lyrics_file: Path | None,
             duration: float, seeds: tuple[int, ...], takes: int, engine: str | None, model: str | None,
             steps: int | None, guidance: float | None, task: str, source: Path | None,
             region: tuple[float, float] | None, reference: Path | None, reference_strength: float | None,
             preset: str | None, lora: str | None, lora_weight: float | None, title: str, song_id: int | None,
             tags: tuple[str, ...], parent: int | None,
             options: tuple[str, ...], fast: tuple[str, ...], cache_threshold: float | None, wait: bool,
             timeout: float | None) -> None:
    """Queue a music job. Prints the master files (--wait) or the job id (--no-wait)."""
    if prompt_opt and prompt:
        raise BadInput("give the prompt once: as the argument or with --prompt")
    if lyrics_file is not None:
        if lyrics:
            raise BadInput("give lyrics or --lyrics-file, not both")
        try:
            lyrics = lyrics_file.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise BadInput(f"{lyrics_file} is not UTF-8 text") from None
    studio = state.studio()
    request: dict[str, Any] = {
        "task": task,
        "prompt": prompt_opt or prompt,
        "lyrics": lyrics,
        "duration": duration,
        "batch_size": takes,
        "seeds": list(seeds) or None,
        "steps": steps,
        "guidance_scale": guidance,
        "options": _option_pairs(options),
    }
    if preset is not None:
        presets = studio.engine_presets(engine)
        if preset not in presets:
            raise BadInput(f"unknown preset {preset!r} for engine {engine or state.settings.engine!r}; "
                           f"it has: {', '.join(presets) or 'none'}")
        repeated = sorted(set(presets[preset]) & set(request["options"]))
        if repeated:
            raise BadInput(f"give --preset {preset} or -o {', '.join(repeated)}, not both")
        request["options"].update(presets[preset])
    request["options"].update(_fast_options(fast, cache_threshold, options=request["options"],
                                            engine=engine or state.settings.engine))
    if source is not None:
        request["source_audio"] = str(source)  # made absolute against this folder by the submit check
    if region is not None:
        request["region_start"], request["region_end"] = region
    if reference is not None:
        request["reference_audio"] = str(reference)
    if reference_strength is not None:
        request["reference_strength"] = reference_strength
    if lora is not None:
        request["lora"] = lora
    if lora_weight is not None:
        if lora is None:
            raise BadInput("--lora-weight needs --lora (the LoRA to weigh)")
        request["lora_weight"] = lora_weight
    job = studio.submit_music(engine=engine, model=model, title=title, tags=list(tags), parent_take_id=parent,
                              song_id=song_id, **request)
    if not wait:
        click.echo(job.id)
        return
    job = studio.wait(job.id, timeout=timeout, on_change=_print_progress)
    _exit_unless_done(job)
    for path in studio.output_paths(job.id):
        click.echo(str(path))


def _fast_options(fast: tuple[str, ...], threshold: float | None, *, options: dict[str, Any],
                  engine: str) -> dict[str, Any]:
    """--fast / --cache-threshold as ace-step-v1's options (their values are checked by the engine)."""
    chosen: dict[str, Any] = {}
    modes = [mode.strip() for part in fast for mode in part.split(",") if mode.strip()]
    if modes:
        chosen["fast_modes"] = modes
    if threshold is not None:
        chosen["step_cache_threshold"] = threshold
    if not chosen:
        return chosen
    if not engine.startswith("ace-step-v1"):
        raise BadInput(f"--fast and --cache-threshold are ace-step-v1 options; engine {engine!r} takes neither")
    repeated = sorted(set(chosen) & set(options))
    if repeated:
        raise BadInput(f"give --fast / --cache-threshold or -o {', '.join(repeated)}, not both")
    return chosen


def _exit_unless_done(job) -> None:
    if job.status == "done":
        return
    reason = f": {job.error}" if job.error else ""
    raise JobFailed(f"job {job.id} {job.status}{reason}. Retry with `songstudio jobs retry {job.id}`")


# -- jobs ----------------------------------------------------------------------------------


@main.group(cls=StudioGroup)
def jobs() -> None:
    """List, inspect, cancel and retry jobs."""


@jobs.command("list")
@click.option("--status", type=click.Choice(["queued", "running", "done", "failed", "cancelled"]))
@click.option("--limit", type=int, default=30, show_default=True)
@pass_state
def jobs_list(state: State, status: str | None, limit: int) -> None:
    studio = state.studio()
    for job in studio.jobs.list(status=status, limit=limit):
        steps = f" {job.step}/{job.total}" if job.total and job.status == "running" else ""
        click.echo(f"{job.id}  {job.kind:6}  {job.status:9}  {job.stage}{steps}  {_when(job.created_at)}")


@jobs.command("show")
@click.argument("job_id")
@pass_state
def jobs_show(state: State, job_id: str) -> None:
    studio = state.studio()
    job = studio.jobs.get(job_id)
    data = job.model_dump(mode="json")
    data["spec"] = json.loads(job.spec)
    data["result"] = json.loads(job.result) if job.result else None
    data["queue_position"] = studio.jobs.queue_position(job)
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


@jobs.command("cancel")
@click.argument("job_id")
@pass_state
def jobs_cancel(state: State, job_id: str) -> None:
    job = state.studio().cancel(job_id)
    if job.status == "cancelled":
        click.echo(f"job {job.id} cancelled")
    else:
        click.echo(f"job {job.id} is running; it stops at its next step")


@jobs.command("retry")
@click.argument("job_id")
@click.option("--wait/--no-wait", default=False, show_default=True)
@pass_state
def jobs_retry(state: State, job_id: str, wait: bool) -> None:
    studio = state.studio()
    job = studio.retry(job_id)
    click.echo(f"job {job.id} queued again")
    if wait:
        job = studio.wait(job.id, on_change=_print_progress)
        _exit_unless_done(job)
        for path in studio.output_paths(job.id):
            click.echo(str(path))


# -- library -------------------------------------------------------------------------------


def _library_filters(fn):
    for decorator in reversed(
        [
            click.option("--engine"),
            click.option("--favourite/--not-favourite", default=None),
            click.option("--since", type=click.DateTime(), help="created at or after (UTC)"),
            click.option("--until", type=click.DateTime(), help="created before (UTC)"),
            click.option("--min-duration", type=float),
            click.option("--max-duration", type=float),
            click.option("--trash", type=click.Choice(["exclude", "only", "include"]), default="exclude"),
            click.option("--sort", default="newest", show_default=True,
                         help="newest, oldest, title, duration, rating (relevance when searching)"),
            click.option("--limit", type=int, default=30, show_default=True),
            click.option("--offset", type=int, default=0),
            click.option("--json", "as_json", is_flag=True, help="one JSON object per take"),
        ]
    ):
        fn = decorator(fn)
    return fn


def _run_search(state: State, text: str | None, **filters: Any) -> None:
    as_json = filters.pop("as_json")
    for key in ("since", "until"):
        if filters[key] is not None:
            filters[key] = filters[key].replace(tzinfo=timezone.utc)
    page = state.studio().library.search(
        text,
        engine=filters["engine"],
        favourite=filters["favourite"],
        created_from=filters["since"],
        created_to=filters["until"],
        min_duration=filters["min_duration"],
        max_duration=filters["max_duration"],
        trash=filters["trash"],
        sort=filters["sort"],
        limit=filters["limit"],
        offset=filters["offset"],
    )
    for take in page.items:
        if as_json:
            click.echo(json.dumps(take.model_dump(mode="json"), ensure_ascii=False))
        else:
            star = "*" if take.favourite else " "
            click.echo(f"{take.id:>6} {star} {clock(take.duration):>8}  {take.engine:12}  {take.title}")
    click.echo(f"{len(page.items)} of {page.total}{'' if page.total_exact else '+'} takes (offset {page.offset})",
               err=True)
    if page.rank_window:
        click.echo(f"relevance ranks the newest {page.rank_window:,} matches; older ones follow, newest first "
                   "(SONGSTUDIO_SEARCH_RANK_WINDOW=0 ranks all)", err=True)


@main.group(cls=StudioGroup)
def library() -> None:
    """Browse, search, curate and export the song library."""


@library.command("list")
@_library_filters
@pass_state
def library_list(state: State, **filters: Any) -> None:
    _run_search(state, None, **filters)


@library.command("search")
@click.argument("text")
@_library_filters
@pass_state
def library_search(state: State, text: str, **filters: Any) -> None:
    """Find takes whose title, prompt, lyrics or tags contain every word (prefixes match)."""
    _run_search(state, text, **filters)


@library.command("show")
@click.argument("take_id", type=int)
@pass_state
def library_show(state: State, take_id: int) -> None:
    studio = state.studio()
    take = studio.library.get(take_id)
    data = take.model_dump(mode="json")
    data["parameters"] = json.loads(take.parameters)
    data["mint"] = mint_state(studio.db, take.id).to_dict()
    data["files"] = {w: str(studio.library.path(take, w)) for w in ("master", "mp3", "preview", "waveform", "params")}
    data["children"] = [child.id for child in studio.library.children(take_id)]
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


@library.command("set")
@click.argument("take_id", type=int)
@click.option("--title")
@click.option("--favourite/--not-favourite", default=None)
@click.option("--rating", type=int, help="0 (none) to 5")
@click.option("--tag", "tags", multiple=True, help="replace the tags; repeatable")
@click.option("--trash/--restore", default=None, help="move to or out of the trash")
@pass_state
def library_set(state: State, take_id: int, title: str | None, favourite: bool | None, rating: int | None,
                tags: tuple[str, ...], trash: bool | None) -> None:
    """Curate a take (the audio files never change)."""
    lib = state.studio().library
    lib.update(take_id, title=title, favourite=favourite, rating=rating, tags=list(tags) if tags else None)
    if trash is True:
        lib.trash(take_id)
    elif trash is False:
        lib.restore(take_id)
    click.echo(f"take {take_id} updated")


@library.command("export")
@click.argument("take_id", type=int)
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.option("--format", "formats", multiple=True, type=click.Choice(["master", "mp3", "preview", "waveform", "params"]),
              help="files to copy (default master, mp3, params)")
@pass_state
def library_export(state: State, take_id: int, dest: Path, formats: tuple[str, ...]) -> None:
    for path in state.studio().library.export(take_id, dest, formats=formats or ("master", "mp3", "params")):
        click.echo(str(path))


# -- models --------------------------------------------------------------------------------


@main.group(cls=StudioGroup)
def models() -> None:
    """The model cache: what is known, present, and how to get it."""


@models.command("list")
@pass_state
def models_list(state: State) -> None:
    for status in list_models(state.settings):
        mark = "present" if status.present else "missing"
        click.echo(f"{status.info.name:22} {status.info.kind:6} {mark:8} {status.info.repo_id}  ({status.folder})")


@models.command("download")
@click.argument("name")
@click.option("--revision", help="hub revision (commit, tag or branch)")
@pass_state
def models_download(state: State, name: str, revision: str | None) -> None:
    click.echo(str(download_model(state.settings, name=name, revision=revision)))


@models.command("import")
@click.argument("name")
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--link", is_flag=True, help="symlink instead of copying")
@pass_state
def models_import(state: State, name: str, folder: Path, link: bool) -> None:
    click.echo(str(import_model(state.settings, name=name, source=folder, link=link)))


@models.command("demo")
@pass_state
def models_demo(state: State) -> None:
    """Install the tiny random-weight demo models (output is noise) and print the settings that use them."""
    for name, value in _demo_env(state.settings).items():
        click.echo(f"export {name}={shlex.quote(value)}")
    click.echo("# demo models have random weights: they prove the wiring, their output is noise", err=True)


# -- doctor --------------------------------------------------------------------------------


@main.command()
@click.option("--json", "as_json", is_flag=True)
@pass_state
def doctor(state: State, as_json: bool) -> None:
    """Report device, versions, weights present, and whether the DB and queue work."""

    report = run_checks(state.settings)
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        click.echo("\n".join(render(report)))
    if report.failed:
        sys.exit(4)


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "-"


cli_lyrics.register(main, pass_state, _exit_unless_done)  # `songstudio lyrics ...`

if __name__ == "__main__":
    main()
