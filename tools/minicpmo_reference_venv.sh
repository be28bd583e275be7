#!/usr/bin/env bash
# Creates the venv that runs tools/make_minicpmo_fixtures.py: the reference pipeline's pinned
# packages (tools/minicpmo_reference_requirements.txt) over the torch of the omnirm venv that
# tools/setup.sh installs (torch==2.11.0; MiniCPM-o's code runs on it in fp32 on the CPU with
# eager attention), so no second torch is downloaded.
#   bash tools/minicpmo_reference_venv.sh [VENV]     default VENV: /work/venvs/minicpmo-ref
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${1:-/work/venvs/minicpmo-ref}"
OMNIRM_VENV="${OMNIRM_HOME:-$HOME/.local/share/omnirm}/venv"
SITE="$("$OMNIRM_VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" ||
  { echo "no omnirm venv at $OMNIRM_VENV: run bash tools/setup.sh --deps first" >&2; exit 1; }
"$OMNIRM_VENV/bin/python" -c 'import torch' || { echo "torch missing in $OMNIRM_VENV" >&2; exit 1; }
[ -x "$VENV/bin/python" ] || "$OMNIRM_VENV/bin/python" -m venv --without-pip "$VENV" 2>/dev/null ||
  python3 -m venv "$VENV"
[ -x "$VENV/bin/pip" ] || "$VENV/bin/python" -m ensurepip -q
OWN="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
# The venv's own packages come first on sys.path; the omnirm venv's (for torch) after them.
echo "$SITE" > "$OWN/omnirm_torch.pth"
"$VENV/bin/pip" install -q --disable-pip-version-check -r "$ROOT/tools/minicpmo_reference_requirements.txt"
"$VENV/bin/python" -c 'import torch, transformers; print("reference venv:", transformers.__version__, "torch", torch.__version__)'
