"""Text cleaning of ACE-Step v1's lyric front-end (the XTTS "multilingual cleaners").

For the 15 languages with cleaners, a line is lowercased, its numbers are spelled out with
num2words (Chinese: `lyric_zh_numbers`), then abbreviations and symbols are expanded and
whitespace collapsed. The rules are upstream's, quirks included, because the model was trained on
their output: for example number expansion is all-or-nothing (one failing number leaves every
digit of the line as it was) and the "dot number" pattern of the non-English languages uses an
unescaped dot.
"""

from __future__ import annotations

import re
from functools import partial

from num2words import num2words

from music.acestep_v1.lyric_frontend.zh_numbers import normalize_chinese_numbers

CLEANED_LANGUAGES = frozenset("ar cs de en es fr hu it nl pl pt ru tr zh ko".split())


def _abbreviation_rules(pairs: str, *, word_end: bool = False) -> tuple[tuple[re.Pattern, str], ...]:
    rules = []
    for pair in pairs.split(";"):
        if pair.strip():
            short, long = (part.strip() for part in pair.split("="))
            ending = r"\b" if word_end else r"\."
            rules.append((re.compile(rf"\b{short}{ending}", re.IGNORECASE), long))
    return tuple(rules)


# "short=long" with a dot after the short form ("mr." -> "mister"); Russian ones end at a word edge.
_ABBREVIATIONS: dict[str, tuple[tuple[re.Pattern, str], ...]] = {
    "en": _abbreviation_rules(
        "mrs=misess; mr=mister; dr=doctor; st=saint; co=company; jr=junior; maj=major; gen=general; "
        "drs=doctors; rev=reverend; lt=lieutenant; hon=honorable; sgt=sergeant; capt=captain; "
        "esq=esquire; ltd=limited; col=colonel; ft=fort"
    ),
    "es": _abbreviation_rules("sra=señora; sr=señor; dr=doctor; dra=doctora; st=santo; co=compañía; jr=junior; ltd=limitada"),
    "fr": _abbreviation_rules("mme=madame; mr=monsieur; dr=docteur; st=saint; co=compagnie; jr=junior; ltd=limitée"),
    "de": _abbreviation_rules("fr=frau; dr=doktor; st=sankt; co=firma; jr=junior"),
    "pt": _abbreviation_rules("sra=senhora; sr=senhor; dr=doutor; dra=doutora; st=santo; co=companhia; jr=júnior; ltd=limitada"),
    "it": _abbreviation_rules("sig=signore; dr=dottore; st=santo; co=compagnia; jr=junior; ltd=limitata"),
    "pl": _abbreviation_rules("p=pani; m=pan; dr=doktor; sw=święty; jr=junior"),
    "ar": (),
    "zh": (),
    "cs": _abbreviation_rules("dr=doktor; ing=inženýr; p=pan"),
    "ru": _abbreviation_rules("г-жа=госпожа; г-н=господин; д-р=доктор", word_end=True),
    "nl": _abbreviation_rules("dhr=de heer; mevr=mevrouw; dr=dokter; jhr=jonkheer"),
    "tr": _abbreviation_rules("b=bay; byk=büyük; dr=doktor"),
    "hu": _abbreviation_rules("dr=doktor; b=bácsi; nőv=nővér"),
    "ko": (),
}

# Words for & @ % # $ £ ° (in that order), padded with spaces.
_SYMBOL_CHARS = "&@%#$£°"
_SYMBOL_WORDS: dict[str, tuple[str, ...]] = {
    "en": ("and", "at", "percent", "hash", "dollar", "pound", "degree"),
    "es": ("y", "arroba", "por ciento", "numeral", "dolar", "libra", "grados"),
    "fr": ("et", "arobase", "pour cent", "dièse", "dollar", "livre", "degrés"),
    "de": ("und", "at", "prozent", "raute", "dollar", "pfund", "grad"),
    "pt": ("e", "arroba", "por cento", "cardinal", "dólar", "libra", "graus"),
    "it": ("e", "chiocciola", "per cento", "cancelletto", "dollaro", "sterlina", "gradi"),
    "pl": ("i", "małpa", "procent", "krzyżyk", "dolar", "funt", "stopnie"),
    "ar": ("و", "على", "في المئة", "رقم", "دولار", "جنيه", "درجة"),
    "zh": ("和", "在", "百分之", "号", "美元", "英镑", "度"),
    "cs": ("a", "na", "procento", "křížek", "dolar", "libra", "stupně"),
    "ru": ("и", "собака", "процентов", "номер", "доллар", "фунт", "градус"),
    "nl": ("en", "bij", "procent", "hekje", "dollar", "pond", "graden"),
    "tr": ("ve", "at", "yüzde", "diyez", "dolar", "sterlin", "derece"),
    "hu": ("és", "kukac", "százalék", "kettőskereszt", "dollár", "font", "fok"),
    "ko": ("그리고", "에", "퍼센트", "번호", "달러", "파운드", "도"),
}

