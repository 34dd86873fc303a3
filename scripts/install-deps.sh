#!/usr/bin/env bash
# Installs the Debian packages the build, the demo and the tests need; does nothing when all are present.
# --test adds the other WebRTC stacks the tests publish with: Firefox ESR (with a PulseAudio null sink for its Web
# Audio) and GStreamer's webrtcbin driven from Python; Janus, the SFU whose rooms the tests record; and nginx with
# its RTMP module, where the tests push live streams (its stream module and openssl: RTMPS through TLS in front).
set -euo pipefail
packages=(
  pkg-config
  libavcodec-dev libavformat-dev libavutil-dev libswscale-dev libswresample-dev
  libvpx-dev libopus-dev libfreetype-dev libsrtp2-dev libssl-dev
  fonts-dejavu-core ffmpeg
  python3 python3-venv chromium curl
)
if [ "${1:-}" = "--test" ]; then
  packages+=(
    firefox-esr pulseaudio
    python3-gi gir1.2-gstreamer-1.0 gir1.2-gst-plugins-base-1.0 gir1.2-gst-plugins-bad-1.0 gir1.2-nice-0.1
    gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
    gstreamer1.0-plugins-ugly gstreamer1.0-nice
    janus nginx libnginx-mod-rtmp libnginx-mod-stream openssl
  )
fi
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
