"""Per-line language detection of ACE-Step v1's lyric front-end.

Upstream (`ACEStepPipeline.get_lang`) runs a vendored copy of juntaosun's LangSegment over each
lyric line with every py3langid language allowed, counts characters per language (Chinese counts
double) and picks the most frequent one, or the runner-up when the winner is English. This module
reproduces that result for one line with our own code: the line is cut into script runs (Korean,
Thai, Cyrillic, numbers, Latin words, quotes) by placeholder substitution, each run is classified
(py3langid 0.3.0, normalised probabilities, rounded to 3 decimals) and merged with the same rules,
because the model's learned language tokens depend on exactly that choice, quirks included (for
example a line of emoji only counts as Chinese, and ambiguous short Han runs as Japanese).

Only the configuration upstream uses is implemented: the default 97-language filter, no pinyin
tags, preview (extra Latin letters) on, merging on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable

import py3langid
from py3langid.langid import MODEL_FILE, LanguageIdentifier

from music.acestep_v1.lyric_frontend.ssml import ssml_to_chinese

# Languages with a language token in the lyric vocabulary; any other detection becomes "en".
SUPPORTED_LANGUAGES: tuple[str, ...] = (
    "en", "de", "fr", "es", "it", "pt", "pl", "tr", "ru", "cs", "nl", "ar", "zh", "ja", "hu", "ko", "hi",
)

# The 97 py3langid languages; upstream passes exactly this list as the LangSegment filter.
FILTER_LANGUAGES: tuple[str, ...] = (
    "af am an ar as az be bg bn br bs ca cs cy da de dz el en eo es et eu fa fi fo fr ga gl gu "
    "he hi hr ht hu hy id is it ja jv ka kk km kn ko ku ky la lb lo lt lv mg mk ml mn mr ms mt "
    "nb ne nl nn no oc or pa pl ps pt qu ro ru rw se si sk sl sq sr sv sw ta te th tl tr ug uk "
    "ur vi vo wa xh zh zu"
).split()
# LangSegment tests many things with substring checks against the hyphen-joined filter list.
_FILTER_STRING = "-".join(FILTER_LANGUAGES)
# Short ambiguous Han runs: Japanese wins because "ja" comes before "zh" in that string.
_HAN_TIE_LANGUAGE = "ja" if _FILTER_STRING.find("ja") < _FILTER_STRING.find("zh") else "zh"
_PRIORITY_THRESHOLD = 0.89

# Placeholders: "⑥" + tag + six-digit index + "⑥"; "⑥" is a word character but not a digit.
_PLACEHOLDER = re.compile(r"(⑥\$*\d+[\d]{6,}⑥)")
_NUMBER_PLACEHOLDER = re.compile(r"(⑥\d{6,}⑥)")
_PUNCT_RUN = re.compile(r"([^\w\s]+)")
_SENTENCE = re.compile(r"(.*?[。.?？!！]+[\n]{,1})")
_ENDING = re.compile(r'([「」“”‘’"\':：。.！!?．？])')
_KANA = re.compile(r"[\u3040-\u309F\u30A0-\u30FF]+")
_INNER_CAPITAL = re.compile(r"(?<!\b)([A-Z])")

_FRENCH_LETTERS = "àáâãäåæçèéêëìíîïðñòóôõöùúûüýþÿ"
_VIETNAMESE_LETTERS = "đơưăáàảãạắằẳẵặấầẩẫậéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựôâêơưỷỹ"


def _script_run(letters: str) -> re.Pattern:
    # A run of words of one script, with opening quotes before and punctuation/space after.
    return re.compile(rf'(([【《（(“‘"\']*[{letters}]+[\W\s]*)+)')


@dataclass(frozen=True)
class _Rule:
    tag: str
    pattern: re.Pattern
    handler: str


# Order matters: each rule sees the text with earlier runs already replaced by placeholders.
_RULES: tuple[_Rule, ...] = (
    _Rule("$1", re.compile(r"(<([a-zA-Z|-]*)>(.*?)<\/*[a-zA-Z|-]*>)"), "markup"),
    _Rule("$6", _script_run("\uac00-\ud7a3"), "korean"),
    _Rule("$8", _script_run("\u0e00-\u0e7f"), "thai"),
    _Rule("$7", _script_run("А-Яа-яЁё"), "russian"),
    _Rule("00", re.compile(r"(\W*\d+\W+\d*\W*\d*)"), "number"),
    _Rule("$5", _script_run(f"a-zA-Z{_FRENCH_LETTERS}{_VIETNAMESE_LETTERS}"), "latin"),
    _Rule("$3", re.compile(r'(["\'])(.*?)(\1)'), "quote"),
    _Rule("$4", re.compile(r"([\n]*[【《（(“‘])([^【《（(“‘’”)）》】]{3,})([’”)）》】][\W\s]*[\n]{,1})"), "quote"),
)


@lru_cache(maxsize=1)
def _identifier():
    """py3langid's bundled model with normalised probabilities (loaded on first use)."""
    if not hasattr(LanguageIdentifier, "from_pickled_model"):
        raise RuntimeError(
            f"py3langid {getattr(py3langid, '__version__', '?')} is installed, but ACE-Step v1's lyric "
            "language detection needs the model of py3langid 0.3.0: pip install 'py3langid==0.3.0'"
        )
    return LanguageIdentifier.from_pickled_model(MODEL_FILE, norm_probs=True)


