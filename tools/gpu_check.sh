#!/usr/bin/env bash
# Checks omnirm on the CUDA machine in one go, well inside 8 minutes: builds the kernel tests,
# the benchmarks and the omnirm binary; runs `omnirm doctor`, the kernel tests, a whole-trainer
# check, the attention benchmark and the whole-model MFU benchmark. That machine has nvcc,
# cmake, ninja and python3 with torch (2.11.0+cu130) but no package manager and no network: the
# small Debian libraries omnirm needs travel as .deb files in <repo>/.debs/ and are unpacked with
# dpkg -x, and the trainer check's data travels in <repo>/.gpu-check/ — both made beforehand on
# the Debian machine by
#   tools/gpu_check.sh --prepare      (needs the full build of tools/setup.sh)
# and carried with the working tree. Then, on the CUDA machine:
#   tools/gpu_check.sh
# The trainer check (configs/gpu-check.yaml): a small omni model with every adapter, bf16,
# activation checkpointing, the fused attention kernels required and the fused head + loss,
# trained on CUDA for 12 steps, killed by SIGKILL after step 6 and resumed from its step-4
# checkpoint, then exported; the same config trained on the CPU (sdpa) as the reference;
# tools/compare_runs.py compares the loss curves, the final evaluations and the rewards both
# models give the eval pairs, and the export's rewards with the run's; `omnirm bench train` on
# CUDA with prefix sharing on and off; with two GPUs, the same training on two NCCL ranks. The
# GPU build decodes no media: the check reads .gpu-check/media-store, the decoded media the
# prepare step stored (data.media_store).
# Writes under ${OUT:-/tmp/omnirm-gpu}: gpu_check.log (everything printed), doctor.txt,
# kernel_tests.json (GoogleTest results), trainer/ (runs, scores, compare.txt, bench_train.txt),
# attention_bench.txt, mfu_bench.txt and results.txt (one line per step and its status). Exits
# non-zero when a build, a kernel test, the trainer check or a benchmark fails; 2 when no GPU is
# present (the trainer check then runs its device run on the CPU, which checks the script, not
# a device).
# Environment: PYTHON (default python3), OMNIRM_JOBS (default 16), OMNIRM_GPU_BUILD_DIR
# (default <repo>/build-gpu, kept between runs on a warm machine), OMNIRM_DEB_PREFIX (default
# /tmp/omnirm-debs), OMNIRM_CUDA_ARCH (default 90), OMNIRM_TEST_SECONDS (default 180, cap on the
# kernel tests), OMNIRM_TRAIN_SECONDS (default 150, cap on each training of the trainer check),
# OMNIRM_BENCH_SECONDS (default 90, cap on each benchmark).
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT_DIR="${OUT:-/tmp/omnirm-gpu}"
PYTHON="${PYTHON:-python3}"
JOBS="${OMNIRM_JOBS:-16}"
BUILD_DIR="${OMNIRM_GPU_BUILD_DIR:-$ROOT/build-gpu}"
DEB_DIR="$ROOT/.debs"
DEB_PREFIX="${OMNIRM_DEB_PREFIX:-/tmp/omnirm-debs}"
CUDA_ARCH="${OMNIRM_CUDA_ARCH:-90}"
OMNIRM_TEST_SECONDS="${OMNIRM_TEST_SECONDS:-180}"    # cap on the kernel tests (a hung kernel)
OMNIRM_TRAIN_SECONDS="${OMNIRM_TRAIN_SECONDS:-150}"  # cap on each training of the trainer check
OMNIRM_BENCH_SECONDS="${OMNIRM_BENCH_SECONDS:-90}"   # cap on each benchmark
CHECK_DIR="$ROOT/.gpu-check"
CHECK_CONFIG="$ROOT/configs/gpu-check.yaml"

