"""The library's LoRA adapters: rows in the `adapter` table, files under <home>/adapters/<name>.

An adapter is chosen by name in any music job of its engine: at submit the name is resolved to
its folder and the job spec records the adapter's name and digests, which every take made with
it carries in its parameters (`adapter`). Deleting an adapter removes its row and its folder;
takes made with it keep their recorded digests.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlmodel import col, select

from studio.db import Database
from studio.errors import BadInput, NotFound
from studio.tables import Adapter, Take

NAME_RULE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def check_adapter_name(name: str) -> str:
    if not NAME_RULE.match(name or "") or name.lower() == "none":
        raise BadInput(f"adapter name {name!r}: use 1-64 letters, digits, '-', '_' or '.', starting with a letter or digit")
    return name


@dataclass(frozen=True)
class AdapterRef:
    """What a music job records about the adapter it plays."""

    name: str
    path: Path
    engine: str
    weights_digest: str
    base_digest: str

    def record(self) -> dict[str, Any]:
        return {"name": self.name, "weights_digest": self.weights_digest, "base_digest": self.base_digest}


class AdapterStore:
    def __init__(self, db: Database, root: Path) -> None:
        self.db = db
        self.root = Path(root)

    def folder(self, name: str) -> Path:
        return self.root / check_adapter_name(name)

    def exists(self, name: str) -> bool:
        with self.db.read() as session:
            return session.exec(select(Adapter.id).where(Adapter.name == name)).first() is not None

    def check_new_name(self, name: str) -> None:
        check_adapter_name(name)
        if self.exists(name) or self.folder(name).exists():
            raise BadInput(f"an adapter named {name!r} already exists; choose another name or delete it "
                           f"(`songstudio adapters delete {name}`)")

    def add(self, folder: Path, *, job_id: str | None) -> Adapter:
        """Register a trained adapter folder (already written under `root`)."""
        info = json.loads((folder / "adapter.json").read_text(encoding="utf-8"))
        row = Adapter(
            name=info["name"], engine=info["engine"], base_model=info["base_model"], base_digest=info["base_digest"],
            dataset_digest=info["dataset_digest"], weights_digest=info["weights_digest"], steps=info["steps"],
            rank=info["rank"], learning_rate=info["learning_rate"], loss_curve=json.dumps(info["losses"]),
            info=json.dumps(info, sort_keys=True), folder=folder.name, job_id=job_id,
        )
        with self.db.write() as session:
            session.add(row)
        return self.get(row.name)

    def get(self, name: str) -> Adapter:
        with self.db.read() as session:
            row = session.exec(select(Adapter).where(Adapter.name == name)).first()
        if row is None:
            raise NotFound(f"no adapter named {name!r}; `songstudio adapters list` shows them")
        return row

    def list(self, *, engine: str | None = None) -> list[Adapter]:
        with self.db.read() as session:
            query = select(Adapter).order_by(col(Adapter.created_at).desc(), col(Adapter.name))
            if engine:
                query = query.where(Adapter.engine == engine)
            return list(session.exec(query).all())

    def resolve(self, name: str, *, engine: str) -> AdapterRef:
        """The adapter a music job names, checked against the job's engine."""
        row = self.get(name)
        if row.engine != engine:
            raise BadInput(f"adapter {name!r} was trained for {row.engine}; this job runs {engine}. "
                           f"Pick an {engine} adapter or switch the engine")
        path = self.root / row.folder
        if not (path / "pytorch_lora_weights.safetensors").is_file():
            raise NotFound(f"adapter {name!r}: its files are missing from {path}; delete it and train again")
        return AdapterRef(name=row.name, path=path, engine=row.engine, weights_digest=row.weights_digest,
                          base_digest=row.base_digest)

    def takes_with(self, name: str) -> list[Take]:
        """Takes whose recorded parameters name this adapter's weights."""
        row = self.get(name)
        with self.db.read() as session:
            candidates = session.exec(
                select(Take).where(col(Take.parameters).contains(row.weights_digest)).order_by(col(Take.id))
            ).all()
        return [t for t in candidates if (json.loads(t.parameters).get("adapter") or {}).get("weights_digest") == row.weights_digest]

    def delete(self, name: str) -> None:
        row = self.get(name)
        with self.db.write() as session:
            session.delete(session.get(Adapter, row.id))
        shutil.rmtree(self.root / row.folder, ignore_errors=True)


def with_adapter(spec, store: AdapterStore):
    """A music job spec whose `lora` names a library adapter, with that name resolved to the
    adapter's folder and the adapter recorded (`spec.adapter`); other specs unchanged."""
    name = spec.request.get("lora")
    if not name or Path(str(name)).expanduser().exists() or not store.exists(str(name)):
        return spec
    ref = store.resolve(str(name), engine=spec.engine)
    return spec.model_copy(update={"request": {**spec.request, "lora": str(ref.path)}, "adapter": ref.record()})