@lru_cache(maxsize=4096)
def classify(text: str) -> tuple[str, float]:
    """py3langid language and probability rounded to 3 decimals, as LangSegment uses them."""
    language, score = _identifier().classify(text)
    return language, round(float(score), 3)


def _squeeze(text: str) -> str:
    """LangSegment's text cleaning before classification: punctuation runs become one space,
    repeated characters collapse to one."""
    text = re.sub(r"(.*?)([^\w]+)", r"\1 ", text)
    text = re.sub(r"(.)\1+", r"\1", text)
    return text.strip()


def _strip_number(text: str) -> tuple[str, bool]:
    """Text without punctuation, and whether what is left is only digits (or nothing)."""
    if text == "\n":
        return text, False
    clear = re.sub(r"([^\w\s]+)", "", re.sub(r"\n+", "", text)).strip()
    return clear, len(re.sub(r"(\d+)", "", clear)) == 0


def _is_han(text: str) -> bool:
    return any("\u4e00" <= c <= "\u9fff" for c in text)


@dataclass
class _Segment:
    lang: str
    text: str
    score: float
    symbol: object = None


@dataclass
class _LineState:
    """Mutable state of one line's segmentation (LangSegment keeps it on the instance)."""

    words: list[_Segment] = field(default_factory=list)
    waiting: list[_Segment] = field(default_factory=list)
    counts: dict[str, int] | None = None
    stash: dict[str, tuple[str, object]] = field(default_factory=dict)
    at_end: bool = False


