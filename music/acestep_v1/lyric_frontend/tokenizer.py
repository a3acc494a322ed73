"""ACE-Step v1 lyric tokenizer: lyrics text -> the token ids the lyric encoder embeds.

Equal to upstream's `ACEStepPipeline.tokenize_lyrics` (VoiceBpe BPE from XTTS plus its
front-end). The ids start with `[START]`; each line adds its ids and then `[SPACE]`, which doubles
as the line separator; a blank line adds `[SPACE]` alone. A line is encoded as
`[<lang>]<romanised, cleaned text>` with spaces written as `[SPACE]`, in the language detected for
that line (`lyric_language`), or in English when it starts with a bracketed tag. Only the 12
exact tags (`common.STRUCTURE_TAGS` in brackets, any case) hit the learned tag tokens: `[Verse 1]` is spelled out.
A line whose encoding fails is dropped, as upstream does ("tokenize error"); `analyse` reports it.

Empty lyrics: `encode("")` is `[START, SPACE]` like upstream's tokenize_lyrics, but the pipeline
never calls it for "": it feeds `[STOP]` (0) with mask 0, which `model_inputs` returns.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

from tokenizers import Tokenizer

from music.acestep_v1.common import MAX_LYRIC_TOKENS, STRUCTURE_TAGS
from music.acestep_v1.lyric_frontend.cleaners import CLEANED_LANGUAGES, basic_clean, clean_text
from music.acestep_v1.lyric_frontend.language import SUPPORTED_LANGUAGES, line_language
from music.acestep_v1.lyric_frontend.romanize import chinese_to_pinyin, japanese_to_romaji, korean_to_latin

log = logging.getLogger(__name__)

STOP_ID = 0  # also the "no lyrics" id
UNK_ID = 1
SPACE_ID = 2
START_ID = 261
# Token of each language's "[xx]" prefix (Chinese is "[zh-cn]").
LANGUAGE_TOKEN_IDS: dict[str, int] = {
    "en": 259, "de": 260, "fr": 262, "es": 284, "it": 285, "pt": 286, "pl": 294, "tr": 295,
    "ru": 267, "cs": 293, "nl": 297, "ar": 5022, "zh": 5023, "ja": 5412, "hu": 5753, "ko": 6152,
    "hi": 6680,
}  # fmt: skip
# The learned "[verse]"-style tag tokens, in the vocab's order (common.STRUCTURE_TAGS).
STRUCTURE_TAG_IDS: dict[str, int] = {f"[{tag}]": 6681 + i for i, tag in enumerate(STRUCTURE_TAGS)}

_TAG_LINE = re.compile(r"\[.*?\]")  # matched at the start of a line
assert set(LANGUAGE_TOKEN_IDS) == set(SUPPORTED_LANGUAGES)


class LyricsTooLongError(ValueError):
    """Lyrics that tokenize to more tokens than the model was trained on."""

    def __init__(self, count: int, limit: int) -> None:
        super().__init__(
            f"lyrics are {count} tokens long; ACE-Step v1 takes at most {limit}. "
            "Shorten the lyrics (fewer lines or repeats)."
        )
        self.count = count
        self.limit = limit


@dataclass(frozen=True)
class LyricLine:
    """One `\\n`-separated line of the lyrics as the tokenizer handled it."""

    text: str  # the stripped line
    language: str | None  # language it was encoded in; None for a blank line
    token_ids: tuple[int, ...]  # its ids without the trailing [SPACE]; empty if blank or dropped
    error: str | None = None  # why the line was dropped, if it was

    @property
    def dropped(self) -> bool:
        return self.error is not None


def _romanised(text: str, lang: str) -> str:
    """Upstream's `preprocess_text`: cleaners, then romanisation for zh/ko; cutlet for ja."""
    if lang in CLEANED_LANGUAGES:
        text = clean_text(text, lang)
        if lang == "zh":
            return chinese_to_pinyin(text)
        if lang == "ko":
            return korean_to_latin(text)
        return text
    if lang == "ja":
        return japanese_to_romaji(text)
    if lang == "hi":
        return basic_clean(text)
    raise ValueError(f"language {lang!r} is not supported (supported: {', '.join(SUPPORTED_LANGUAGES)})")


