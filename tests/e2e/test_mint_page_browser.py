"""#15: the Mint page in headless Chromium on a fresh data home with no chain: set up a local
test chain from the page, sign, mint, and after a reload the take reads "minted: token 1" with
nothing left to sign; the Song page says the same."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PASSWORD, REPO, screenshot, start_serve
from tests.e2e.editing_engine import TARGET

pytestmark = [pytest.mark.browser, pytest.mark.network]

WALLET = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


def test_set_up_a_local_chain_sign_and_mint_from_the_page(tmp_path, new_page):
    home = tmp_path / "home"
    passwords = {"SONGSTUDIO_SIGNER_PASSWORD": PASSWORD, "SONGSTUDIO_OWNER_PASSWORD": PASSWORD}
    env = {k: v for k, v in os.environ.items() if not k.startswith("SONGSTUDIO_")}
    env.update(PYTHONPATH=str(REPO), SONGSTUDIO_HOME=str(home), SONGSTUDIO_ENGINE="fake", SONGSTUDIO_DEVICE="cpu",
               SONGSTUDIO_EXTRA_ENGINES=json.dumps({"fake": TARGET}), **passwords)
    with start_serve(home, tmp_path, **passwords) as server:
        try:
            subprocess.run([sys.executable, "-m", "studio.cli", "generate", "a calm loop", "-d", "2", "--wait"],
                           env=env, cwd=REPO, check=True, capture_output=True, timeout=300)
            page = new_page()
            page.goto(f"{server.url}/mint?take=1")
            expect(page.get_by_text(re.compile("no chain is configured"))).to_be_visible()
            expect(page.get_by_text("Or use a real network")).to_be_visible()
            screenshot(page, "mint-no-chain")

            page.get_by_role("button", name="Set up a local test chain").click()
            expect(page.get_by_text(re.compile(r"Local chain 31337 at http://127\.0\.0\.1"))).to_be_visible(
                timeout=120_000)
            page.get_by_role("textbox", name="Wallet address (receives the token)").fill(WALLET)
            page.get_by_role("button", name="Sign authorization").click()
            expect(page.get_by_text(re.compile("Signed by 0x"))).to_be_visible()
            expect(page.get_by_text(re.compile(r"Metadata URI ipfs://bafk.* recipe hash 0x[0-9a-f]{64}"))).to_be_visible()
            page.get_by_role("button", name="Mint", exact=True).click()
            expect(page.get_by_text(re.compile(r"Minted token 1 \(transaction 0x[0-9a-f]{64}\)"))).to_be_visible()
            screenshot(page, "mint-minted")

            page.goto(f"{server.url}/mint?take=1")
            expect(page.get_by_text(re.compile(r"This take is minted as token 1"))).to_be_visible()
            expect(page.get_by_role("button", name="Sign authorization")).to_have_count(0)
            page.goto(f"{server.url}/song?take=1")
            page.wait_for_timeout(3000)
            screenshot(page, "mint-song")
            expect(page.get_by_text(re.compile(r"minted: token 1 \(tx 0x"))).to_be_visible()
            screenshot(page, "song-minted")
        finally:
            subprocess.run([sys.executable, "-m", "studio.cli", "chain", "down"], env=env, cwd=REPO, timeout=60,
                           check=False)
