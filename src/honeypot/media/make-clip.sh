#!/usr/bin/env bash
# How src/honeypot/media/testpattern.h264 was made, once, with Debian's ffmpeg 5.1 (libx264).
# The honeypot never encodes at run time: it loops this file over RTP. Re-run only to change it.
# A synthetic test pattern (ffmpeg's lavfi testsrc2: colour bars, a moving box, a frame counter),
# 320x240, 10 frames/s, 4 s, H.264 Constrained Baseline (no B-frames: decode order = display
# order, so RTP timestamps are simply frame × 9000), an IDR every 10 frames with SPS/PPS
# repeated before each, as a raw Annex B stream.
set -euo pipefail
cd "$(dirname "$0")"
ffmpeg -hide_banner -loglevel error -y \
  -f lavfi -i testsrc2=size=320x240:rate=10:duration=4 \
  -c:v libx264 -profile:v baseline -level 3.0 -pix_fmt yuv420p \
  -x264-params keyint=10:min-keyint=10:scenecut=0:bframes=0:repeat-headers=1 \
  -b:v 200k -bsf:v h264_mp4toannexb -f h264 testpattern.h264
sha256sum testpattern.h264
