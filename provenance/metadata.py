"""ERC-721 metadata for a take, serialised canonically, and its `ipfs://` CIDv1.

The JSON bytes must be reproducible (the signed token URI is their CID), so serialisation is
canonical: sorted keys, no whitespace, UTF-8, no NaN.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from multiformats import CID, multihash

from provenance.errors import InvalidInput
from provenance.validate import hex32, parse_address, parse_bytes32

# Under the UnixFS profile the studio uses (provenance.content, IPIP-499 "unixfs-v1-2025"), a file
# of up to one 1 MiB chunk is a single raw block whose CID is the raw sha2-256 CID computed here.
# Larger files become a dag-pb tree: provenance.content computes those.
MAX_RAW_BLOCK = 1024 * 1024
URI_SCHEMES = ("ipfs://", "ar://", "https://", "data:")


def build_metadata(*, name: str, description: str, audio_hash: str, engine: str, model: str, seed: int,
                   signer: str, generation_id: str, animation_url: str, image: str | None = None,
                   external_url: str | None = None, mime_type: str = "audio/flac",
                   duration_s: float | None = None, attributes: Sequence[dict[str, Any]] = (),
                   recipe_hash: str | None = None, recipe: dict[str, Any] | None = None,
                   c2pa_manifest: str | None = None) -> dict[str, Any]:
    """Metadata in the EIP-721 / marketplace shape. `animation_url` points at the audio and
    `image` at cover art (omitted when None); `properties` carries the provenance fields,
    with the recipe and its hash (the one the mint authorization binds) when given, and
    `c2pa_manifest`: the URI of the audio's C2PA sidecar manifest, when it has one."""
    for label, value in (("name", name), ("description", description), ("engine", engine), ("model", model),
                         ("generation id", generation_id)):
        if not isinstance(value, str) or not value.strip():
            raise InvalidInput(f"metadata {label} must be a non-empty string")
    for label, uri in (("animation_url", animation_url), ("image", image), ("external_url", external_url),
                       ("c2pa_manifest", c2pa_manifest)):
        if uri is not None and (not isinstance(uri, str) or not uri.startswith(URI_SCHEMES)):
            raise InvalidInput(f"metadata {label} must be a URI starting with one of {', '.join(URI_SCHEMES)}, "
                               f"got {uri!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InvalidInput(f"seed must be a non-negative integer, got {seed!r}")
    traits: list[dict[str, Any]] = [{"trait_type": "Engine", "value": engine}, {"trait_type": "Model", "value": model}]
    if duration_s is not None:
        traits.append({"trait_type": "Duration (s)", "display_type": "number", "value": round(float(duration_s), 3)})
    traits.extend(dict(a) for a in attributes)
    metadata: dict[str, Any] = {
        "name": name,
        "description": description,
        "animation_url": animation_url,
        "attributes": traits,
        "properties": {
            "audio_sha256": hex32(parse_bytes32(audio_hash, what="audio hash")),
            "engine": engine,
            "model": model,
            "seed": str(seed),  # text: seeds may exceed JavaScript's safe integers
            "generation_id": generation_id,
            "mime_type": mime_type,
            "studio_signer": parse_address(signer, what="signer address"),
        },
    }
    if recipe_hash is not None:
        metadata["properties"]["recipe_sha256"] = hex32(parse_bytes32(recipe_hash, what="recipe hash"))
    if recipe is not None:
        metadata["properties"]["recipe"] = recipe
    if c2pa_manifest is not None:
        metadata["properties"]["c2pa_manifest"] = c2pa_manifest
    if image is not None:
        metadata["image"] = image
    if external_url is not None:
        metadata["external_url"] = external_url
    return metadata


def canonical_json(obj: Any) -> bytes:
    """Deterministic bytes: sorted keys, compact separators, UTF-8, NaN/Infinity refused."""
    try:
        return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                          allow_nan=False).encode("utf-8")
    except ValueError as exc:
        raise InvalidInput(f"metadata cannot be serialised canonically: {exc}") from None


def ipfs_cid(data: bytes) -> str:
    """The CIDv1 (raw codec, sha2-256, base32) of data that fits one UnixFS chunk (1 MiB), as
    provenance.content gives it; larger data is a chunked DAG: use provenance.content.file_cids."""
    if len(data) > MAX_RAW_BLOCK:
        raise InvalidInput(f"{len(data)} bytes is over one 1 MiB chunk; its CID is a chunked UnixFS DAG "
                           "(provenance.content.file_cids computes it)")
    return str(CID("base32", 1, "raw", multihash.digest(data, "sha2-256")))


def metadata_uri(metadata: dict[str, Any]) -> tuple[str, bytes]:
    """(`ipfs://<cid>`, the exact JSON bytes to pin under that CID)."""
    data = canonical_json(metadata)
    return f"ipfs://{ipfs_cid(data)}", data
