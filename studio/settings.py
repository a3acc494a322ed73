"""All studio settings in one place, read from `SONGSTUDIO_*` environment variables.

Everything the studio writes lives under one data home (default `~/.songstudio`): the library
database, the audio files, the queue file and the model cache. Complex values (dicts) are
given as JSON, e.g. `SONGSTUDIO_ENGINE_OPTIONS='{"ace-step-v1": {"dtype": "bfloat16"}}'`.
"""

from __future__ import annotations

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

    # queue
    queue_backend: Literal["sqlite", "redis"] = "sqlite"
    redis_url: str = "redis://127.0.0.1:6379/0"
    queue_name: str = "songstudio"
    job_lease_s: float = Field(default=60.0, description="a running job whose worker is silent this long is re-queued")
    max_attempts: int = Field(default=3, description="worker crashes tolerated per job before it is failed")

    # chain (used by the provenance commands)
    chain_rpc_url: str | None = None
    chain_id: int | None = None
    chain_contract: str | None = None

    # provenance inside the master: C2PA certificate chain + key (PEM); neither = a local development CA
    seal_masters: bool = Field(default=True, description="tag and C2PA-sign every master before it is hashed")
    c2pa_cert_chain: Path | None = None
    c2pa_private_key: Path | None = None

    # UI
    ui_host: str = "127.0.0.1"
    ui_port: int = 8501

    @field_validator("home", "media_dir", "models_dir", mode="after")
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
        """Create the home folders and prove they are writable, or say how to fix it."""
        for folder in (self.home, self.library_dir, self.model_cache):
            try:
                folder.mkdir(parents=True, exist_ok=True)
                with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-check-"):
                    pass
            except OSError as exc:
                raise EnvironmentProblem(
                    f"data folder {folder} is not writable ({exc.strerror or exc}); "
                    "fix its permissions or point SONGSTUDIO_HOME at a writable folder"
                ) from None


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment, with explicit overrides (CLI flags) on top."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})


def env_for_child(settings: Settings) -> dict[str, str]:
    """The environment a child process (worker, UI) needs to see the same settings."""
    env = dict(os.environ)
    env["SONGSTUDIO_HOME"] = str(settings.home)
    env["SONGSTUDIO_DATABASE_URL"] = settings.db_url
    return env
