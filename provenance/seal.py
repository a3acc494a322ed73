"""Sealing a master and checking a file: the order that keeps the audio hash meaningful.

seal: write tags -> sign the C2PA manifest (embedded in WAV/MP3, a `.c2pa` sidecar beside a FLAC,
bound to the FLAC's exact bytes) -> audio_hash(final bytes). After sealing the file
is immutable: any change (re-tagging included) changes the hash and invalidates the manifest.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from provenance.c2pa_manifest import C2PACredentials, ManifestReport, read_manifest, sign_file
from provenance.hashing import audio_hash
from provenance.tags import ProvenanceTags, read_tags, write_tags


def seal_master(path: str | Path, *, tags: ProvenanceTags, credentials: C2PACredentials, title: str,
                recipe_json: bytes | None = None) -> str:
    """Tags and C2PA-signs the master in place (with the recipe as its own assertion when
    given); returns its audio hash (`0x` + sha256)."""
    write_tags(path, tags)
    sign_file(path, credentials=credentials, tags=tags, title=title, recipe_json=recipe_json)
    return audio_hash(path)


@dataclass(frozen=True)
class VerifyReport:
    path: str
    audio_hash: str
    tags: dict[str, str]
    manifest: ManifestReport
    tags_match_manifest: bool | None  # None when there is no manifest assertion to compare with
    expected_hash: str | None = None

    @property
    def hash_matches(self) -> bool | None:
        return None if self.expected_hash is None else self.expected_hash.lower() == self.audio_hash

    def lines(self) -> list[str]:
        out = [f"file:      {self.path}", f"sha256:    {self.audio_hash}"]
        if self.expected_hash is not None:
            out.append(f"expected:  {self.expected_hash} ({'match' if self.hash_matches else 'MISMATCH'})")
        out.append("tags:      " + (", ".join(f"{k}={v}" for k, v in self.tags.items()) or "none"))
        manifest = f"manifest:  {self.manifest.state}"
        if self.manifest.signer_subject:
            manifest += f" (signed by {self.manifest.signer_subject})"
        if self.manifest.codes:
            manifest += f" [{', '.join(self.manifest.codes)}]"
        if self.manifest.sidecar:
            manifest += f" (sidecar {self.manifest.sidecar})"
        out.append(manifest)
        if self.manifest.binding_failed:
            out.append("binding:   FAILED: the file's bytes are not the bytes the manifest signed "
                       "(the file changed after it was sealed)")
        if self.tags_match_manifest is False:
            out.append("warning:   the file's tags differ from the provenance signed in the manifest")
        return out


def verify_file(path: str | Path, *, trust_anchors_pem: bytes | None = None,
                expected_hash: str | None = None, manifest_path: str | Path | None = None) -> VerifyReport:
    """Hash, tags and manifest state (trusted / untrusted / invalid / absent) of a file; the
    manifest is read from `manifest_path`, else the sidecar beside a FLAC, else the file."""
    path = Path(path)
    digest = audio_hash(path)
    tags = read_tags(path)
    manifest = read_manifest(path, trust_anchors_pem=trust_anchors_pem, manifest_path=manifest_path)
    match = None if manifest.provenance is None else manifest.provenance == tags
    return VerifyReport(path=str(path), audio_hash=digest, tags=tags, manifest=manifest, tags_match_manifest=match,
                        expected_hash=expected_hash)
