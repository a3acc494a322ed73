"""Lyric languages: the ones ACE-Step v1's lyric tokenizer has a language token for."""

from __future__ import annotations

from lyrics.errors import LyricsRequestError

LANGUAGES = {
    "en": "English", "de": "German", "fr": "French", "es": "Spanish", "it": "Italian",
    "pt": "Portuguese", "pl": "Polish", "tr": "Turkish", "ru": "Russian", "cs": "Czech",
    "nl": "Dutch", "ar": "Arabic", "zh": "Chinese", "ja": "Japanese", "hu": "Hungarian",
    "ko": "Korean", "hi": "Hindi",
}
_BY_NAME = {name.lower(): code for code, name in LANGUAGES.items()}


def language_code(language: str) -> str:
    """"en", "EN", "English", "zh-CN" -> a code from LANGUAGES; anything else is an error."""
    key = (language or "").strip().lower().replace("_", "-")
    if key in LANGUAGES:
        return key
    if key in _BY_NAME:
        return _BY_NAME[key]
    if key.split("-")[0] in LANGUAGES:
        return key.split("-")[0]
    choices = ", ".join(f"{code} ({name})" for code, name in LANGUAGES.items())
    raise LyricsRequestError(f"unsupported lyrics language {language!r}; choose one of: {choices}")
