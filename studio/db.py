"""Opening the library database: engine set-up, migrations on start, sessions, clear errors.

SQLite runs in WAL mode (readers never wait for the worker's writes) with a busy timeout.
Write transactions start with `BEGIN IMMEDIATE` so two writers queue on the busy timeout
instead of failing at once when a read lock would have to be upgraded (SQLite's deadlock rule).
Any other SQLAlchemy URL (PostgreSQL) works for several machines sharing one library.
"""

from __future__ import annotations

import contextlib
from importlib import resources
from typing import Iterator

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlmodel import Session

from studio.errors import EnvironmentProblem, disk_problem
from studio.settings import Settings

_MIGRATION_LOCK_ID = 0x50_4E_47_53  # any constant; serialises concurrent migrations on PostgreSQL


class Database:
    def __init__(self, url: str, *, busy_timeout_s: float = 15.0) -> None:
        self.url = url
        self.busy_timeout_s = busy_timeout_s
        self.display_url = make_url(url).render_as_string(hide_password=True)
        self.engine = _make_engine(url, busy_timeout_s)
        self.dialect = self.engine.dialect.name

    @classmethod
    def open(cls, settings: Settings, *, migrate: bool = True) -> "Database":
        if settings.database_url is None:
            settings.ensure_home()
        db = cls(settings.db_url, busy_timeout_s=settings.sqlite_busy_timeout_s)
        if migrate:
            db.migrate()
        return db

    def migrate(self, revision: str = "head") -> None:
        """Bring the schema up to the newest migration (a no-op when it is current)."""
        with self.errors(), self.engine.connect().execution_options(sqlite_immediate=True) as conn:
            if self.dialect == "postgresql":
                with conn.begin():
                    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK_ID})
                    _upgrade(conn, revision)
            else:
                _upgrade(conn, revision)
                if conn.in_transaction():
                    conn.commit()

    def current_revision(self) -> str | None:
        with self.errors(), self.engine.connect() as conn:
            if not sa.inspect(conn).has_table("alembic_version"):
                return None
            return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()

    @contextlib.contextmanager
    def read(self) -> Iterator[Session]:
        with self.errors(), Session(self.engine, expire_on_commit=False) as session:
            yield session

    @contextlib.contextmanager
    def write(self) -> Iterator[Session]:
        """A session whose transaction takes the write lock up front and commits on exit."""
        bind = self.engine.execution_options(sqlite_immediate=True)
        with self.errors(), Session(bind, expire_on_commit=False) as session:
            with session.begin():
                yield session

    @contextlib.contextmanager
    def errors(self) -> Iterator[None]:
        """Turn driver errors about the database itself into messages a person can act on."""
        try:
            yield
        except OperationalError as exc:
            text = str(exc.orig) if exc.orig is not None else str(exc)
            if "locked" in text or "busy" in text:
                raise EnvironmentProblem(
                    f"the library database {self.display_url} stayed locked for more than "
                    f"{self.busy_timeout_s:g} s; another program holds a write lock on it (close it), or raise "
                    "SONGSTUDIO_SQLITE_BUSY_TIMEOUT_S"
                ) from None
            disk = disk_problem(exc, f"the library database {self.display_url}")
            if disk is not None:
                raise disk from None
            if "unable to open" in text or "connection" in text.lower():
                raise EnvironmentProblem(
                    f"cannot use the library database {self.display_url}: {text.strip()}; check "
                    "SONGSTUDIO_DATABASE_URL, that the server is up and the file's folder is writable"
                ) from None
            raise
        except SQLAlchemyError:
            raise

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config(conn: sa.Connection) -> Config:
    """The studio's migrations, run on this connection."""
    config = Config()
    config.set_main_option("script_location", str(resources.files("studio") / "migrations"))
    config.attributes["connection"] = conn
    return config


def _upgrade(conn: sa.Connection, revision: str) -> None:
    command.upgrade(alembic_config(conn), revision)


def _make_engine(url: str, busy_timeout_s: float) -> sa.Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return sa.create_engine(url, pool_pre_ping=True)
    engine = sa.create_engine(url, connect_args={"timeout": busy_timeout_s, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (see module doc)
        cursor = dbapi_conn.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:
        immediate = conn.get_execution_options().get("sqlite_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine
