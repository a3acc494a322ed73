"""Errors of the lyrics stage. Every message says what to fix; none carries an API key."""

from __future__ import annotations


class LyricsError(Exception):
    """Base class for everything the lyrics stage raises on purpose."""


class LyricsRequestError(LyricsError, ValueError):
    """The caller asked for something that cannot be done (empty theme and no structure,
    an unsupported language, an unknown section tag, ...)."""


class BackendUnavailable(LyricsError, ConnectionError):
    """A backend could not be reached or loaded (server down, library not installed)."""


class ModelNotFound(LyricsError, FileNotFoundError):
    """The model file or folder is missing; the message says how to get it."""


class LyricsCancelled(LyricsError):
    """Generation was cancelled by the caller."""


class UnrepairableOutput(LyricsError):
    """The model's text could not be turned into valid lyrics. `raw` keeps the full text so the
    user loses nothing and can edit it by hand."""

    def __init__(self, message: str, *, raw: str) -> None:
        super().__init__(message)
        self.raw = raw
