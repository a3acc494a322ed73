"""#15 (optional part): `songstudio pin TAKE` uploads the take's CAR to an IPFS node's RPC API
(Kubo's /api/v0/dag/import), here a local stand-in that reads the multipart body like Kubo does."""

from __future__ import annotations

import json
import threading
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from click.testing import CliRunner

from provenance.keys import create_keystore
from studio.cli import main
from tests.provenance.unixfs_reference import read_car, unpack
from tests.studio.test_jobs import make_worker


@pytest.fixture
def ipfs_node():
    received = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers["Content-Length"]))
            message = BytesParser(policy=HTTP).parsebytes(
                f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode() + body)
            part = next(message.iter_parts())
            received.update(path=self.path, car=part.get_payload(decode=True))
            roots, _ = read_car(received["car"])
            self.send_response(200)
            self.end_headers()
            for root in roots:
                self.wfile.write(json.dumps({"Root": {"Cid": {"/": root}, "PinErrorMsg": ""}}).encode() + b"\n")

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", received
    server.shutdown()


def test_pin_uploads_the_take_car_and_checks_the_pinned_roots(studio, ipfs_node, monkeypatch):
    url, received = ipfs_node
    home = ["--home", str(studio.settings.home)]
    job = studio.submit_music(prompt="pin me", duration=1.0, seeds=[4])
    make_worker(studio).run_next()
    (take,) = studio.library.takes_of_job(job.id)
    result = CliRunner().invoke(main, [*home, "pin", str(take.id)])
    assert result.exit_code == 2 and "SONGSTUDIO_IPFS_API_URL" in result.output

    create_keystore(studio.settings.keystore("signer"), password="signer-password", role="signer", kdf="pbkdf2",
                    iterations=2)
    monkeypatch.setenv("SONGSTUDIO_IPFS_API_URL", url)
    result = CliRunner().invoke(main, [*home, "pin", str(take.id)])
    assert result.exit_code == 0, result.output
    assert received["path"] == "/api/v0/dag/import?pin-roots=true"
    roots, blocks = read_car(received["car"])
    assert len(roots) == 3 and f"pinned {roots[0]}, {roots[1]}, {roots[2]}" in result.output
    # the master, its C2PA sidecar manifest (named by the metadata) and the metadata
    master = studio.library.path(take)
    assert unpack(roots[0], blocks) == master.read_bytes()
    assert unpack(roots[1], blocks) == studio.library.manifest_path(take).read_bytes()
    metadata = json.loads(unpack(roots[2], blocks))
    assert metadata["animation_url"] == f"ipfs://{roots[0]}"
    assert metadata["properties"]["c2pa_manifest"] == f"ipfs://{roots[1]}"


def test_pin_names_a_node_that_does_not_answer(studio, monkeypatch):
    from tests.provenance.helpers import free_port

    job = studio.submit_music(prompt="pin me", duration=1.0, seeds=[4])
    make_worker(studio).run_next()
    create_keystore(studio.settings.keystore("signer"), password="signer-password", role="signer", kdf="pbkdf2",
                    iterations=2)
    monkeypatch.setenv("SONGSTUDIO_IPFS_API_URL", f"http://user:secret@127.0.0.1:{free_port()}")
    result = CliRunner().invoke(main, ["--home", str(studio.settings.home), "pin",
                                       str(studio.library.takes_of_job(job.id)[0].id)])
    assert result.exit_code == 1 and "did not answer" in result.output and "secret" not in result.output
