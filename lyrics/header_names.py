"""Section names as people write them in each lyric language the studio supports, mapped to
ACE-Step v1's tags. `tags.parse_header` reads them like the English names: with numbers
("Estrofa 2", "主歌1"), colons ("Coro:", "副歌："), brackets or parentheses ("[Refrão]",
"【サビ】", "(Припев)"), repeat marks and descriptors. Names are lower-case and accent-exact;
full-width forms are folded by NFKC before lookup. docs/lyrics.md has the table.
"""

from __future__ import annotations

# language code -> {name: tag}
NAMES: dict[str, dict[str, str]] = {
    "es": {"verso": "verse", "estrofa": "verse", "coro": "chorus", "estribillo": "chorus",
           "pre-coro": "pre-chorus", "precoro": "pre-chorus", "pre-estribillo": "pre-chorus",
           "puente": "bridge", "introducción": "intro", "introduccion": "intro", "final": "outro",
           "cierre": "outro", "interludio": "inst", "instrumental": "inst"},
    "pt": {"verso": "verse", "estrofe": "verse", "refrão": "chorus", "refrao": "chorus", "coro": "chorus",
           "pré-refrão": "pre-chorus", "pre-refrão": "pre-chorus", "pré-refrao": "pre-chorus",
           "ponte": "bridge", "introdução": "intro", "introducao": "intro", "final": "outro",
           "interlúdio": "inst"},
    "fr": {"couplet": "verse", "refrain": "chorus", "pré-refrain": "pre-chorus", "pre-refrain": "pre-chorus",
           "pont": "bridge", "introduction": "intro", "conclusion": "outro", "final": "outro",
           "interlude": "inst"},
    "de": {"strophe": "verse", "vers": "verse", "refrain": "chorus", "kehrvers": "chorus",
           "vorrefrain": "pre-chorus", "pre-refrain": "pre-chorus", "brücke": "bridge", "bruecke": "bridge",
           "einleitung": "intro", "vorspiel": "intro", "schluss": "outro", "nachspiel": "outro",
           "zwischenspiel": "inst"},
    "it": {"strofa": "verse", "verso": "verse", "ritornello": "chorus", "coro": "chorus",
           "pre-ritornello": "pre-chorus", "preritornello": "pre-chorus", "ponte": "bridge",
           "introduzione": "intro", "finale": "outro", "chiusura": "outro", "interludio": "inst"},
    "pl": {"zwrotka": "verse", "refren": "chorus", "przedrefren": "pre-chorus", "most": "bridge",
           "bridż": "bridge", "wstęp": "intro", "zakończenie": "outro", "przejście": "bridge"},
    "tr": {"kıta": "verse", "kita": "verse", "nakarat": "chorus", "ön nakarat": "pre-chorus",
           "köprü": "bridge", "giriş": "intro", "giris": "intro", "çıkış": "outro", "bitiş": "outro",
           "ara müzik": "inst"},
    "ru": {"куплет": "verse", "припев": "chorus", "предприпев": "pre-chorus", "пред-припев": "pre-chorus",
           "бридж": "bridge", "мост": "bridge", "вступление": "intro", "интро": "intro",
           "концовка": "outro", "аутро": "outro", "кода": "outro", "проигрыш": "inst", "соло": "solo"},
    "cs": {"sloka": "verse", "refrén": "chorus", "předrefrén": "pre-chorus", "most": "bridge",
           "bridž": "bridge", "úvod": "intro", "závěr": "outro", "mezihra": "inst"},
    "nl": {"couplet": "verse", "vers": "verse", "refrein": "chorus", "pre-refrein": "pre-chorus",
           "brug": "bridge", "inleiding": "intro", "slot": "outro", "tussenspel": "inst"},
    "ar": {"مقطع": "verse", "كوبليه": "verse", "كورس": "chorus", "لازمة": "chorus", "قرار": "chorus",
           "جسر": "bridge", "مقدمة": "intro", "خاتمة": "outro", "فاصل": "inst"},
    "zh": {"主歌": "verse", "副歌": "chorus", "预副歌": "pre-chorus", "導歌": "pre-chorus", "导歌": "pre-chorus",
           "桥段": "bridge", "橋段": "bridge", "前奏": "intro", "尾奏": "outro", "结尾": "outro",
           "間奏": "inst", "间奏": "inst", "独奏": "solo", "獨奏": "solo"},
    "ja": {"aメロ": "verse", "バース": "verse", "ヴァース": "verse", "bメロ": "pre-chorus",
           "サビ": "chorus", "コーラス": "chorus", "cメロ": "bridge", "ブリッジ": "bridge",
           "イントロ": "intro", "アウトロ": "outro", "間奏": "inst", "ソロ": "solo"},
    "ko": {"벌스": "verse", "절": "verse", "후렴": "chorus", "코러스": "chorus", "프리코러스": "pre-chorus",
           "프리 코러스": "pre-chorus", "브릿지": "bridge", "브리지": "bridge", "인트로": "intro",
           "아웃트로": "outro", "아웃로": "outro", "간주": "inst", "솔로": "solo"},
    "hu": {"versszak": "verse", "strófa": "verse", "refrén": "chorus", "előrefrén": "pre-chorus",
           "híd": "bridge", "bevezető": "intro", "befejezés": "outro", "közjáték": "inst"},
    "hi": {"अंतरा": "verse", "मुखड़ा": "chorus", "मुखडा": "chorus", "कोरस": "chorus", "ब्रिज": "bridge",
           "इंट्रो": "intro", "आउट्रो": "outro"},
}

# Words that are also ordinary lyric words in some language: read as headers only inside
# brackets or with a colon, never as a bare line.
BRACKET_ONLY = frozenset({"final", "finale", "most", "slot", "vers", "pont", "ponte", "brug", "절",
                          "conclusion", "introduction", "cierre", "schluss"})


def all_names() -> dict[str, str]:
    merged: dict[str, str] = {}
    for names in NAMES.values():
        for name, tag in names.items():
            if merged.setdefault(name, tag) != tag:
                raise ValueError(f"section name {name!r} maps to two tags")
    return merged
