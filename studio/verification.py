"""`songstudio verify FILE [--recipe R] [--rerender]`: what a file proves about itself.

1. hash, tags and C2PA manifest state (provenance.seal.verify_file);
2. the recipe (sealed in the manifest, or given with --recipe) against the recipe hash the
   token for this audio was minted with, when a chain is configured;
3. with --rerender: the recipe is run again with the weights it names (found in the model cache
   and checked file by file against its digests) and the files it names by content (found by
   studio.rerender_inputs) and the decoded samples are compared with the
   file's: "reproduced: identical audio hash", or the measured difference and why.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from music.engine import MusicRequest
from music.registry import engines
from provenance.errors import ProvenanceError
from provenance.validate import hex32, parse_bytes32
from studio import minting
from studio.errors import BadInput, StudioError
from studio.recipe import recipe_hash, weight_digests
from studio.rerender_inputs import resolve_request
from studio.settings import Settings

MODEL_DIR_OPTION = {"ace-step-1.5": "model_id_or_dir"}  # other engines take `model_dir`


def verify(settings: Settings, path: Path, *, trust_anchors: Path | None, expected_hash: str | None,
           recipe_file: Path | None, rerender: bool, echo: Callable[[str], None],
           manifest_file: Path | None = None) -> bool:
    from provenance.seal import verify_file  # noqa: PLC0415  (c2pa is heavy; only when verifying)

    if expected_hash is not None:
        expected_hash = hex32(parse_bytes32(expected_hash, what="expected hash"))
    anchors = trust_anchors.read_bytes() if trust_anchors else None
    report = verify_file(path, trust_anchors_pem=anchors, expected_hash=expected_hash, manifest_path=manifest_file)
    for line in report.lines():
        echo(line)
    ok = report.manifest.state != "invalid" and report.hash_matches is not False
    sealed = report.manifest.recipe_json
    recipe_json = recipe_file.read_bytes() if recipe_file else sealed
    if recipe_json is None:
        echo("recipe:    none in the file")
        if rerender:
            echo("rerender:  not possible without a recipe")
        return ok and not rerender
    digest = recipe_hash(recipe_json)
    echo(f"recipe:    {digest}" + (f" (from {recipe_file.name})" if recipe_file else " (sealed in the manifest)"))
    if recipe_file and sealed is not None and recipe_hash(sealed) != digest:
        echo(f"warning:   this recipe differs from the one sealed in the file ({recipe_hash(sealed)})")
    ok = _check_chain(settings, report.audio_hash, digest, echo) and ok
    if rerender:
        try:
            recipe = json.loads(recipe_json)
        except ValueError as exc:
            echo(f"rerender:  the recipe is not JSON ({exc})")
            return False
        result = rerender_recipe(settings, recipe, path)
        for line in result.lines():
            echo(line)
        ok = ok and result.identical
    return ok


def _check_chain(settings: Settings, audio_hash: str, digest: str, echo: Callable[[str], None]) -> bool:
    try:
        client = minting.connect(settings)
        token = client.token_of_audio(audio_hash)
        if token is None:
            echo(f"on chain:  this audio is not minted on chain {client.chain_id}")
            return True
        minted_with = client.recipe_hash_of(token) or minting.NO_RECIPE
    except (BadInput, ProvenanceError) as exc:
        echo(f"on chain:  not checked ({exc})")
        return True
    if minted_with == digest:
        echo(f"on chain:  token {token} was minted with this recipe")
        return True
    echo(f"on chain:  MISMATCH: token {token} was minted with recipe {minted_with}, not {digest}; "
         "this recipe is not the one the token certifies")
    return False


@dataclass(frozen=True)
class RerenderResult:
    identical: bool
    samples_sha256: str
    rendered_sha256: str
    max_abs: float
    snr_db: float | None
    why: str

    def lines(self) -> list[str]:
        if self.identical:
            return [f"reproduced: identical audio hash (sha256 of the decoded samples {self.samples_sha256})"]
        snr = "n/a (lengths differ)" if self.snr_db is None else f"{self.snr_db:.1f} dB"
        return [f"not reproduced: the re-render differs (max abs difference {self.max_abs:.6g} of full scale, "
                f"SNR {snr}; decoded samples {self.rendered_sha256} vs the file's {self.samples_sha256})",
                f"why:       {self.why}"]


def rerender_recipe(settings: Settings, recipe: dict[str, Any], master: Path) -> RerenderResult:
    """Run the recipe on this machine's CPU and compare with the master's decoded samples.
    Files the recipe names by content (an edit's source audio, a LoRA) are found again first."""
    request = resolve_request(settings, recipe, master)
    engine_name = recipe["engine"]["name"]
    folder = find_weights(settings, recipe)
    options = dict(settings.engine_options.get(engine_name, {}))
    options[MODEL_DIR_OPTION.get(engine_name, "model_dir")] = str(folder)
    options.update(device="cpu", cache_dir=str(settings.model_cache))
    if recipe.get("dtype"):
        options["dtype"] = recipe["dtype"]
    engine = engines.create(engine_name, **options)
    result = engine.generate(MusicRequest.from_dict(request))
    audio = result.takes[recipe["take_index"]].audio
    buffer = io.BytesIO()  # quantised exactly as the master was written (studio.audio_files.write_flac)
    sf.write(buffer, np.clip(audio.T, -1.0, 1.0), result.sample_rate, format="FLAC", subtype="PCM_24")
    buffer.seek(0)
    rendered, _ = sf.read(buffer, dtype="int32")
    original, _ = sf.read(master, dtype="int32")
    ours, theirs = _sha(rendered), _sha(original)
    if ours == theirs:
        return RerenderResult(True, theirs, ours, 0.0, None, "same samples")
    why = _why(recipe)
    if rendered.shape != original.shape:
        return RerenderResult(False, theirs, ours, float("inf"), None,
                              f"lengths differ ({rendered.shape} vs {original.shape}); {why}")
    ref = original.astype(np.float64) / 2**31
    diff = rendered.astype(np.float64) / 2**31 - ref
    noise = float(np.sum(diff**2))
    snr = float("inf") if noise == 0 else 10 * np.log10(max(float(np.sum(ref**2)), 1e-300) / noise)
    return RerenderResult(False, theirs, ours, float(np.max(np.abs(diff))), snr, why)


def _why(recipe: dict[str, Any]) -> str:
    made_on = f"{recipe.get('device_class')} / {recipe.get('dtype')}"
    if recipe.get("device_class") != "cpu" or recipe.get("dtype") not in (None, "float32"):
        return (f"the take was made on {made_on} and re-rendered on cpu / {recipe.get('dtype') or 'float32'}: "
                "floating-point results differ between devices and dtypes, so only a small difference is expected")
    return (f"same device class and dtype ({made_on}): this recipe does not make this audio (the recipe was "
            "changed, or it is not this file's recipe)")


def _sha(samples: np.ndarray) -> str:
    return "0x" + hashlib.sha256(np.ascontiguousarray(samples).tobytes()).hexdigest()


def find_weights(settings: Settings, recipe: dict[str, Any]) -> Path:
    """The local folder holding exactly the weights the recipe names (by id, checked by digest)."""
    model = recipe["model"]
    options = settings.engine_options.get(recipe["engine"]["name"], {})
    named = options.get(MODEL_DIR_OPTION.get(recipe["engine"]["name"], "model_dir"))
    candidates = [settings.model_cache / model["id"]]
    if named and Path(named).name == model["id"]:
        candidates.insert(0, Path(named).expanduser())
    folder = next((c for c in candidates if c.is_dir()), None)
    if folder is None:
        raise StudioError(f"the weights {model['id']} that the recipe names are not in the model cache "
                          f"{settings.model_cache}; import them with `songstudio models import`")
    have = weight_digests(folder, settings.home / "cache" / "weight-digests")
    wanted = model.get("weights") or {}
    differ = sorted(name for name in set(have) | set(wanted) if have.get(name) != wanted.get(name))
    if differ:
        raise StudioError(f"the weights in {folder.name} differ from the recipe's in {len(differ)} file(s), "
                          f"e.g. {differ[0]}; re-rendering needs the exact weights")
    return folder
