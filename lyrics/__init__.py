"""Lyrics stage: LLM backends, the writer, the Lyrics model (sections + ACE-Step tags), prosody.

    from lyrics import backends
    from lyrics.format import Lyrics
    from lyrics.writer import LyricsWriter

    writer = LyricsWriter(backends.create("llama-cpp", model_path="song.Q4_K_M.gguf"))
    lyrics = writer.draft(theme="summer rain", genre="indie pop", mood="wistful", language="en",
                          structure=["verse", "chorus", "verse", "chorus"], length="short")
    for chunk in writer.draft_stream(theme="summer rain"): ...   # streaming variant
    lyrics.render()                                               # exact ACE-Step v1 tags

Importing this package loads no model library; backends import theirs when created.
See docs/lyrics.md.
"""
