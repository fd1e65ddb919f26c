#!/usr/bin/env bash
# lmboot recipe: bootstrap a target-language n-gram LM by machine translation, one stage at a
# time, in the style of a Kaldi recipe. Read it to learn the CLI; run it to reproduce.
#
#   bash scripts/recipe.sh                          # the toy corpora, end to end
#   bash scripts/recipe.sh --stage 7                # resume from stage 7
#   bash scripts/recipe.sh --data DIR --exp DIR --src en --tgt hi --preset small --steps 3000
#
# DIR holds: seed.TGT dev.TGT test.TGT (in-domain target text), source.SRC (in-domain source
# text to translate), general.SRC + general.TGT (general bitext), optionally source.ref.TGT.
# `lmboot run CONFIG` runs the same pipeline from a config file, with caching and a report.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

stage=0 stop_stage=100
data="$root/corpora/toy" exp="$root/runs/recipe-toy"
src=en tgt=hi src_lang=eng_Latn tgt_lang=hin_Deva
preset=tiny steps=300 vocab=1000 order=3 seed=13
keep_fraction=0.5 st_sentences=400 st_steps=100 beam=5 nbest=5 percentile=95
while [ $# -gt 0 ]; do
  case "$1" in
    --stage) stage=$2 ;; --stop-stage) stop_stage=$2 ;; --data) data=$2 ;; --exp) exp=$2 ;;
    --src) src=$2 ;; --tgt) tgt=$2 ;; --src-lang) src_lang=$2 ;; --tgt-lang) tgt_lang=$2 ;;
    --preset) preset=$2 ;; --steps) steps=$2 ;; --vocab) vocab=$2 ;; --order) order=$2 ;;
    --seed) seed=$2 ;; --keep-fraction) keep_fraction=$2 ;; --percentile) percentile=$2 ;;
    *) echo "recipe.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift 2
done
run() { [ "$stage" -le "$1" ] && [ "$stop_stage" -ge "$1" ]; }
say() { printf '\n=== stage %s: %s\n' "$1" "$2" >&2; }

bash "$root/scripts/setup.sh"
export PATH="$root/.venv/bin:$PATH"
mkdir -p "$exp"

if run 1; then say 1 "seed LM; the best LM without translation: seed + general target text, interpolated on dev"
  lmboot lm train "$data/seed.$tgt" --out "$exp/seed.arpa" --binary "$exp/seed.bin" --order "$order"
  lmboot lm build --text seed="$data/seed.$tgt" --text general="$data/general.$tgt" --dev "$data/dev.$tgt" \
    --out "$exp/baseline.arpa" --binary "$exp/baseline.bin" --order "$order" --work-dir "$exp/lm-parts"
fi

if run 2; then say 2 "select general bitext near the seed (embedding centroid distance)"
  lmboot select "$data/general.$src" "$data/general.$tgt" --seed "$data/seed.$tgt" \
    --out "$exp/select" --method centroid --keep-fraction "$keep_fraction" --random-seed "$seed"
fi

if run 3; then say 3 "hold out every 20th selected pair for NMT validation; SentencePiece"
  awk 'NR % 20 != 0' "$exp/select/selected.$src" > "$exp/train.$src"
  awk 'NR % 20 != 0' "$exp/select/selected.$tgt" > "$exp/train.$tgt"
  awk 'NR % 20 == 0' "$exp/select/selected.$src" > "$exp/dev.$src"
  awk 'NR % 20 == 0' "$exp/select/selected.$tgt" > "$exp/dev.$tgt"
  lmboot nmt spm --src "$exp/train.$src" --tgt "$exp/train.$tgt" --out "$exp/spm.model" \
    --vocab-size "$vocab" --seed "$seed"
fi

if run 4; then say 4 "train the translator (resumes from its last checkpoint if interrupted)"
  lmboot nmt train "$exp/train.$src" "$exp/train.$tgt" --model "$exp/nmt" --spm "$exp/spm.model" \
    --src-lang "$src_lang" --tgt-lang "$tgt_lang" --dev-src "$exp/dev.$src" --dev-tgt "$exp/dev.$tgt" \
    --preset "$preset" --max-steps "$steps" --valid-every $((steps / 2)) --seed "$seed"
fi

if run 5; then say 5 "self-training: translate in-domain source text, fine-tune on it"
  lmboot nmt self-train --model "$exp/nmt" --source "$data/source.$src" --out "$exp/selftrain" \
    --train-src "$exp/train.$src" --train-tgt "$exp/train.$tgt" --dev-src "$exp/dev.$src" \
    --dev-tgt "$exp/dev.$tgt" --max-sentences "$st_sentences" --steps "$st_steps" --seed "$seed"
fi

if run 6; then say 6 "n-best translation of the in-domain source text"
  ref=(); [ -f "$data/source.ref.$tgt" ] && ref=(--ref "$data/source.ref.$tgt")
  lmboot nmt translate "$data/source.$src" --model "$exp/selftrain/model" --out "$exp/nbest.jsonl" \
    --txt "$exp/top1.$tgt" --beam "$beam" --nbest "$nbest" "${ref[@]}"
fi

if run 7; then say 7 "rescore the n-best lists with the seed LM, weights tuned by the final LM's in-domain dev perplexity"
  lmboot rescore "$exp/nbest.jsonl" --lm "$exp/seed.bin" --tune-dev "$data/dev.$tgt" \
    --tune-lm "$exp/lm-parts/general.arpa" --save-weights "$exp/rescore.weights.json" \
    --out-jsonl "$exp/rescored.jsonl" --out-txt "$exp/rescored.$tgt"
fi

if run 8; then say 8 "winnow: drop translations the seed LM finds too improbable"
  lmboot winnow "$exp/rescored.$tgt" --lm "$exp/seed.bin" --percentile "$percentile" \
    --dev "$data/dev.$tgt" --out "$exp/winnow"
fi

if run 9; then say 9 "final LM: seed + general text + kept translations, interpolated with weights tuned on dev"
  lmboot lm build --text seed="$data/seed.$tgt" --text general="$data/general.$tgt" --text mt="$exp/winnow/kept.txt" \
    --dev "$data/dev.$tgt" --out "$exp/final.arpa" --binary "$exp/final.bin" --order "$order" --method linear \
    --work-dir "$exp/lm-parts" --json "$exp/final.json"
fi

if run 10; then say 10 "evaluate seed-only, the best LM without translation and the final LM on the test set"
  lmboot lm eval "$data/test.$tgt" --lm "$exp/seed.bin" --lm "$exp/baseline.bin" --lm "$exp/final.bin" \
    --json "$exp/ppl.json"
  lmboot eval simulate "$data/test.$tgt" --out "$exp/test.sim.jsonl" \
    --vocab-from "$data/seed.$tgt" --vocab-from "$data/general.$tgt" --target-wer 0.25 --seed "$seed"
  lmboot eval wer --nbest "$exp/test.sim.jsonl" --lm "$exp/seed.bin" --lm "$exp/baseline.bin" --lm "$exp/final.bin" \
    --json "$exp/wer.json"
fi
echo "recipe done: $exp" >&2
