#!/usr/bin/env bash
# Real WebRTC peers for the tests: aiortc (PyPI) in .build-venv (ignored by git). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .build-venv/bin/python ] || ! .build-venv/bin/python -c "import aiortc" 2>/dev/null; then
  python3 -m venv .build-venv
  .build-venv/bin/pip install --quiet --disable-pip-version-check aiortc
fi
