#!/usr/bin/env bash
# A picture of a run, seen by a browser: mounts a demo store, has a headless Chromium
# (Debian's `chromium`, installed here when missing) take a screenshot of
# <mnt>/example_pipeline/runs/latest/dag.svg, writes it to BUILD_DIR/dag-screenshot.png
# for a person to look at, and fails when the screenshot is blank (one colour, or almost
# nothing drawn). For `scripts/test.sh --full` only: installing Chromium is too slow for
# every CI run.
# Usage: scripts/dag-screenshot.sh [BUILD_DIR]   (default: build; its zenfs is used)
# ZENFS_DAG_SVG=FILE takes the screenshot of FILE instead of the mounted picture.
set -euo pipefail
cd "$(dirname "$0")/.."
build=$(realpath "${1:-build}")
zenfs=$build/zenfs
out=$build/dag-screenshot.png
rm -f "$out"  # a failed run leaves no older screenshot behind

if ! command -v chromium >/dev/null; then
  echo "installing chromium" >&2
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
  $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends chromium
fi

work=$(mktemp -d "$build/dag-screenshot.XXXXXX")
mnt=$work/mnt
profile=$work/profile
cleanup() {
  if grep -qs " $mnt " /proc/self/mounts; then "$zenfs" umount "$mnt" || fusermount3 -uz "$mnt" || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

svg=${ZENFS_DAG_SVG:-}
if [ -z "$svg" ]; then
  [ -x "$zenfs" ] || { echo "no zenfs in $build: build it first" >&2; exit 1; }
  mkdir -p "$mnt" "$profile"
  "$zenfs" demo --artifact-bytes 0 "$work/store" >/dev/null
  "$zenfs" mount "$work/store" "$mnt"
  svg=$mnt/example_pipeline/runs/latest/dag.svg
fi
# Reading to end of file is what a browser does with a file: URL; a picture that cannot be
# read is a failure here rather than a blank screenshot.
head -c 5 "$svg" | grep -q '<?xml' || { echo "$svg is not an SVG picture" >&2; exit 1; }
mkdir -p "$profile"
timeout 180 chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
  --disable-component-update --disable-sync --no-first-run --user-data-dir="$profile" \
  --screenshot="$out" --window-size=1200,900 "file://$(realpath "$svg")" >"$work/chromium.log" 2>&1 || {
  echo "chromium failed:" >&2
  tail -20 "$work/chromium.log" >&2
  exit 1
}
[ -s "$out" ] || { echo "chromium wrote no screenshot" >&2; tail -20 "$work/chromium.log" >&2; exit 1; }

# Not blank: decode the PNG (8-bit RGB or RGBA, as Chromium writes it) and count colours
# and the pixels that differ from the most common one (the background).
python3 - "$out" <<'EOF'
import struct, sys, zlib
from collections import Counter

data = open(sys.argv[1], "rb").read()
if data[:8] != b"\x89PNG\r\n\x1a\n":
    sys.exit("not a PNG")
pos, idat, width = 8, b"", 0
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
        if depth != 8 or colour not in (2, 6) or interlace:
            sys.exit(f"unexpected PNG format: depth {depth}, colour type {colour}, interlace {interlace}")
        bpp = 3 if colour == 2 else 4
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
raw = zlib.decompress(idat)
stride = width * bpp
prev = bytearray(stride)
pixels = Counter()
for y in range(height):
    f = raw[y * (stride + 1)]
    line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        if f == 1:
            line[i] = (line[i] + a) & 255
        elif f == 2:
            line[i] = (line[i] + b) & 255
        elif f == 3:
            line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    pixels.update(bytes(line[i:i + bpp]) for i in range(0, stride, bpp))
    prev = line
background, count = pixels.most_common(1)[0]
drawn = width * height - count
print(f"{sys.argv[1]}: {width}x{height}, {len(pixels)} colours, {drawn} pixels drawn on the background")
if len(pixels) < 4 or drawn < width * height // 1000:
    sys.exit("the screenshot is blank")
EOF
echo "the picture is in $out"
