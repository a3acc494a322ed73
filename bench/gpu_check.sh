#!/usr/bin/env bash
# The GPU check of issue #18: on one CUDA GPU, in under 8 minutes, one table of ACE-Step v1
# songs (30 s / 240 s, 27 / 60 steps, RTF and peak VRAM with and without offload), batched
# against two forwards, the fast modes, ACE-Step 1.5 turbo per song, and the lyrics LLM's
# tokens/s on llama.cpp (CUDA) and transformers. Random full-size weights wherever no real
# weights are named (the table says which). Details and options: bench/gpu_check.py.
#
#   PYTHON=.venv/bin/python bench/gpu_check.sh [--v1-weights DIR --v1-vocab FILE] [--v15-weights DIR]
#                                              [--llm-hf DIR --llm-gguf FILE] [--budget 470]
#   bench/gpu_check.sh --dry-run                                     # the rows, nothing run
#   bench/gpu_check.sh --device cpu --tiny --seconds 2 --steps 2     # the same code, tiny models, CPU
#
# Exit codes: 0 table printed; 3 no CUDA GPU (and neither --dry-run nor --device cpu).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"

device=cuda
dry_run=0
previous=""
for arg in "$@"; do
    [[ "$previous" == "--device" ]] && device="$arg"
    [[ "$arg" == --device=* ]] && device="${arg#--device=}"
    [[ "$arg" == "--dry-run" ]] && dry_run=1
    previous="$arg"
done

if [[ "$dry_run" == 0 && "$device" == cuda* ]]; then
    if ! "$PYTHON" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
        echo "error: bench/gpu_check.sh needs a CUDA GPU, and torch ($PYTHON) sees none here." >&2
        echo "       --dry-run prints the table's rows; --device cpu --tiny runs the same code on tiny models." >&2
        exit 3
    fi
fi
# the sections keep to --budget (470 s by default); this is the hard stop
exec timeout --kill-after=10 540 "$PYTHON" bench/gpu_check.py "$@"
