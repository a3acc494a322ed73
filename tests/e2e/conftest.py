"""End-to-end fixtures: the real `songstudio serve` (UI + worker processes) on 127.0.0.1, an anvil
node with the SongNFT contract deployed, and Debian's Chromium driven by Python Playwright.

The worker runs the editing fake engine (sine tones, real steps and files) with a step delay so
progress is visible. Screenshots go to `test-artifacts/` (gitignored).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.editing_engine import TARGET

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--autoplay-policy=no-user-gesture-required"]
PASSWORD = "e2e-keystore-password"
_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _missing(message: str):
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def _wait(check, *, what: str, timeout: float, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"{what}: the process exited with {proc.returncode}")
        try:
            if check():
                return
        except Exception:  # noqa: BLE001 - not up yet
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not come up within {timeout:g} s")
        time.sleep(0.2)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass
class Chain:
    rpc_url: str
    chain_id: int
    contract: str
    wallet: str  # a funded anvil account that receives the tokens


@pytest.fixture(scope="session")
def chain(tmp_path_factory):
    """anvil on a free port, the contract deployed by a fresh owner key, keystores on disk."""
    from web3 import HTTPProvider, Web3

    from provenance.chain import ChainClient
    from provenance.keys import create_keystore, unlock

    binary = REPO / "node_modules" / "@foundry-rs" / f"anvil-{sys.platform}-{_ARCH.get(platform.machine().lower(), '?')}" / "bin" / "anvil"
    if not binary.is_file():
        _missing(f"anvil not found at {binary}; run `npm ci` at the repo root")
    port = free_port()
    proc = subprocess.Popen([str(binary), "--host", "127.0.0.1", "--port", str(port), "--silent"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    w3 = Web3(HTTPProvider(url, request_kwargs={"timeout": 2}))
    try:
        _wait(lambda: w3.eth.chain_id, what="anvil", timeout=30, proc=proc)
        keys = tmp_path_factory.mktemp("keys")
        for role in ("signer", "owner"):
            create_keystore(keys / f"{role}.json", password=PASSWORD, role=role, kdf="pbkdf2", iterations=2)
        owner = unlock(keys / "owner.json", password=PASSWORD, role="owner")
        signer = unlock(keys / "signer.json", password=PASSWORD, role="signer")
        funder, wallet = w3.eth.accounts[0], w3.eth.accounts[1]
        w3.eth.wait_for_transaction_receipt(w3.eth.send_transaction({"from": funder, "to": owner.address,
                                                                     "value": 10**19}))
        deployment = ChainClient.connect(url).deploy(owner=owner, signer=signer.address)
        yield Chain(rpc_url=url, chain_id=deployment.chain_id, contract=deployment.address, wallet=wallet), keys
    finally:
        _stop(proc)


@dataclass
class Server:
    url: str
    home: Path

    def service(self):
        from studio.service import Studio
        from studio.settings import load_settings

        return Studio.open(load_settings(home=self.home))


def start_serve(home: Path, log_dir: Path, **extra_env: str):
    """`python -m studio.cli serve` on a free port with its own data home; a context manager."""
    import contextlib

    @contextlib.contextmanager
    def running():
        port = free_port()
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p),
            "SONGSTUDIO_HOME": str(home),
            "SONGSTUDIO_EXTRA_ENGINES": json.dumps({"fake": TARGET}),
            "SONGSTUDIO_ENGINE": "fake",
            "SONGSTUDIO_DEVICE": "cpu",
            "SONGSTUDIO_ENGINE_OPTIONS": json.dumps({"fake": {"step_delay": 0.4}}),
            **extra_env,
        }
        env.pop("SONGSTUDIO_DATABASE_URL", None)
        with open(log_dir / "serve.log", "wb") as log:
            proc = subprocess.Popen([sys.executable, "-m", "studio.cli", "serve", "--port", str(port)], cwd=REPO,
                                    env=env, stdout=log, stderr=subprocess.STDOUT)
            url = f"http://127.0.0.1:{port}"
            try:
                _wait(lambda: urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok",
                      what="songstudio serve", timeout=90, proc=proc)
                yield Server(url=url, home=home)
            finally:
                _stop(proc)

    return running()


@pytest.fixture(scope="session")
def server(tmp_path_factory, chain):
    """The studio with the fake engine and the anvil chain; stopped with SIGINT at the end."""
    chain_info, keys = chain
    home = tmp_path_factory.mktemp("studio-home")
    shutil.copytree(keys, home / "keys")
    with start_serve(home, tmp_path_factory.mktemp("logs"),
                     SONGSTUDIO_CHAIN_RPC_URL=chain_info.rpc_url, SONGSTUDIO_CHAIN_ID=str(chain_info.chain_id),
                     SONGSTUDIO_CHAIN_CONTRACT=chain_info.contract, SONGSTUDIO_SIGNER_PASSWORD=PASSWORD,
                     SONGSTUDIO_OWNER_PASSWORD=PASSWORD) as running:
        yield running


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=30_000)  # a first page run imports the studio on a busy 2-core machine

    executable = shutil.which("chromium")
    if executable is None:
        _missing("Debian chromium is not installed (`apt-get install -y chromium`)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def new_page(browser):
    """Pages in fresh browser contexts (each one a separate Streamlit session)."""
    contexts = []

    def make():
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        context.set_default_timeout(60_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def settle(page, timeout_ms: int = 15_000) -> None:
    """Wait (best effort) until the script run ends: Streamlit shows a Stop button while it runs
    and keeps the previous run's elements on screen until they are replaced."""
    try:
        page.get_by_role("button", name="Stop").wait_for(state="hidden", timeout=timeout_ms)
    except Exception:  # noqa: BLE001 - a polling fragment may keep it up; take the picture anyway
        pass


def screenshot(page, name: str) -> Path:
    """The whole page: Streamlit scrolls inside its main block, so grow the viewport to fit it first."""
    settle(page)
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    size = page.viewport_size
    height = page.evaluate("Math.max(...[...document.querySelectorAll('[data-testid=stMain], "
                           "[data-testid=stMainBlockContainer]')].map(e => e.scrollHeight), 0)")
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], min(int(height) + 80, 6000))})
    page.wait_for_timeout(300)
    page.screenshot(path=str(path))
    page.set_viewport_size(size)
    return path
