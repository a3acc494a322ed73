"""Sealing a take's master before it is hashed: provenance tags, then a C2PA manifest.

The order matters (see provenance.seal): the stored audio hash is of the sealed bytes, so the
master is never re-tagged afterwards. The signer tag is the address of the studio's signer
keystore when one exists; no key is unlocked here.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from provenance.keys import keystore_address
from provenance.tags import ProvenanceTags
from studio.settings import Settings


class MasterSealer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def credentials(self):
        from provenance.c2pa_manifest import resolve_credentials  # noqa: PLC0415  (heavy: imports c2pa)

        return resolve_credentials(cert_chain=self.settings.c2pa_cert_chain,
                                   private_key=self.settings.c2pa_private_key, dev_dir=self.settings.c2pa_dir)

    def signer_address(self) -> str | None:
        path = self.settings.keystore("signer")
        return keystore_address(path) if path.is_file() else None

    def __call__(self, master: Path, *, generation_id: str, engine: str, model: str, seed: int, title: str,
                 recipe_json: bytes | None = None) -> None:
        from provenance.seal import seal_master  # noqa: PLC0415  (heavy: imports c2pa)

        tags = ProvenanceTags(generation_id=generation_id, engine=engine, model=model, seed=seed,
                              signer=self.signer_address())
        seal_master(master, tags=tags, credentials=self.credentials, title=title, recipe_json=recipe_json)