class LyricTokenizer:
    """The VoiceBpe vocabulary (a `tokenizers` BPE file) with ACE-Step v1's lyric front-end."""

    def __init__(self, tokenizer) -> None:
        self._bpe = tokenizer
        self._check_vocabulary()

    @classmethod
    def from_file(cls, vocab_json_path: str | os.PathLike) -> LyricTokenizer:
        """Load upstream's `acestep/models/lyrics_utils/vocab.json`."""
        path = Path(vocab_json_path)
        if not path.is_file():
            raise FileNotFoundError(
                f"lyric vocabulary not found: {path} (ACE-Step v1 needs upstream's "
                "acestep/models/lyrics_utils/vocab.json)"
            )
        try:
            tokenizer = Tokenizer.from_file(str(path))
        except Exception as err:  # tokenizers raises plain Exception subclasses for bad files
            raise ValueError(f"{path} is not a tokenizers vocabulary file: {err}") from err
        return cls(tokenizer)

    def _check_vocabulary(self) -> None:
        expected = {"[STOP]": STOP_ID, "[UNK]": UNK_ID, "[SPACE]": SPACE_ID, "[START]": START_ID, "[zh-cn]": 5023}
        expected |= {f"[{lang}]": i for lang, i in LANGUAGE_TOKEN_IDS.items() if lang != "zh"}
        expected |= STRUCTURE_TAG_IDS
        wrong = {tok: i for tok, i in expected.items() if self._bpe.token_to_id(tok) != i}
        if wrong:
            shown = ", ".join(f"{tok}={self._bpe.token_to_id(tok)} (want {i})" for tok, i in list(wrong.items())[:5])
            raise ValueError(f"not the ACE-Step v1 lyric vocabulary: {shown}")

    @property
    def vocab_size(self) -> int:
        return self._bpe.get_vocab_size()

    def encode_text(self, text: str, lang: str) -> list[int]:
        """Ids of one line in a given language (upstream's `VoiceBpeTokenizer.encode`)."""
        lang = lang.split("-")[0]
        text = _romanised(text, lang)
        prefix = "zh-cn" if lang == "zh" else lang
        return self._bpe.encode(f"[{prefix}]{text}".replace(" ", "[SPACE]")).ids

    def analyse(self, lyrics: str) -> list[LyricLine]:
        """Each line with the language it is encoded in and its ids."""
        result = []
        for raw in lyrics.split("\n"):
            line = raw.strip()
            if not line:
                result.append(LyricLine(line, None, ()))
                continue
            lang = "en" if _TAG_LINE.match(line) else line_language(line)
            try:
                ids = self.encode_text(line, lang)
            except Exception as err:  # noqa: BLE001 - upstream drops such a line and goes on
                log.warning("lyric line dropped (tokenize error %r): %r [%s]", err, line, lang)
                result.append(LyricLine(line, lang, (), error=f"{type(err).__name__}: {err}"))
                continue
            result.append(LyricLine(line, lang, tuple(ids)))
        return result

    @staticmethod
    def _join(lines: list[LyricLine]) -> list[int]:
        ids = [START_ID]
        for line in lines:
            if not line.dropped:
                ids += [*line.token_ids, SPACE_ID]
        return ids

    def encode(self, lyrics: str) -> list[int]:
        """Token ids exactly as upstream's `ACEStepPipeline.tokenize_lyrics(lyrics)`."""
        return self._join(self.analyse(lyrics))

    def line_languages(self, lyrics: str) -> list[str | None]:
        """Per `\\n` line: the language code it is encoded in, "en" for tag lines, None if blank."""
        return [line.language for line in self.analyse(lyrics)]

    def count_tokens(self, lyrics: str) -> int:
        """How many lyric tokens the model will see (1 for empty lyrics)."""
        return 1 if lyrics == "" else len(self.encode(lyrics))

    def model_inputs(self, lyrics: str, *, max_tokens: int | None = MAX_LYRIC_TOKENS) -> tuple[list[int], list[int]]:
        """(ids, mask) as the pipeline feeds them: `([0], [0])` for "", else `encode` with ones.

        Raises LyricsTooLongError past `max_tokens` (None: no limit; upstream has none).
        """
        if lyrics is None:
            raise TypeError("lyrics must be a string (use '' for an instrumental)")
        if len(lyrics) == 0:
            return [STOP_ID], [0]
        ids = self.encode(lyrics)
        if max_tokens is not None and len(ids) > max_tokens:
            raise LyricsTooLongError(len(ids), max_tokens)
        return ids, [1] * len(ids)
