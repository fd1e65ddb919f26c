#!/usr/bin/env bash
# The ablation on the real benchmarks in ../shared/bench: baselines without translation, each
# technique added alone on top of the best of them, and all together. For each NAME writes
# runs/NAME/report.md and docs/results-NAME.{md,json,png}.
#   bash scripts/benchmark.sh [va-en-de|tico-en-hi ...] [-- extra lmboot run options, e.g. --from lm]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
names=()
while (($#)) && [ "$1" != "--" ]; do names+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift
((${#names[@]})) || names=(va-en-de tico-en-hi)
for name in "${names[@]}"; do
  if [ ! -f "$root/scripts/conf/$name.toml" ]; then
    echo "benchmark.sh: no config scripts/conf/$name.toml" >&2; exit 2
  fi
  if [ ! -d "$root/../shared/bench/$name" ]; then
    echo "benchmark.sh: ../shared/bench/$name not found beside the checkout" >&2; exit 2
  fi
done
bash "$root/scripts/setup.sh"
cd "$root"
for name in "${names[@]}"; do
  start=$(date +%s)
  .venv/bin/lmboot run "scripts/conf/$name.toml" --ablation "$@"
  secs=$(( $(date +%s) - start ))
  echo "benchmark $name: $secs s on $(nproc) cores" >&2
  .venv/bin/python scripts/bench_results.py "$name" "runs/$name" "$secs"
done
