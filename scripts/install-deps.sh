#!/usr/bin/env bash
# Installs the Debian packages the build, the demo and the tests need; does nothing when all are present.
set -euo pipefail
packages=(
  pkg-config
  libavcodec-dev libavformat-dev libavutil-dev libswscale-dev libswresample-dev
  libvpx-dev libopus-dev libfreetype-dev libsrtp2-dev libssl-dev
  fonts-dejavu-core ffmpeg
  python3 python3-venv chromium curl
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
