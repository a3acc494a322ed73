"""Every stored master is tagged and C2PA-signed before it is hashed, so the library's hash is
the hash a mint authorization signs and `songstudio verify` checks."""

from __future__ import annotations

from provenance.hashing import audio_hash
from provenance.keys import create_keystore
from provenance.seal import verify_file
from provenance.tags import read_tags
from tests.studio.test_jobs import make_worker


def test_worker_seals_the_master_before_hashing(studio):
    job = studio.submit_music(prompt="sealed", duration=1.0, seeds=[5])
    make_worker(studio).run_next()
    take = studio.library.takes_of_job(job.id)[0]
    master = studio.library.path(take)

    assert audio_hash(master) == "0x" + take.audio_sha256.removeprefix("0x")
    tags = read_tags(master)
    assert tags["generation_id"] == f"{job.id}/0" and tags["seed"] == "5" and tags["engine"] == "fake"
    assert "signer" not in tags  # no signer keystore yet: left out, never a placeholder address
    anchors = (studio.settings.c2pa_dir / "dev-ca.pem").read_bytes()
    report = verify_file(master, trust_anchors_pem=anchors, expected_hash=audio_hash(master))
    assert report.manifest.state == "trusted" and report.hash_matches is True


def test_the_sealed_master_is_plain_flac_with_its_manifest_beside_it(studio):
    """#15: FLAC tools expect `fLaC` first: no ID3 header in front; the C2PA manifest is the
    `master.c2pa` sidecar, bound to the exact bytes whose hash the library stores."""
    from mutagen.flac import FLAC

    job = studio.submit_music(prompt="plain flac", duration=1.0, seeds=[3])
    make_worker(studio).run_next()
    take = studio.library.takes_of_job(job.id)[0]
    master = studio.library.path(take)
    assert master.read_bytes()[:4] == b"fLaC"
    assert FLAC(master)["SONGSTUDIO_SEED"] == ["3"]
    assert studio.library.manifest_path(take) == master.with_name("master.c2pa")
    report = verify_file(master, expected_hash="0x" + take.audio_sha256.removeprefix("0x"))
    assert report.manifest.state == "untrusted" and report.manifest.sidecar == "master.c2pa"
    assert report.hash_matches is True and not report.manifest.binding_failed


def test_signer_address_is_tagged_when_a_signer_keystore_exists(studio):
    path = studio.settings.keys_dir / "signer.json"
    address = create_keystore(path, password="pw-for-test", role="signer", kdf="pbkdf2", iterations=2)
    job = studio.submit_music(prompt="signed", duration=1.0, seeds=[6])
    make_worker(studio).run_next()
    master = studio.library.path(studio.library.takes_of_job(job.id)[0])
    assert read_tags(master)["signer"].lower() == str(address).lower()


def test_sealing_can_be_turned_off(studio):
    studio.settings.seal_masters = False
    job = studio.submit_music(prompt="plain", duration=1.0, seeds=[1])
    make_worker(studio).run_next()
    assert read_tags(studio.library.path(studio.library.takes_of_job(job.id)[0])) == {}
