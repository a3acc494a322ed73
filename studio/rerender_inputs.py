"""The files a recipe names by content only, found again on this machine for `verify --rerender`.

A recipe never keeps a local path: an edit's source or reference audio is recorded as
{"sha256": ...} of the file, a LoRA adapter as the SHA-256 of each of its files (or of the one
file). To run the recipe again each is looked up by that content:

- source / reference audio: the parent take's master first, then any library take whose master
  has that hash, then the uploads folder under the data home (files are named by a prefix of
  their hash, so that name is tried before every other file there);
- LoRA adapter: the library's adapters (`<home>/adapters`), then the path recorded in the take
  this file is (found by the file's hash), if it still holds the same digests.

Every candidate is re-hashed before it is used. When one input cannot be found the error names
its role, its hash and every place looked (exit code 3, like any "not found").
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlmodel import select

from studio.adapter_store import AdapterStore
from studio.db import Database
from studio.errors import NotFound
from studio.recipe import PATH_FIELDS, file_ref, sha256_file
from studio.settings import Settings
from studio.tables import Take
from studio.train_spec import adapters_dir

ROLES = {"source_audio": "source audio", "reference_audio": "reference audio", "lora": "LoRA adapter"}


class MissingInput(NotFound):
    """A file the recipe names by content is nowhere this machine can look."""


def needs_lookup(request: dict[str, Any]) -> bool:
    return any(isinstance(request.get(name), dict) for name in PATH_FIELDS)


def resolve_request(settings: Settings, recipe: dict[str, Any], master: Path) -> dict[str, Any]:
    """The recipe's request with every content-named file replaced by a local path that has that
    content; raises MissingInput naming the first one that cannot be found."""
    request = dict(recipe["request"])
    if not needs_lookup(request):
        return request
    db = Database.open(settings)
    try:
        finder = InputFinder(settings, db, master)
        for name in PATH_FIELDS:
            ref = request.get(name)
            if isinstance(ref, dict):
                found = (finder.lora(ref, engine=recipe["engine"]["name"]) if name == "lora"
                         else finder.audio(ref, role=ROLES[name], parent=recipe.get("parent")))
                request[name] = str(found)
    finally:
        db.dispose()
    return request


def _digest_text(ref: dict[str, Any]) -> str:
    if "sha256" in ref:
        return f"sha256 {ref['sha256']}"
    if "files" in ref:
        return "files " + ", ".join(f"{rel} sha256 {sha}" for rel, sha in sorted(ref["files"].items()))
    return f"only its name {ref.get('name')!r} (it was not on the machine that made the take)"


def _matches(path: Path, ref: dict[str, Any]) -> bool:
    """True when `path` holds exactly the content `ref` records (names of folders aside)."""
    try:
        have = file_ref(str(path))
    except OSError:
        return False
    if not isinstance(have, dict):
        return False
    if "sha256" in ref:
        return have.get("sha256") == ref["sha256"]
    return "files" in ref and have.get("files") == ref["files"]


class InputFinder:
    def __init__(self, settings: Settings, db: Database, master: Path) -> None:
        self.settings = settings
        self.db = db
        self.master = master
        self.library_dir = settings.library_dir
        self.uploads = settings.home / "uploads"

    def audio(self, ref: dict[str, Any], *, role: str, parent: dict[str, Any] | None) -> Path:
        looked: list[str] = []
        wanted = ref.get("sha256")
        if wanted:
            parent_id = (parent or {}).get("take_id")
            if parent_id is not None:
                looked.append(f"the parent take {parent_id}'s master")
                with self.db.read() as session:
                    take = session.get(Take, parent_id)
                if take is not None and _matches(self.library_dir / take.master_file, ref):
                    return self.library_dir / take.master_file
            looked.append(f"the masters of the library's takes ({self.library_dir})")
            for take in self._takes_with_audio(wanted):
                if _matches(self.library_dir / take.master_file, ref):
                    return self.library_dir / take.master_file
            looked.append(f"the uploads folder ({self.uploads})")
            for path in self._uploads(wanted):
                if _matches(path, ref):
                    return path
        raise self._missing(role, ref, looked)

    def lora(self, ref: dict[str, Any], *, engine: str) -> Path:
        looked: list[str] = []
        if "sha256" in ref or "files" in ref:
            store = AdapterStore(self.db, adapters_dir(self.settings))
            looked.append(f"the library's adapters ({store.root})")
            for row in store.list(engine=engine):
                folder = store.root / row.folder
                if _matches(folder, ref):
                    return folder
            recorded = self._recorded_lora()
            if recorded is not None:
                looked.append(f"the path recorded with this take ({recorded})")
                if _matches(recorded, ref):
                    return recorded
        raise self._missing(ROLES["lora"], ref, looked)

    def _missing(self, role: str, ref: dict[str, Any], looked: list[str]) -> MissingInput:
        where = "; ".join(looked) if looked else "nowhere: the recipe records no content to look for"
        return MissingInput(
            f"cannot re-render: the {role} this take was made with ({_digest_text(ref)}) is not on this machine. "
            f"Looked in: {where}. Put that file back (import it into the library or the uploads folder, "
            "or restore the adapter) and run verify --rerender again")

    def _takes_with_audio(self, sha: str) -> list[Take]:
        with self.db.read() as session:
            return list(session.exec(select(Take).where(Take.audio_sha256 == sha)).all())

    def _uploads(self, sha: str) -> Iterator[Path]:
        if not self.uploads.is_dir():
            return
        files = sorted(p for p in self.uploads.iterdir() if p.is_file() and not p.name.startswith("."))
        named = [p for p in files if p.name.startswith(sha[:16])]  # downloads.store_upload names them so
        yield from named
        yield from (p for p in files if p not in named)

    def _recorded_lora(self) -> Path | None:
        """The LoRA path the library recorded for the take this file is, when it is one."""
        try:
            sha = sha256_file(self.master)
        except OSError:
            return None
        for take in self._takes_with_audio(sha):
            lora = (json.loads(take.parameters).get("request") or {}).get("lora")
            if lora:
                return Path(str(lora)).expanduser()
        return None
