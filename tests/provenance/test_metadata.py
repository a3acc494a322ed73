"""ERC-721 metadata, canonical JSON and IPFS CIDv1 (checked against independent vectors)."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest

from provenance.errors import InvalidInput
from provenance.metadata import MAX_RAW_BLOCK, build_metadata, canonical_json, ipfs_cid, metadata_uri

SIGNER = "0x" + "ab" * 20
HASH = "0x" + hashlib.sha256(b"song").hexdigest()


def raw_cid_by_hand(data: bytes) -> str:
    """CIDv1 = multibase 'b' + base32(version 1, codec raw 0x55, sha2-256 0x12, length 32, digest)."""
    binary = bytes([1, 0x55, 0x12, 32]) + hashlib.sha256(data).digest()
    return "b" + base64.b32encode(binary).decode().lower().rstrip("=")


@pytest.mark.parametrize("data,expected", [
    # `ipfs add --cid-version=1` / the JS UnixFS importer (see docs/provenance.md)
    (b"hello", "bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq"),
    (b"", "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"),
])
def test_cid_known_vectors(data, expected):
    assert ipfs_cid(data) == expected == raw_cid_by_hand(data)


def test_cid_matches_independent_computation_up_to_one_block():
    for data in (b"x" * 1000, bytes(range(256)) * 4096):
        assert ipfs_cid(data) == raw_cid_by_hand(data)
    assert len(bytes(range(256)) * 4096) == MAX_RAW_BLOCK
    with pytest.raises(InvalidInput, match="provenance.content.file_cids"):
        ipfs_cid(b"\0" * (MAX_RAW_BLOCK + 1))


def make(**overrides):
    args = dict(name="Song #1", description="Made in Song Studio", audio_hash=HASH, engine="ace-step-v1",
                model="ACE-Step-v1-3.5B", seed=1234, signer=SIGNER, generation_id="gen-1",
                animation_url="ipfs://bafkreiaudio", image="ipfs://bafkreicover", duration_s=30.0)
    args.update(overrides)
    return build_metadata(**args)


def test_metadata_fields_and_properties():
    meta = make()
    assert {"name", "description", "image", "animation_url", "attributes", "properties"} <= meta.keys()
    assert meta["properties"] == {"audio_sha256": HASH, "engine": "ace-step-v1", "model": "ACE-Step-v1-3.5B",
                                  "seed": "1234", "generation_id": "gen-1", "mime_type": "audio/flac",
                                  "studio_signer": "0xABaBaBaBABabABabAbAbABAbABabababaBaBABaB"}
    assert {"trait_type": "Duration (s)", "display_type": "number", "value": 30.0} in meta["attributes"]
    assert "image" not in make(image=None)
    assert make(c2pa_manifest="ipfs://bafkreimanifest")["properties"]["c2pa_manifest"] == "ipfs://bafkreimanifest"


def test_canonical_json_is_order_independent_compact_utf8():
    a = canonical_json({"b": 1, "a": {"z": "é", "y": [1, 2]}})
    b = canonical_json({"a": {"y": [1, 2], "z": "é"}, "b": 1})
    assert a == b == '{"a":{"y":[1,2],"z":"é"},"b":1}'.encode()
    uri, data = metadata_uri(make())
    assert json.loads(data) == make() and uri == "ipfs://" + raw_cid_by_hand(data)
    assert metadata_uri(make(seed=1235))[0] != uri
    with pytest.raises(InvalidInput, match="canonically"):
        canonical_json({"x": float("nan")})


@pytest.mark.parametrize("override,message", [
    ({"audio_hash": "0x1234"}, "64 hex digits"),
    ({"signer": "0xnot-an-address"}, "20-byte hex address"),
    ({"animation_url": "file:///tmp/a.flac"}, "animation_url must be a URI"),
    ({"c2pa_manifest": "/home/me/master.c2pa"}, "c2pa_manifest must be a URI"),
    ({"seed": -1}, "seed"),
    ({"name": " "}, "name"),
])
def test_metadata_bad_input(override, message):
    with pytest.raises(InvalidInput, match=message):
        make(**override)


def test_package_exports_resolve_lazily():
    import subprocess
    import sys

    code = ("import sys, provenance; assert 'web3' not in sys.modules and 'c2pa' not in sys.modules; "
            "[getattr(provenance, n) for n in provenance.__all__]; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "ok", out.stderr