_ORDINALS: dict[str, re.Pattern] = {
    lang: re.compile(pattern)
    for lang, pattern in {
        "en": r"([0-9]+)(st|nd|rd|th)",
        "es": r"([0-9]+)(º|ª|er|o|a|os|as)",
        "fr": r"([0-9]+)(º|ª|er|re|e|ème)",
        "de": r"([0-9]+)(st|nd|rd|th|º|ª|\.(?=\s|$))",
        "pt": r"([0-9]+)(º|ª|o|a|os|as)",
        "it": r"([0-9]+)(º|°|ª|o|a|i|e)",
        "pl": r"([0-9]+)(º|ª|st|nd|rd|th)",
        "ar": r"([0-9]+)(ون|ين|ث|ر|ى)",
        "cs": r"([0-9]+)\.(?=\s|$)",
        "ru": r"([0-9]+)(-й|-я|-е|-ое|-ье|-го)",
        "nl": r"([0-9]+)(de|ste|e)",
        "tr": r"([0-9]+)(\.|inci|nci|uncu|üncü|\.)",
        "hu": r"([0-9]+)(\.|adik|edik|odik|edik|ödik|ödike|ik)",
        "ko": r"([0-9]+)(번째|번|차|째)",
    }.items()
}
# What num2words puts before the cents; an integer amount is cut there ("five dollars").
_CENTS_JOINER = {"es": " con ", "fr": " et ", "de": " und ", "pt": " e ", "it": " e "}
_CURRENCIES = (  # applied in this order
    ("GBP", re.compile(r"((£[0-9\.\,]*[0-9]+)|([0-9\.\,]*[0-9]+£))")),
    ("USD", re.compile(r"((\$[0-9\.\,]*[0-9]+)|([0-9\.\,]*[0-9]+\$))")),
    ("EUR", re.compile(r"(([0-9\.\,]*[0-9]+€)|((€[0-9\.\,]*[0-9]+)))")),
)
_COMMA_GROUPED = re.compile(r"\b\d{1,3}(,\d{3})*(\.\d+)?\b")
_DOT_GROUPED = re.compile(r"\b\d{1,3}(.\d{3})*(\,\d+)?\b")  # sic: "." is any character
_DECIMAL = re.compile(r"([0-9]+[.,][0-9]+)")
_INTEGER = re.compile(r"[0-9]+")
_WHITESPACE = re.compile(r"\s+")


def _num2words_lang(lang: str) -> str:
    return "cz" if lang == "cs" else lang


def _currency(match: re.Match, *, lang: str, currency: str) -> str:
    amount = float(re.sub(r"[^\d.]", "", match.group(0).replace(",", ".")))
    spoken = num2words(amount, to="currency", currency=currency, lang=_num2words_lang(lang))
    if amount.is_integer():
        cut = spoken.rfind(_CENTS_JOINER.get(lang, ", "))
        if cut != -1:
            spoken = spoken[:cut]
    return spoken


def expand_numbers(text: str, lang: str) -> str:
    """Numbers, amounts, decimals and ordinals spelled out in `lang` (may raise num2words errors)."""
    if lang == "zh":
        return normalize_chinese_numbers(text)
    words = partial(num2words, lang=_num2words_lang(lang))
    if lang in ("en", "ru"):
        text = _COMMA_GROUPED.sub(lambda m: m.group(0).replace(",", ""), text)
    else:
        text = _DOT_GROUPED.sub(lambda m: m.group(0).replace(".", ""), text)
    try:
        for currency, pattern in _CURRENCIES:
            text = pattern.sub(partial(_currency, lang=lang, currency=currency), text)
    except Exception:  # noqa: BLE001 - upstream skips the remaining currencies on any error
        pass
    if lang != "tr":
        text = _DECIMAL.sub(lambda m: words(float(m.group(1).replace(",", "."))), text)
    text = _ORDINALS[lang].sub(lambda m: words(int(m.group(1)), ordinal=True), text)
    return _INTEGER.sub(lambda m: words(int(m.group(0))), text)


def expand_abbreviations(text: str, lang: str) -> str:
    for pattern, long in _ABBREVIATIONS[lang]:
        text = pattern.sub(long, text)
    return text


def expand_symbols(text: str, lang: str) -> str:
    for char, word in zip(_SYMBOL_CHARS, _SYMBOL_WORDS[lang]):
        text = text.replace(char, f" {word} ").replace("  ", " ")
    return text.strip()


def clean_text(text: str, lang: str) -> str:
    """Upstream's `multilingual_cleaners` for one of CLEANED_LANGUAGES."""
    if lang not in CLEANED_LANGUAGES:
        raise ValueError(f"no text cleaner for language {lang!r} (have {sorted(CLEANED_LANGUAGES)})")
    text = text.replace('"', "")
    if lang == "tr":
        text = text.replace("İ", "i").replace("Ö", "ö").replace("Ü", "ü")
    text = text.lower()
    try:
        text = expand_numbers(text, lang)
    except Exception:  # noqa: BLE001 - upstream keeps the line's digits when any number fails
        pass
    text = expand_abbreviations(text, lang)
    text = expand_symbols(text, lang)
    return _WHITESPACE.sub(" ", text)


def basic_clean(text: str) -> str:
    """Lowercase and collapse whitespace (upstream's treatment of Hindi)."""
    return _WHITESPACE.sub(" ", text.lower())
