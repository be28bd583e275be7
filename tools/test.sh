#!/usr/bin/env bash
# README command 2: sets everything up, builds, and runs the whole test suite with ctest.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
tools/setup.sh
ctest --test-dir "${OMNIRM_BUILD_DIR:-$ROOT/build}" --output-on-failure -j "${OMNIRM_JOBS:-$(nproc)}"
