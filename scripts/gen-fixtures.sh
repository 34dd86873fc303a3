#!/usr/bin/env bash
# Generates the test media into Fixtures/generated/ (ignored by git). Idempotent: existing files are kept.
# Usage: scripts/gen-fixtures.sh [--bench]   (--bench adds the 60 s benchmark inputs)
set -euo pipefail
cd "$(dirname "$0")/.."
out=Fixtures/generated
mkdir -p "$out"
ff() { ffmpeg -hide_banner -loglevel error -nostdin -y "$@"; }
make_once() { local file=$1; shift; [ -s "$out/$file" ] || { "$@" "$out/$file.tmp.${file##*.}" && mv "$out/$file.tmp.${file##*.}" "$out/$file"; }; }

# Sixteen solid colours, each with its own tone (Hz), VP8 + Opus, 640x480, 3 s.
colours=(ff0000 00ff00 0000ff ffff00 ff00ff 00ffff ffffff ff8000 8000ff 00ff80 808080 800000 008000 000080 808000 008080)
for i in "${!colours[@]}"; do
  c=${colours[$i]}; hz=$((300 + 97 * i))
  make_once "colour-$c.webm" ff -f lavfi -i "color=c=0x$c:s=640x480:r=30:d=3" -f lavfi -i "sine=frequency=$hz:sample_rate=48000:duration=3" \
    -filter:a "volume=0.25" -c:v libvpx -b:v 300k -deadline realtime -cpu-used 8 -g 30 -c:a libopus -b:a 48k -shortest
done
# Moving noise that no encoder can squeeze (big recordings that take a while to finalize), VP8 + Opus, 3 s.
make_once "noise-640x480.webm" ff -f lavfi -i "testsrc2=s=640x480:r=30:d=3,noise=alls=90:allf=t" -f lavfi -i "sine=frequency=500:sample_rate=48000:duration=3" \
  -c:v libvpx -b:v 4M -deadline realtime -cpu-used 8 -g 30 -c:a libopus -b:a 48k -shortest
# Fine detail at high quality (scaler quality: ScalingQualityTests), VP8 + Opus, 2 s.
make_once "detail-640x480.webm" ff -f lavfi -i "testsrc2=s=640x480:r=30:d=2" -f lavfi -i "sine=frequency=600:sample_rate=48000:duration=2" \
  -c:v libvpx -crf 4 -b:v 8M -deadline good -cpu-used 4 -g 30 -c:a libopus -b:a 48k -shortest
# Green 0,192,0 coded otherwise than the composite (limited BT.601): in BT.709 (H.264) and in full range (VP9: decoded as yuv420p with a range flag), 320x240, 1 s.
make_once "bt709-green.mp4" ff -f lavfi -i "color=c=0x00c000:s=320x240:r=30:d=1" -vf "scale=out_color_matrix=bt709:out_range=tv,format=yuv420p" \
  -colorspace bt709 -color_primaries bt709 -color_trc bt709 -color_range tv -c:v libx264 -preset ultrafast -an
make_once "fullrange-green.webm" ff -f lavfi -i "color=c=0x00c000:s=320x240:r=30:d=1" -vf "scale=out_color_matrix=bt601:out_range=pc,format=yuv420p" \
  -colorspace smpte170m -color_range pc -c:v libvpx-vp9 -crf 10 -b:v 0 -deadline realtime -cpu-used 8 -an
# A slide of small text (22 px DejaVu Sans, two columns of 25 lines) as a 1920x1080 screen share, H.264, 1 s.
if [ ! -s "$out/slide-text-1920x1080.mp4" ]; then
  font=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf; lines=""
  for i in $(seq 0 24); do for x in 40 980; do
    lines="$lines,drawtext=fontfile=$font:fontsize=22:fontcolor=black:x=$x:y=$((20 + i * 42)):text='Line $i revenue grew 12.5 in EMEA APAC LATAM see B p47'"
  done; done
  make_once "slide-text-1920x1080.mp4" ff -f lavfi -i "color=c=white:s=1920x1080:r=30:d=1" -vf "${lines#,},format=yuv420p" \
    -c:v libx264 -preset veryfast -crf 10 -an
fi
# Red left, blue right, the edge on a chroma sample boundary, H.264 lossless (chroma sited left, H.264's default).
make_once "edge-red-blue.mp4" ff -f lavfi -i "color=c=red:s=160x240:r=30:d=1" -f lavfi -i "color=c=blue:s=160x240:r=30:d=1" \
  -filter_complex "[0:v][1:v]hstack,format=yuv420p" -c:v libx264 -preset ultrafast -qp 0 -an
