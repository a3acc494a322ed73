"""All studio settings in one place, read from `SONGSTUDIO_*` environment variables.

Everything the studio writes lives under one data home (default `~/.songstudio`): the library
database, the audio files, the queue file and the model cache. Complex values (dicts) are
given as JSON, e.g. `SONGSTUDIO_ENGINE_OPTIONS='{"ace-step-v1": {"dtype": "bfloat16"}}'`.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from studio.errors import EnvironmentProblem

# Best match (relevance) ranks the newest this many text matches, before filters; older ones
# follow, newest first. Ranking costs the database ~1 us a match (bm25 on SQLite), so a word in
# every take of a 100k library would take ~0.1 s to rank in full; 0 ranks every match.
DEFAULT_SEARCH_RANK_WINDOW = 25_000


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SONGSTUDIO_", extra="ignore")

    home: Path = Field(default=Path("~/.songstudio"), description="data home: DB, audio, queue, models")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default: SQLite file in the home")
    media_dir: Path | None = Field(default=None, description="audio files; default: <home>/library")
    models_dir: Path | None = Field(default=None, description="model cache; default: <home>/models")
    sqlite_busy_timeout_s: float = Field(default=15.0, description="how long a writer waits for a locked SQLite DB")
    search_rank_window: int = Field(
        default=DEFAULT_SEARCH_RANK_WINDOW, ge=0,
        description="best match ranks the newest this many text matches, older ones follow newest first; "
                    "0: rank all",
    )

    # models
    device: str = Field(default="auto", description="auto, cpu, cuda, cuda:1, mps")
    dtype: str | None = Field(default=None, description="engine dtype override, e.g. bfloat16")
    engine: str = Field(default="ace-step-v1", description="default music engine")
    engine_options: dict[str, dict[str, Any]] = Field(default_factory=dict, description="extra factory kwargs per engine")
    extra_engines: dict[str, str] = Field(
        default_factory=dict, description="plug-in engines: name -> 'module:factory' registered in the worker"
    )
    lyrics_backend: str = Field(default="llama-cpp", description="default lyrics backend")
    lyrics_options: dict[str, dict[str, Any]] = Field(default_factory=dict, description="options per lyrics backend")
    preload_models: bool = Field(
        default=True, description="the worker loads the default music engine and lyrics backend when it starts"
    )
    device_memory_gib: float | None = Field(
        default=None, gt=0,
        description="memory of the worker's device in GiB, the limit a train job's estimate is checked against at "
                    "submit; unset: the total memory of `device` as this machine sees it",
    )

    # queue
    queue_backend: Literal["sqlite", "redis"] = "sqlite"
    redis_url: str = "redis://127.0.0.1:6379/0"
    queue_name: str = "songstudio"
    job_lease_s: float = Field(default=60.0, description="a running job whose worker is silent this long is re-queued")
    max_attempts: int = Field(default=3, description="worker crashes tolerated per job before it is failed")

    # chain (signing and minting). Unset here, they come from the settings file that
    # `songstudio chain up` writes (<home>/settings.json), read afresh at each use.
    chain_rpc_url: str | None = None
    chain_id: int | None = None
    chain_contract: str | None = None
    ipfs_api_url: str | None = Field(default=None, description="IPFS node RPC API for `songstudio pin`, "
                                     "e.g. http://127.0.0.1:5001")
    signer_keystore: Path | None = Field(default=None, description="default: <home>/keys/signer.json")
    owner_keystore: Path | None = Field(default=None, description="default: <home>/keys/owner.json")

    # provenance inside the master: C2PA certificate chain + key (PEM); neither = a local development CA
    seal_masters: bool = Field(default=True, description="tag and C2PA-sign every master before it is hashed")
    c2pa_cert_chain: Path | None = None
    c2pa_private_key: Path | None = None

    # UI
    ui_host: str = "127.0.0.1"
    ui_port: int = 8501

    @field_validator("home", "media_dir", "models_dir", "signer_keystore", "owner_keystore", mode="after")
    @classmethod
    def _expand(cls, value: Path | None) -> Path | None:
        return None if value is None else value.expanduser().resolve()

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'library.db'}"

    @property
    def library_dir(self) -> Path:
        return self.media_dir or self.home / "library"

    @property
    def keys_dir(self) -> Path:
        """Encrypted keystores, `signer.json` and `owner.json`."""
        return self.home / "keys"

    def keystore(self, role: str) -> Path:
        """The role's encrypted keystore: SONGSTUDIO_<ROLE>_KEYSTORE, else <home>/keys/<role>.json."""
        configured = {"signer": self.signer_keystore, "owner": self.owner_keystore}[role]
        return configured or self.keys_dir / f"{role}.json"

    @property
    def settings_file(self) -> Path:
        """Settings the studio writes itself (`songstudio chain up`); environment variables win."""
        return self.home / "settings.json"

    @property
    def c2pa_dir(self) -> Path:
        """The development CA used when no C2PA certificate is configured."""
        return self.home / "c2pa"

    @property
    def model_cache(self) -> Path:
        return self.models_dir or self.home / "models"

    @property
    def queue_file(self) -> Path:
        return self.home / "queue.db"

    def ensure_home(self) -> None:
        """Create the home folders and prove they are writable, or say how to fix it.

        Private by default: the home is 0700 (lyrics, prompts and mint records are nobody else's
        business) and the SQLite files are created 0600 before SQLite opens them (SQLite gives its
        -wal and -shm files the database file's mode)."""
        for folder in (self.home, self.library_dir, self.model_cache):
            try:
                folder.mkdir(parents=True, exist_ok=True, mode=0o700)
                if folder == self.home:
                    make_private(folder)
                with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-check-"):
                    pass
            except OSError as exc:
                raise EnvironmentProblem(
                    f"data folder {folder} is not writable ({exc.strerror or exc}); "
                    "fix its permissions or point SONGSTUDIO_HOME at a writable folder"
                ) from None
        for db_file in (self.queue_file, self.home / "library.db" if self.database_url is None else None):
            if db_file is not None:
                private_file(db_file)


