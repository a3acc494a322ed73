"""Tags and C2PA manifests inside the audio file; verify(file)."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import soundfile as sf

from provenance.c2pa_manifest import dev_credentials, load_credentials, read_manifest, resolve_credentials, sign_file
from provenance.errors import InvalidInput, ManifestError, TagError
from provenance.hashing import audio_hash
from provenance.seal import seal_master, verify_file
from provenance.tags import ProvenanceTags, read_tags, write_tags

TAGS = ProvenanceTags(generation_id="gen-42", engine="ace-step-v1", model="ACE-Step-v1-3.5B", seed=7,
                      signer="0x" + "cd" * 20)


@pytest.fixture(scope="module")
def credentials(tmp_path_factory):
    return dev_credentials(tmp_path_factory.mktemp("c2pa-dev-ca"))


def write_audio(path):
    noise = np.random.default_rng(0).uniform(-0.3, 0.3, (11025, 2)).astype("float32")
    sf.write(path, noise, 44100)
    return path


@pytest.mark.parametrize("ext", ["flac", "wav", "mp3"])
def test_seal_then_verify(tmp_path, credentials, ext):
    master = write_audio(tmp_path / f"take.{ext}")
    digest = seal_master(master, tags=TAGS, credentials=credentials, title="Take 1")

    assert digest == "0x" + hashlib.sha256(master.read_bytes()).hexdigest() == audio_hash(master)
    untrusted = verify_file(master, expected_hash=digest)
    assert untrusted.manifest.state == "untrusted"
    assert untrusted.tags == TAGS.as_text() and untrusted.tags_match_manifest and untrusted.hash_matches
    trusted = verify_file(master, trust_anchors_pem=credentials.trust_anchor_pem)
    assert trusted.manifest.state == "trusted"
    assert trusted.manifest.provenance == TAGS.as_text()
    assert any(line.startswith("manifest:  trusted") for line in trusted.lines())


def test_flipped_byte_changes_hash_and_fails_c2pa(tmp_path, credentials):
    master = write_audio(tmp_path / "take.flac")
    digest = seal_master(master, tags=TAGS, credentials=credentials, title="Take 1")
    data = bytearray(master.read_bytes())
    data[len(data) // 2] ^= 0x01  # inside the audio frames
    master.write_bytes(data)

    report = verify_file(master, trust_anchors_pem=credentials.trust_anchor_pem, expected_hash=digest)
    assert report.audio_hash != digest and report.hash_matches is False
    assert report.manifest.state == "invalid"
    assert "assertion.dataHash.mismatch" in report.manifest.codes


def test_retagging_or_resigning_a_sealed_file_is_refused(tmp_path, credentials):
    master = write_audio(tmp_path / "take.wav")
    seal_master(master, tags=TAGS, credentials=credentials, title="Take 1")
    before = master.read_bytes()
    with pytest.raises(TagError, match="already carries a C2PA manifest"):
        write_tags(master, TAGS)
    with pytest.raises(ManifestError, match="already carries"):
        sign_file(master, credentials=credentials, tags=TAGS, title="again")
    assert master.read_bytes() == before


def test_unsealed_file_reports_absent_manifest(tmp_path):
    plain = write_audio(tmp_path / "plain.flac")
    report = verify_file(plain)
    assert report.manifest.state == "absent" and report.tags == {} and report.tags_match_manifest is None
    write_tags(plain, TAGS)
    assert read_tags(plain) == TAGS.as_text()


def test_configured_certificate_and_bad_credentials(tmp_path, credentials):
    ca_dir = tmp_path / "ca"
    dev_credentials(ca_dir)  # stands in for a certificate an operator configures
    configured = load_credentials(cert_chain=ca_dir / "dev-signer-chain.pem", private_key=ca_dir / "dev-signer-key.pem")
    master = write_audio(tmp_path / "take.flac")
    seal_master(master, tags=TAGS, credentials=configured, title="Take 1")
    assert read_manifest(master).state == "untrusted"
    # not trusted under another CA
    assert read_manifest(master, trust_anchors_pem=credentials.trust_anchor_pem).state != "trusted"
    assert (ca_dir / "dev-signer-key.pem").stat().st_mode & 0o077 == 0

    assert resolve_credentials(cert_chain=ca_dir / "dev-signer-chain.pem", private_key=ca_dir / "dev-signer-key.pem",
                               dev_dir=tmp_path / "unused") == configured
    assert not (tmp_path / "unused").exists()
    assert resolve_credentials(cert_chain=None, private_key=None, dev_dir=ca_dir).trust_anchor_pem
    with pytest.raises(InvalidInput, match="both"):
        resolve_credentials(cert_chain=ca_dir / "dev-signer-chain.pem", private_key=None, dev_dir=ca_dir)

    (tmp_path / "junk.pem").write_text("not a certificate")
    with pytest.raises(ManifestError, match="PEM"):
        load_credentials(cert_chain=tmp_path / "junk.pem", private_key=ca_dir / "dev-signer-key.pem")
    with pytest.raises(ManifestError, match="cannot read"):
        load_credentials(cert_chain=tmp_path / "missing.pem", private_key=ca_dir / "dev-signer-key.pem")
    with pytest.raises(InvalidInput, match="algorithm"):
        load_credentials(cert_chain=ca_dir / "dev-signer-chain.pem", private_key=ca_dir / "dev-signer-key.pem",
                         alg="md5")


def test_bad_files(tmp_path):
    with pytest.raises(InvalidInput, match="not found"):
        audio_hash(tmp_path / "missing.flac")
    with pytest.raises(InvalidInput, match="supports .flac, .wav and .mp3"):
        read_tags(tmp_path / "song.ogg")
    bogus = tmp_path / "bogus.flac"
    bogus.write_bytes(b"not audio at all")
    with pytest.raises(TagError):
        read_tags(bogus)
