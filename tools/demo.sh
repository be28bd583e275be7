#!/usr/bin/env bash
# README command 1: sets everything up, generates the embedded synthetic data, trains the
# demo reward model on it and prints held-out accuracy (overall and on criteria flips).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
tools/setup.sh
OMNIRM="${OMNIRM_BUILD_DIR:-$ROOT/build}/omnirm"

echo "[demo] generating the synthetic preference set into demo-data/"
$OMNIRM data synth --tasks t2t --out demo-data --seed 1234
$OMNIRM tokenizer train --corpus demo-data/corpus.txt --out demo-data/tokenizer --vocab-size 1000

rm -rf runs/demo
echo "[demo] training and evaluating (configs/demo.yaml)"
start=$(date +%s)
$OMNIRM train -c configs/demo.yaml "$@"
end=$(date +%s)
echo "[demo] training and evaluation took $((end - start)) s"
echo "[demo] benchmark: omnirm bench train -c configs/demo.yaml"
