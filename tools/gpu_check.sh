#!/usr/bin/env bash
# Builds omnirm on the CUDA machine and runs the kernel tests, the attention benchmark and the
# whole-model MFU benchmark there, in one go and well inside 8 minutes. That machine has nvcc,
# cmake, ninja and python3 with torch (2.11.0+cu130) but no package manager and no network:
# the small Debian libraries omnirm needs travel as .deb files in <repo>/.debs/ (made by
# tools/fetch_gpu_debs.sh) and are unpacked with dpkg -x.
#   tools/gpu_check.sh
# Writes under ${OUT:-/tmp/omnirm-gpu}: gpu_check.log (everything printed), kernel_tests.json
# (GoogleTest results), attention_bench.txt (omnirm_bench_attention: the CUDA pair-attention
# kernels vs SDPA flash, ratios and TFLOP/s), mfu_bench.txt (omnirm_bench_mfu: training
# step of a 0.5B-class Qwen2 reward model on 4096-token rows, TFLOP/s and MFU) and
# results.txt (one line per step and its status). Exits non-zero when the build of the kernel
# tests or the benchmarks, any kernel test, or a benchmark fails; the omnirm binary is built
# afterwards only if time allows, and its failure is logged without changing the exit status.
# Environment: PYTHON (default python3), OMNIRM_JOBS (default 16), OMNIRM_GPU_BUILD_DIR
# (default <repo>/build-gpu, kept between runs on a warm machine), OMNIRM_DEB_PREFIX (default
# /tmp/omnirm-debs), OMNIRM_CUDA_ARCH (default 90), OMNIRM_BUILD_SECONDS (default 240),
# OMNIRM_TEST_SECONDS (default 240, cap on the kernel tests), OMNIRM_BENCH_SECONDS (default 120,
# cap on each benchmark).
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT_DIR="${OUT:-/tmp/omnirm-gpu}"
PYTHON="${PYTHON:-python3}"
JOBS="${OMNIRM_JOBS:-16}"
BUILD_DIR="${OMNIRM_GPU_BUILD_DIR:-$ROOT/build-gpu}"
DEB_DIR="$ROOT/.debs"
DEB_PREFIX="${OMNIRM_DEB_PREFIX:-/tmp/omnirm-debs}"
CUDA_ARCH="${OMNIRM_CUDA_ARCH:-90}"
OMNIRM_BUILD_SECONDS="${OMNIRM_BUILD_SECONDS:-240}"  # cap on the optional omnirm build
OMNIRM_TEST_SECONDS="${OMNIRM_TEST_SECONDS:-240}"    # cap on the kernel tests (a hung kernel)
OMNIRM_BENCH_SECONDS="${OMNIRM_BENCH_SECONDS:-120}"  # cap on each benchmark

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

main() {
  say "repo $ROOT, build $BUILD_DIR, output $OUT_DIR, jobs $JOBS"
  show_gpu full
  unpack_debs
  setup_environment
  configure

  say "building omnirm_test_kernels, omnirm_bench_attention and omnirm_bench_mfu"
  if ! ninja -C "$BUILD_DIR" -j "$JOBS" omnirm_test_kernels omnirm_bench_attention \
    omnirm_bench_mfu; then
    record build failed
    die "building omnirm_test_kernels / omnirm_bench_attention / omnirm_bench_mfu failed"
  fi
  record build ok

  # The host emulation of the kernels (*Emulated*, Simt*) checks on the CPU what the GPU
  # tests check here on the real kernels; it is left out to save device time.
  say "running omnirm_test_kernels (at most ${OMNIRM_TEST_SECONDS}s)"
  timeout "$OMNIRM_TEST_SECONDS" "$BUILD_DIR/tests/omnirm_test_kernels" \
    --gtest_filter='-*Emulated*:Simt*' \
    --gtest_output="json:$OUT_DIR/kernel_tests.json"
  local test_status=$?
  say "omnirm_test_kernels exited with $test_status"
  record kernel_tests "$([ "$test_status" -eq 0 ] && echo ok || echo "failed($test_status)")"

  local bench_status mfu_status
  run_benchmark attention_bench omnirm_bench_attention
  bench_status=$?
  run_benchmark mfu_bench omnirm_bench_mfu --device cuda
  mfu_status=$?

  # The optional build gets what is left of 7 minutes, at most OMNIRM_BUILD_SECONDS.
  local build_seconds=$((420 - (SECONDS - START_SECONDS)))
  if [ "$build_seconds" -gt "$OMNIRM_BUILD_SECONDS" ]; then build_seconds=$OMNIRM_BUILD_SECONDS; fi
  if [ "$build_seconds" -lt 30 ]; then
    say "skipping the optional omnirm build: too little time left"
  else
    say "building omnirm (optional, at most ${build_seconds}s)"
    if timeout "$build_seconds" ninja -C "$BUILD_DIR" -j "$JOBS" omnirm; then
      say "omnirm built"
    else
      say "omnirm did not build (see above); this does not change the result"
    fi
  fi

  show_gpu
  if [ "$test_status" -ne 0 ]; then
    say "FAILED: kernel tests"
    exit "$test_status"
  fi
  if [ "$bench_status" -ne 0 ]; then
    say "FAILED: attention benchmark"
    exit "$bench_status"
  fi
  if [ "$mfu_status" -ne 0 ]; then
    say "FAILED: MFU benchmark"
    exit "$mfu_status"
  fi
  say "OK: kernel tests passed; benchmarks in $OUT_DIR/attention_bench.txt and mfu_bench.txt"
}

main
