"""Lyric quality over a fixed set of themes x genres x structures with fixed seeds.

    python bench/bench_lyrics_quality.py                       # the starter model (SmolLM2-135M)
    python bench/bench_lyrics_quality.py --gguf Llama-Song-Stream-3B-Instruct.Q4_K_M.gguf
    python bench/bench_lyrics_quality.py --candidates 1        # without syllable/rhyme selection
    python bench/bench_lyrics_quality.py --cases 8 --json out.json

Prints, over the set: tag-exact rate, requested-structure rate, prompt-copy rate (drafts with a
line that repeats the request), mean lines per section, syllable fit (share of lines within
+-2 of their target), rhyme hit rate (pairs asked to rhyme that do; and sections whose pairs
all rhyme), distinct-2, tokens/s, and the failures (drafts the writer gave up on).
Song-Stream is measured too when its GGUF is in the Hugging Face cache (`--song-stream`).
Timings depend on the machine's load: the script prints the load average.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lyrics import backends  # noqa: E402
from lyrics.budget import plan_song  # noqa: E402
from lyrics.errors import LyricsError, ModelNotFound  # noqa: E402
from lyrics.quality import assess  # noqa: E402
from lyrics.writer import LyricsWriter  # noqa: E402

THEMES = (
    "leaving a small town at dawn", "a lighthouse keeper's last night", "summer rain on a tin roof",
    "two friends driving to the sea", "learning to ride a bike at forty", "a letter never sent",
    "the night bus home", "a garden after the storm", "dancing alone in the kitchen",
    "the first snow in the city", "an old dog asleep by the fire", "a phone call from a brother",
)
GENRES = ("indie folk", "pop", "country", "rock", "soul", "synth pop")
MOODS = ("wistful", "hopeful", "joyful", "melancholic", "defiant", "tender")
STRUCTURES = (
    ("verse", "chorus", "verse", "chorus"),
    ("verse", "chorus", "verse", "chorus", "bridge", "chorus"),
    ("intro", "verse", "pre-chorus", "chorus", "verse", "chorus", "outro"),
    ("verse", "verse", "chorus"),
)
TEMPI = (72, 90, 100, 120, 128)
DURATIONS = (60, 90, 120, 150)


def cases(count: int) -> list[dict]:
    """A fixed, varied set: case i takes the i-th item of each list (cycled, coprime lengths)."""
    out = []
    for i in range(count):
        structure = STRUCTURES[i % len(STRUCTURES)]
        out.append({"theme": THEMES[i % len(THEMES)], "genre": GENRES[i % len(GENRES)],
                    "mood": MOODS[(i * 5) % len(MOODS)], "structure": structure,
                    "bpm": TEMPI[i % len(TEMPI)], "duration": DURATIONS[(i + len(structure)) % len(DURATIONS)],
                    "seed": 1000 + i})
    return out


def run(backend, label: str, items: list[dict], *, candidates: int | None, rhyme: str) -> dict:
    writer = LyricsWriter(backend)
    params = inspect.signature(writer.draft_stream).parameters
    extra = {}
    if candidates is not None and "candidates" in params:
        extra["candidates"] = candidates
    if "rhyme" in params:
        extra["rhyme"] = rhyme
    reports, failures, drafts = [], [], []
    started = time.perf_counter()
    for case in items:
        t0 = time.perf_counter()
        stream = writer.draft_stream(theme=case["theme"], genre=case["genre"], mood=case["mood"], language="en",
                                     structure=list(case["structure"]), length=case["duration"], bpm=case["bpm"],
                                     seed=case["seed"], **extra)
        try:
            lyrics = stream.result()
        except LyricsError as exc:
            failures.append(f"{case['theme']} ({case['genre']}): {exc}")
            continue
        seconds = time.perf_counter() - t0
        plan = plan_song(case["structure"], bpm=case["bpm"], duration_s=case["duration"], rhyme_scheme=rhyme)
        prompts = getattr(stream, "prompt_texts", None) or [case["theme"], case["genre"], case["mood"]]
        report = assess(stream.raw, lyrics, requested=case["structure"], plan=plan, prompt_texts=prompts,
                        tokens=getattr(stream, "tokens", None) or backend.last_completion_tokens, seconds=seconds)
        reports.append(report)
        drafts.append(stream.raw)
        print(f"  case {len(reports) + len(failures)}/{len(items)}: fit {report.syllable_fit or 0:.2f} "
              f"rhyme {report.rhyme_pairs[0]}/{report.rhyme_pairs[1]} copy {len(report.prompt_copy_lines)} "
              f"exact {report.tag_exact:d} structure {report.structure_ok:d} {seconds:.0f} s", flush=True)
    n = len(items)

    def rate(values) -> float:
        return sum(values) / n if n else 0.0

    fits = [r.syllable_fit for r in reports if r.syllable_fit is not None]
    rhymed = sum(r.rhyme_pairs[0] for r in reports)
    asked = sum(r.rhyme_pairs[1] for r in reports)
    full = sum(r.rhyme_sections[0] for r in reports)
    with_pairs = sum(r.rhyme_sections[1] for r in reports)
    lines = [c for r in reports for c in r.lines_per_section if c]
    tps = [r.tokens_per_s for r in reports if r.tokens_per_s]
    d2 = [r.distinct2 for r in reports if r.distinct2 is not None]
    return {
        "model": label, "cases": n, "candidates": extra.get("candidates"), "rhyme": rhyme,
        "failed": len(failures),
        "tag_exact": rate(r.tag_exact for r in reports),
        "structure": rate(r.structure_ok for r in reports),
        "prompt_copy": rate(bool(r.prompt_copy_lines) for r in reports) + len(failures) / n if n else 0.0,
        "lines_per_section": statistics.mean(lines) if lines else 0.0,
        "syllable_fit": statistics.mean(fits) if fits else None,
        "rhyme_pairs": rhymed / asked if asked else None,
        "rhyme_sections": full / with_pairs if with_pairs else None,
        "distinct2": statistics.mean(d2) if d2 else None,
        "tokens_per_s": statistics.median(tps) if tps else None,
        "seconds_per_draft": (time.perf_counter() - started) / n if n else 0.0,
        "failures": failures,
        "drafts": drafts,
    }


def show(row: dict) -> None:
    def pct(v):
        return "  -  " if v is None else f"{v:6.1%}"

    print(f"{row['model']}  (candidates {row['candidates']}, rhyme {row['rhyme']}, {row['cases']} drafts)")
    print(f"  tag-exact {pct(row['tag_exact'])}  structure {pct(row['structure'])}  "
          f"prompt-copy {pct(row['prompt_copy'])}  failed {row['failed']}")
    print(f"  lines/section {row['lines_per_section']:.2f}  syllable fit (+-2) {pct(row['syllable_fit'])}  "
          f"rhyme pairs {pct(row['rhyme_pairs'])}  rhyme sections {pct(row['rhyme_sections'])}")
    d2 = row["distinct2"]
    tps = row["tokens_per_s"]
    print(f"  distinct-2 {'-' if d2 is None else f'{d2:.3f}'}  tokens/s {'-' if tps is None else f'{tps:.1f}'}  "
          f"{row['seconds_per_draft']:.1f} s/draft")
    for failure in row["failures"][:5]:
        print(f"  failed: {failure[:200]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gguf", help="a GGUF to measure instead of the starter model")
    parser.add_argument("--song-stream", action="store_true", help="also measure Song-Stream from the HF cache")
    parser.add_argument("--cases", type=int, default=32)
    parser.add_argument("--candidates", type=int, help="candidates per line (default: the writer's)")
    parser.add_argument("--rhyme", default="AABB")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args()
    if args.cases < 1:
        parser.error("--cases must be at least 1")
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores", flush=True)
    models = []
    if args.gguf:
        models.append((Path(args.gguf).name, {"model_path": args.gguf}))
    else:
        from lyrics.starter import require_starter

        models.append(("starter SmolLM2-135M-Instruct Q4_1", {"model_path": str(require_starter())}))
    if args.song_stream:
        models.append(("Llama-Song-Stream-3B Q4_K_M", {}))
    rows = []
    for label, options in models:
        try:
            backend = backends.create("llama-cpp", n_threads=args.threads, **options)
        except ModelNotFound as exc:
            print(f"{label}: skipped ({exc})")
            continue
        with backend:
            row = run(backend, label, cases(args.cases), candidates=args.candidates, rhyme=args.rhyme)
        show(row)
        rows.append(row)
    print(f"load average {os.getloadavg()[0]:.2f} at the end")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
