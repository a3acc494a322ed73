"""The shared reference folder: found beside the checkout; missing, a skip locally and a failure
with CI=true (never a skip there)."""

from __future__ import annotations

import pytest

from tests.reference_folder import locate_reference, on_ci


def test_missing_folder_fails_on_ci_and_skips_locally(tmp_path):
    candidates = [tmp_path / "a", tmp_path / "b"]
    with pytest.raises(pytest.fail.Exception, match=str(tmp_path / "b")):
        locate_reference(candidates, ci=True)
    with pytest.raises(pytest.skip.Exception):
        locate_reference(candidates, ci=False)


def test_first_folder_with_the_cases_file_wins(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "cases.json").write_text("{}")
    (tmp_path / "a").mkdir()  # exists but has no cases.json
    assert locate_reference([tmp_path / "a", tmp_path / "b"], ci=True) == tmp_path / "b"


def test_ci_flag():
    assert on_ci({"CI": "true"}) and on_ci({"CI": "TRUE"})
    assert not on_ci({}) and not on_ci({"CI": "false"}) and not on_ci({"CI": "1"})
