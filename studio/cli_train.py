"""`songstudio train lora ...` and `songstudio adapters list|show|delete`: LoRA adapters from the
user's clips, trained as a queued job, then used by name with `generate --lora NAME`."""

from __future__ import annotations

import json

import click

from studio.adapter_store import AdapterStore
from studio.errors import JobFailed, StudioError
from studio.train_spec import DEFAULTS, TrainJobSpec, adapters_dir, clips_from_data


class _Group(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except StudioError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(exc.exit_code)


def _store(state) -> AdapterStore:
    return AdapterStore(state.studio().db, adapters_dir(state.settings))


def _print_training(view) -> None:
    job = view  # the one JobView: the job's fields and its queue position
    if job.stage == "train" and job.total:
        extra = ""
        if job.partial:
            data = json.loads(job.partial)
            extra = f" loss {data['loss']:.4f} eta {data['eta_s']:.0f} s"
        click.echo(f"job {job.id}: step {job.step}/{job.total}{extra}", err=True)
    else:
        where = f" #{view.position} in queue" if view.position else ""
        click.echo(f"job {job.id}: {job.status} {job.stage}{where}", err=True)


pass_state = click.pass_obj  # the CLI's State (studio.cli)


@click.group(cls=_Group)
def train() -> None:
    """Train adapters from your own clips."""


@train.command("lora")
@click.option("-e", "--engine", required=True, type=click.Choice(["ace-step-v1", "ace-step-1.5"]))
@click.option("--data", required=True, metavar="FOLDER_OR_TAKE_IDS",
              help="a folder of WAV/FLAC/MP3 clips, each with a .txt (tags line, then lyrics) or .json "
                   "beside it; or take ids like 12,15,18")
@click.option("--steps", type=int, default=DEFAULTS["steps"], show_default=True)
@click.option("--name", required=True, help="the adapter's name, used with generate --lora NAME")
@click.option("--rank", type=int, default=DEFAULTS["rank"], show_default=True)
@click.option("--lr", "learning_rate", type=float, default=DEFAULTS["learning_rate"], show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--checkpoint-every", type=int, default=50, show_default=True, help="steps between checkpoints")
@click.option("--window", "window_seconds", type=float, default=30.0, show_default=True,
              help="longer clips are cut into windows of this many seconds")
@click.option("-m", "--model", help="model name in the cache, or a model folder")
@click.option("--wait/--no-wait", default=True, show_default=True)
@click.option("--timeout", type=float, help="seconds to wait before giving up (the job stays queued)")
@pass_state
def train_lora(state, engine, data, steps, name, rank, learning_rate, seed, checkpoint_every, window_seconds,
               model, wait, timeout) -> None:
    """Queue a LoRA training job; prints the adapter name when it is done (--wait) or the job id."""
    studio = state.studio()
    clips, take_ids = clips_from_data(data, library=studio.library, media_dir=state.settings.library_dir)
    spec = TrainJobSpec(engine=engine, model=model, name=name, clips=clips, take_ids=take_ids, steps=steps,
                        rank=rank, learning_rate=learning_rate, seed=seed, checkpoint_every=checkpoint_every,
                        window_seconds=window_seconds)
    job = studio.submit(spec)
    if not wait:
        click.echo(job.id)
        return
    job = studio.wait(job.id, timeout=timeout, on_change=_print_training)
    if job.status != "done":
        reason = f": {job.error}" if job.error else ""
        raise JobFailed(f"job {job.id} {job.status}{reason}. `songstudio jobs retry {job.id}` resumes it "
                        "from its last checkpoint")
    result = job.result  # the JobView holds the parsed result
    click.echo(f"adapter {result['adapter']}: loss {result['first_loss']:.4f} -> {result['final_loss']:.4f} "
               f"in {result['steps']} steps")


@click.group(cls=_Group)
def adapters() -> None:
    """List, inspect and delete trained adapters."""


@adapters.command("list")
@click.option("-e", "--engine", help="only this engine's adapters")
@pass_state
def adapters_list(state, engine) -> None:
    """The adapters in the library, newest first."""
    for row in _store(state).list(engine=engine):
        losses = json.loads(row.loss_curve)
        last = f"{losses[-1]:.4f}" if losses else "-"
        click.echo(f"{row.name}  {row.engine}  rank {row.rank}  {row.steps} steps  loss {last}  "
                   f"{row.created_at:%Y-%m-%d %H:%M}")


@adapters.command("show")
@click.argument("name")
@pass_state
def adapters_show(state, name) -> None:
    """One adapter as JSON: base model and digest, dataset digest, settings, loss curve, takes made with it."""
    store = _store(state)
    row = store.get(name)
    data = row.model_dump(mode="json", exclude={"info", "loss_curve"})
    data["loss_curve"] = json.loads(row.loss_curve)
    data["info"] = json.loads(row.info)
    data["path"] = str(store.root / row.folder)
    data["takes"] = [t.id for t in store.takes_with(name)]
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


@adapters.command("delete")
@click.argument("name")
@pass_state
def adapters_delete(state, name) -> None:
    """Remove an adapter and its files (takes made with it keep its recorded digests)."""
    _store(state).delete(name)
    click.echo(f"adapter {name} deleted")


COMMANDS = {"train": train, "adapters": adapters}  # loaded lazily by studio.cli
