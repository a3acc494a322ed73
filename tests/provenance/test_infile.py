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


def _riff_chunks(data: bytes) -> list[bytes]:
    """The chunk ids at the top level of a RIFF/WAVE file."""
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    ids, offset = [], 12
    while offset + 8 <= len(data):
        size = int.from_bytes(data[offset + 4:offset + 8], "little")
        ids.append(data[offset:offset + 4])
        offset += 8 + size + (size & 1)
    return ids


def test_sealed_flac_is_plain_flac_with_a_sidecar_manifest(tmp_path, credentials):
    from mutagen.flac import FLAC
    from mutagen.id3 import ID3, ID3NoHeaderError

    master = write_audio(tmp_path / "master.flac")
    digest = seal_master(master, tags=TAGS, credentials=credentials, title="Take 1")

    data = master.read_bytes()
    assert data[:4] == b"fLaC"  # no ID3 (or anything else) in front of the FLAC stream
    with pytest.raises(ID3NoHeaderError):
        ID3(master)
    flac = FLAC(master)
    assert flac["SONGSTUDIO_GENERATION_ID"] == ["gen-42"] and flac["SONGSTUDIO_SEED"] == ["7"]
    assert read_tags(master) == TAGS.as_text()
    sidecar = tmp_path / "master.c2pa"
    assert sidecar.is_file() and not list(tmp_path.glob(".master*"))  # no temporary left behind

    report = verify_file(master, trust_anchors_pem=credentials.trust_anchor_pem, expected_hash=digest)
    assert report.manifest.state == "trusted" and report.manifest.sidecar == "master.c2pa"
    assert report.hash_matches and report.tags_match_manifest and not report.manifest.binding_failed
    assert any(line.startswith("manifest:  trusted") and "sidecar master.c2pa" in line for line in report.lines())

    # a copy elsewhere under another name verifies with the manifest named explicitly
    moved = tmp_path / "elsewhere" / "song.flac"
    moved.parent.mkdir()
    moved.write_bytes(data)
    assert read_manifest(moved).state == "absent"
    assert read_manifest(moved, manifest_path=sidecar).state == "untrusted"


def test_one_changed_byte_of_a_flac_master_fails_the_sidecar_binding(tmp_path, credentials):
    master = write_audio(tmp_path / "master.flac")
    digest = seal_master(master, tags=TAGS, credentials=credentials, title="Take 1")
    for where in (30, 5000, -1):  # in STREAMINFO (its MD5), in the audio frames, the last byte
        data = bytearray(master.read_bytes())
        data[where] ^= 0x01
        changed = tmp_path / f"changed{where}.flac"
        changed.write_bytes(data)
        report = verify_file(changed, manifest_path=tmp_path / "master.c2pa", expected_hash=digest)
        assert report.manifest.state == "invalid" and report.manifest.binding_failed, where
        assert "assertion.dataHash.mismatch" in report.manifest.codes
        assert any(line.startswith("binding:   FAILED") for line in report.lines())
    assert verify_file(master).manifest.state == "untrusted"  # the untouched master still verifies


def test_a_sealed_flac_is_neither_retagged_nor_signed_again(tmp_path, credentials):
    master = write_audio(tmp_path / "master.flac")
    seal_master(master, tags=TAGS, credentials=credentials, title="Take 1")
    before, manifest = master.read_bytes(), (tmp_path / "master.c2pa").read_bytes()
    with pytest.raises(TagError, match="already carries a C2PA manifest"):
        write_tags(master, TAGS)
    with pytest.raises(ManifestError, match="already carries"):
        sign_file(master, credentials=credentials, tags=TAGS, title="again")
    assert master.read_bytes() == before and (tmp_path / "master.c2pa").read_bytes() == manifest


def test_an_id3_tag_in_front_of_a_flac_is_dropped_when_tagging(tmp_path):
    from mutagen.id3 import ID3, TIT2

    master = write_audio(tmp_path / "master.flac")
    id3 = ID3()
    id3.add(TIT2(encoding=3, text="from some other tool"))
    id3.save(master)
    assert master.read_bytes()[:3] == b"ID3"
    write_tags(master, TAGS)
    assert master.read_bytes()[:4] == b"fLaC" and read_tags(master) == TAGS.as_text()


def test_a_corrupt_sidecar_reads_as_invalid_not_absent(tmp_path, credentials):
    master = write_audio(tmp_path / "master.flac")
    (tmp_path / "master.c2pa").write_bytes(b"not a manifest store")
    assert read_manifest(master).state == "invalid"
    with pytest.raises(InvalidInput, match="manifest file not found"):
        read_manifest(master, manifest_path=tmp_path / "missing.c2pa")


def test_wav_and_mp3_carry_their_own_tags_and_an_embedded_manifest(tmp_path, credentials):
    from mutagen.id3 import ID3
    from mutagen.mp3 import MP3
    from mutagen.wave import WAVE

    wav = write_audio(tmp_path / "take.wav")
    seal_master(wav, tags=TAGS, credentials=credentials, title="Take 1")
    chunks = _riff_chunks(wav.read_bytes())
    assert b"fmt " in chunks and b"data" in chunks and b"id3 " in chunks  # tags in the WAV's ID3 chunk
    assert b"C2PA" in chunks  # the manifest in its own RIFF chunk
    assert WAVE(wav).tags["TXXX:songstudio:seed"].text == ["7"]
    assert not (tmp_path / "take.c2pa").exists() and read_manifest(wav).sidecar is None

    mp3 = write_audio(tmp_path / "take.mp3")
    seal_master(mp3, tags=TAGS, credentials=credentials, title="Take 1")
    assert mp3.read_bytes()[:3] == b"ID3"  # an ID3v2 tag in front of the MPEG frames: what MP3 expects
    assert ID3(mp3)["TXXX:songstudio:generation_id"].text == ["gen-42"]
    assert MP3(mp3).info.length > 0  # still decodable audio after the tag
    assert not (tmp_path / "take.c2pa").exists() and read_manifest(mp3).state == "untrusted"
