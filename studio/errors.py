"""Errors a person can act on, each with the exit code the CLI returns for it."""

from __future__ import annotations


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
