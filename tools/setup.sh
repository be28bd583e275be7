#!/usr/bin/env bash
# Installs everything omnirm needs on Debian 12, idempotently, then configures and builds.
#   tools/setup.sh            install dependencies + build (Release) into build/
#   tools/setup.sh --deps     install dependencies only
# A second run with everything present takes seconds. Prints each step; fails with one clear line.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OMNIRM_HOME="${OMNIRM_HOME:-$HOME/.local/share/omnirm}"
VENV="$OMNIRM_HOME/venv"
TORCH_VERSION="2.11.0"
# Python packages of the tools/ scripts (fixture generators and checks, never needed at training
# time), installed beside torch: tokenizers for tools/make_bpe_fixtures.py, tensorboard for
# tools/check_tensorboard.py and tools/make_tb_fixture.py, transformers + sentencepiece for
# tools/make_parity_fixtures.py and tools/check_hf_export.py (transformers 4.57 needs
# tokenizers < 0.23).
PYTHON_TOOLS=("tokenizers==0.22.2" "tensorboard==2.21.0" "transformers==4.57.1"
  "sentencepiece==0.2.3")
BUILD_DIR="${OMNIRM_BUILD_DIR:-$ROOT/build}"
JOBS="${OMNIRM_JOBS:-$(nproc)}"

APT_PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config python3 python3-venv
  libsentencepiece-dev libyaml-cpp-dev libgtest-dev libgmock-dev libsimdjson-dev
  nlohmann-json3-dev libcli11-dev libfmt-dev zlib1g-dev libpcre2-dev libutf8proc-dev
  libavformat-dev libavcodec-dev libavutil-dev libswresample-dev libswscale-dev
  libstb-dev libwebp-dev libassimp-dev libgloo-dev
  clang-14 libclang-rt-14-dev
)

say() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }

install_debian_packages() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    say "Debian packages: all ${#APT_PACKAGES[@]} present"
    return
  fi
  command -v apt-get >/dev/null || die "apt-get not found: install ${missing[*]} by hand (Debian 12 expected)"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  say "Debian packages: installing ${missing[*]}"
  $sudo apt-get update -qq || die "apt-get update failed: check the network or the apt sources"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || die "apt-get install ${missing[*]} failed"
}

find_python() {
  # python3 with a working venv module; the pyenv or system interpreter both do.
  for py in python3 /usr/bin/python3; do
    if command -v "$py" >/dev/null && "$py" -c 'import venv, ensurepip' 2>/dev/null; then
      echo "$py"; return
    fi
  done
  die "no python3 with venv + ensurepip found: apt-get install python3-venv"
}

install_torch() {
  if [ -x "$VENV/bin/python" ] &&
     "$VENV/bin/python" -c "import torch,sys; sys.exit(0 if torch.__version__.split('+')[0]=='$TORCH_VERSION' else 1)" 2>/dev/null; then
    say "LibTorch: torch==$TORCH_VERSION present in $VENV"
    return
  fi
  local py; py="$(find_python)"
  say "LibTorch: creating $VENV and installing torch==$TORCH_VERSION (a few GB, once)"
  mkdir -p "$OMNIRM_HOME"
  [ -x "$VENV/bin/python" ] || "$py" -m venv "$VENV" || die "could not create venv at $VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check "torch==$TORCH_VERSION" \
    || die "pip install torch==$TORCH_VERSION failed: check access to the Python package index"
}

install_python_tools() {
  local missing=()
  for spec in "${PYTHON_TOOLS[@]}"; do
    local name="${spec%%==*}" version="${spec#*==}"
    "$VENV/bin/python" -c "import importlib.metadata as m,sys; sys.exit(0 if m.version('$name')=='$version' else 1)" 2>/dev/null ||
      missing+=("$spec")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    say "Python tools: all ${#PYTHON_TOOLS[@]} present in $VENV"
    return
  fi
  say "Python tools: installing ${missing[*]}"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check "${missing[@]}" \
    || die "pip install ${missing[*]} failed: check access to the Python package index"
}

torch_prefix() {
  "$VENV/bin/python" -c 'import torch.utils; print(torch.utils.cmake_prefix_path)' 2>/dev/null
}

configure_and_build() {
  local prefix; prefix="$(torch_prefix)" || die "torch is installed but its cmake prefix cannot be read"
  if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
    say "configure: $BUILD_DIR (Release)"
    cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_PREFIX_PATH="$prefix" >"$BUILD_DIR.configure.log" 2>&1 \
      || { tail -30 "$BUILD_DIR.configure.log" >&2; die "cmake configure failed (full log: $BUILD_DIR.configure.log)"; }
  fi
  say "build: ninja -j$JOBS"
  export CCACHE_DIR="${CCACHE_DIR:-$OMNIRM_HOME/ccache}"
  cmake --build "$BUILD_DIR" -j "$JOBS" || die "build failed (see the compiler output above)"
}

main() {
  install_debian_packages
  install_torch
  install_python_tools
  [ "${1:-}" = "--deps" ] && return
  configure_and_build
  say "ready: $BUILD_DIR/omnirm"
}

main "$@"
