"""Token ids of lyrics beyond the 31 shared ones, as upstream's `ACEStepPipeline.tokenize_lyrics`
returned them (recorded by running upstream's tokenizer code at d612523 with py3langid 0.3.0,
pypinyin 0.53.0, cutlet 0.5.2, num2words 0.5.14; that code is not part of this repository).
Cases: Chinese numbers (date, money, phone, percent, fraction), Korean numbers, Spanish/French/
German/Russian numbers and currency, English symbols and abbreviations, a line upstream drops
(an unassigned kana makes cutlet fail), tag lines, blank lyrics."""

from __future__ import annotations

import pytest

from music.acestep_v1.lyric_tokenizer import LyricTokenizer

UPSTREAM_CASES = [
    (
        "我有3个苹果\n2024年8月3日我们相遇了\n他花了3.5元，打电话13800138000\n百分之50%的人，1/2的路",
        ["zh", "zh", "zh", "zh"],
        [261, 5023, 4893, 38, 4632, 150, 4574, 4585, 29, 52, 4497, 20, 4656, 2, 5023, 4725, 25, 52, 4497, 4725, 4728, 27, 1164, 4596, 4686, 4794, 150, 4574, 4760, 4893, 4851, 37, 1164, 4547, 4736, 4679, 2, 5023, 4625, 4862, 4679, 150, 4574, 1447, 4695, 2497, 4498, 2124, 14, 4596, 7, 17, 4588, 1447, 4604, 4654, 4586, 150, 4574, 4686, 25, 52, 4497, 25, 52, 4497, 4586, 150, 4574, 4686, 25, 52, 4497, 25, 52, 4497, 25, 52, 4497, 2, 5023, 15, 4658, 132, 4574, 4637, 15, 4658, 132, 4574, 4637, 2497, 4498, 4598, 17, 4650, 46, 4596, 7, 4725, 132, 4574, 4947, 17, 4650, 4702, 2],
        0,
    ),
    (
        "[chorus]\n우리는 2명이에요\n1월 1일에 만나요 100%",
        ["en", "ko", "ko"],
        [261, 259, 6684, 2, 6152, 5911, 660, 27, 2, 22, 125, 5815, 8, 22, 8, 18, 8, 1167, 2, 6152, 151, 8, 2687, 2, 151, 8, 151, 8, 18, 2, 556, 14, 8, 1167, 2, 1159, 5421, 2, 124, 439, 18, 533, 34, 2],
        0,
    ),
    (
        "Tengo $20 y 15€ para el 1º de mayo\nJ'ai 20€ et 3,5 kilos le 1er mai\nIch habe 20€ und 3,5 Kilo am 1. Mai\nУ меня 20€ и 3,5 кило, 1-й раз",
        ["es", "es", "de", "ru"],
        [261, 284, 327, 119, 2, 35, 317, 136, 2, 17, 281, 1085, 61, 2, 38, 2, 767, 3263, 2, 759, 1224, 2, 1143, 2, 249, 2, 1446, 1184, 2, 126, 2, 26, 88, 28, 2, 284, 23, 4, 752, 2, 35, 317, 136, 2, 759, 1224, 2, 453, 2, 868, 2, 801, 27, 51, 2, 1460, 174, 2, 1987, 692, 2, 64, 2, 1446, 1184, 2, 26, 752, 2, 260, 91, 21, 2, 529, 2, 39, 6137, 1476, 20, 2, 5764, 121, 28, 2, 320, 2, 481, 315, 2, 5770, 28, 338, 14, 2, 427, 27, 19, 2, 2583, 28, 2, 122, 2, 44, 368, 2, 26, 752, 2, 267, 3393, 2, 3681, 2, 3378, 3421, 3378, 3396, 3624, 2, 3805, 3429, 2, 3382, 2, 3807, 2, 3396, 3425, 3401, 3395, 2, 3758, 3439, 2, 3504, 3438, 3533, 3395, 2, 3452, 3441, 7, 2, 3492, 3458, 3383, 2, 3479, 2],
        0,
    ),
    (
        "100% of the time, 50° outside & raining @ home #blessed\nMr. Brown and Mrs. Green met Dr. Who at St. Mark's\nI have $5 and you have $5.50, £20 or 20€",
        ["en", "nl", "en"],
        [261, 259, 28, 111, 2, 2870, 481, 49, 2, 124, 31, 1217, 33, 2, 58, 2, 42, 2, 78, 80, 7, 2, 19, 140, 210, 2, 126, 198, 18, 18, 2, 45, 192, 208, 2, 53, 2, 940, 5088, 20, 2, 48, 2, 510, 80, 2, 102, 120, 2, 251, 164, 49, 2, 297, 26, 31, 9, 2, 243, 190, 2, 53, 2, 26, 31, 32, 9, 2, 198, 2738, 2, 80, 33, 2, 134, 502, 44, 2, 214, 2, 48, 2, 63, 9, 2, 681, 24, 4, 32, 2, 259, 22, 2, 21, 789, 2, 840, 76, 2, 134, 84, 59, 32, 2, 53, 2, 74, 2, 21, 789, 2, 840, 76, 2, 134, 84, 59, 32, 7, 2, 19, 140, 210, 2, 1217, 192, 7, 2, 232, 50, 210, 2, 29, 146, 2864, 2, 368, 31, 25, 52, 2, 57, 2, 232, 50, 210, 2, 806, 28, 2],
        0,
    ),
    (
        "夜空の゗星\nStill here",
        ["ja", "en"],
        [261, 259, 1502, 84, 2, 62, 46, 2],
        1,
    ),
    (
        "[Verse 1]\n[verse] Hello there\n[pre-chorus]\n[]",
        ["en", "en", "en", "en"],
        [261, 259, 1, 35, 173, 18, 2, 28, 111, 1, 2, 259, 6683, 2, 62, 84, 28, 2, 131, 18, 2, 259, 6691, 2, 259, 1, 1, 2],
        0,
    ),
    (
        "\n",
        [None, None],
        [261, 2, 2],
        0,
    ),
    (
        " ",
        [None],
        [261, 2],
        0,
    ),
]


@pytest.fixture(scope="module")
def tokenizer(v1_reference):
    return LyricTokenizer.from_file(v1_reference / "lyrics_vocab.json")


@pytest.mark.parametrize("lyrics,langs,ids,dropped", UPSTREAM_CASES, ids=[f"case{i}" for i in range(len(UPSTREAM_CASES))])
def test_matches_upstream_beyond_shared_set(tokenizer, lyrics, langs, ids, dropped):
    lines = tokenizer.analyse(lyrics)
    assert tokenizer.encode(lyrics) == ids
    assert [line.language for line in lines] == langs
    assert sum(line.dropped for line in lines) == dropped
