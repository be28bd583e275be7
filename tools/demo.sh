#!/usr/bin/env bash
# README command 1: sets everything up, generates the embedded nine-task synthetic set (text,
# image, video, audio and 3D files), trains the omni-modal demo reward model on it and prints
# held-out accuracy per task and per tag.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
tools/setup.sh
OMNIRM="${OMNIRM_BUILD_DIR:-$ROOT/build}/omnirm"

echo "[demo] generating the nine-task synthetic preference set into omni-data/"
$OMNIRM data synth --tasks all --out omni-data --train-pairs 2000 --eval-pairs 200 --seed 1234
$OMNIRM tokenizer train --corpus omni-data/corpus.txt --out omni-data/tokenizer --vocab-size 1000

rm -rf runs/omni
echo "[demo] training and evaluating (configs/omni.yaml)"
start=$(date +%s)
$OMNIRM train -c configs/omni.yaml "$@"
end=$(date +%s)
echo "[demo] training and evaluation took $((end - start)) s"
echo "[demo] text-only demo: omnirm data synth --tasks t2t && omnirm train -c configs/demo.yaml"
echo "[demo] benchmarks: omnirm bench train -c configs/omni.yaml; omnirm bench eval -m runs/omni"