# --prepare, on the Debian machine with the full build: the .deb files (tools/fetch_gpu_debs.sh)
# and .gpu-check/: a small nine-task synthetic set, its tokenizer, and the decoded media store
# filled by one epoch and the evaluation of configs/gpu-check.yaml on the CPU.
prepare() {
  local omnirm="${OMNIRM_BUILD_DIR:-$ROOT/build}/omnirm"
  local tag="[gpu_check --prepare]"
  [ -x "$omnirm" ] || { echo "$tag error: $omnirm not found: run tools/setup.sh first" >&2; return 1; }
  if ! ls "$DEB_DIR"/*.deb >/dev/null 2>&1; then
    bash "$ROOT/tools/fetch_gpu_debs.sh" || return 1
  fi
  rm -rf "$CHECK_DIR"
  mkdir -p "$CHECK_DIR"
  cd "$ROOT" || return 1
  echo "$tag synthetic data, tokenizer and decoded media into $CHECK_DIR"
  "$omnirm" data synth --tasks all --out "$CHECK_DIR/data" --train-pairs 12 --eval-pairs 4 \
    --seed 11 >/dev/null || return 1
  "$omnirm" tokenizer train --corpus "$CHECK_DIR/data/corpus.txt" \
    --out "$CHECK_DIR/data/tokenizer" --vocab-size 400 >/dev/null || return 1
  # 14 steps of 8 pairs cover the 108 training pairs; the evaluation reads the 36 eval pairs.
  "$omnirm" train -c "$CHECK_CONFIG" --set train.device=cpu --set model.attention_backend=sdpa \
    --set train.max_steps=14 --set train.save_every=0 \
    --set train.output_dir="$CHECK_DIR/prepare-run" >"$CHECK_DIR/prepare-run.log" 2>&1 ||
    { tail -5 "$CHECK_DIR/prepare-run.log" >&2; return 1; }
  rm -rf "$CHECK_DIR/prepare-run"
  echo "$tag ready: $(du -sh "$CHECK_DIR" | cut -f1) in .gpu-check, $(du -sh "$DEB_DIR" | cut -f1) in .debs;" \
    "carry both (.debs and .gpu-check) to the CUDA machine"
}

if [ "${1:-}" = "--prepare" ]; then
  prepare
  exit $?
fi

mkdir -p "$OUT_DIR"
LOG="$OUT_DIR/gpu_check.log"
: >"$LOG"
exec > >(tee -a "$LOG") 2>&1
TEE_PID=$!
# On exit, close our side of the pipe and let tee finish writing the log.
finish() {
  local status=$?
  exec 1>&- 2>&-
  wait "$TEE_PID" 2>/dev/null
  exit "$status"
}
trap finish EXIT

START_SECONDS=$SECONDS
RESULTS="$OUT_DIR/results.txt"
: >"$RESULTS"
# One line per step into results.txt: step, status, seconds since the start.
record() { printf '%s %s +%ds\n' "$1" "$2" "$((SECONDS - START_SECONDS))" >>"$RESULTS"; }
say() { printf '[gpu_check +%ds] %s\n' "$((SECONDS - START_SECONDS))" "$*"; }
die() {
  say "error: $*"
  exit 1
}

# One CSV line per GPU; with "full", nvidia-smi's table too.
show_gpu() {
  if command -v nvidia-smi >/dev/null; then
    nvidia-smi --format=csv \
      --query-gpu=name,driver_version,memory.total,memory.used,temperature.gpu,utilization.gpu
    if [ "${1:-}" = full ]; then nvidia-smi; fi
  else
    say "nvidia-smi not found"
  fi
}

# The number of CUDA devices nvidia-smi lists (0 without nvidia-smi).
gpu_count() {
  if command -v nvidia-smi >/dev/null; then
    nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | grep -c .
  else
    echo 0
  fi
}

# Unpacks every .deb of .debs/ into DEB_PREFIX and points pkg-config files at it.
unpack_debs() {
  local debs=("$DEB_DIR"/*.deb)
  [ -e "${debs[0]}" ] ||
    die "no .deb files in $DEB_DIR: run tools/fetch_gpu_debs.sh on the Debian machine and carry .debs"
  rm -rf "$DEB_PREFIX"
  mkdir -p "$DEB_PREFIX"
  for deb in "${debs[@]}"; do
    dpkg -x "$deb" "$DEB_PREFIX" || die "dpkg -x $deb failed"
  done
  # .pc files name prefix=/usr; CMake's package configs find their location by themselves.
  find "$DEB_PREFIX" -name '*.pc' -exec sed -i "s|^prefix=/usr|prefix=$DEB_PREFIX/usr|" {} +
  say "unpacked ${#debs[@]} packages into $DEB_PREFIX"
}

setup_environment() {
  local usr="$DEB_PREFIX/usr"
  local multiarch_lib="$usr/lib/x86_64-linux-gnu"
  export PKG_CONFIG_PATH="$multiarch_lib/pkgconfig:$usr/share/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
  export LD_LIBRARY_PATH="$multiarch_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  if ! command -v pkg-config >/dev/null && [ -x "$usr/bin/pkgconf" ]; then
    export PKG_CONFIG="$usr/bin/pkgconf"  # read by CMake's FindPkgConfig
    say "pkg-config: using the unpacked $PKG_CONFIG"
  fi
  if ! command -v nvcc >/dev/null && [ -x /usr/local/cuda/bin/nvcc ]; then
    export PATH="/usr/local/cuda/bin:$PATH"
  fi
  command -v nvcc >/dev/null || die "nvcc not found on PATH or in /usr/local/cuda/bin"
  export CUDACXX="${CUDACXX:-$(command -v nvcc)}"
  command -v cmake >/dev/null || die "cmake not found"
  command -v ninja >/dev/null || die "ninja not found"
}

configure() {
  local torch_prefix
  torch_prefix="$("$PYTHON" -c 'import torch.utils; print(torch.utils.cmake_prefix_path)' 2>/dev/null)" ||
    die "$PYTHON cannot import torch: set PYTHON to the interpreter that has torch"
  say "torch: $("$PYTHON" -c 'import torch; print(torch.__version__, "cuda", torch.version.cuda)' 2>/dev/null)"
  say "nvcc: $(nvcc --version | tail -1)"
  # Torch's CMake config replaces CMAKE_CUDA_ARCHITECTURES by TORCH_CUDA_ARCH_LIST, so both
  # name the same architecture.
  local torch_arch="${CUDA_ARCH%?}.${CUDA_ARCH: -1}"
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$torch_prefix;$DEB_PREFIX/usr" \
    -DOMNIRM_GPU_PROFILE=ON \
    -DCMAKE_CUDA_ARCHITECTURES="$CUDA_ARCH" \
    -DTORCH_CUDA_ARCH_LIST="$torch_arch" ||
    die "cmake configure failed (output above)"
}

# run_benchmark NAME BINARY [ARGS...]: runs tests/BINARY for at most OMNIRM_BENCH_SECONDS,
# its output into $OUT_DIR/NAME.txt and the log, its status into results.txt; returns it.
run_benchmark() {
  local name=$1 binary=$2
  shift 2
  say "running $binary (at most ${OMNIRM_BENCH_SECONDS}s)"
  timeout "$OMNIRM_BENCH_SECONDS" "$BUILD_DIR/tests/$binary" "$@" >"$OUT_DIR/$name.txt" 2>&1
  local status=$?
  cat "$OUT_DIR/$name.txt"
  say "$binary exited with $status"
  record "$name" "$([ "$status" -eq 0 ] && echo ok || echo "failed($status)")"
  return "$status"
}

# run_step NAME SECONDS COMMAND...: runs COMMAND for at most SECONDS, its output appended to
# $TRAINER_DIR/NAME.log; returns its status.
run_step() {
  local name=$1 seconds=$2
  shift 2
  timeout "$seconds" "$@" >>"$TRAINER_DIR/$name.log" 2>&1
}

# The whole-trainer check (see the header); returns 0 when every part passed.
trainer_check() {
  TRAINER_DIR="$OUT_DIR/trainer"
  rm -rf "$TRAINER_DIR"
  mkdir -p "$TRAINER_DIR"
  if [ ! -f "$CHECK_DIR/data/train.jsonl" ] || [ ! -d "$CHECK_DIR/media-store" ]; then
    say "trainer check: $CHECK_DIR is missing; run tools/gpu_check.sh --prepare on the Debian machine and carry .gpu-check"
    record trainer "failed(not prepared)"
    return 1
  fi
  local omnirm="$BUILD_DIR/omnirm" device=cuda
  local device_sets=(--set train.device=cuda)
  if [ "$(gpu_count)" -eq 0 ]; then
    device=cpu
    device_sets=(--set train.device=cpu --set model.attention_backend=sdpa)
    say "trainer check: no GPU, so the device run trains on the CPU (this checks the script, not a device)"
  fi
  local config=(-c "$CHECK_CONFIG")
  local cpu_sets=(--set train.device=cpu --set model.attention_backend=sdpa)
  local eval_pairs="$CHECK_DIR/data/eval.jsonl" status failed=0
  cd "$ROOT" || return 1

  say "trainer check: $device run, killed after step 6"
  run_step device-run "$OMNIRM_TRAIN_SECONDS" env OMNIRM_FAULT_KILL_AT_STEP=6 "$omnirm" train \
    "${config[@]}" "${device_sets[@]}" --set train.output_dir="$TRAINER_DIR/device-run"
  status=$?
  if [ "$status" -ne 137 ]; then
    say "trainer check: the device run exited with $status, not by SIGKILL after step 6"
    failed=1
  fi
  say "trainer check: $device run resumed (--resume auto)"
  run_step device-run "$OMNIRM_TRAIN_SECONDS" "$omnirm" train "${config[@]}" "${device_sets[@]}" \
    --set train.output_dir="$TRAINER_DIR/device-run" --resume auto || failed=1
  say "trainer check: cpu reference run"
  run_step cpu-run "$OMNIRM_TRAIN_SECONDS" "$omnirm" train "${config[@]}" "${cpu_sets[@]}" \
    --set train.output_dir="$TRAINER_DIR/cpu-run" || failed=1
  say "trainer check: export and scores"
  run_step export 60 "$omnirm" export -m "$TRAINER_DIR/device-run" -o "$TRAINER_DIR/device-export" ||
    failed=1
  for scored in device-run cpu-run device-export; do
    run_step scores 60 "$omnirm" score -m "$TRAINER_DIR/$scored" -i "$eval_pairs" \
      -o "$TRAINER_DIR/$scored-scores.jsonl" || failed=1
  done
  "$PYTHON" "$ROOT/tools/compare_runs.py" --device-run "$TRAINER_DIR/device-run" \
    --cpu-run "$TRAINER_DIR/cpu-run" --device-scores "$TRAINER_DIR/device-run-scores.jsonl" \
    --cpu-scores "$TRAINER_DIR/cpu-run-scores.jsonl" \
    --export-scores "$TRAINER_DIR/device-export-scores.jsonl" --steps 12 \
    >"$TRAINER_DIR/compare.txt" 2>&1 || failed=1
  cat "$TRAINER_DIR/compare.txt"
  say "trainer check: bench train on $device, prefix sharing on and off"
  run_step bench_train "$OMNIRM_BENCH_SECONDS" "$omnirm" bench train "${config[@]}" \
    "${device_sets[@]}" --steps 4 --warmup 2 --rounds 2 || failed=1
  cat "$TRAINER_DIR/bench_train.log"
  if [ "$(gpu_count)" -ge 2 ]; then
    say "trainer check: two NCCL ranks"
    run_step two-ranks "$OMNIRM_TRAIN_SECONDS" "$omnirm" launch --nproc-per-node 2 -- train \
      "${config[@]}" "${device_sets[@]}" --set train.output_dir="$TRAINER_DIR/two-ranks" \
      --set train.micro_batch_pairs=4 || failed=1
    tail -3 "$TRAINER_DIR/two-ranks.log"
  fi
  record trainer "$([ "$failed" -eq 0 ] && echo ok || echo failed)"
  return "$failed"
}

main() {
  say "repo $ROOT, build $BUILD_DIR, output $OUT_DIR, jobs $JOBS"
  show_gpu full
  unpack_debs
  setup_environment
  configure

  say "building omnirm, omnirm_test_kernels, omnirm_bench_attention and omnirm_bench_mfu"
  if ! ninja -C "$BUILD_DIR" -j "$JOBS" omnirm omnirm_test_kernels omnirm_bench_attention \
    omnirm_bench_mfu; then
    record build failed
    die "the build failed"
  fi
  record build ok

  timeout 120 "$BUILD_DIR/omnirm" doctor -c "$CHECK_CONFIG" >"$OUT_DIR/doctor.txt" 2>&1
  local doctor_status=$?
  cat "$OUT_DIR/doctor.txt"
  record doctor "$([ "$doctor_status" -eq 0 ] && echo ok || echo "failed($doctor_status)")"

  # The host emulation of the kernels (*Emulated*, Simt*, KernelSelfTest.*) checks on the CPU
  # what the GPU tests check here on the real kernels; it is left out to save device time.
  say "running omnirm_test_kernels (at most ${OMNIRM_TEST_SECONDS}s)"
  timeout "$OMNIRM_TEST_SECONDS" "$BUILD_DIR/tests/omnirm_test_kernels" \
    --gtest_filter='-*Emulated*:Simt*:KernelSelfTest.*' \
    --gtest_output="json:$OUT_DIR/kernel_tests.json"
  local test_status=$?
  say "omnirm_test_kernels exited with $test_status"
  record kernel_tests "$([ "$test_status" -eq 0 ] && echo ok || echo "failed($test_status)")"

  trainer_check
  local trainer_status=$?

  local bench_status mfu_status
  run_benchmark attention_bench omnirm_bench_attention
  bench_status=$?
  run_benchmark mfu_bench omnirm_bench_mfu --device cuda
  mfu_status=$?

  show_gpu
  local failed=0
  [ "$test_status" -ne 0 ] && say "FAILED: kernel tests" && failed=1
  [ "$trainer_status" -ne 0 ] && say "FAILED: trainer check ($OUT_DIR/trainer)" && failed=1
  [ "$failed" -ne 0 ] && exit 1
  if [ "$(gpu_count)" -eq 0 ]; then
    say "no GPU: the build, the CPU-side tests and the trainer check's flow passed; nothing was measured on a device"
    exit 2
  fi
  [ "$bench_status" -ne 0 ] && say "FAILED: attention benchmark" && failed=1
  [ "$mfu_status" -ne 0 ] && say "FAILED: MFU benchmark" && failed=1
  [ "$failed" -ne 0 ] && exit 1
  say "OK: kernel tests and trainer check passed; benchmarks in $OUT_DIR"
}

main