def read_settings_file(settings: Settings) -> dict[str, Any]:
    """The settings file's values (empty when there is none); read at each use, so a running
    studio sees what `songstudio chain up` wrote without a restart."""
    try:
        data = json.loads(settings.settings_file.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise EnvironmentProblem(f"the settings file {settings.settings_file} is not readable JSON ({exc}); "
                                 "fix or remove it") from None
    return data if isinstance(data, dict) else {}


def update_settings_file(settings: Settings, values: dict[str, Any]) -> None:
    """Merge `values` into the settings file (a None value removes the key); written whole, 0600."""
    settings.ensure_home()
    data = read_settings_file(settings)
    data.update(values)
    data = {k: v for k, v in data.items() if v is not None}
    fd, tmp = tempfile.mkstemp(prefix=".settings.", dir=settings.home)  # mkstemp files are 0600
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=2, sort_keys=True)
        os.replace(tmp, settings.settings_file)
    finally:
        Path(tmp).unlink(missing_ok=True)


def make_private(path: Path) -> None:
    """Owner-only access to a folder (0700) or file (0600), whatever the umask made it."""
    mode = 0o700 if path.is_dir() else 0o600
    if path.stat().st_mode & 0o777 != mode:
        path.chmod(mode)


def private_file(path: Path) -> None:
    """Create `path` empty with mode 0600 if missing (never truncating), else tighten it to 0600."""
    try:
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    except OSError as exc:
        raise EnvironmentProblem(f"cannot create {path} ({exc.strerror or exc}); fix the data folder's "
                                 "permissions or point SONGSTUDIO_HOME at a writable folder") from None
    make_private(path)


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment, with explicit overrides (CLI flags) on top."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})


def env_for_child(settings: Settings) -> dict[str, str]:
    """The environment a child process (worker, UI) needs to see the same settings."""
    env = dict(os.environ)
    env["SONGSTUDIO_HOME"] = str(settings.home)
    env["SONGSTUDIO_DATABASE_URL"] = settings.db_url
    return env
