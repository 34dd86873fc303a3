#!/usr/bin/env bash
# Real peers for the tests, in .build-venv (ignored by git): aiortc (a WebRTC stack), moto (an S3 API server),
# standardwebhooks (a webhook receiver verifies signatures as users do) and websockets (to drive
# headless Chromium over the DevTools protocol). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .build-venv/bin/python ] || ! .build-venv/bin/python -c "import aiortc, websockets, moto, standardwebhooks" 2>/dev/null; then
  python3 -m venv .build-venv
  .build-venv/bin/pip install --quiet --disable-pip-version-check aiortc websockets "moto[server]" standardwebhooks
fi