# Video only, 4:3 and 16:9 colour clips for fit tests.
make_once "wide-red.webm" ff -f lavfi -i "color=c=red:s=1280x720:r=30:d=3" -c:v libvpx -b:v 300k -deadline realtime -cpu-used 8 -an
make_once "tall-blue.mp4" ff -f lavfi -i "color=c=blue:s=360x640:r=30:d=3" -c:v libx264 -preset ultrafast -pix_fmt yuv420p -an
# Codecs, sizes and containers: VP8 odd size in IVF, VP9 4:3 in WebM, H.264 16:9 in MP4 with AAC, portrait.
make_once "pattern-vp8-321x241.ivf" ff -f lavfi -i "testsrc2=s=321x241:r=30:d=3" -c:v libvpx -b:v 300k -deadline realtime -cpu-used 8
make_once "pattern-vp9-640x480.webm" ff -f lavfi -i "testsrc2=s=640x480:r=25:d=3" -f lavfi -i "sine=frequency=500:duration=3" \
  -c:v libvpx-vp9 -b:v 300k -deadline realtime -cpu-used 8 -c:a libopus -b:a 48k -shortest
make_once "pattern-h264-1280x720.mp4" ff -f lavfi -i "testsrc2=s=1280x720:r=30:d=3" -f lavfi -i "sine=frequency=700:sample_rate=44100:duration=3" \
  -c:v libx264 -preset ultrafast -pix_fmt yuv420p -c:a aac -b:a 96k -shortest
make_once "pattern-h264-360x640.mkv" ff -f lavfi -i "testsrc2=s=360x640:r=24:d=3" -c:v libx264 -preset ultrafast -pix_fmt yuv420p
# Variable frame rate: frames at irregular times.
make_once "vfr-h264.mp4" ff -f lavfi -i "testsrc2=s=320x240:r=30:d=3" -vf "select='not(mod(n\,3))+not(mod(n\,7))',setpts=N/TB/30*1.7" \
  -fps_mode vfr -c:v libx264 -preset ultrafast -pix_fmt yuv420p
# Audio only (Ogg Opus) and a tone for mixing checks.
make_once "tone-1000.ogg" ff -f lavfi -i "sine=frequency=1000:sample_rate=48000:duration=3" -c:a libopus -b:a 64k
# Very loud inputs (full-scale square-ish tones) for the limiter test.
make_once "loud-400.webm" ff -f lavfi -i "color=c=gray:s=320x240:r=30:d=3" -f lavfi -i "sine=frequency=400:sample_rate=48000:duration=3" \
  -filter:a "volume=8,alimiter=limit=1:level=false" -c:v libvpx -b:v 100k -deadline realtime -cpu-used 8 -c:a libopus -b:a 96k -shortest
make_once "loud-600.webm" ff -f lavfi -i "color=c=gray:s=320x240:r=30:d=3" -f lavfi -i "sine=frequency=600:sample_rate=48000:duration=3" \
  -filter:a "volume=8,alimiter=limit=1:level=false" -c:v libvpx -b:v 100k -deadline realtime -cpu-used 8 -c:a libopus -b:a 96k -shortest
# Flash and beep: a white frame and a 1 kHz beep of 100 ms at every whole second, on black and silence; 6 s.
make_once "sync.webm" ff -f lavfi -i "color=c=black:s=640x360:r=30:d=6" -f lavfi -i "sine=frequency=1000:sample_rate=48000:duration=6" \
  -filter:v "drawbox=c=white:t=fill:enable='lt(mod(t\,1)\,0.0333)'" \
  -filter:a "volume='if(lt(mod(t,1),0.1),0.5,0)':eval=frame" -c:v libvpx -b:v 500k -deadline realtime -cpu-used 8 -g 30 -c:a libopus -b:a 64k
# Longer clip for the crash test (20 s).
make_once "long-pattern.webm" ff -f lavfi -i "testsrc2=s=640x360:r=30:d=20" -f lavfi -i "sine=frequency=440:duration=20" \
  -c:v libvpx -b:v 400k -deadline realtime -cpu-used 8 -c:a libopus -b:a 48k -shortest
# Damaged: the first half of a clip, cut mid-packet.
if [ ! -s "$out/truncated.webm" ]; then
  src="$out/long-pattern.webm"; size=$(stat -c %s "$src")
  head -c $((size / 2 + 77)) "$src" > "$out/truncated.webm"
fi
# Damaged in the middle: 64 KiB of garbage written over the middle of a clip (the rest is intact).
if [ ! -s "$out/corrupt-middle.webm" ]; then
  src="$out/long-pattern.webm"; size=$(stat -c %s "$src")
  cp "$src" "$out/corrupt-middle.webm.tmp"
  head -c 65536 /dev/urandom | dd of="$out/corrupt-middle.webm.tmp" bs=1 seek=$((size / 2)) conv=notrunc status=none
  mv "$out/corrupt-middle.webm.tmp" "$out/corrupt-middle.webm"
