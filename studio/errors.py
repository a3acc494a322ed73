"""Errors a person can act on, each with the exit code the CLI returns for it."""

from __future__ import annotations

import errno
import os


class StudioError(Exception):
    """Base class: the message says what went wrong and what to do about it."""

    exit_code = 1


class BadInput(StudioError):
    """The request itself is wrong (unknown engine, duration out of range, ...)."""

    exit_code = 2


class NotFound(StudioError):
    exit_code = 3


class EnvironmentProblem(StudioError):
    """The machine is in the way: unwritable home, locked or unreachable database, full disk."""

    exit_code = 4


class JobFailed(StudioError):
    """A job the CLI waited on ended failed or cancelled."""

    exit_code = 5


_FULL = (errno.ENOSPC, errno.EDQUOT)
_READ_ONLY = (errno.EROFS, errno.EACCES, errno.EPERM)
# SQLite says these in its messages; a full or read-only disk under the database file
_SQLITE_FULL = ("database or disk is full", "disk i/o error")
_SQLITE_READ_ONLY = ("readonly database", "read-only file system")


def disk_problem(exc: BaseException, what: str | os.PathLike | None = None) -> EnvironmentProblem | None:
    """The one-line message for a full or read-only disk behind `exc` (an OSError, or a database
    error whose text SQLite wrote), naming `what` was being written; None for anything else."""
    where = f" {what}" if what else ""
    if isinstance(exc, OSError) and exc.errno is not None:
        name = what or exc.filename
        target = f" {name}" if name else ""
        if exc.errno in _FULL:
            return EnvironmentProblem(
                f"disk full while writing{target}; free space on that disk, then retry the job or command")
        if exc.errno in _READ_ONLY:
            return EnvironmentProblem(
                f"cannot write{target}: {exc.strerror}; make it writable (or point SONGSTUDIO_HOME elsewhere)")
        return None
    text = str(getattr(exc, "orig", None) or exc).lower()
    if any(marker in text for marker in _SQLITE_FULL):
        return EnvironmentProblem(
            f"cannot write{where or ' the database'}: the disk is full or failing ({text.strip()}); "
            "free space on that disk, then retry the command")
    if any(marker in text for marker in _SQLITE_READ_ONLY):
        return EnvironmentProblem(
            f"cannot write{where or ' the database'}: it is read-only; make the file and its folder "
            "writable (or point SONGSTUDIO_HOME / SONGSTUDIO_DATABASE_URL elsewhere)")
    return None
