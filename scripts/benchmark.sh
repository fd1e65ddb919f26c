#!/usr/bin/env bash
# The paper's ablation on the real benchmark ../shared/bench/tico-en-hi: baselines, each
# technique added alone, and all together. Writes runs/tico-en-hi/report.md and prints the table.
#   bash scripts/benchmark.sh [extra lmboot run options, e.g. --from lm]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ ! -f "$root/../shared/bench/tico-en-hi/seed.hi" ]; then
  echo "benchmark.sh: ../shared/bench/tico-en-hi not found beside the checkout" >&2; exit 2
fi
bash "$root/scripts/setup.sh"
cd "$root"
start=$(date +%s)
.venv/bin/lmboot run scripts/conf/tico-en-hi.toml --ablation "$@"
echo "benchmark: $(( $(date +%s) - start )) s on $(nproc) cores" >&2
