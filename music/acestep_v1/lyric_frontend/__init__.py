"""Lyrics -> the token ids ACE-Step v1 was trained on, equal to upstream's tokenizer.

`tokenizer` (the entry point: line languages, romanisation, vocab), `cleaners` (per-language text
clean-up), `language` (line language detection), `romanize` (pinyin / romaji / Hangul
romanisation), `ssml` and `zh_numbers` (Chinese number and symbol reading). No model code.
"""
