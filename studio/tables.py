"""The library's tables: songs (title, lyric draft with versions, notes), their takes, jobs (the
queue's truth) and mints.

Timestamps are timezone-aware UTC. SQLite hands them back naive, so `utc()` normalises on read.
The schema itself is created by the Alembic migrations in `studio/migrations`, not by
`SQLModel.metadata.create_all`; the two are checked against each other in the tests.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Optional

from sqlalchemy import BigInteger, Column, DateTime, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

JOB_STATUSES = ("queued", "running", "done", "failed", "cancelled")
JOB_KINDS = ("music", "lyrics", "train")
MINT_STATUSES = ("pending", "minted", "failed", "superseded")


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


def utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=timezone.utc)


def _ts(nullable: bool = True, index: bool = False) -> Column:
    return Column(DateTime(timezone=True), nullable=nullable, index=index)


class Song(SQLModel, table=True):
    """The unit of a session: a title, the lyric draft being written (with every saved edit kept as a
    `SongVersion`), notes, and the takes made for it (`Take.song_id`)."""

    __tablename__ = "song"

    id: Optional[int] = Field(default=None, primary_key=True)
    title: str = ""
    notes: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    draft: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))  # JSON: the editor
    lyrics: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))  # the draft as lyrics text
    version: int = 0  # number of the newest SongVersion (0: never saved)
    created_at: datetime = Field(default_factory=now_utc, sa_column=_ts(nullable=False))
    updated_at: datetime = Field(default_factory=now_utc, sa_column=_ts(nullable=False, index=True))


class SongVersion(SQLModel, table=True):
    """One saved edit of a song's title, draft and notes; any of them can be restored."""

    __tablename__ = "song_version"
    __table_args__ = (UniqueConstraint("song_id", "number", name="uq_song_version_number"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    song_id: int = Field(foreign_key="song.id", index=True)
    number: int
    title: str = ""
    notes: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    draft: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))
    lyrics: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    created_at: datetime = Field(default_factory=now_utc, sa_column=_ts(nullable=False))


class Take(SQLModel, table=True):
    __tablename__ = "take"
    __table_args__ = (
        UniqueConstraint("job_id", "take_index", name="uq_take_job_index"),
        # one per sort of the library's default view (migration 0002)
        Index("ix_take_trashed_created", "trashed_at", "created_at"),
        Index("ix_take_trashed_title", "trashed_at", "title"),
        Index("ix_take_trashed_duration", "trashed_at", "duration"),
        Index("ix_take_trashed_rating", "trashed_at", "rating", "created_at"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    job_id: str = Field(index=True)
    take_index: int = 0
    title: str = ""
    prompt: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    lyrics: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    tags: str = ""  # comma-separated, searched with the text
    task: str = "text2music"
    engine: str = Field(index=True)
    model_id: str = ""
    revision: Optional[str] = None
    parameters: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))  # JSON
    seed: int = Field(sa_column=Column(BigInteger, nullable=False))
    duration: float = Field(index=True)
    sample_rate: int
    channels: int
    folder: str  # relative to the media dir, holds the files below
    master_file: str
    mp3_file: str
    preview_file: str
    waveform_file: str
    params_file: str
    audio_sha256: str
    parent_take_id: Optional[int] = Field(default=None, foreign_key="take.id", index=True)
    # how the take was made, canonical JSON (studio.recipe), and 0x + its sha256 (migration 0006_recipe)
    recipe: Optional[str] = Field(default=None, sa_column=Column(Text, nullable=True))
    recipe_sha256: Optional[str] = None
    song_id: Optional[int] = Field(default=None, foreign_key="song.id", index=True)  # migration 0006
    made_by: str = ""  # what made it, e.g. "take 3", "repaint 0:12–0:20" (empty before songs existed)
    favourite: bool = Field(default=False, index=True)
    rating: int = 0  # 0 = unrated, 1..5
    trashed_at: Optional[datetime] = Field(default=None, sa_column=_ts())
    created_at: datetime = Field(default_factory=now_utc, sa_column=_ts(nullable=False, index=True))


class Job(SQLModel, table=True):
    __tablename__ = "job"
    __table_args__ = (Index("ix_job_status_queued_at", "status", "queued_at"),)

    id: str = Field(primary_key=True)
    kind: str
    spec: str = Field(sa_column=Column(Text, nullable=False))  # JSON, exactly as submitted
    status: str = Field(default="queued")
    stage: str = "queued"
    step: int = 0
    total: int = 0
    error: Optional[str] = Field(default=None, sa_column=Column(Text, nullable=True))
    result: Optional[str] = Field(default=None, sa_column=Column(Text, nullable=True))  # JSON
    partial: Optional[str] = Field(default=None, sa_column=Column(Text, nullable=True))  # streamed text so far (0004)
    timeline: Optional[str] = Field(default=None, sa_column=Column(Text, nullable=True))  # stage times, JSON (0006)
    attempts: int = 0
    cancel_requested: bool = False
    worker: Optional[str] = None  # "host:pid:token" of the claiming worker
    device: Optional[str] = None
    heartbeat_at: Optional[datetime] = Field(default=None, sa_column=_ts())
    created_at: datetime = Field(default_factory=now_utc, sa_column=_ts(nullable=False, index=True))
    queued_at: datetime = Field(default_factory=now_utc, sa_column=_ts(nullable=False))
    started_at: Optional[datetime] = Field(default=None, sa_column=_ts())
    finished_at: Optional[datetime] = Field(default=None, sa_column=_ts())


class Mint(SQLModel, table=True):
    __tablename__ = "mint"

    id: Optional[int] = Field(default=None, primary_key=True)
    take_id: int = Field(foreign_key="take.id", index=True)
    wallet: str
    nonce: str  # uint256 as decimal text
    deadline: int = Field(sa_column=Column(BigInteger, nullable=False))
    signature: str
    chain_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    contract: str
    uri: Optional[str] = Field(default=None, sa_column=Column(Text, nullable=True))
    audio_hash: Optional[str] = None
    recipe_hash: Optional[str] = None
    signer: Optional[str] = None
    digest: Optional[str] = None
    tx_hash: Optional[str] = None
    token_id: Optional[str] = None  # uint256 as decimal text
    block_number: Optional[int] = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    status: str = Field(default="pending", index=True)
    reason: Optional[str] = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(default_factory=now_utc, sa_column=_ts(nullable=False))
    updated_at: datetime = Field(default_factory=now_utc, sa_column=_ts(nullable=False))


class Adapter(SQLModel, table=True):
    """A LoRA adapter trained by the studio (migration 0009_lora_adapters); files in `folder`
    (relative to <home>/adapters): pytorch_lora_weights.safetensors + adapter.json."""

    __tablename__ = "adapter"
    __table_args__ = (UniqueConstraint("name", name="uq_adapter_name"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str
    engine: str = Field(index=True)
    base_model: str
    base_digest: str
    dataset_digest: str
    weights_digest: str
    steps: int
    rank: int
    learning_rate: float
    loss_curve: str = Field(sa_column=Column(Text, nullable=False))  # JSON list, one loss per step
    info: str = Field(sa_column=Column(Text, nullable=False))  # adapter.json as written by the trainer
    folder: str
    job_id: Optional[str] = None
    created_at: datetime = Field(default_factory=now_utc, sa_column=_ts(nullable=False))