class _LineSegmenter:
    """Segments one line and counts characters per language."""

    def __init__(self) -> None:
        self.s = _LineState()

    # -- bookkeeping -------------------------------------------------------------------------
    def _count(self, language: str, text: str) -> None:
        if self.s.counts is None:
            self.s.counts = {}
        if "|" not in language:
            weight = 2 if language == "zh" else 1
            self.s.counts[language] = self.s.counts.get(language, 0) + int(len(text) * weight)

    def _save(self, language: str, text: str, score: float, symbol=None) -> _Segment:
        clear, is_number = _strip_number(text)
        words = self.s.words
        prev = words[-1] if words else None
        if symbol is not None:
            pass
        elif prev is not None and prev.symbol is None:
            # Punctuation or bare numbers join the previous segment's language.
            if len(clear) == 0 or is_number:
                language = prev.lang
            _, prev_is_number = _strip_number(prev.text)
            if prev.lang == language:
                self._count(prev.lang, text)
                prev.text = prev.text + text
                return prev
            if prev_is_number:
                text = prev.text + text
                words.pop()
        # (A bare number without a previous segment would take the filter's first language if
        # that were one of ja/zh/en/ko/fr/vi; with upstream's filter it is "af", so nothing.)
        segment = _Segment(language, text, score, symbol)
        if "?" in language or language in FILTER_LANGUAGES or language in FILTER_LANGUAGES[0]:
            words.append(segment)
            self._count(segment.lang, segment.text)
        return segment

    def _add(self, language: str | None, text: str | None, score: float, symbol=None) -> None:
        if text != "\n" and (text is None or len(text.strip()) == 0):
            return
        language = (language or "").lower()
        if language == "en":
            # Capitals inside a word start a new one ("iPhone" -> "i Phone "); this changes counts.
            text = _INNER_CAPITAL.sub(r" \1", text).strip("-") + " "
        had_waiting = bool(self.s.waiting)
        prev = self.s.waiting.pop() if had_waiting else None
        if prev is None:
            prev = self.s.words[-1] if self.s.words else None
        if prev is not None and "|" in prev.lang:
            # An undecided "zh|ja" run is settled by the language that follows it.
            if language in prev.lang:
                prev.lang = language = language.split("|")[0]
            else:
                prev.lang = prev.lang.split("|")[0]
            if had_waiting:
                prev = self._save(prev.lang, prev.text, prev.score, prev.symbol)
        prev_lang = prev.lang if prev is not None else None
        if "|" in language and prev_lang and prev_lang not in language and "…" not in language:
            language = language.split("|")[0]
        if "|" in language:
            self.s.waiting.append(_Segment(language, text, score, symbol))
        else:
            self._save(language, text, score, symbol)

    # -- run handlers -----------------------------------------------------------------------
    def _markup(self, match: tuple) -> None:
        _, tag, inner = match
        if tag not in _FILTER_STRING:
            self._ssml(tag, inner)
        else:
            self._add(tag, inner, 1.0, True)

    def _ssml(self, tag: str, inner: str) -> None:
        # LangSegment's Chinese SSML tags; any other unknown tag keeps its name as language.
        language, text = tag, inner
        if tag in ("telephone", "number", "currency", "date"):
            language, text = "zh", ssml_to_chinese(tag, inner)
        self._add(language, text, 1.0, tag)

    def _fixed(self, language: str) -> Callable[[tuple], None]:
        return lambda match: self._add(language, match[0], 1.0)

    def _number(self, match: str) -> None:
        language = self.s.words[0].lang if self.s.words else "zh"
        self._add(language, match, 0.0)

    def _latin(self, match: tuple) -> None:
        for piece in _SENTENCE.split(match[0]):
            if len(piece.strip()) == 0:
                continue
            language, score = classify(_squeeze(piece))
            # py3langid only knows filter languages, so LangSegment's fallbacks never apply.
            if language is None or score <= 0.0:
                continue
            self._add(language, piece, score)

    def _quote(self, match: tuple) -> None:
        text = "".join(match)
        if _PLACEHOLDER.findall(text):
            self._runs(text, root=False)
            return
        inner = _squeeze(match[1])
        if len(inner) <= 5:
            self._plain(text)
        else:
            language, score = classify(inner)
            self._add(language, text, score)

    def _handler(self, name: str) -> Callable:
        return {
            "markup": self._markup,
            "korean": self._fixed("ko"),
            "thai": self._fixed("th"),
            "russian": self._fixed("ru"),
            "number": self._number,
            "latin": self._latin,
            "quote": self._quote,
        }[name]

    # -- text between placeholders ----------------------------------------------------------
    def _plain(self, segment: str) -> None:
        """Text outside any run (Han, kana, other scripts, punctuation), cut at punctuation."""
        parts = _PUNCT_RUN.split(segment)
        last = len(parts) - 1
        line_end = self.s.at_end
        for index, text in enumerate(parts):
            if len(text) == 0:
                continue
            at_end = index >= last
            following = parts[index + 1] if not at_end else ""
            following_punct = len(_PUNCT_RUN.sub("", re.sub(r"\n+", "", following)).strip()) == 0
            own_punct = len(_PUNCT_RUN.sub("", re.sub(r"\n+", "", text)).strip()) == 0
            if not at_end and (own_punct or following_punct):
                parts[index + 1] = text + following
                continue
            clean = _squeeze(re.sub(r"\d+", "", _NUMBER_PLACEHOLDER.sub("", text)))
            if not at_end and len(clean) <= 2:
                # Too short to classify: glue to the next piece.
                parts[index + 1] = text + following
                continue
            language, score = classify(clean)
            prev_lang = self.s.words[-1].lang if self.s.words else None
            if language != "zh" and all("\u4e00" <= c <= "\u9fff" for c in re.sub(r"\s", "", clean)):
                language, score = "zh", 1
            if len(clean) <= 5 and _is_han(clean):
                language = self._short_han(clean, text, language, score, prev_lang, at_end and line_end)
            text = _NUMBER_PLACEHOLDER.sub(self._restore, text)
            self._add(language, text, score)

    def _short_han(self, clean: str, text: str, language: str, score: float, prev_lang, line_end: bool) -> str:
        if score < _PRIORITY_THRESHOLD:
            language = _HAN_TIE_LANGUAGE
        if _KANA.search(clean):
            return "ja"
        if len(clean) > 2 and score > 0.90:
            return language
        if line_end:
            return "zh" if len(clean) <= 1 else language
        unknown = "zh|ja" if language == "zh" or (len(clean) <= 2 and prev_lang == "zh") else "ja|zh"
        related = (prev_lang in unknown or unknown in prev_lang) if prev_lang else False
        if re.sub(r"\s+", "", text)[-1] in "。.":
            return prev_lang if related and self.s.words else language
        # Undecided: the next segment settles it (see _add).
        return f"{unknown}|…"

    def _restore(self, match: re.Match) -> str:
        key = match.group(0)
        if key in self.s.stash:
            return self.s.stash[key][1]
        return key

    # -- driver -----------------------------------------------------------------------------
    def _runs(self, text: str, *, root: bool) -> None:
        pieces = _PLACEHOLDER.split(text)
        last = len(pieces) - 1
        for index, piece in enumerate(pieces):
            if root:
                self.s.at_end = index >= last
            if _PLACEHOLDER.match(piece):
                handler, match = self.s.stash[piece]  # KeyError: see line_language_counts
                self._handler(handler)(match)
            else:
                self._plain(piece)

    def _replace_runs(self, text: str) -> str:
        for rule in _RULES:
            matches = rule.pattern.findall(text)
            if len(matches) == 1 and "".join(matches[0]) == text:
                continue  # the whole line is one run: leave it as plain text
            for i, match in enumerate(matches):
                key = f"⑥{rule.tag}{i:06d}⑥"
                text = rule.pattern.sub(key, text, count=1)
                self.s.stash[key] = (rule.handler, match)
        return text

    def counts(self, line: str) -> list[tuple[str, int]]:
        """Characters per language, most first (ties in order of first appearance)."""
        if "\n" in line:
            raise ValueError("language detection works on one line at a time")
        text = _PLACEHOLDER.sub("", line)
        if len(text.strip()) > 0:
            self.s.at_end = False
            self.s.stash = {}
            self._runs(self._replace_runs(text), root=True)
        if self.s.counts is None:
            return [("zh", 0)]  # nothing countable (emoji, symbols): LangSegment's default
        return sorted(self.s.counts.items(), key=lambda item: item[1], reverse=True)


def language_counts(line: str) -> list[tuple[str, int]]:
    """LangSegment's per-language character counts for one line (no newline), most first."""
    return _LineSegmenter().counts(line)


def line_language(line: str) -> str:
    """The language upstream encodes a (non-tag) lyric line in: one of SUPPORTED_LANGUAGES.

    The most counted language wins; English gives way to the runner-up (so a line mixing English
    with one other language is encoded as the other). Unsupported results become "en".
    """
    try:
        counts = language_counts(line)
    except (KeyError, IndexError, TypeError):
        # LangSegment's lookups can fail on odd input (a placeholder-shaped fragment it cannot
        # resolve); upstream's get_lang catches any such error and encodes the line as English.
        return "en"
    if not counts:
        return "en"
    language = counts[0][0]
    if len(counts) > 1 and language == "en":
        language = counts[1][0]
    return language if language in SUPPORTED_LANGUAGES else "en"