fi
# A background image (PNG) for layouts.
make_once "background-orange.png" ff -f lavfi -i "color=c=0xff8000:s=320x180" -frames:v 1
# No audio or video at all: subtitles only.
if [ ! -s "$out/subtitles-only.mkv" ]; then
  printf '1\n00:00:00,000 --> 00:00:01,000\nhello\n' > "$out/subtitles.srt"
  ff -i "$out/subtitles.srt" -c:s srt "$out/subtitles-only.mkv"
fi
# Fake camera and microphone for headless Chromium: a red picture and a 300 Hz tone.
make_once "camera-red.y4m" ff -f lavfi -i "color=c=red:s=320x240:r=30:d=1" -pix_fmt yuv420p
make_once "microphone-300.wav" ff -f lavfi -i "sine=frequency=300:sample_rate=48000:duration=5" -filter:a "volume=2"
# Chromium's fake camera and microphone for the lip-sync test: a white frame and a 1 kHz beep of 100 ms at every
# whole second (on dark blue and silence), 20 s: Chromium loops the two files independently, so their
# alignment is only exact before the first loop.
make_once "camera-flash.y4m" ff -f lavfi -i "color=c=0x2060c0:s=160x120:r=30:d=20" \
  -filter:v "drawbox=c=white:t=fill:enable='lt(mod(t\,1)\,0.0333)'" -pix_fmt yuv420p
make_once "microphone-beep.wav" ff -f lavfi -i "aevalsrc='if(lt(mod(t\,1)\,0.1)\,0.5*sin(2*PI*1000*t)\,0)':s=48000:d=20" -ac 2
# A busy 640x360 camera for the bandwidth test (moving bars under film grain: every bit of rate shows), 3 s.
make_once "camera-noise.y4m" ff -f lavfi -i "testsrc2=s=640x360:r=30:d=3" -filter:v "noise=alls=25:allf=t" -pix_fmt yuv420p
# A busy 1280x720 camera for the rate-limited link (2 s: Chromium loops it; raw 720p is 1.4 MB a frame).
make_once "camera-720.y4m" ff -f lavfi -i "testsrc2=s=1280x720:r=30:d=2" -filter:v "noise=alls=12:allf=t" -pix_fmt yuv420p
# A sharp 960x540 camera for simulcast (three layers from 960x540 up in Chromium); its edges show which layer is shown.
make_once "camera-540.y4m" ff -f lavfi -i "testsrc2=s=960x540:r=30:d=2" -pix_fmt yuv420p
# Unsupported codec (MP3 audio only) and a file that is not media at all.
make_once "unsupported.mp3" ff -f lavfi -i "sine=frequency=440:duration=1" -c:a libmp3lame
[ -s "$out/not-media.webm" ] || head -c 4096 /dev/urandom > "$out/not-media.webm"

if [ "${1:-}" = "--bench" ]; then
  b=Fixtures/generated/bench; mkdir -p "$b"
  sources=(testsrc2 smptebars testsrc yuvtestsrc)
  for i in $(seq 0 15); do
    src=${sources[$((i % 4))]}
    [ -s "$b/in$i.webm" ] || ff -f lavfi -i "$src=s=640x480:r=30:d=60" -f lavfi -i "sine=frequency=$((200 + 50 * i)):duration=60" \
      -vf "hue=h=$((i * 22)),noise=alls=6:allf=t" -c:v libvpx -b:v 600k -deadline realtime -cpu-used 8 -g 60 -c:a libopus -b:a 32k -shortest "$b/in$i.webm"
  done
  # The tile-aware benchmark's camera: 1280x720, each frame's number (mod 256) in 8 black/white blocks along the
  # top (160x90 each, readable in a small tile), so a recorded tile can be matched to its source frame.
  if [ ! -s "$b/camera-720-indexed.y4m" ]; then
    bars="drawbox=x=0:y=0:w=1280:h=90:c=black:t=fill"
    for k in 0 1 2 3 4 5 6 7; do
      bars="$bars,drawbox=x=$((160 * k)):y=0:w=160:h=90:c=white:t=fill:enable='eq(mod(floor(n/$((1 << k)))\,2)\,1)'"
    done
    ff -f lavfi -i "testsrc2=s=1280x720:r=30:d=5" -filter:v "noise=alls=6:allf=t,$bars" -pix_fmt yuv420p "$b/camera-720-indexed.y4m"
  fi
  [ -s "$b/vp9.webm" ] || ff -f lavfi -i "testsrc2=s=640x480:r=30:d=60,noise=alls=6:allf=t" -c:v libvpx-vp9 -b:v 600k \
    -deadline realtime -cpu-used 8 "$b/vp9.webm"
fi
echo "fixtures ready in $out"
